"""The shapes RDAP answers with, for its OpenAPI document (RFC 9083's objects, as much of them as
Nameport fills in; each object may carry more members, as RFC 9083 allows)."""

from __future__ import annotations

STRINGS = {"type": "array", "items": {"type": "string"}}
LINK = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "value": {"type": "string"},
        "rel": {"type": "string"},
        "href": {"type": "string"},
        "type": {"type": "string"},
    },
}
NOTICE = {
    "type": "object",
    "required": ["title", "description"],
    "properties": {
        "title": {"type": "string"},
        "description": STRINGS,
        "links": {"type": "array", "items": LINK},
    },
}
EVENT = {
    "type": "object",
    "required": ["eventAction", "eventDate"],
    "properties": {
        "eventAction": {"type": "string"},
        "eventDate": {"type": "string", "format": "date-time"},
    },
}
ENTITY = {
    "type": "object",
    "required": ["objectClassName", "roles"],
    "properties": {
        "objectClassName": {"type": "string", "enum": ["entity"]},
        "handle": {"type": "string"},
        "roles": STRINGS,
        "vcardArray": {"type": "array", "description": "jCard (RFC 7095)"},
        "publicIds": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "identifier": {"type": "string"}},
            },
        },
        "entities": {"type": "array", "items": {"type": "object"}},
        "links": {"type": "array", "items": LINK},
    },
}
IP_ADDRESSES = {
    "type": "object",
    "properties": {"v4": STRINGS, "v6": STRINGS},
    "description": "The addresses of a glue host the domain holds",
}
NAMESERVER = {
    "type": "object",
    "required": ["objectClassName", "ldhName"],
    "properties": {
        "objectClassName": {"type": "string", "enum": ["nameserver"]},
        "ldhName": {"type": "string"},
        "unicodeName": {"type": "string"},
        "ipAddresses": IP_ADDRESSES,
        "status": STRINGS,
        "links": {"type": "array", "items": LINK},
    },
}
REDACTED = {
    "type": "object",
    "required": ["name", "pathLang", "method"],
    "properties": {
        "name": {
            "type": "object",
            "properties": {"type": {"type": "string"}, "description": {"type": "string"}},
        },
        "prePath": {"type": "string"},
        "postPath": {"type": "string"},
        "replacementPath": {"type": "string"},
        "pathLang": {"type": "string", "enum": ["jsonpath"]},
        "method": {
            "type": "string",
            "enum": ["removal", "emptyValue", "partialValue", "replacementValue"],
        },
        "reason": {"type": "object", "properties": {"description": {"type": "string"}}},
    },
}
CONFORMANCE = {"rdapConformance": STRINGS}

DOMAIN = {
    "type": "object",
    "required": [
        "rdapConformance",
        "objectClassName",
        "handle",
        "ldhName",
        "status",
        "events",
        "nameservers",
        "secureDNS",
        "entities",
        "links",
        "notices",
        "redacted",
    ],
    "properties": {
        **CONFORMANCE,
        "objectClassName": {"type": "string", "enum": ["domain"]},
        "handle": {"type": "string"},
        "ldhName": {"type": "string", "description": "ASCII (punycode), lower case"},
        "unicodeName": {"type": "string", "description": "Only for an IDN"},
        "status": {**STRINGS, "description": "RFC 8056 statuses, e.g. `active`"},
        "events": {"type": "array", "items": EVENT},
        "nameservers": {"type": "array", "items": NAMESERVER},
        "secureDNS": {
            "type": "object",
            "required": ["delegationSigned"],
            "properties": {
                "delegationSigned": {"type": "boolean"},
                "dsData": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "keyTag": {"type": "integer"},
                            "algorithm": {"type": "integer"},
                            "digestType": {"type": "integer"},
                            "digest": {"type": "string"},
                        },
                    },
                },
            },
        },
        "entities": {"type": "array", "items": ENTITY},
        "links": {"type": "array", "items": LINK},
        "notices": {"type": "array", "items": NOTICE},
        "redacted": {"type": "array", "items": REDACTED},
    },
}
NAMESERVER_ANSWER = {
    **NAMESERVER,
    "required": ["rdapConformance", *NAMESERVER["required"], "links", "notices"],
    "properties": {
        **CONFORMANCE,
        **NAMESERVER["properties"],
        "entities": {"type": "array", "items": ENTITY},
        "events": {"type": "array", "items": EVENT},
        "notices": {"type": "array", "items": NOTICE},
    },
}
HELP = {
    "type": "object",
    "required": ["rdapConformance", "notices"],
    "properties": {**CONFORMANCE, "notices": {"type": "array", "items": NOTICE}},
}
ERROR = {
    "type": "object",
    "description": "RFC 9083 section 6; `errorCode` is the HTTP status.",
    "required": ["rdapConformance", "errorCode", "title", "description"],
    "properties": {
        **CONFORMANCE,
        "errorCode": {"type": "integer"},
        "title": {"type": "string"},
        "description": STRINGS,
    },
}

"""RDAP's OpenAPI document and docs page, at /api/compat/rdap/."""

from portal.compat.docs import document_urls

app_name = "compat-rdap-docs"

DESCRIPTION = """\
RDAP (RFC 7480, 9082, 9083) for the domain names Nameport sponsors, answered as their \
registrar, following the ICANN gTLD RDAP response profile and technical implementation guide.

* Public: no authentication. `Access-Control-Allow-Origin: *` on every answer.
* Answers are `application/rdap+json`, whatever the `Accept` header asks (`application/json` \
included).
* Names: the ASCII (punycode) or the Unicode form, any case, a trailing dot ignored; IDNA 2008 \
with UTS 46 mapping. A malformed name is 400.
* Which names: the live domains Nameport holds. A sandbox domain, a name that was deleted, \
transferred away or never obtained, or any other name is 404. A nameserver is found when such \
a domain names it or holds it as a glue host.
* Personal data: the registrant, administrative and technical contacts show only their state or \
province and country. Their handle, name, organisation, street, city, postal code, phone and \
e-mail are left empty or removed (the e-mail is replaced by the contact form of \
`NAMEPORT_RDAP_CONTACT_FORM_URL` when one is set), each listed in `redacted` (RFC 9537) with \
its JSONPath and method. Billing contacts are not shown. There is no `port43`.
* Errors (RFC 9083 section 6): `{"rdapConformance": [...], "errorCode": 404, "title": \
"Not Found", "description": ["..."]}` with the same status, for 400, 404, 405, 429 (with \
`Retry-After`) and 501 (the other RDAP query types: ip, autnum, entity and the searches).
* Rate limit: `NAMEPORT_RDAP_THROTTLE` per client address (default 120/min).
"""

SCHEMA_SETTINGS = {
    "TITLE": "Nameport RDAP (RFC 9082/9083)",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/rdap",
    "PREPROCESSING_HOOKS": [],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

urlpatterns = document_urls(app_name, "portal.compat.rdap.urls", SCHEMA_SETTINGS, mount="rdap/")

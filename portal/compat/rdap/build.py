"""The RDAP JSON objects (RFC 9083) Nameport answers with, as the ICANN gTLD RDAP response
profile asks of a registrar: plain functions from rows to dicts (no queries; the views hand them
rows whose relations are already fetched).

Personal data of a domain's contacts never reaches an answer: each contact entity keeps only its
role, its state or province and its country; every other field it had is left empty or removed
and named in the ``redacted`` array (RFC 9537) with its JSONPath and the method used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

import idna
from django.conf import settings

from domains.models import Domain, DomainContact, DomainStatus, HostRecord

MEDIA_TYPE = "application/rdap+json"
CONFORMANCE = [
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
    "redacted",
]
STATUS_CODES_URL = "https://icann.org/epp"
INACCURACY_FORM_URL = "https://icann.org/wicf"

# EPP status (RFC 5731/5732/3915) -> RDAP status (RFC 8056, section 2).
EPP_TO_RDAP = {
    "addPeriod": "add period",
    "autoRenewPeriod": "auto renew period",
    "clientDeleteProhibited": "client delete prohibited",
    "clientHold": "client hold",
    "clientRenewProhibited": "client renew prohibited",
    "clientTransferProhibited": "client transfer prohibited",
    "clientUpdateProhibited": "client update prohibited",
    "inactive": "inactive",
    "linked": "associated",
    "ok": "active",
    "pendingCreate": "pending create",
    "pendingDelete": "pending delete",
    "pendingRenew": "pending renew",
    "pendingRestore": "pending restore",
    "pendingTransfer": "pending transfer",
    "pendingUpdate": "pending update",
    "redemptionPeriod": "redemption period",
    "renewPeriod": "renew period",
    "serverDeleteProhibited": "server delete prohibited",
    "serverHold": "server hold",
    "serverRenewProhibited": "server renew prohibited",
    "serverTransferProhibited": "server transfer prohibited",
    "serverUpdateProhibited": "server update prohibited",
    "transferPeriod": "transfer period",
}
# When the registry has not reported statuses yet (Domain.epp_statuses empty): what Nameport's
# own state says, in EPP terms.
LIFECYCLE_TO_EPP = {
    DomainStatus.PENDING_REGISTRATION: "pendingCreate",
    DomainStatus.GRACE: "autoRenewPeriod",
    DomainStatus.REDEMPTION: "redemptionPeriod",
    DomainStatus.PENDING_DELETE: "pendingDelete",
    DomainStatus.PENDING_TRANSFER: "pendingTransfer",
    DomainStatus.SUSPENDED: "clientHold",
}
# The contacts an answer shows (billing contacts are not published), by RDAP role, with the
# names RFC 9537's registry gives their redacted fields (a "type"; others get a "description").
CONTACT_ROLES = {
    DomainContact.Role.REGISTRANT: "registrant",
    DomainContact.Role.ADMIN: "administrative",
    DomainContact.Role.TECH: "technical",
}
REGISTERED_NAMES = {
    "Registry Registrant ID",
    "Registrant Name",
    "Registrant Organization",
    "Registrant Street",
    "Registrant City",
    "Registrant Postal Code",
    "Registrant Phone",
    "Registrant Email",
    "Registry Tech ID",
    "Tech Name",
    "Tech Phone",
    "Tech Email",
}
FIELD_PREFIX = {"registrant": "Registrant", "administrative": "Admin", "technical": "Tech"}
ID_NAME = {
    "registrant": "Registry Registrant ID",
    "administrative": "Registry Admin ID",
    "technical": "Registry Tech ID",
}


def rdap_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unicode_of(ascii_name: str) -> str:
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return ascii_name


def link(href: str, *, value: str, rel: str, media_type: str = MEDIA_TYPE) -> dict:
    return {"value": value, "rel": rel, "href": href, "type": media_type}


def notices(self_url: str, terms_url: str) -> list[dict]:
    """The three notices of the ICANN response profile (section 2.6 and 2.11)."""
    return [
        {
            "title": "Terms of Use",
            "description": [
                "This service answers for the domain names registered through "
                f"{settings.NAMEPORT_RDAP_REGISTRAR_NAME}. Its data is provided for "
                "information only; personal data of the domains' contacts is redacted."
            ],
            "links": [
                link(terms_url, value=self_url, rel="terms-of-service", media_type="text/html")
            ],
        },
        {
            "title": "Status Codes",
            "description": [
                f"For more information on domain status codes, please visit {STATUS_CODES_URL}"
            ],
            "links": [
                link(STATUS_CODES_URL, value=self_url, rel="glossary", media_type="text/html")
            ],
        },
        {
            "title": "RDDS Inaccuracy Complaint Form",
            "description": [
                f"URL of the ICANN RDDS Inaccuracy Complaint Form: {INACCURACY_FORM_URL}"
            ],
            "links": [
                link(INACCURACY_FORM_URL, value=self_url, rel="help", media_type="text/html")
            ],
        },
    ]


def error_body(status: int, message: str) -> dict:
    """RFC 9083 section 6."""
    return {
        "rdapConformance": CONFORMANCE,
        "errorCode": status,
        "title": HTTPStatus(status).phrase,
        "description": [message],
    }


def rdap_statuses(domain: Domain) -> list[str]:
    """The domain's EPP statuses as the registry last reported them, mapped per RFC 8056;
    without any, Nameport's own state (the registrar lock is clientTransferProhibited)."""
    epp = [s for s in (domain.epp_statuses or []) if isinstance(s, str)]
    if not epp:
        if domain.status in LIFECYCLE_TO_EPP:
            epp.append(LIFECYCLE_TO_EPP[domain.status])
        if domain.registrar_lock:
            epp.append("clientTransferProhibited")
        epp = epp or ["ok"]
    statuses: list[str] = []
    for status in epp:
        mapped = EPP_TO_RDAP.get(status)
        if mapped and mapped not in statuses:
            statuses.append(mapped)
    return statuses or ["active"]


def vcard(*properties: list) -> list:
    return ["vcard", [["version", {}, "text", "4.0"], *properties]]


def registrar_entity(*, abuse: bool = True) -> dict:
    entity: dict = {"objectClassName": "entity", "roles": ["registrar"]}
    iana_id = settings.NAMEPORT_RDAP_IANA_ID
    if iana_id:
        entity["handle"] = iana_id
        entity["publicIds"] = [{"type": "IANA Registrar ID", "identifier": iana_id}]
    entity["vcardArray"] = vcard(["fn", {}, "text", settings.NAMEPORT_RDAP_REGISTRAR_NAME])
    entity["links"] = [
        link(settings.SITE_URL, value=settings.SITE_URL, rel="about", media_type="text/html")
    ]
    if abuse:
        contact: list = [["fn", {}, "text", "Abuse contact"]]
        if settings.NAMEPORT_RDAP_ABUSE_PHONE:
            phone = settings.NAMEPORT_RDAP_ABUSE_PHONE
            contact.append(["tel", {"type": "voice"}, "uri", f"tel:{phone}"])
        if settings.NAMEPORT_RDAP_ABUSE_EMAIL:
            contact.append(["email", {}, "text", settings.NAMEPORT_RDAP_ABUSE_EMAIL])
        entity["entities"] = [
            {"objectClassName": "entity", "roles": ["abuse"], "vcardArray": vcard(*contact)}
        ]
    return entity


def reseller_entity(domain: Domain) -> dict:
    return {
        "objectClassName": "entity",
        "roles": ["reseller"],
        "vcardArray": vcard(["fn", {}, "text", domain.organisation.name]),
    }


def _redaction(name: str, method: str, *, pre: str = "", post: str = "", replacement: str = ""):
    entry: dict = {"name": {"type": name} if name in REGISTERED_NAMES else {"description": name}}
    if pre:
        entry["prePath"] = pre
    if post:
        entry["postPath"] = post
    if replacement:
        entry["replacementPath"] = replacement
    entry.update({"pathLang": "jsonpath", "method": method})
    entry["reason"] = {"description": "Server policy"}
    return entry


def contact_entity(contact: DomainContact) -> tuple[dict, list[dict]]:
    """The entity of one contact, with only what the policy publishes, and its redactions."""
    role = CONTACT_ROLES[contact.role]
    prefix = FIELD_PREFIX[role]
    at = f"$.entities[?(@.roles[0]=='{role}')]"
    card = f"{at}.vcardArray[1]"
    form_url = settings.NAMEPORT_RDAP_CONTACT_FORM_URL
    country = (contact.country or "").upper()
    properties: list = [
        ["fn", {}, "text", ""],
        [
            "adr",
            {"cc": country} if country else {},
            "text",
            ["", "", "", "", contact.state, "", country],
        ],
    ]
    if form_url:
        properties.append(["contact-uri", {}, "uri", form_url])
    redacted = []
    if contact.handle:
        redacted.append(_redaction(ID_NAME[role], "removal", pre=f"{at}.handle"))
    redacted.append(_redaction(f"{prefix} Name", "emptyValue", post=f"{card}[?(@[0]=='fn')][3]"))
    if contact.organization:
        redacted.append(
            _redaction(f"{prefix} Organization", "removal", pre=f"{card}[?(@[0]=='org')]")
        )
    adr = f"{card}[?(@[0]=='adr')][3]"
    redacted.append(_redaction(f"{prefix} Street", "emptyValue", post=f"{adr}[:3]"))
    redacted.append(_redaction(f"{prefix} City", "emptyValue", post=f"{adr}[3]"))
    redacted.append(_redaction(f"{prefix} Postal Code", "emptyValue", post=f"{adr}[5]"))
    if contact.phone:
        redacted.append(_redaction(f"{prefix} Phone", "removal", pre=f"{card}[?(@[0]=='tel')]"))
    email = f"{card}[?(@[0]=='email')]"
    if form_url:
        replacement = f"{card}[?(@[0]=='contact-uri')]"
        redacted.append(
            _redaction(f"{prefix} Email", "replacementValue", pre=email, replacement=replacement)
        )
    else:
        redacted.append(_redaction(f"{prefix} Email", "removal", pre=email))
    entity = {"objectClassName": "entity", "roles": [role], "vcardArray": vcard(*properties)}
    return entity, redacted


def nameserver_object(
    ascii_name: str, *, hosts: list[HostRecord], base_url: str, with_status: bool = False
) -> dict:
    """A nameserver: its names and, for glue hosts, the addresses the domain registered."""
    obj: dict = {"objectClassName": "nameserver", "ldhName": ascii_name}
    unicode_name = unicode_of(ascii_name)
    if unicode_name != ascii_name:
        obj["unicodeName"] = unicode_name
    v4 = [a for host in hosts for a in host.ipv4 or []]
    v6 = [a for host in hosts for a in host.ipv6 or []]
    if v4 or v6:
        obj["ipAddresses"] = {**({"v4": v4} if v4 else {}), **({"v6": v6} if v6 else {})}
    if with_status:
        obj["status"] = ["active"]
    url = f"{base_url}nameserver/{ascii_name}"
    obj["links"] = [link(url, value=url, rel="self")]
    return obj


def domain_object(domain: Domain, *, base_url: str, self_url: str, terms_url: str) -> dict:
    """The domain answer. ``domain`` comes with its organisation, nameservers, hosts,
    ds_records and contacts already fetched (lookups.served_domain)."""
    hosts: dict[str, list[HostRecord]] = {}
    for host in domain.hosts.all():
        hosts.setdefault(host.hostname.lower(), []).append(host)
    nameservers = [
        nameserver_object(
            ns.hostname.lower(), hosts=hosts.get(ns.hostname.lower(), []), base_url=base_url
        )
        for ns in domain.nameservers.all()
    ]
    ds_records = list(domain.ds_records.all())
    events = []
    if domain.registered_at:
        events.append({"eventAction": "registration", "eventDate": rdap_time(domain.registered_at)})
    if domain.expires_at:
        events.append({"eventAction": "expiration", "eventDate": rdap_time(domain.expires_at)})
    events.append({"eventAction": "last changed", "eventDate": rdap_time(domain.updated_at)})
    events.append(
        {
            "eventAction": "last update of RDAP database",
            "eventDate": rdap_time(datetime.now(tz=UTC)),
        }
    )
    entities = [registrar_entity(), reseller_entity(domain)]
    redacted: list[dict] = []
    contacts = {contact.role: contact for contact in domain.contacts.all()}
    for role in CONTACT_ROLES:
        if role in contacts:
            entity, redactions = contact_entity(contacts[role])
            entities.append(entity)
            redacted.extend(redactions)
    answer: dict = {
        "rdapConformance": CONFORMANCE,
        "objectClassName": "domain",
        "handle": domain.registry_reference or str(domain.uuid).upper(),
        "ldhName": domain.name_puny,
    }
    if domain.name != domain.name_puny:
        answer["unicodeName"] = domain.name
    answer.update(
        {
            "status": rdap_statuses(domain),
            "events": events,
            "nameservers": nameservers,
            "secureDNS": {
                "delegationSigned": bool(ds_records),
                "dsData": [
                    {
                        "keyTag": ds.key_tag,
                        "algorithm": ds.algorithm,
                        "digestType": ds.digest_type,
                        "digest": ds.digest.upper(),
                    }
                    for ds in ds_records
                ],
            },
            "entities": entities,
            "links": [link(self_url, value=self_url, rel="self")],
            "notices": notices(self_url, terms_url),
            "redacted": redacted,
        }
    )
    if not ds_records:
        del answer["secureDNS"]["dsData"]
    return answer


def nameserver_answer(
    ascii_name: str, *, hosts: list[HostRecord], base_url: str, self_url: str, terms_url: str
) -> dict:
    answer = {"rdapConformance": CONFORMANCE}
    answer.update(nameserver_object(ascii_name, hosts=hosts, base_url=base_url, with_status=True))
    answer["entities"] = [registrar_entity(abuse=False)]
    answer["events"] = [
        {
            "eventAction": "last update of RDAP database",
            "eventDate": rdap_time(datetime.now(tz=UTC)),
        }
    ]
    answer["notices"] = notices(self_url, terms_url)
    return answer


def help_answer(*, base_url: str, self_url: str, terms_url: str, rate: str | None) -> dict:
    """RFC 9083 section 7: what this server answers, its terms and its rate limit."""
    limit = (
        f"Each client address may make {rate.replace('/', ' queries per ', 1)}; past that the "
        "answer is 429 with a Retry-After header."
        if rate
        else "No rate limit is applied."
    )
    about = {
        "title": "About this server",
        "description": [
            f"{settings.NAMEPORT_RDAP_REGISTRAR_NAME} answers RDAP (RFC 9082/9083) for the "
            "domain names it sponsors, as their registrar.",
            f"Domain queries: {base_url}domain/<name> (the ASCII or the Unicode form).",
            f"Nameserver queries: {base_url}nameserver/<name> (the nameservers and glue hosts "
            "of those domains).",
            "Other query types and searches are not supported (501).",
        ],
        "links": [link(self_url, value=self_url, rel="self")],
    }
    rate_notice = {"title": "Rate limit", "description": [limit]}
    return {
        "rdapConformance": CONFORMANCE,
        "notices": [about, rate_notice, *notices(self_url, terms_url)],
    }

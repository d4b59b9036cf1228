"""EPP responses read into the adapter's dataclasses: pure functions, no session, no database.

Every function takes one EPP document as the registry sent it (``bytes`` or ``str``) and parses
it with :func:`document`, which uses defusedxml: a document type declaration, an entity
declaration or an external reference is refused before anything is expanded or fetched
(:class:`~domains.registrars.base.HostileResponseError`), and a document that is not well-formed
XML, or not an EPP response, is a :class:`~domains.registrars.base.MalformedResponseError`.

The readers of a command's answer (``parse_domain_info`` ...) first read its result: an error
result (2xxx) raises the RegistrarError that :func:`error_for` maps it to, so a caller that gets
a value got a success. :func:`parse_response` reads the result codes of any response without
raising.

What is understood (RFC 5730-5733, secDNS-1.1 RFC 5910, rgp-1.0 RFC 3915, fee-1.0 RFC 8748):
greetings; domain and host checks with reasons and fee-1.0 quotes; domain and host info in every
state (EPP and rgp statuses, dates, nameservers as hostObj or hostAttr, subordinate hosts,
contacts, authInfo, DS records); create, renew and transfer answers with fee-1.0 charges; poll
messages (transfers, pending actions, auto-renewals, object data, deletions); error results with
their ``<extValue>`` reasons. Older drafts of the fee extension (fee-0.6, 0.11, 0.12) are
recognised as "not fee-1.0" and their data is ignored; launch-1.0 and other extensions are
ignored.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from domains.registrars.base import (
    FEE_1_0,
    AuthorizationError,
    CheckResult,
    ContactData,
    DomainInfo,
    DsData,
    EppReason,
    EppResult,
    FeeCharge,
    FeeItem,
    FeeQuote,
    Greeting,
    HostileResponseError,
    HostInfo,
    InsufficientFundsError,
    MalformedResponseError,
    NotFoundError,
    PendingActionResult,
    PermanentError,
    PollMessage,
    RegistrarError,
    TransferInfo,
    TransientError,
)

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
HOST = "urn:ietf:params:xml:ns:host-1.0"
CONTACT = "urn:ietf:params:xml:ns:contact-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
RGP = "urn:ietf:params:xml:ns:rgp-1.0"
FEE = FEE_1_0
LAUNCH = "urn:ietf:params:xml:ns:launch-1.0"

MAX_RESPONSE_BYTES = 1_048_576  # epptools' frame limit: nothing longer arrives from a session
LOCK_STATUS = "clientTransferProhibited"
HOSTILE = "hostile-xml"  # the code of a HostileResponseError

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
# Nomulus (and others) say what was deleted only in the message text.
_DELETED = re.compile(r"^Deleted (host|contact) (\S+?)\.?$", re.IGNORECASE)


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# --- the document ---------------------------------------------------------------------------------
def document(data: bytes | str) -> ET.Element:
    """The root element of one EPP document, parsed without DTD, entities or external references.

    Raises HostileResponseError for a DTD, an entity declaration or an external reference (refused
    before anything is expanded or fetched) and MalformedResponseError for anything that is not
    well-formed XML of at most MAX_RESPONSE_BYTES.
    """
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_RESPONSE_BYTES:
        raise MalformedResponseError(
            f"EPP response of {size} bytes refused (more than {MAX_RESPONSE_BYTES})"
        )
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        # The exception's own text names the entity and its system id; neither is repeated.
        raise HostileResponseError(
            f"The registry's EPP response was refused unread: it holds a {_what(exc)}, which EPP "
            "never uses (an entity-expansion bomb or an external-entity attack). Nothing was "
            "expanded or fetched. A registry that sends this is broken or compromised.",
            code=HOSTILE,
        ) from None
    except ET.ParseError as exc:
        raise MalformedResponseError(
            f"The registry's EPP response is not well-formed XML: {exc}"
        ) from None


def _what(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "DTDForbidden":
        return "document type declaration (DTD)"
    if name == "EntitiesForbidden":
        return "entity declaration"
    if name == "ExternalReferenceForbidden":
        return "reference to an external entity"
    return "forbidden XML construct"


def _epp(data: bytes | str | ET.Element) -> ET.Element:
    root = data if isinstance(data, ET.Element) else document(data)
    if root.tag != q(EPP, "epp"):
        raise MalformedResponseError(f"Not an EPP document (root element {root.tag!r})")
    return root


# --- small readers --------------------------------------------------------------------------------
def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _child_text(parent: ET.Element | None, tag: str) -> str:
    return _text(parent.find(tag)) if parent is not None else ""


def parse_time(text: str | None) -> datetime | None:
    """An EPP dateTime ("2026-04-03T22:00:00.0Z", offsets allowed) as an aware UTC datetime."""
    match = _TIME.match((text or "").strip())
    if match is None:
        return None
    try:
        moment = datetime.fromisoformat(match.group(1) + (match.group(2) or "")[:7])
    except ValueError:
        return None
    zone = match.group(3) or "Z"
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(moment.isoformat() + zone).astimezone(UTC)


def _time(parent: ET.Element | None, tag: str) -> datetime | None:
    return parse_time(_child_text(parent, tag))


def _decimal(text: str) -> Decimal | None:
    """A decimal amount, or None for an empty or non-numeric text."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip() in ("1", "true")


def _years(period: ET.Element | None) -> int | None:
    if period is None:
        return None
    try:
        number = int(_text(period))
    except ValueError:
        return None
    if period.get("unit", "y") == "m":
        return number // 12 if number % 12 == 0 else None
    return number


def _name(text: str) -> str:
    return text.strip().lower().rstrip(".")


# --- responses and results ------------------------------------------------------------------------
@dataclass(frozen=True)
class MessageQueue:
    """``<msgQ>``: how many messages wait, the id of the one at the head (or just acked)."""

    count: int
    id: str
    queued_at: datetime | None = None
    message: str = ""
    lang: str = "en"


@dataclass(frozen=True)
class EppResponse:
    """The envelope of one response: its results (the first one is the answer), the transaction
    ids (``cl_trid`` is "" when the registry echoed none) and the message queue."""

    results: list[EppResult]
    cl_trid: str = ""
    sv_trid: str = ""
    queue: MessageQueue | None = None

    @property
    def code(self) -> int:
        return self.results[0].code

    @property
    def message(self) -> str:
        return self.results[0].message

    @property
    def succeeded(self) -> bool:
        return self.results[0].succeeded

    @property
    def pending(self) -> bool:
        return self.code == 1001


def _response_element(root: ET.Element) -> ET.Element:
    response = root.find(q(EPP, "response"))
    if response is None:
        if root.find(q(EPP, "greeting")) is not None:
            raise MalformedResponseError("Expected an EPP response, got a greeting")
        raise MalformedResponseError("The EPP document holds no <response>")
    return response


def _result(element: ET.Element) -> EppResult:
    raw = (element.get("code") or "").strip()
    if not re.fullmatch(r"[12][0-9]{3}", raw):
        raise MalformedResponseError(f"EPP result code {raw[:10]!r} is not a result code")
    msg = element.find(q(EPP, "msg"))
    reasons = []
    for ext in element.findall(q(EPP, "extValue")):
        value = ext.find(q(EPP, "value"))
        inner = value[0] if value is not None and len(value) else None
        reasons.append(
            EppReason(
                reason=_child_text(ext, q(EPP, "reason")),
                value=_text(inner) if inner is not None else _text(value),
                element=inner.tag.rsplit("}", 1)[-1] if inner is not None else "",
            )
        )
    for value in element.findall(q(EPP, "value")):  # <value> without a reason (RFC 5730 2.6)
        inner = value[0] if len(value) else None
        reasons.append(
            EppReason(
                reason="",
                value=_text(inner) if inner is not None else _text(value),
                element=inner.tag.rsplit("}", 1)[-1] if inner is not None else "",
            )
        )
    return EppResult(
        code=int(raw),
        message=_text(msg),
        lang=(msg.get("lang") if msg is not None else None) or "en",
        reasons=reasons,
    )


def _queue(response: ET.Element) -> MessageQueue | None:
    element = response.find(q(EPP, "msgQ"))
    if element is None:
        return None
    try:
        count = int(element.get("count") or "0")
    except ValueError:
        raise MalformedResponseError("EPP <msgQ> count is not a number") from None
    msg = element.find(q(EPP, "msg"))
    return MessageQueue(
        count=count,
        id=(element.get("id") or "").strip(),
        queued_at=_time(element, q(EPP, "qDate")),
        message=_text(msg),
        lang=(msg.get("lang") if msg is not None else None) or "en",
    )


def _read(root: ET.Element) -> tuple[EppResponse, ET.Element]:
    response = _response_element(root)
    results = [_result(e) for e in response.findall(q(EPP, "result"))]
    if not results:
        raise MalformedResponseError("The EPP response holds no <result>")
    trid = response.find(q(EPP, "trID"))
    return (
        EppResponse(
            results=results,
            cl_trid=_child_text(trid, q(EPP, "clTRID")),
            sv_trid=_child_text(trid, q(EPP, "svTRID")),
            queue=_queue(response),
        ),
        response,
    )


def parse_response(data: bytes | str) -> EppResponse:
    """The results, transaction ids and message queue of any EPP response; never raises for an
    error result (see :func:`error_for`)."""
    return _read(_epp(data))[0]


def error_for(response: EppResponse) -> RegistrarError | None:
    """The RegistrarError an error result stands for (None for a success): 2104 ->
    InsufficientFundsError; 2200-2202 -> AuthorizationError; 2303 -> NotFoundError; 2400 and
    2500-2502 -> TransientError; every other 2xxx -> PermanentError. The message carries the
    registry's text and its reasons; ``error.epp_result`` the first result."""
    result = response.results[0]
    if result.succeeded:
        return None
    code = result.code
    message = f"EPP {code}: {result.message or 'command failed'}"
    details = []
    for item in (r for each in response.results for r in each.reasons):
        parts = [f"'{item.value}'" if item.value else "", item.reason]
        details.append(": ".join(p for p in parts if p))
    if details:
        message += f" ({'; '.join(d for d in details if d)})"
    if code == 2104:
        error: RegistrarError = InsufficientFundsError(message, code=code)
    elif code in (2200, 2201, 2202):
        error = AuthorizationError(message, code=code)
    elif code == 2303:
        error = NotFoundError(message, code=code)
    elif code == 2400 or code >= 2500:
        error = TransientError(message, code=code)
    else:
        error = PermanentError(message, code=code)
    error.epp_result = result
    return error


def _answer(data: bytes | str) -> tuple[EppResponse, ET.Element]:
    """The response and its ``<response>`` element; an error result raises."""
    response, element = _read(_epp(data))
    error = error_for(response)
    if error is not None:
        raise error
    return response, element


def _res_data(element: ET.Element, ns: str, tag: str) -> ET.Element | None:
    res = element.find(q(EPP, "resData"))
    return res.find(q(ns, tag)) if res is not None else None


def _extension(element: ET.Element, ns: str, tag: str) -> ET.Element | None:
    ext = element.find(q(EPP, "extension"))
    return ext.find(q(ns, tag)) if ext is not None else None


def _need(found: ET.Element | None, what: str) -> ET.Element:
    if found is None:
        raise MalformedResponseError(f"The EPP response has no {what}")
    return found


# --- greeting -------------------------------------------------------------------------------------
def parse_greeting(data: bytes | str) -> Greeting:
    """The services a server offers. ``Greeting.fee`` is true only for fee-1.0."""
    root = _epp(data)
    greeting = root.find(q(EPP, "greeting"))
    if greeting is None:
        raise MalformedResponseError("Expected an EPP greeting")
    menu = greeting.find(q(EPP, "svcMenu"))
    extension = menu.find(q(EPP, "svcExtension")) if menu is not None else None

    def texts(parent: ET.Element | None, tag: str) -> list[str]:
        return [_text(e) for e in parent.findall(q(EPP, tag))] if parent is not None else []

    return Greeting(
        server_id=_child_text(greeting, q(EPP, "svID")),
        server_date=_time(greeting, q(EPP, "svDate")),
        versions=texts(menu, "version"),
        languages=texts(menu, "lang"),
        objects=texts(menu, "objURI"),
        extensions=texts(extension, "extURI"),
    )


# --- fees (RFC 8748 fee-1.0 only) -----------------------------------------------------------------
def _fee_items(parent: ET.Element, tag: str) -> list[FeeItem]:
    items = []
    for element in parent.findall(q(FEE, tag)):
        amount = _decimal(element.text or "")
        if amount is None:
            raise MalformedResponseError(f"fee:{tag} {_text(element)[:20]!r} is not an amount")
        items.append(
            FeeItem(
                amount=amount,
                description=element.get("description", ""),
                refundable=_boolean(element.get("refundable")),
                grace_period=element.get("grace-period", ""),
                applied=element.get("applied", ""),
            )
        )
    return items


def is_premium_class(fee_class: str) -> bool:
    """Whether a ``<fee:class>`` names a premium price: it contains "premium" (any case)."""
    return "premium" in fee_class.lower()


def _fee_quotes(element: ET.Element) -> dict[str, list[FeeQuote]]:
    """{name: [quotes]} from a response's ``fee:chkData`` (fee-1.0; {} without one)."""
    data = _extension(element, FEE, "chkData")
    if data is None:
        return {}
    currency = _child_text(data, q(FEE, "currency"))
    quotes: dict[str, list[FeeQuote]] = {}
    for cd in data.findall(q(FEE, "cd")):
        name = _name(_child_text(cd, q(FEE, "objID")))
        fee_class = _child_text(cd, q(FEE, "class"))
        cd_available = _boolean(cd.get("avail")) is not False
        cd_reason = _child_text(cd, q(FEE, "reason"))
        for command in cd.findall(q(FEE, "command")):
            fees = _fee_items(command, "fee")
            standard = _boolean(command.get("standard"))
            # The class decides; without one, an explicit standard="0" marks a premium price.
            premium = is_premium_class(fee_class) if fee_class else standard is False
            quotes.setdefault(name, []).append(
                FeeQuote(
                    command=command.get("name", ""),
                    currency=currency,
                    years=_years(command.find(q(FEE, "period"))),
                    amount=sum((f.amount for f in fees), Decimal("0")) if fees else None,
                    fees=fees,
                    credits=_fee_items(command, "credit"),
                    fee_class=fee_class,
                    premium=premium,
                    standard=standard,
                    available=cd_available,
                    reason=_child_text(command, q(FEE, "reason")) or cd_reason,
                    phase=command.get("phase", ""),
                    subphase=command.get("subphase", ""),
                    custom_name=command.get("customName", ""),
                )
            )
        if not cd.findall(q(FEE, "command")):
            quotes.setdefault(name, [])  # avail="0" with only a reason: no quote, name known
    return quotes


def _charge(element: ET.Element) -> FeeCharge | None:
    ext = element.find(q(EPP, "extension"))
    if ext is None:
        return None
    for tag in ("creData", "renData", "trnData", "updData", "delData"):
        data = ext.find(q(FEE, tag))
        if data is None:
            continue
        fees = _fee_items(data, "fee")
        credits = _fee_items(data, "credit")
        return FeeCharge(
            currency=_child_text(data, q(FEE, "currency")),
            amount=sum((f.amount for f in fees), Decimal("0")),
            credit=sum((c.amount for c in credits), Decimal("0")),
            fees=fees,
            credits=credits,
            years=_years(data.find(q(FEE, "period"))),
            balance=_decimal(_child_text(data, q(FEE, "balance"))),
            credit_limit=_decimal(_child_text(data, q(FEE, "creditLimit"))),
        )
    return None


def parse_fee_charge(data: bytes | str) -> FeeCharge | None:
    """What a create, renew, transfer, update (restore) or delete cost (fee-1.0), or None when the
    answer carries no fee-1.0 data (no fee extension, or an older draft)."""
    return _charge(_answer(data)[1])


def parse_rgp_update(data: bytes | str) -> list[str]:
    """The rgp statuses of a domain:update answer (``<rgp:upData>``, RFC 3915), e.g.
    ``["pendingRestore"]`` after a restore request the registry wants a report for; [] when the
    answer has none (a registry that restores at once, as Nomulus does)."""
    _, element = _answer(data)
    updated = _extension(element, RGP, "upData")
    if updated is None:
        return []
    return [e.get("s", "") for e in updated.findall(q(RGP, "rgpStatus"))]


# --- checks ---------------------------------------------------------------------------------------
def _availability_reason(available: bool, text: str) -> str:
    """Today's categories: "" (available), "reserved", "invalid" or "registered"."""
    if available:
        return ""
    lowered = text.lower()
    if "reserv" in lowered:
        return "reserved"
    if "invalid" in lowered:
        return "invalid"
    return "registered"


def _checks(element: ET.Element, ns: str) -> list[tuple[str, bool, str]]:
    data = _need(_res_data(element, ns, "chkData"), f"{ns.rsplit(':', 1)[-1]}:chkData")
    answers = []
    for cd in data.findall(q(ns, "cd")):
        name = cd.find(q(ns, "name"))
        if name is None:
            continue
        answers.append(
            (
                _name(name.text or ""),
                bool(_boolean(name.get("avail"))),
                _child_text(cd, q(ns, "reason")),
            )
        )
    return answers


def parse_domain_check(data: bytes | str) -> list[CheckResult]:
    """One CheckResult per ``<domain:cd>``, in the registry's order, with the fee-1.0 quotes for
    that name. ``price`` and ``currency`` come from the 1-year (else the first) create quote;
    ``premium`` is true when any quote is premium (see FeeQuote)."""
    _, element = _answer(data)
    quotes = _fee_quotes(element)
    results = []
    for name, available, text in _checks(element, DOMAIN):
        fees = quotes.get(name, [])
        creates = [f for f in fees if f.command == "create"]
        create = next((f for f in creates if f.years == 1), creates[0] if creates else None)
        first = create or (fees[0] if fees else None)
        results.append(
            CheckResult(
                name=name,
                available=available,
                premium=any(f.premium for f in fees),
                price=create.amount if create is not None else None,
                currency=(first.currency if first is not None else "") or "USD",
                reason=_availability_reason(available, text),
                fees=fees,
                fee_class=first.fee_class if first is not None else "",
                detail=text,
            )
        )
    return results


def parse_host_check(data: bytes | str) -> list[CheckResult]:
    """One CheckResult per ``<host:cd>`` (``name`` is the host name; ``detail`` the reason)."""
    _, element = _answer(data)
    return [
        CheckResult(
            name=name,
            available=available,
            reason=_availability_reason(available, text),
            detail=text,
        )
        for name, available, text in _checks(element, HOST)
    ]


# --- info -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DomainInfoReply:
    """A domain:info answer: the DomainInfo (contacts without details), the contact handles by
    role ({"registrant": [...], "admin": [...], ...}) and the authInfo password ("" when the
    registry did not disclose it; never in repr)."""

    info: DomainInfo
    contacts: dict[str, list[str]] = field(default_factory=dict)
    auth_code: str = field(default="", repr=False)


def _domain_info(data: ET.Element, element: ET.Element | None) -> DomainInfoReply:
    statuses = [e.get("s", "") for e in data.findall(q(DOMAIN, "status"))]
    handles: dict[str, list[str]] = {}
    registrant = _child_text(data, q(DOMAIN, "registrant"))
    if registrant:
        handles["registrant"] = [registrant]
    for contact in data.findall(q(DOMAIN, "contact")):
        handles.setdefault(contact.get("type", ""), []).append(_text(contact))
    ns = data.find(q(DOMAIN, "ns"))
    nameservers = []
    if ns is not None:
        nameservers += [_name(_text(e)) for e in ns.findall(q(DOMAIN, "hostObj"))]
        for attr in ns.findall(q(DOMAIN, "hostAttr")):
            nameservers.append(_name(_child_text(attr, q(DOMAIN, "hostName"))))
    ds_records, rgp_statuses = [], []
    if element is not None:
        sec = _extension(element, SECDNS, "infData")
        for ds in sec.findall(q(SECDNS, "dsData")) if sec is not None else []:
            try:
                ds_records.append(
                    DsData(
                        key_tag=int(_child_text(ds, q(SECDNS, "keyTag")) or 0),
                        algorithm=int(_child_text(ds, q(SECDNS, "alg")) or 0),
                        digest_type=int(_child_text(ds, q(SECDNS, "digestType")) or 0),
                        digest=_child_text(ds, q(SECDNS, "digest")).upper(),
                    )
                )
            except ValueError:
                raise MalformedResponseError("secDNS:dsData with a non-numeric field") from None
        rgp = _extension(element, RGP, "infData")
        if rgp is not None:
            rgp_statuses = [e.get("s", "") for e in rgp.findall(q(RGP, "rgpStatus"))]
    info = DomainInfo(
        name=_name(_child_text(data, q(DOMAIN, "name"))),
        expires_at=_time(data, q(DOMAIN, "exDate")),
        registered_at=_time(data, q(DOMAIN, "crDate")),
        statuses=statuses,
        nameservers=nameservers,
        locked=LOCK_STATUS in statuses,
        privacy=None,
        autorenew=None,
        ds_records=ds_records,
        reference=_child_text(data, q(DOMAIN, "roid")),
        rgp_statuses=rgp_statuses,
        updated_at=_time(data, q(DOMAIN, "upDate")),
        transferred_at=_time(data, q(DOMAIN, "trDate")),
        sponsor=_child_text(data, q(DOMAIN, "clID")),
        hosts=[_name(_text(e)) for e in data.findall(q(DOMAIN, "host"))],
    )
    auth = data.find(q(DOMAIN, "authInfo"))
    password = auth.find(q(DOMAIN, "pw")) if auth is not None else None
    auth_code = (password.text or "").strip() if password is not None else ""
    return DomainInfoReply(info=info, contacts=handles, auth_code=auth_code)


def parse_domain_info(data: bytes | str) -> DomainInfoReply:
    """A domain:info answer (statuses, rgp statuses, dates, nameservers, hosts, contacts,
    authInfo, DS records)."""
    _, element = _answer(data)
    return _domain_info(_need(_res_data(element, DOMAIN, "infData"), "domain:infData"), element)


def _host_info(data: ET.Element) -> HostInfo:
    ipv4, ipv6 = [], []
    for addr in data.findall(q(HOST, "addr")):
        (ipv6 if addr.get("ip") == "v6" else ipv4).append(_text(addr))
    return HostInfo(
        hostname=_name(_child_text(data, q(HOST, "name"))),
        ipv4=ipv4,
        ipv6=ipv6,
        statuses=[e.get("s", "") for e in data.findall(q(HOST, "status"))],
        sponsor=_child_text(data, q(HOST, "clID")),
        reference=_child_text(data, q(HOST, "roid")),
        registered_at=_time(data, q(HOST, "crDate")),
        updated_at=_time(data, q(HOST, "upDate")),
        transferred_at=_time(data, q(HOST, "trDate")),
    )


def parse_host_info(data: bytes | str) -> HostInfo:
    """A host:info answer: addresses, statuses (``linked`` when in use), sponsor, dates."""
    _, element = _answer(data)
    return _host_info(_need(_res_data(element, HOST, "infData"), "host:infData"))


def parse_host_create(data: bytes | str) -> HostInfo:
    """A host:create answer (``creData``: the name and crDate; no addresses)."""
    _, element = _answer(data)
    created = _need(_res_data(element, HOST, "creData"), "host:creData")
    return HostInfo(
        hostname=_name(_child_text(created, q(HOST, "name"))),
        registered_at=_time(created, q(HOST, "crDate")),
    )


def parse_contact_info(data: bytes | str, *, role: str, handle: str = "") -> ContactData:
    """A contact:info answer as ContactData (the first postalInfo; name split at its first
    space)."""
    _, element = _answer(data)
    info = _need(_res_data(element, CONTACT, "infData"), "contact:infData")
    postal = _need(info.find(q(CONTACT, "postalInfo")), "contact:postalInfo")
    first, _, last = _child_text(postal, q(CONTACT, "name")).partition(" ")
    addr = postal.find(q(CONTACT, "addr"))
    streets = [_text(s) for s in addr.findall(q(CONTACT, "street"))] if addr is not None else []
    return ContactData(
        role=role,
        first_name=first,
        last_name=last,
        email=_child_text(info, q(CONTACT, "email")),
        phone=_child_text(info, q(CONTACT, "voice")),
        address_1=streets[0] if streets else "",
        city=_child_text(addr, q(CONTACT, "city")),
        country=_child_text(addr, q(CONTACT, "cc")),
        organization=_child_text(postal, q(CONTACT, "org")),
        address_2=", ".join(streets[1:]),
        state=_child_text(addr, q(CONTACT, "sp")),
        zip=_child_text(addr, q(CONTACT, "pc")),
        handle=handle or _child_text(info, q(CONTACT, "id")),
    )


# --- transforms -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DomainChange:
    """A create or renew answer: the name, its dates after the command (``registered_at`` for a
    create only) and the fee-1.0 charge; ``pending`` for 1001 (the registry acts later)."""

    name: str
    expires_at: datetime | None
    registered_at: datetime | None = None
    fee: FeeCharge | None = None
    pending: bool = False


def parse_domain_create(data: bytes | str) -> DomainChange:
    """A domain:create answer (``creData``: name, crDate, exDate; ``fee:creData``)."""
    response, element = _answer(data)
    created = _need(_res_data(element, DOMAIN, "creData"), "domain:creData")
    return DomainChange(
        name=_name(_child_text(created, q(DOMAIN, "name"))),
        expires_at=_time(created, q(DOMAIN, "exDate")),
        registered_at=_time(created, q(DOMAIN, "crDate")),
        fee=_charge(element),
        pending=response.pending,
    )


def parse_domain_renew(data: bytes | str) -> DomainChange:
    """A domain:renew answer (``renData``: name, exDate; ``fee:renData``)."""
    response, element = _answer(data)
    renewed = _need(_res_data(element, DOMAIN, "renData"), "domain:renData")
    return DomainChange(
        name=_name(_child_text(renewed, q(DOMAIN, "name"))),
        expires_at=_time(renewed, q(DOMAIN, "exDate")),
        fee=_charge(element),
        pending=response.pending,
    )


def _transfer(data: ET.Element, fee: FeeCharge | None = None) -> TransferInfo:
    return TransferInfo(
        name=_name(_child_text(data, q(DOMAIN, "name"))),
        status=_child_text(data, q(DOMAIN, "trStatus")),
        requested_by=_child_text(data, q(DOMAIN, "reID")),
        requested_at=_time(data, q(DOMAIN, "reDate")),
        action_by=_child_text(data, q(DOMAIN, "acID")),
        action_at=_time(data, q(DOMAIN, "acDate")),
        expires_at=_time(data, q(DOMAIN, "exDate")),
        fee=fee,
    )


def parse_domain_transfer(data: bytes | str) -> TransferInfo:
    """A domain:transfer answer of any op (request, query, approve, reject, cancel): its
    ``trnData`` and, for a request, the fee-1.0 charge."""
    _, element = _answer(data)
    return _transfer(
        _need(_res_data(element, DOMAIN, "trnData"), "domain:trnData"), _charge(element)
    )


# --- poll -----------------------------------------------------------------------------------------
def _pending_action(data: ET.Element) -> PendingActionResult:
    name = data.find(q(DOMAIN, "name"))
    trid = data.find(q(DOMAIN, "paTRID"))
    return PendingActionResult(
        name=_name(_text(name)),
        succeeded=bool(_boolean(name.get("paResult") if name is not None else None)),
        cl_trid=_child_text(trid, q(EPP, "clTRID")),
        sv_trid=_child_text(trid, q(EPP, "svTRID")),
        acted_at=_time(data, q(DOMAIN, "paDate")),
    )


def parse_poll(data: bytes | str) -> PollMessage | None:
    """The message at the head of the queue (1301), or None when the queue is empty (1300) or the
    answer carries no message (the 1000 of an ack, whose ``msgQ`` :func:`parse_response` reads).
    Messages of unknown content are "notice" messages: kept, never dropped."""
    response, element = _answer(data)
    if response.code != 1301:
        return None
    queue = _need(response.queue, "msgQ")
    message = PollMessage(
        id=queue.id,
        count=queue.count,
        kind="notice",
        message=queue.message,
        lang=queue.lang,
        queued_at=queue.queued_at,
    )
    transfer = _res_data(element, DOMAIN, "trnData")
    pan = _res_data(element, DOMAIN, "panData")
    renewed = _res_data(element, DOMAIN, "renData")
    domain = _res_data(element, DOMAIN, "infData")
    host = _res_data(element, HOST, "infData")
    pending = _pending_action(pan) if pan is not None else None
    if transfer is not None:
        info = _transfer(transfer)
        return replace(
            message, kind="transfer", name=info.name, transfer=info, pending_action=pending
        )
    if pending is not None:
        return replace(message, kind="pending_action", name=pending.name, pending_action=pending)
    if renewed is not None:
        return replace(
            message,
            kind="renewal",
            name=_name(_child_text(renewed, q(DOMAIN, "name"))),
            expires_at=_time(renewed, q(DOMAIN, "exDate")),
        )
    if domain is not None:
        info = _domain_info(domain, element).info
        return replace(message, kind="domain", name=info.name, domain=info)
    if host is not None:
        found = _host_info(host)
        return replace(message, kind="host", name=found.hostname, host=found)
    deleted = _DELETED.match(queue.message)
    if deleted is not None:
        kind = f"{deleted.group(1).lower()}_deleted"
        return replace(message, kind=kind, name=deleted.group(2).lower())
    return message

"""The sandbox registry behind EPP (RFC 5730-5734, secDNS RFC 5910, rgp RFC 3915) over TLS.

A threaded TCP server (:class:`SandboxEppServer`, :func:`serve`, ``manage.py run_sandbox_epp``) that
plays an upstream registry so that ``EppAdapter`` is tested over real sockets. It keeps its state in
the sandbox tables (``SandboxDomain``, ``SandboxHost``, ``SandboxBalance``, ``SandboxTransaction``)
and takes its knobs (latency, failure rate, prices, balance, reserved names) from the sandbox
``RegistrarAccount`` it serves, re-read at every command, through :class:`SandboxRegistry`.

Wire: RFC 5734 framing (a 4-byte big-endian length that counts itself, then UTF-8 XML). On connect
the server sends a ``<greeting>``; ``<hello>`` gets another. Everything but ``<login>`` needs a
session. Three failed logins answer 2501 and close; an idle connection is closed after
``idle_timeout`` seconds; :meth:`SandboxEppServer.expire_sessions` makes every session answer its
next command with 2500 and close (as a registry's session timeout does), and
:meth:`SandboxEppServer.drop_sessions` cuts every connection without a word.

Parsing is lxml with entity resolution, DTDs and network access off; a document with a DOCTYPE, a
frame that is not XML or not an EPP command answers 2001 and the connection stays usable. With a
``schema`` (``etree.XMLSchema`` of ``epp-all.xsd``) every command is also validated first.

Idempotency: every mutating command applied is logged in ``SandboxTransaction`` (as
``epp:<clID>:<clTRID>``). Like a real registry the server does not recognise a clTRID it has seen
(the account's ``replay`` setting is off by default): a repeated command is applied again or
refused as a registry would (a renewal whose ``curExpDate`` no longer matches: 2306; a create of a
name that exists: 2302; a transfer of a name already yours: 2106). With ``replay`` on, repeating a
command with the same clTRID (after a lost response) applies it once and answers exactly as the
first time, and the same clTRID with a different command answers 2306. Failed commands are not
remembered. The ``lose_answers`` knob (``register``, ``renew``, ``transfer``, or another command's
``object:verb``) applies a command, holds its answer ``lost_answer_hold_ms``, then closes the
connection without answering.

Sandbox simplifications, all schema-valid:

* Transfers are approved at once (1000, ``serverApproved``) unless the upstream account's settings
  say ``"transfer_mode": "pending"``: then a request answers 1001 and waits for the sponsor's
  approve or reject, the gaining registrar's cancel, or the end of its window (``transfer_days``,
  5 by default: ``serverApproved``). ``op="query"`` reports the last transfer to either party;
  approve/reject/cancel of nothing pending answer 2301 (``domains.simulator.queue``).
* ``domain:delete`` puts the domain in its redemption period (1001, status ``pendingDelete``, rgp
  ``redemptionPeriod``); an rgp ``restore`` ``op="request"`` (charged at the ``restore`` price)
  brings it back at once, as Nomulus does, unless the upstream account's settings say
  ``"restore_report": true``: then it answers ``rgp:upData`` ``pendingRestore`` (info says so too)
  and the domain comes back with the ``op="report"`` that follows (its seven parts are checked);
  ``"silent"`` wants the report without saying so (no upData, no rgp in info meanwhile). A report
  without a pending request, or a second request, answers 2304.
* Fees (RFC 8748 fee-1.0), announced in the greeting unless the upstream account's settings say
  ``"fee": false``, and usable once the login declared them (else 2002, as Nomulus): a check's
  ``fee:check`` is answered per name and command in the shapes of Nomulus (class ``premium`` for
  the create of a name in ``premium``, ``reserved`` without a fee for one in ``reserved``,
  ``standard`` otherwise; prices in USD only); a create, renew, transfer or restore whose
  ``<fee:fee>`` is below the price, or in another currency, answers 2004 with the reason; a
  premium create without one answers 2004 too; the answers carry ``fee:creData``, ``renData``,
  ``trnData`` or ``updData`` with what was charged.
* ``domain:ns`` must use ``hostObj`` and every host must exist as a host object (2303 otherwise).
* A host under a domain of the registry needs the domain's sponsor and at least one address.
* Contacts are stored as JSON in ``SandboxTransaction`` rows keyed ``contact:<id>`` (there is no
  contact table); a domain keeps a copy of its contacts' data in ``SandboxDomain.contacts``.
* The lock is the status ``clientTransferProhibited`` (kept in step with ``SandboxDomain.locked``);
  ``clientUpdateProhibited`` refuses every update that does not remove it, and
  ``clientDeleteProhibited`` / ``clientRenewProhibited`` do what they say.
* ``poll`` reads the account's queue (``domains.simulator.queue``: transfer news for both
  parties, and what :class:`~domains.simulator.queue.RegistryDesk` puts there: auto-renewals,
  server holds, deletions, pending-action results, notices), in the shapes of Nomulus.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import secrets
import socket
import socketserver
import ssl
import struct
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import IntegrityError, close_old_connections, connections, transaction
from django.utils import timezone
from lxml import etree

from domains.models import RegistrarAccount, SandboxDomain, SandboxHost, SandboxTransaction
from domains.registrars.base import (
    AuthorizationError,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    RegistrarError,
    TransientError,
)
from domains.simulator import queue
from domains.simulator.registry import SandboxRegistry, _add_years

logger = logging.getLogger(__name__)

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
HOST = "urn:ietf:params:xml:ns:host-1.0"
CONTACT = "urn:ietf:params:xml:ns:contact-1.0"
SECDNS = "urn:ietf:params:xml:ns:secDNS-1.1"
RGP = "urn:ietf:params:xml:ns:rgp-1.0"
FEE = "urn:ietf:params:xml:ns:epp:fee-1.0"
PREFIXES = {
    DOMAIN: "domain",
    HOST: "host",
    CONTACT: "contact",
    SECDNS: "secDNS",
    RGP: "rgp",
    FEE: "fee",
}
OBJ_URIS = [DOMAIN, HOST, CONTACT]
EXT_URIS = [SECDNS, RGP]  # and FEE, unless the upstream account's settings say "fee": false
FEE_CURRENCY = "USD"  # the sandbox prices in dollars only
# Kept in SandboxDomain.statuses beside pendingDelete while a restore request waits for its
# report (rgp pendingRestore); not an EPP status, so info never shows it as one.
PENDING_RESTORE = "pendingRestore"
# RFC 8748 command -> the sandbox registry's price action.
FEE_ACTIONS = {"create": "register", "renew": "renew", "transfer": "transfer", "restore": "restore"}

# The knob ``lose_answers`` names commands as the simulated registry does.
LOST_ANSWER_COMMANDS = {
    "domain:create": "register",
    "domain:renew": "renew",
    "domain:transfer": "transfer",
}

MAX_FRAME = 1 << 20
MAX_CHECK = 50
MAX_NAMESERVERS = 13
MAX_YEARS = 10

MESSAGES = {
    1000: "Command completed successfully",
    1001: "Command completed successfully; action pending",
    1300: "Command completed successfully; no messages",
    1500: "Command completed successfully; ending session",
    2000: "Unknown command",
    2001: "Command syntax error",
    2002: "Command use error",
    2003: "Required parameter missing",
    2004: "Parameter value range error",
    2005: "Parameter value syntax error",
    2100: "Unimplemented protocol version",
    2101: "Unimplemented command",
    2102: "Unimplemented option",
    2103: "Unimplemented extension",
    2104: "Billing failure",
    2105: "Object is not eligible for renewal",
    2106: "Object is not eligible for transfer",
    2200: "Authentication error",
    2201: "Authorization error",
    2202: "Invalid authorization information",
    2300: "Object pending transfer",
    2301: "Object not pending transfer",
    2302: "Object exists",
    2303: "Object does not exist",
    2304: "Object status prohibits operation",
    2305: "Object association prohibits operation",
    2306: "Parameter value policy error",
    2307: "Unimplemented object service",
    2308: "Data management policy violation",
    2400: "Command failed",
    2500: "Command failed; server closing connection",
    2501: "Authentication error; server closing connection",
    2502: "Session limit exceeded; server closing connection",
}

DOMAIN_STATUSES = {
    "clientDeleteProhibited",
    "clientHold",
    "clientRenewProhibited",
    "clientTransferProhibited",
    "clientUpdateProhibited",
    "inactive",
    "ok",
    "pendingCreate",
    "pendingDelete",
    "pendingRenew",
    "pendingTransfer",
    "pendingUpdate",
    "serverDeleteProhibited",
    "serverHold",
    "serverRenewProhibited",
    "serverTransferProhibited",
    "serverUpdateProhibited",
}
CLIENT_DOMAIN_STATUSES = {s for s in DOMAIN_STATUSES if s.startswith("client")}
CLIENT_CONTACT_STATUSES = {
    "clientDeleteProhibited",
    "clientTransferProhibited",
    "clientUpdateProhibited",
}
CONTACT_ROLES = ("admin", "billing", "tech")

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CLID = re.compile(r"^\S{3,16}$")
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")
_E164 = re.compile(r"^\+[0-9]{1,3}\.[0-9]{1,14}$")


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# --- framing (RFC 5734) -------------------------------------------------------------------------
class FrameError(Exception):
    """The byte stream is not RFC 5734 frames: the connection cannot be resynchronised."""


def _recv_exactly(sock, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            if got:
                raise FrameError("connection closed inside a frame")
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(sock) -> bytes | None:
    """One frame's payload, or ``None`` when the peer closed the connection between frames."""
    header = _recv_exactly(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack("!I", header)
    if length <= 4 or length > MAX_FRAME:
        raise FrameError(f"invalid frame length {length}")
    body = _recv_exactly(sock, length - 4)
    if body is None:
        raise FrameError("connection closed inside a frame")
    return body


def write_frame(sock, payload: bytes) -> None:
    sock.sendall(struct.pack("!I", len(payload) + 4) + payload)


# --- errors and results -------------------------------------------------------------------------
class EppError(Exception):
    """A command refused with an EPP result code; ``reason`` is shown to the client (no secrets)."""

    def __init__(self, code: int, reason: str = "", *, value: etree._Element | None = None):
        super().__init__(reason or MESSAGES.get(code, ""))
        self.code = code
        self.reason = reason
        self.value = value


@dataclass
class Result:
    code: int = 1000
    res_data: etree._Element | None = None
    extension: list[etree._Element] = field(default_factory=list)
    close: bool = False
    msg_q: etree._Element | None = None  # <msgQ> of a poll answer (never replayed)
    more_res_data: list[etree._Element] = field(default_factory=list)  # after res_data

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "res_data": etree.tostring(self.res_data).decode() if self.res_data is not None else "",
            "extension": [etree.tostring(e).decode() for e in self.extension],
        }

    @classmethod
    def from_json(cls, data: dict) -> Result:
        parser = _parser()
        res_data = data.get("res_data") or ""
        return cls(
            code=int(data.get("code", 1000)),
            res_data=etree.fromstring(res_data.encode(), parser) if res_data else None,
            extension=[etree.fromstring(x.encode(), parser) for x in data.get("extension", [])],
        )


def _registrar_error(exc: RegistrarError) -> EppError:
    """The sandbox registry's errors, as EPP result codes."""
    if isinstance(exc, InsufficientFundsError):
        return EppError(2104, exc.message)
    if isinstance(exc, TransientError):
        return EppError(2400, exc.message)
    if isinstance(exc, AuthorizationError):
        return EppError(exc.code if exc.code in (2201, 2202) else 2201, exc.message)
    if isinstance(exc, NotFoundError):
        return EppError(2303, exc.message)
    code = exc.code if isinstance(exc.code, int) and exc.code in MESSAGES else 2306
    return EppError(code if code >= 2000 else 2306, exc.message)


# --- XML helpers --------------------------------------------------------------------------------
def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=True,
        remove_comments=True,
        remove_pis=True,
    )


def parse(data: bytes) -> etree._Element:
    """Parse a frame safely; any problem is a 2001."""
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise EppError(2001, f"XML is not well-formed: {str(exc)[:120]}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise EppError(2001, "A DOCTYPE is not allowed")
    return tree.getroot()


def _new(ns: str, tag: str) -> etree._Element:
    return etree.Element(q(ns, tag), nsmap={PREFIXES[ns]: ns})


def _sub(parent, ns: str, tag: str, text: str | None = None, **attrib) -> etree._Element:
    element = etree.SubElement(parent, q(ns, tag), {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = text
    return element


def _text(parent, ns: str, tag: str) -> str | None:
    element = parent.find(q(ns, tag))
    if element is None:
        return None
    return (element.text or "").strip()


def _required(parent, ns: str, tag: str) -> str:
    value = _text(parent, ns, tag)
    if not value:
        raise EppError(2003, f"<{PREFIXES.get(ns, 'epp')}:{tag}> is required")
    return value


def _value(ns: str, tag: str, text: str) -> etree._Element:
    """An element echoed in <extValue><value> to name the offending input."""
    element = _new(ns, tag)
    element.text = text
    return element


def _when(moment: datetime | None) -> str:
    moment = moment or timezone.now()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _domain_name(text: str, *, ns: str = DOMAIN, tag: str = "name") -> str:
    name = (text or "").strip().lower().rstrip(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise EppError(2005, "Invalid name", value=_value(ns, tag, text[:255] or "-"))
    return name


def _period(parent, ns: str = DOMAIN) -> int | None:
    element = parent.find(q(ns, "period"))
    if element is None:
        return None
    if element.get("unit", "y") != "y":
        raise EppError(2306, "Periods are in years")
    try:
        years = int((element.text or "").strip())
    except ValueError:
        raise EppError(2005, "Invalid period") from None
    if not 1 <= years <= MAX_YEARS:
        raise EppError(2004, f"The period must be 1 to {MAX_YEARS} years")
    return years


def _auth_pw(parent, ns: str) -> str | None:
    """The ``<authInfo><pw>`` under ``parent``, ``None`` when absent."""
    auth = parent.find(q(ns, "authInfo"))
    if auth is None:
        return None
    if auth.find(q(ns, "ext")) is not None:
        raise EppError(2102, "Only password authInfo is supported")
    pw = auth.find(q(ns, "pw"))
    return (pw.text or "") if pw is not None else None


def _ips(parent, ns: str, tag: str) -> tuple[list[str], list[str]]:
    ipv4: list[str] = []
    ipv6: list[str] = []
    for element in parent.findall(q(ns, tag)):
        raw = (element.text or "").strip()
        version = element.get("ip", "v4")
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            raise EppError(2005, "Invalid IP address", value=_value(HOST, "addr", raw)) from None
        if f"v{address.version}" != version:
            raise EppError(2005, f"Not an IP{version} address", value=_value(HOST, "addr", raw))
        target = ipv4 if address.version == 4 else ipv6
        if str(address) not in target:
            target.append(str(address))
    return ipv4, ipv6


def _statuses(parent, ns: str, allowed: set[str]) -> list[str]:
    values = []
    for element in parent.findall(q(ns, "status")):
        value = element.get("s", "")
        if value not in allowed:
            raise EppError(2306, f"Status {value} cannot be set by a client")
        values.append(value)
    return values


def _ds_records(parent) -> list[dict]:
    if parent.find(q(SECDNS, "keyData")) is not None:
        raise EppError(2306, "keyData is not supported; send dsData")
    records = []
    for element in parent.findall(q(SECDNS, "dsData")):
        digest = _required(element, SECDNS, "digest")
        if not _HEX.match(digest):
            raise EppError(2005, "The digest must be hexadecimal")
        try:
            record = {
                "key_tag": int(_required(element, SECDNS, "keyTag")),
                "algorithm": int(_required(element, SECDNS, "alg")),
                "digest_type": int(_required(element, SECDNS, "digestType")),
                "digest": digest.upper(),
            }
        except ValueError:
            raise EppError(2005, "keyTag, alg and digestType are numbers") from None
        if record not in records:
            records.append(record)
    return records


def _domain_statuses(row: SandboxDomain) -> list[str]:
    """The EPP statuses of a sandbox domain: its stored ones plus the lock, "ok" when none."""
    values = [s for s in row.statuses if s in DOMAIN_STATUSES and s != "ok"]
    if row.locked and "clientTransferProhibited" not in values:
        values.append("clientTransferProhibited")
    return values or ["ok"]


def _store_statuses(row: SandboxDomain, values: list[str]) -> None:
    values = [s for s in dict.fromkeys(values) if s != "ok"]
    row.statuses = values or ["ok"]
    row.locked = "clientTransferProhibited" in values


# --- one connection's protocol state ------------------------------------------------------------
@dataclass
class EppServerConfig:
    account: str
    client_id: str
    password: str = field(repr=False)
    sv_id: str = "Nameport sandbox EPP server"
    schema: etree.XMLSchema | None = None
    on_frame: Callable[[str, bytes], None] | None = None
    idle_timeout: float = 600.0
    handshake_timeout: float = 10.0
    max_login_failures: int = 3


class EppSession:
    """The EPP protocol for one connection: bytes in, bytes out (sockets live in the handler)."""

    def __init__(self, config: EppServerConfig):
        self.config = config
        self.clid: str | None = None
        self.login_failures = 0
        self.expired = False
        self.offered: list[str] = list(EXT_URIS)  # the extensions this session's greeting named
        self.declared: set[str] = set()  # those the client's login declared

    # --- frames ---------------------------------------------------------------------------------
    def greeting(self) -> bytes:
        root = etree.Element(q(EPP, "epp"), nsmap={None: EPP})
        greeting = _sub(root, EPP, "greeting")
        _sub(greeting, EPP, "svID", self.config.sv_id)
        _sub(greeting, EPP, "svDate", _when(None))
        menu = _sub(greeting, EPP, "svcMenu")
        _sub(menu, EPP, "version", "1.0")
        _sub(menu, EPP, "lang", "en")
        for uri in OBJ_URIS:
            _sub(menu, EPP, "objURI", uri)
        extension = _sub(menu, EPP, "svcExtension")
        self.offered = self._offered_extensions()
        for uri in self.offered:
            _sub(extension, EPP, "extURI", uri)
        dcp = _sub(greeting, EPP, "dcp")
        _sub(_sub(dcp, EPP, "access"), EPP, "all")
        statement = _sub(dcp, EPP, "statement")
        purpose = _sub(statement, EPP, "purpose")
        _sub(purpose, EPP, "admin")
        _sub(purpose, EPP, "prov")
        recipient = _sub(statement, EPP, "recipient")
        _sub(recipient, EPP, "ours")
        _sub(recipient, EPP, "public")
        _sub(_sub(statement, EPP, "retention"), EPP, "stated")
        return _serialize(root)

    def handle(self, data: bytes) -> tuple[bytes, bool]:
        """Answer one frame; the flag says whether to close the connection afterwards."""
        cltrid = None
        try:
            root = parse(data)
            cltrid = _client_trid(root)
            if self.config.schema is not None and not self.config.schema.validate(root):
                error = self.config.schema.error_log.last_error
                raise EppError(2001, f"Not valid EPP: {error.message[:160] if error else ''}")
            if root.tag != q(EPP, "epp") or len(root) != 1:
                raise EppError(2001, "Expected one <epp> element with one child")
            child = root[0]
            if child.tag == q(EPP, "hello"):
                return self.greeting(), False
            if child.tag != q(EPP, "command"):
                raise EppError(2001, "Expected <hello> or <command>")
            if self.expired:
                result = Result(2500, close=True)
                return self._response(result, cltrid, "Session expired"), True
            result = self._command(child, cltrid)
            return self._response(result, cltrid), result.close
        except EppError as exc:
            close = exc.code in (2500, 2501, 2502)
            return self._response(
                Result(exc.code, close=close), cltrid, exc.reason, exc.value
            ), close
        except OutcomeUnknown:
            return b"", True  # applied, and the answer is lost (lose_answers): close, say nothing
        except RegistrarError as exc:
            error = _registrar_error(exc)
            return self._response(Result(error.code), cltrid, error.reason), False
        except Exception:
            logger.exception("EPP sandbox: command failed")
            return self._response(Result(2400), cltrid, "Internal error"), False

    def _response(
        self,
        result: Result,
        cltrid: str | None,
        reason: str = "",
        value: etree._Element | None = None,
    ) -> bytes:
        root = etree.Element(q(EPP, "epp"), nsmap={None: EPP})
        response = _sub(root, EPP, "response")
        element = _sub(response, EPP, "result", code=result.code)
        message = MESSAGES.get(result.code, "Command failed")
        if reason and reason != message:
            message = f"{message}: {reason}"
        _sub(element, EPP, "msg", " ".join(message.split())[:500])
        if value is not None:
            ext_value = _sub(element, EPP, "extValue")
            _sub(ext_value, EPP, "value").append(value)
            _sub(ext_value, EPP, "reason", reason or message)
        if result.msg_q is not None:
            response.append(result.msg_q)
        if result.res_data is not None:
            res_data = _sub(response, EPP, "resData")
            res_data.append(result.res_data)
            for item in result.more_res_data:
                res_data.append(item)
        if result.extension:
            extension = _sub(response, EPP, "extension")
            for item in result.extension:
                extension.append(item)
        trid = _sub(response, EPP, "trID")
        echoed = self.echo_cltrid(cltrid)
        if echoed:
            _sub(trid, EPP, "clTRID", echoed)
        _sub(trid, EPP, "svTRID", f"SBX-{uuid.uuid4().hex[:24]}")
        return _serialize(root)

    def echo_cltrid(self, cltrid: str | None) -> str | None:
        return cltrid

    # --- commands -------------------------------------------------------------------------------
    def _command(self, command: etree._Element, cltrid: str | None) -> Result:
        children = [c for c in command if c.tag not in (q(EPP, "extension"), q(EPP, "clTRID"))]
        if len(children) != 1 or etree.QName(children[0]).namespace != EPP:
            raise EppError(2001, "Expected one command verb")
        verb_element = children[0]
        verb = etree.QName(verb_element).localname
        if verb == "login":
            return self._login(verb_element)
        if self.clid is None:
            raise EppError(2002, "Log in first")
        if verb == "logout":
            self.clid = None
            return Result(1500, close=True)
        if verb == "poll":
            close_old_connections()
            return self._poll(verb_element)
        if len(verb_element) != 1:
            raise EppError(2001, f"<{verb}> takes one object element")
        body = verb_element[0]
        name = etree.QName(body)
        objects = {DOMAIN: "domain", HOST: "host", CONTACT: "contact"}
        if name.namespace not in objects or name.localname != verb:
            raise EppError(2307 if name.namespace not in objects else 2001, f"<{name.text}>")
        obj = objects[name.namespace]
        extensions = self._extensions(command, f"{obj}:{verb}")
        handler = getattr(self, f"_{obj}_{verb}", None)
        if handler is None:
            raise EppError(2101, f"{obj}:{verb} is not implemented in the sandbox")
        close_old_connections()
        try:
            if verb == "transfer":
                return handler(body, verb_element.get("op", ""), cltrid, extensions)
            return handler(body, extensions, cltrid)
        finally:
            close_old_connections()

    def _extensions(self, command, what: str) -> dict[str, etree._Element]:
        allowed = {
            "domain:check": {q(FEE, "check")},
            "domain:create": {q(SECDNS, "create"), q(FEE, "create")},
            "domain:renew": {q(FEE, "renew")},
            "domain:transfer": {q(FEE, "transfer")},
            "domain:update": {q(SECDNS, "update"), q(RGP, "update"), q(FEE, "update")},
        }.get(what, set())
        found = {}
        extension = command.find(q(EPP, "extension"))
        for element in extension if extension is not None else []:
            if element.tag not in allowed:
                raise EppError(2103, f"{etree.QName(element).text} is not supported with {what}")
            namespace = etree.QName(element).namespace
            if namespace not in self.declared:
                # Nomulus: "Service extension(s) must be declared at login".
                raise EppError(2002, f"{namespace} was not declared at login")
            found[element.tag] = element
        return found

    def _login(self, login) -> Result:
        if self.clid is not None:
            raise EppError(2002, "Already logged in")
        clid = _required(login, EPP, "clID")
        password = _text(login, EPP, "pw") or ""
        if login.find(q(EPP, "newPW")) is not None:
            raise EppError(2306, "Password changes are not supported by the sandbox")
        options = login.find(q(EPP, "options"))
        if options is None:
            raise EppError(2003, "<options> is required")
        if _text(options, EPP, "version") != "1.0":
            raise EppError(2100, "Only EPP 1.0 is served")
        if _text(options, EPP, "lang") != "en":
            raise EppError(2102, "Only English is served")
        services = login.find(q(EPP, "svcs"))
        if services is None:
            raise EppError(2003, "<svcs> is required")
        for uri in services.findall(q(EPP, "objURI")):
            if (uri.text or "").strip() not in OBJ_URIS:
                raise EppError(2307, f"{(uri.text or '').strip()} is not served")
        for uri in services.iterfind(f"{q(EPP, 'svcExtension')}/{q(EPP, 'extURI')}"):
            if (uri.text or "").strip() not in self.offered:
                raise EppError(2103, f"{(uri.text or '').strip()} is not served")
        good_id = secrets.compare_digest(clid.encode(), self.config.client_id.encode())
        good_pw = secrets.compare_digest(password.encode(), self.config.password.encode())
        if not (good_id and good_pw):
            self.login_failures += 1
            logger.info("EPP sandbox: login refused for %s", clid[:16])
            if self.login_failures >= self.config.max_login_failures:
                raise EppError(2501, "Too many failed logins")
            raise EppError(2200, "Invalid client id or password")
        self.clid = self.config.client_id
        self.declared = {
            (uri.text or "").strip()
            for uri in services.iterfind(f"{q(EPP, 'svcExtension')}/{q(EPP, 'extURI')}")
        }
        return Result(1000)

    # --- shared plumbing ------------------------------------------------------------------------
    def _registry(self) -> SandboxRegistry:
        account = RegistrarAccount.objects.filter(name=self.config.account).first()
        return SandboxRegistry(account or RegistrarAccount(name=self.config.account))

    def _offered_extensions(self) -> list[str]:
        """The greeting's extensions: fee-1.0 too unless the upstream account says "fee": false
        (a registry without the fee extension, for the adapter's fallback)."""
        fee = self._registry().options.get("fee", True)
        return [*EXT_URIS, FEE] if fee not in (False, "false", "0", 0) else list(EXT_URIS)

    # --- fees (RFC 8748) --------------------------------------------------------------------------
    def _fee_chk_data(self, registry: SandboxRegistry, check, names: list[str]) -> etree._Element:
        """``fee:chkData`` in the shape of Nomulus: one ``fee:cd`` per name and command, with the
        class "premium" for a premium name's create price, "reserved" (and no fee) for the create
        of a reserved name, "standard" otherwise."""
        currency = _text(check, FEE, "currency")
        premium = set(registry.options.get("premium", {}))
        reserved = set(registry.options.get("reserved", []))
        data = _new(FEE, "chkData")
        _sub(data, FEE, "currency", currency or FEE_CURRENCY)
        for name in names:
            for command in check.findall(q(FEE, "command")):
                op = command.get("name", "")
                cd = _sub(data, FEE, "cd")
                _sub(cd, FEE, "objID", name)
                if currency and currency != FEE_CURRENCY:
                    cd.set("avail", "0")
                    _sub(cd, FEE, "reason", f"Prices are in {FEE_CURRENCY} only")
                    continue
                action = FEE_ACTIONS.get(op)
                if action is None and op not in ("update", "delete"):
                    cd.set("avail", "0")
                    _sub(cd, FEE, "reason", f"The {op} command has no price here")
                    continue
                years = 1 if op in ("restore", "update", "delete") else _period(command, FEE) or 1
                if op == "create" and name in reserved:
                    _sub(cd, FEE, "class", "reserved")
                    element = _sub(cd, FEE, "command", name=op)
                    _sub(element, FEE, "period", str(years), unit="y")
                    continue
                price = registry._cost(name, action, years) if action else Decimal("0")
                fee_class = "premium" if op == "create" and name in premium else "standard"
                _sub(cd, FEE, "class", fee_class)
                element = _sub(cd, FEE, "command", name=op)
                _sub(element, FEE, "period", str(years), unit="y")
                _sub(element, FEE, "fee", f"{price:.2f}", description=op)
        return data

    def _agreed_fee(self, extensions, tag: str, price: Decimal, *, premium: bool = False) -> None:
        """Check the fee a transform agreed to (``fee:create``, ``renew``, ``transfer`` or
        ``update``) against the registry's price: less, or another currency, is 2004 (RFC 8748);
        a premium name's create in a session that declared fee-1.0 must carry one (as Nomulus
        asks)."""
        element = extensions.get(q(FEE, tag))
        if element is None:
            if premium and FEE in self.declared:
                raise EppError(
                    2004,
                    "Fees must be explicitly acknowledged when performing any operations on a "
                    "premium name",
                )
            return
        currency = _text(element, FEE, "currency")
        if currency and currency != FEE_CURRENCY:
            raise EppError(
                2004,
                f"The currency passed ({currency}) does not match the currency of the fees "
                f"({FEE_CURRENCY})",
                value=_value(FEE, "currency", currency),
            )
        try:
            agreed = sum(
                (Decimal((e.text or "").strip()) for e in element.findall(q(FEE, "fee"))),
                Decimal("0"),
            )
        except InvalidOperation:
            raise EppError(2005, "A fee is a decimal amount") from None
        if agreed < price:
            raise EppError(
                2004,
                f"The fee passed ({agreed:.2f} {FEE_CURRENCY}) is less than the fee of this "
                f"command ({price:.2f} {FEE_CURRENCY})",
                value=_value(FEE, "fee", f"{agreed:.2f}"),
            )

    def _fee_data(self, tag: str, price: Decimal, description: str) -> list[etree._Element]:
        """``fee:creData`` (``renData``, ``trnData``, ``updData``): what the command cost, for a
        session that declared fee-1.0."""
        if FEE not in self.declared:
            return []
        data = _new(FEE, tag)
        _sub(data, FEE, "currency", FEE_CURRENCY)
        _sub(data, FEE, "fee", f"{price:.2f}", description=description)
        return [data]

    def _clid_of(self, account: str) -> str:
        if account == self.config.account:
            return self.config.client_id
        clid = re.sub(r"[^A-Za-z0-9]", "", account)[:16]
        return clid.ljust(3, "X")

    def _once(self, cltrid: str | None, label: str, apply: Callable[[SandboxRegistry], Result]):
        """Run a mutating command atomically and log it in ``SandboxTransaction``. With the
        account's ``replay`` setting on, once per clTRID (a repeat answers as the first); off, the
        default, a repeated clTRID is a new command, as at a real registry. Once committed, the
        ``lose_answers`` knob may lose the answer (the connection closes without one)."""
        registry = self._registry()
        registry._delay()
        replay = registry.replay
        key = f"epp:{self.clid}:{cltrid}" if cltrid else None
        if key and replay:
            previous = SandboxTransaction.objects.filter(idempotency_key=key).first()
            if previous is not None:
                return self._replay(previous, label)
        registry._maybe_fail()
        verb = label.split(" ")[0]
        try:
            with transaction.atomic():
                result = apply(registry)
                if key or not replay:
                    SandboxTransaction.objects.create(
                        idempotency_key=registry.log_key(key or f"epp:{self.clid}:-"),
                        account=self.config.account,
                        command=f"epp:{verb}",
                        result={**result.to_json(), "label": label, "name": label.split(" ")[-1]},
                    )
        except IntegrityError:
            previous = (
                SandboxTransaction.objects.filter(idempotency_key=key).first()
                if key and replay
                else None
            )
            if previous is None:
                raise
            return self._replay(previous, label)
        registry.lose_answer(LOST_ANSWER_COMMANDS.get(verb, verb))
        return result

    @staticmethod
    def _replay(previous: SandboxTransaction, label: str) -> Result:
        if previous.result.get("label") != label:
            raise EppError(2306, "This clTRID was already used for another command")
        return Result.from_json(previous.result)

    def _domain_row(self, name: str, *, for_update: bool = False) -> SandboxDomain:
        queryset = (
            SandboxDomain.objects.select_for_update() if for_update else SandboxDomain.objects
        )
        row = queryset.filter(name=name).first()
        if row is None:
            raise EppError(2303, "No such domain", value=_value(DOMAIN, "name", name))
        return row

    def _own_domain(self, name: str, *, for_update: bool = False) -> SandboxDomain:
        row = self._domain_row(name, for_update=for_update)
        if row.account != self.config.account:
            raise EppError(2201, "The domain is sponsored by another registrar")
        return row

    def _host_exists(self, hostname: str) -> None:
        if not SandboxHost.objects.filter(hostname=hostname).exists():
            raise EppError(2303, "No such host object", value=_value(DOMAIN, "hostObj", hostname))

    def _parent_domain(self, hostname: str) -> SandboxDomain | None:
        labels = hostname.split(".")
        candidates = [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
        return SandboxDomain.objects.filter(name__in=candidates).first()

    # --- contacts -------------------------------------------------------------------------------
    @staticmethod
    def _contact_key(contact_id: str) -> str:
        return f"contact:{contact_id}"

    def _contact_row(self, contact_id: str, *, for_update: bool = False) -> SandboxTransaction:
        queryset = (
            SandboxTransaction.objects.select_for_update()
            if for_update
            else SandboxTransaction.objects
        )
        row = queryset.filter(idempotency_key=self._contact_key(contact_id)).first()
        if row is None:
            raise EppError(2303, "No such contact", value=_value(CONTACT, "id", contact_id))
        return row

    def _contact_for_domain(self, contact_id: str, role: str) -> dict:
        """A domain's copy of a contact, in the shape of ``ContactData``."""
        data = self._contact_row(contact_id).result
        first, _, last = data.get("name", "").partition(" ")
        streets = data.get("street", [])
        return {
            "role": role,
            "first_name": first,
            "last_name": last,
            "email": data.get("email", ""),
            "phone": data.get("voice", ""),
            "address_1": streets[0] if streets else "",
            "city": data.get("city", ""),
            "country": data.get("cc", ""),
            "organization": data.get("org", ""),
            "address_2": ", ".join(streets[1:]),
            "state": data.get("sp", ""),
            "zip": data.get("pc", ""),
            "handle": contact_id,
        }

    def _contact_linked(self, contact_id: str) -> bool:
        for contacts in SandboxDomain.objects.values_list("contacts", flat=True).iterator():
            if any(c.get("handle") == contact_id for c in contacts):
                return True
        return False

    @staticmethod
    def _contact_id(text: str | None) -> str:
        value = (text or "").strip()
        if not _CLID.match(value):
            raise EppError(
                2005,
                "A contact id is 3 to 16 characters",
                value=_value(CONTACT, "id", value or "-"),
            )
        return value

    # --- domain commands ------------------------------------------------------------------------
    def _domain_check(self, body, extensions, cltrid) -> Result:
        raw_names = [(e.text or "").strip() for e in body.findall(q(DOMAIN, "name"))]
        if not raw_names:
            raise EppError(2003, "Give at least one name")
        if len(raw_names) > MAX_CHECK:
            raise EppError(2306, f"At most {MAX_CHECK} names per check")
        valid: dict[str, str] = {}
        for raw in raw_names:
            try:
                valid[raw] = _domain_name(raw)
            except EppError:
                continue
        registry = self._registry()
        names = list(dict.fromkeys(valid.values()))
        answers = {c.name: c for c in registry.check(names)}
        data = _new(DOMAIN, "chkData")
        for raw in raw_names:
            cd = _sub(data, DOMAIN, "cd")
            if raw not in valid:
                _sub(cd, DOMAIN, "name", raw, avail=0)
                _sub(cd, DOMAIN, "reason", "Invalid domain name")
                continue
            answer = answers[valid[raw]]
            _sub(cd, DOMAIN, "name", valid[raw], avail=int(answer.available))
            if not answer.available:
                _sub(
                    cd, DOMAIN, "reason", "In use" if answer.reason == "registered" else "Reserved"
                )
        fee_check = extensions.get(q(FEE, "check"))
        if fee_check is None:
            return Result(res_data=data)
        return Result(res_data=data, extension=[self._fee_chk_data(registry, fee_check, names)])

    def _domain_info(self, body, extensions, cltrid) -> Result:
        name_element = body.find(q(DOMAIN, "name"))
        if name_element is None:
            raise EppError(2003, "<domain:name> is required")
        name = _domain_name(name_element.text or "")
        hosts = name_element.get("hosts", "all")
        password = _auth_pw(body, DOMAIN)
        row = self._domain_row(name)
        own = row.account == self.config.account
        if not own:
            if password is None:
                raise EppError(2201, "The domain is sponsored by another registrar")
            if not secrets.compare_digest(password.encode(), row.auth_code.encode()):
                raise EppError(2202, "Invalid authInfo", value=_value(DOMAIN, "name", name))
        data = _new(DOMAIN, "infData")
        _sub(data, DOMAIN, "name", row.name)
        _sub(data, DOMAIN, "roid", f"D{row.pk}-SBX")
        for status in _domain_statuses(row):
            _sub(data, DOMAIN, "status", s=status)
        registrant = next(
            (
                c["handle"]
                for c in row.contacts
                if c.get("role") == "registrant" and c.get("handle")
            ),
            None,
        )
        if registrant:
            _sub(data, DOMAIN, "registrant", registrant)
        for contact in row.contacts:
            if contact.get("role") in CONTACT_ROLES and contact.get("handle"):
                _sub(data, DOMAIN, "contact", contact["handle"], type=contact["role"])
        if hosts in ("all", "del") and row.nameservers:
            ns = _sub(data, DOMAIN, "ns")
            for hostname in row.nameservers:
                _sub(ns, DOMAIN, "hostObj", hostname)
        if hosts in ("all", "sub"):
            subordinate = SandboxHost.objects.filter(hostname__endswith=f".{row.name}")
            for hostname in subordinate.values_list("hostname", flat=True):
                _sub(data, DOMAIN, "host", hostname)
        _sub(data, DOMAIN, "clID", self._clid_of(row.account))
        _sub(data, DOMAIN, "crDate", _when(row.registered_at))
        _sub(data, DOMAIN, "exDate", _when(row.expires_at))
        if own:
            _sub(_sub(data, DOMAIN, "authInfo"), DOMAIN, "pw", row.auth_code)
        extension = []
        if row.ds_records:
            sec = _new(SECDNS, "infData")
            for record in row.ds_records:
                ds = _sub(sec, SECDNS, "dsData")
                _sub(ds, SECDNS, "keyTag", str(record["key_tag"]))
                _sub(ds, SECDNS, "alg", str(record["algorithm"]))
                _sub(ds, SECDNS, "digestType", str(record["digest_type"]))
                _sub(ds, SECDNS, "digest", record["digest"])
            extension.append(sec)
        waiting = PENDING_RESTORE in row.statuses  # a restore request waits for its report
        silent = waiting and self._registry().options.get("restore_report") == "silent"
        if "pendingDelete" in row.statuses and not silent:
            rgp = _new(RGP, "infData")
            _sub(rgp, RGP, "rgpStatus", s="pendingRestore" if waiting else "redemptionPeriod")
            extension.append(rgp)
        return Result(res_data=data, extension=extension)

    def _domain_create(self, body, extensions, cltrid) -> Result:
        name = _domain_name(_required(body, DOMAIN, "name"))
        years = _period(body) or 1
        nameservers = self._hostobjs(body.find(q(DOMAIN, "ns")))
        registrant = _text(body, DOMAIN, "registrant")
        contacts = [
            (e.get("type", ""), (e.text or "").strip()) for e in body.findall(q(DOMAIN, "contact"))
        ]
        if any(role not in CONTACT_ROLES for role, _ in contacts):
            raise EppError(2005, "A contact type is admin, billing or tech")
        password = _auth_pw(body, DOMAIN)
        if password is None:
            raise EppError(2003, "<domain:authInfo> is required")
        secdns = extensions.get(q(SECDNS, "create"))
        ds_records = _ds_records(secdns) if secdns is not None else []

        def apply(registry: SandboxRegistry) -> Result:
            if name in set(registry.options.get("reserved", [])):
                raise EppError(2302, "The name is reserved", value=_value(DOMAIN, "name", name))
            if SandboxDomain.objects.filter(name=name).exists():
                raise EppError(2302, "The name is registered", value=_value(DOMAIN, "name", name))
            for hostname in nameservers:
                self._host_exists(hostname)
            roles = ([("registrant", registrant)] if registrant else []) + contacts
            contact_data = [self._contact_for_domain(handle, role) for role, handle in roles]
            cost = registry._cost(name, "register", years)
            premium = name in registry.options.get("premium", {})
            self._agreed_fee(extensions, "create", cost, premium=premium)
            registry._charge(cost)
            now = timezone.now()
            row = SandboxDomain.objects.create(
                name=name,
                account=self.config.account,
                registered_at=now,
                expires_at=_add_years(now, years),
                statuses=["ok"],
                nameservers=nameservers,
                auth_code=password or secrets.token_urlsafe(12),
                contacts=contact_data,
                ds_records=ds_records,
            )
            data = _new(DOMAIN, "creData")
            _sub(data, DOMAIN, "name", row.name)
            _sub(data, DOMAIN, "crDate", _when(row.registered_at))
            _sub(data, DOMAIN, "exDate", _when(row.expires_at))
            return Result(res_data=data, extension=self._fee_data("creData", cost, "create"))

        return self._once(cltrid, f"domain:create {name}", apply)

    def _hostobjs(self, ns) -> list[str]:
        if ns is None:
            return []
        if ns.find(q(DOMAIN, "hostAttr")) is not None:
            raise EppError(2102, "Use host objects (hostObj), not hostAttr")
        hosts = []
        for element in ns.findall(q(DOMAIN, "hostObj")):
            hostname = _domain_name(element.text or "", tag="hostObj")
            if hostname not in hosts:
                hosts.append(hostname)
        if len(hosts) > MAX_NAMESERVERS:
            raise EppError(2306, f"At most {MAX_NAMESERVERS} nameservers")
        return hosts

    def _domain_renew(self, body, extensions, cltrid) -> Result:
        name = _domain_name(_required(body, DOMAIN, "name"))
        try:
            current = date.fromisoformat(_required(body, DOMAIN, "curExpDate"))
        except ValueError:
            raise EppError(2005, "curExpDate is a date (YYYY-MM-DD)") from None
        years = _period(body) or 1

        def apply(registry: SandboxRegistry) -> Result:
            row = self._own_domain(name, for_update=True)
            statuses = _domain_statuses(row)
            blocked = {"clientRenewProhibited", "serverRenewProhibited", "pendingDelete"}
            if blocked & set(statuses):
                raise EppError(2304, "The domain's status prohibits renewal")
            if row.expires_at.astimezone(UTC).date() != current:
                raise EppError(
                    2306,
                    "curExpDate is not the current expiry date",
                    value=_value(DOMAIN, "curExpDate", current.isoformat()),
                )
            new_expiry = _add_years(row.expires_at, years)
            if new_expiry > _add_years(timezone.now(), MAX_YEARS):
                raise EppError(2306, f"A domain cannot run more than {MAX_YEARS} years ahead")
            cost = registry._cost(name, "renew", years)
            self._agreed_fee(extensions, "renew", cost)
            registry._charge(cost)
            row.expires_at = new_expiry
            row.save(update_fields=["expires_at"])
            data = _new(DOMAIN, "renData")
            _sub(data, DOMAIN, "name", row.name)
            _sub(data, DOMAIN, "exDate", _when(row.expires_at))
            return Result(res_data=data, extension=self._fee_data("renData", cost, "renew"))

        return self._once(cltrid, f"domain:renew {name}", apply)

    def _domain_transfer(self, body, op, cltrid, extensions=None) -> Result:
        name = _domain_name(_required(body, DOMAIN, "name"))
        queue.settle_due()
        if op == "query":
            return self._transfer_query(name)
        if op in ("approve", "reject", "cancel"):
            return self._transfer_answer(name, op, cltrid)
        if op != "request":
            raise EppError(2005, "Unknown transfer op")
        years = _period(body) or 1
        password = _auth_pw(body, DOMAIN)
        if password is None:
            raise EppError(2003, "A transfer request needs the domain's authInfo")

        def apply(registry: SandboxRegistry) -> Result:
            row = self._domain_row(name, for_update=True)
            if row.account == self.config.account:
                raise EppError(2106, "The domain is already yours")
            statuses = set(_domain_statuses(row))
            if "pendingTransfer" in statuses:
                raise EppError(2300, "A transfer of this domain is already pending")
            if statuses & {"clientTransferProhibited", "serverTransferProhibited", "pendingDelete"}:
                raise EppError(2304, "The domain's status prohibits transfer")
            if not secrets.compare_digest(password.encode(), row.auth_code.encode()):
                raise EppError(2202, "Invalid authInfo", value=_value(DOMAIN, "name", name))
            cost = registry._cost(name, "transfer", years)
            self._agreed_fee(extensions or {}, "transfer", cost)
            registry._charge(cost)
            charged = self._fee_data("trnData", cost, "transfer")
            losing = self._clid_of(row.account)
            if queue.pending_mode(registry.options):
                queue.start(
                    row,
                    gaining=self.config.account,
                    gaining_id=self.config.client_id,
                    losing_id=losing,
                    years=years,
                    cl_trid=cltrid or "",
                    cost=cost,
                )
                return Result(1001, res_data=queue.trn_data(row), extension=charged)
            now = timezone.now()
            row.account = self.config.account
            row.expires_at = _add_years(row.expires_at, years)
            row.auth_code = secrets.token_urlsafe(12)
            _store_statuses(row, [s for s in statuses if not s.startswith("client")])
            row.save()
            return Result(res_data=self._trn_data(row, losing, now), extension=charged)

        return self._once(cltrid, f"domain:transfer {name}", apply)

    def _trn_data(self, row: SandboxDomain, losing: str, moment: datetime) -> etree._Element:
        data = _new(DOMAIN, "trnData")
        _sub(data, DOMAIN, "name", row.name)
        _sub(data, DOMAIN, "trStatus", "serverApproved")
        _sub(data, DOMAIN, "reID", self.config.client_id)
        _sub(data, DOMAIN, "reDate", _when(moment))
        _sub(data, DOMAIN, "acID", losing)
        _sub(data, DOMAIN, "acDate", _when(moment))
        _sub(data, DOMAIN, "exDate", _when(row.expires_at))
        return data

    def _transfer_query(self, name: str) -> Result:
        row = self._domain_row(name)
        if row.transfer:
            # Either party of the last transfer may ask (the sponsor, the gaining registrar).
            parties = {row.account, row.transfer.get("gaining"), row.transfer.get("losing")}
            if self.config.account not in parties:
                raise EppError(2201, "The domain is sponsored by another registrar")
            return Result(res_data=queue.trn_data(row))
        if row.account != self.config.account:
            raise EppError(2201, "The domain is sponsored by another registrar")
        last = (
            SandboxTransaction.objects.filter(
                command="epp:domain:transfer", result__name=name, account=self.config.account
            )
            .order_by("-created_at")
            .first()
        )
        if last is None:
            raise EppError(2301, "No transfer of this domain is known")
        return Result.from_json(last.result)

    def _transfer_answer(self, name: str, op: str, cltrid: str | None) -> Result:
        """approve / reject (the sponsor, of another registrar's request), cancel (the gaining
        registrar, of its own)."""

        def apply(registry: SandboxRegistry) -> Result:
            row = self._domain_row(name, for_update=True)
            state = row.transfer or {}
            if state.get("status") != queue.PENDING:
                raise EppError(2301, "No transfer of this domain is pending")
            if op == "cancel" and state.get("gaining") != self.config.account:
                raise EppError(2201, "Only the registrar that asked can cancel the transfer")
            if op != "cancel" and row.account != self.config.account:
                raise EppError(2201, "Only the sponsoring registrar can answer the transfer")
            status = {
                "approve": "clientApproved",
                "reject": "clientRejected",
                "cancel": "clientCancelled",
            }[op]
            queue.finish(row, status)
            return Result(res_data=queue.trn_data(row))

        return self._once(cltrid, f"domain:transfer-{op} {name}", apply)

    def _poll(self, poll) -> Result:
        """``op="req"``: the head of this account's queue (1301) or 1300; ``op="ack"``: remove
        the message (1000 with the next one's msgQ, 1300 when none is left, 2303 unknown)."""
        queue.settle_due()
        account = self.config.account
        op = poll.get("op")
        if op == "req":
            message, count = queue.head(account)
            if message is None:
                return Result(1300)
            msg_q = etree.Element(q(EPP, "msgQ"), count=str(count), id=str(message.pk))
            _sub(msg_q, EPP, "qDate", _when(message.queued_at))
            _sub(msg_q, EPP, "msg", message.text)
            elements = queue.res_data_elements(message)
            return Result(
                1301,
                msg_q=msg_q,
                res_data=elements[0] if elements else None,
                more_res_data=elements[1:],
            )
        if op == "ack":
            message_id = (poll.get("msgID") or "").strip()
            found, following, count = queue.ack(account, message_id)
            if not found:
                raise EppError(2303, "No message with this id is queued")
            if following is None:
                return Result(1300)
            msg_q = etree.Element(q(EPP, "msgQ"), count=str(count), id=str(following.pk))
            return Result(1000, msg_q=msg_q)
        raise EppError(2005, 'poll needs op="req" or op="ack"')

    def _domain_update(self, body, extensions, cltrid) -> Result:
        name = _domain_name(_required(body, DOMAIN, "name"))
        add, rem, chg = (body.find(q(DOMAIN, tag)) for tag in ("add", "rem", "chg"))
        secdns = extensions.get(q(SECDNS, "update"))
        rgp = extensions.get(q(RGP, "update"))
        if add is None and rem is None and chg is None and not extensions:
            raise EppError(2003, "Give at least one of add, rem or chg")

        def delta(block):
            if block is None:
                return [], [], []
            contacts = [
                (e.get("type", ""), (e.text or "").strip())
                for e in block.findall(q(DOMAIN, "contact"))
            ]
            if any(role not in CONTACT_ROLES for role, _ in contacts):
                raise EppError(2005, "A contact type is admin, billing or tech")
            statuses = _statuses(block, DOMAIN, CLIENT_DOMAIN_STATUSES)
            return self._hostobjs(block.find(q(DOMAIN, "ns"))), contacts, statuses

        add_ns, add_contacts, add_statuses = delta(add)
        rem_ns, rem_contacts, rem_statuses = delta(rem)
        new_registrant = _text(chg, DOMAIN, "registrant") if chg is not None else None
        new_password: str | None = None
        auth = chg.find(q(DOMAIN, "authInfo")) if chg is not None else None
        if auth is not None:
            if auth.find(q(DOMAIN, "ext")) is not None:
                raise EppError(2102, "Only password authInfo is supported")
            pw = auth.find(q(DOMAIN, "pw"))
            new_password = (pw.text or "") if pw is not None else ""
        restore = None
        if rgp is not None:
            restore = rgp.find(q(RGP, "restore"))
            if restore is None or restore.get("op") not in ("request", "report"):
                raise EppError(2005, 'rgp:restore needs op="request" or op="report"')
            if restore.get("op") == "report":
                _restore_report(restore)
        remove_all_ds = False
        rem_ds: list[dict] = []
        add_ds: list[dict] = []
        if secdns is not None:
            sec_rem = secdns.find(q(SECDNS, "rem"))
            if sec_rem is not None:
                remove_all_ds = (_text(sec_rem, SECDNS, "all") or "").lower() in ("true", "1")
                rem_ds = _ds_records(sec_rem)
            sec_add = secdns.find(q(SECDNS, "add"))
            add_ds = _ds_records(sec_add) if sec_add is not None else []

        def apply(registry: SandboxRegistry) -> Result:
            row = self._own_domain(name, for_update=True)
            statuses = _domain_statuses(row)
            extension = []
            waiting = False  # a restore request that waits for its report
            if restore is not None:
                if "pendingDelete" not in statuses:
                    raise EppError(2304, "The domain is not in its redemption period")
                pending_restore = PENDING_RESTORE in row.statuses
                if restore.get("op") == "request":
                    if pending_restore:
                        raise EppError(2304, "A restore request is pending: send its report")
                    cost = registry._cost(name, "restore", 1)
                    self._agreed_fee(extensions, "update", cost)
                    registry._charge(cost)
                    required = registry.options.get("restore_report")
                    if required:
                        waiting = True  # RFC 3915: pendingRestore until the report comes
                        if required != "silent":
                            data = _new(RGP, "upData")
                            _sub(data, RGP, "rgpStatus", s="pendingRestore")
                            extension.append(data)
                    else:
                        statuses = [s for s in statuses if s != "pendingDelete"]
                    extension += self._fee_data("updData", cost, "restore")
                elif not pending_restore:
                    raise EppError(2304, "No restore request is pending: send op=request first")
                else:
                    statuses = [s for s in statuses if s != "pendingDelete"]
            elif "pendingDelete" in statuses:
                raise EppError(2304, "The domain is pending deletion")
            if "serverUpdateProhibited" in statuses:
                raise EppError(2304, "The registry locked this domain against updates")
            if (
                "clientUpdateProhibited" in statuses
                and "clientUpdateProhibited" not in rem_statuses
            ):
                raise EppError(
                    2304, "The domain is locked against updates (clientUpdateProhibited)"
                )
            for hostname in add_ns:
                self._host_exists(hostname)
            nameservers = [h for h in row.nameservers if h not in rem_ns]
            nameservers += [h for h in add_ns if h not in nameservers]
            if len(nameservers) > MAX_NAMESERVERS:
                raise EppError(2306, f"At most {MAX_NAMESERVERS} nameservers")
            contacts = [
                c for c in row.contacts if (c.get("role"), c.get("handle")) not in set(rem_contacts)
            ]
            for role, handle in add_contacts:
                if not any(c.get("role") == role and c.get("handle") == handle for c in contacts):
                    contacts.append(self._contact_for_domain(handle, role))
            if new_registrant:
                contacts = [c for c in contacts if c.get("role") != "registrant"]
                contacts.insert(0, self._contact_for_domain(new_registrant, "registrant"))
            statuses = [s for s in statuses if s not in rem_statuses] + add_statuses
            _store_statuses(row, statuses)
            if waiting:
                row.statuses = [*row.statuses, PENDING_RESTORE]
            row.nameservers = nameservers
            row.contacts = contacts
            if new_password is not None:
                row.auth_code = new_password
            if secdns is not None:
                records = [] if remove_all_ds else [r for r in row.ds_records if r not in rem_ds]
                records += [r for r in add_ds if r not in records]
                row.ds_records = records
            row.save()
            return Result(extension=extension)

        return self._once(cltrid, f"domain:update {name}", apply)

    def _domain_delete(self, body, extensions, cltrid) -> Result:
        name = _domain_name(_required(body, DOMAIN, "name"))

        def apply(registry: SandboxRegistry) -> Result:
            row = self._own_domain(name, for_update=True)
            statuses = set(_domain_statuses(row))
            if statuses & {"clientDeleteProhibited", "serverDeleteProhibited", "pendingDelete"}:
                raise EppError(2304, "The domain's status prohibits deletion")
            if SandboxHost.objects.filter(hostname__endswith=f".{name}").exists():
                raise EppError(2305, "Delete the hosts under this domain first")
            _store_statuses(row, ["pendingDelete"])
            row.save(update_fields=["statuses", "locked"])
            return Result(1001)

        return self._once(cltrid, f"domain:delete {name}", apply)

    # --- host commands --------------------------------------------------------------------------
    def _host_name(self, body) -> str:
        return _domain_name(_required(body, HOST, "name"), ns=HOST)

    def _host_check(self, body, extensions, cltrid) -> Result:
        names = [(e.text or "").strip() for e in body.findall(q(HOST, "name"))]
        if not names:
            raise EppError(2003, "Give at least one name")
        if len(names) > MAX_CHECK:
            raise EppError(2306, f"At most {MAX_CHECK} names per check")
        lowered = [n.lower().rstrip(".") for n in names]
        taken = set(
            SandboxHost.objects.filter(hostname__in=lowered).values_list("hostname", flat=True)
        )
        data = _new(HOST, "chkData")
        for raw, name in zip(names, lowered, strict=True):
            cd = _sub(data, HOST, "cd")
            _sub(cd, HOST, "name", raw, avail=int(name not in taken))
            if name in taken:
                _sub(cd, HOST, "reason", "In use")
        return Result(res_data=data)

    def _host_row(self, hostname: str, *, own: bool, for_update: bool = False) -> SandboxHost:
        queryset = SandboxHost.objects.select_for_update() if for_update else SandboxHost.objects
        row = queryset.filter(hostname=hostname).first()
        if row is None:
            raise EppError(2303, "No such host", value=_value(HOST, "name", hostname))
        if own and row.account != self.config.account:
            raise EppError(2201, "The host is sponsored by another registrar")
        return row

    @staticmethod
    def _host_linked(hostname: str) -> bool:
        in_use = SandboxDomain.objects.values_list("nameservers", flat=True).iterator()
        return any(hostname in nameservers for nameservers in in_use)

    def _host_info(self, body, extensions, cltrid) -> Result:
        row = self._host_row(self._host_name(body), own=False)
        created = (
            SandboxTransaction.objects.filter(command="epp:host:create", result__name=row.hostname)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        data = _new(HOST, "infData")
        _sub(data, HOST, "name", row.hostname)
        _sub(data, HOST, "roid", f"H{row.pk}-SBX")
        _sub(data, HOST, "status", s="linked" if self._host_linked(row.hostname) else "ok")
        for address in row.ipv4:
            _sub(data, HOST, "addr", address, ip="v4")
        for address in row.ipv6:
            _sub(data, HOST, "addr", address, ip="v6")
        _sub(data, HOST, "clID", self._clid_of(row.account))
        _sub(data, HOST, "crID", self._clid_of(row.account))
        _sub(data, HOST, "crDate", _when(created))
        return Result(res_data=data)

    def _check_parent(self, hostname: str, ipv4: list[str], ipv6: list[str]) -> None:
        parent = self._parent_domain(hostname)
        if parent is None:
            return
        if parent.account != self.config.account:
            raise EppError(2201, f"{parent.name} is sponsored by another registrar")
        if not ipv4 and not ipv6:
            raise EppError(2003, f"A host under {parent.name} needs an address (glue)")

    def _host_create(self, body, extensions, cltrid) -> Result:
        hostname = self._host_name(body)
        ipv4, ipv6 = _ips(body, HOST, "addr")

        def apply(registry: SandboxRegistry) -> Result:
            if SandboxHost.objects.filter(hostname=hostname).exists():
                raise EppError(2302, "The host exists", value=_value(HOST, "name", hostname))
            self._check_parent(hostname, ipv4, ipv6)
            SandboxHost.objects.create(
                hostname=hostname, account=self.config.account, ipv4=ipv4, ipv6=ipv6
            )
            data = _new(HOST, "creData")
            _sub(data, HOST, "name", hostname)
            _sub(data, HOST, "crDate", _when(None))
            return Result(res_data=data)

        return self._once(cltrid, f"host:create {hostname}", apply)

    def _host_update(self, body, extensions, cltrid) -> Result:
        hostname = self._host_name(body)
        add, rem, chg = (body.find(q(HOST, tag)) for tag in ("add", "rem", "chg"))
        if add is None and rem is None and chg is None:
            raise EppError(2003, "Give at least one of add, rem or chg")
        for block in (add, rem):
            if block is not None and block.find(q(HOST, "status")) is not None:
                raise EppError(2102, "Host statuses are not supported by the sandbox")
        add_v4, add_v6 = _ips(add, HOST, "addr") if add is not None else ([], [])
        rem_v4, rem_v6 = _ips(rem, HOST, "addr") if rem is not None else ([], [])
        new_name = _domain_name(_required(chg, HOST, "name"), ns=HOST) if chg is not None else None

        def apply(registry: SandboxRegistry) -> Result:
            row = self._host_row(hostname, own=True, for_update=True)
            ipv4 = [a for a in row.ipv4 if a not in rem_v4] + [
                a for a in add_v4 if a not in row.ipv4
            ]
            ipv6 = [a for a in row.ipv6 if a not in rem_v6] + [
                a for a in add_v6 if a not in row.ipv6
            ]
            if new_name and new_name != hostname:
                if self._host_linked(hostname):
                    raise EppError(2305, "The host is in use as a nameserver")
                if SandboxHost.objects.filter(hostname=new_name).exists():
                    raise EppError(
                        2302, "The new name exists", value=_value(HOST, "name", new_name)
                    )
                row.hostname = new_name
            self._check_parent(row.hostname, ipv4, ipv6)
            row.ipv4, row.ipv6 = ipv4, ipv6
            row.save()
            return Result()

        return self._once(cltrid, f"host:update {hostname}", apply)

    def _host_delete(self, body, extensions, cltrid) -> Result:
        hostname = self._host_name(body)

        def apply(registry: SandboxRegistry) -> Result:
            row = self._host_row(hostname, own=True, for_update=True)
            if self._host_linked(hostname):
                raise EppError(2305, "The host is in use as a nameserver")
            row.delete()
            return Result()

        return self._once(cltrid, f"host:delete {hostname}", apply)

    # --- contact commands -----------------------------------------------------------------------
    def _contact_check(self, body, extensions, cltrid) -> Result:
        ids = [(e.text or "").strip() for e in body.findall(q(CONTACT, "id"))]
        if not ids:
            raise EppError(2003, "Give at least one id")
        if len(ids) > MAX_CHECK:
            raise EppError(2306, f"At most {MAX_CHECK} ids per check")
        keys = {self._contact_key(i) for i in ids}
        taken = set(
            SandboxTransaction.objects.filter(idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        data = _new(CONTACT, "chkData")
        for contact_id in ids:
            cd = _sub(data, CONTACT, "cd")
            valid = bool(_CLID.match(contact_id))
            used = self._contact_key(contact_id) in taken
            _sub(cd, CONTACT, "id", contact_id or "---", avail=int(valid and not used))
            if not valid or used:
                _sub(cd, CONTACT, "reason", "In use" if used else "Invalid id")
        return Result(res_data=data)

    def _contact_info(self, body, extensions, cltrid) -> Result:
        contact_id = self._contact_id(_text(body, CONTACT, "id"))
        row = self._contact_row(contact_id)
        contact = row.result
        own = row.account == self.config.account
        if not own:
            password = _auth_pw(body, CONTACT)
            if password is None or not secrets.compare_digest(
                password.encode(), contact.get("auth", "").encode()
            ):
                raise EppError(2201, "The contact is sponsored by another registrar")
        data = _new(CONTACT, "infData")
        _sub(data, CONTACT, "id", contact_id)
        _sub(data, CONTACT, "roid", f"C{row.pk}-SBX")
        statuses = list(contact.get("statuses", []))
        if self._contact_linked(contact_id):
            statuses.append("linked")
        for status in statuses or ["ok"]:
            _sub(data, CONTACT, "status", s=status)
        postal = _sub(data, CONTACT, "postalInfo", type=contact.get("type", "int"))
        _sub(postal, CONTACT, "name", contact["name"])
        if contact.get("org"):
            _sub(postal, CONTACT, "org", contact["org"])
        addr = _sub(postal, CONTACT, "addr")
        for street in contact.get("street", []):
            _sub(addr, CONTACT, "street", street)
        _sub(addr, CONTACT, "city", contact["city"])
        if contact.get("sp"):
            _sub(addr, CONTACT, "sp", contact["sp"])
        if contact.get("pc"):
            _sub(addr, CONTACT, "pc", contact["pc"])
        _sub(addr, CONTACT, "cc", contact["cc"])
        if contact.get("voice"):
            _sub(data, CONTACT, "voice", contact["voice"])
        if contact.get("fax"):
            _sub(data, CONTACT, "fax", contact["fax"])
        _sub(data, CONTACT, "email", contact["email"])
        _sub(data, CONTACT, "clID", self._clid_of(row.account))
        _sub(data, CONTACT, "crID", self._clid_of(row.account))
        _sub(data, CONTACT, "crDate", _when(row.created_at))
        if contact.get("upDate"):
            _sub(data, CONTACT, "upDate", contact["upDate"])
        if own:
            _sub(_sub(data, CONTACT, "authInfo"), CONTACT, "pw", contact.get("auth", ""))
        return Result(res_data=data)

    @staticmethod
    def _postal(element, previous: dict | None = None) -> dict:
        data = dict(previous or {})
        data["type"] = element.get("type", "int")
        for tag in ("name", "org"):
            value = _text(element, CONTACT, tag)
            if value is not None:
                data[tag] = value
        addr = element.find(q(CONTACT, "addr"))
        if addr is not None:
            data["street"] = [
                (s.text or "").strip() for s in addr.findall(q(CONTACT, "street")) if s.text
            ]
            for tag in ("city", "sp", "pc", "cc"):
                data[tag] = _text(addr, CONTACT, tag) or ""
        if not data.get("name") or not data.get("city"):
            raise EppError(2003, "A postal address needs a name and a city")
        if not re.match(r"^[A-Za-z]{2}$", data.get("cc", "")):
            raise EppError(2005, "cc is a two-letter country code")
        data["cc"] = data["cc"].upper()
        return data

    @staticmethod
    def _phone(parent, tag: str) -> str | None:
        value = _text(parent, CONTACT, tag)
        if value and not _E164.match(value):
            raise EppError(2005, f"{tag} is +CC.NUMBER", value=_value(CONTACT, tag, value))
        return value

    def _contact_create(self, body, extensions, cltrid) -> Result:
        contact_id = self._contact_id(_text(body, CONTACT, "id"))
        postal = body.findall(q(CONTACT, "postalInfo"))
        if not postal:
            raise EppError(2003, "<contact:postalInfo> is required")
        chosen = next((p for p in postal if p.get("type") == "int"), postal[0])
        data = self._postal(chosen)
        data["voice"] = self._phone(body, "voice") or ""
        data["fax"] = self._phone(body, "fax") or ""
        data["email"] = _required(body, CONTACT, "email")
        password = _auth_pw(body, CONTACT)
        if password is None:
            raise EppError(2003, "<contact:authInfo> is required")
        data["auth"] = password or secrets.token_urlsafe(12)
        data["statuses"] = []

        def apply(registry: SandboxRegistry) -> Result:
            key = self._contact_key(contact_id)
            if SandboxTransaction.objects.filter(idempotency_key=key).exists():
                raise EppError(
                    2302, "The contact id is taken", value=_value(CONTACT, "id", contact_id)
                )
            row = SandboxTransaction.objects.create(
                idempotency_key=key, account=self.config.account, command="contact", result=data
            )
            created = _new(CONTACT, "creData")
            _sub(created, CONTACT, "id", contact_id)
            _sub(created, CONTACT, "crDate", _when(row.created_at))
            return Result(res_data=created)

        return self._once(cltrid, f"contact:create {contact_id}", apply)

    def _contact_update(self, body, extensions, cltrid) -> Result:
        contact_id = self._contact_id(_text(body, CONTACT, "id"))
        add, rem, chg = (body.find(q(CONTACT, tag)) for tag in ("add", "rem", "chg"))
        if add is None and rem is None and chg is None:
            raise EppError(2003, "Give at least one of add, rem or chg")
        add_statuses = _statuses(add, CONTACT, CLIENT_CONTACT_STATUSES) if add is not None else []
        rem_statuses = _statuses(rem, CONTACT, CLIENT_CONTACT_STATUSES) if rem is not None else []

        def apply(registry: SandboxRegistry) -> Result:
            row = self._contact_row(contact_id, for_update=True)
            if row.account != self.config.account:
                raise EppError(2201, "The contact is sponsored by another registrar")
            data = dict(row.result)
            statuses = data.get("statuses", [])
            if (
                "clientUpdateProhibited" in statuses
                and "clientUpdateProhibited" not in rem_statuses
            ):
                raise EppError(2304, "The contact is locked against updates")
            if chg is not None:
                for element in chg.findall(q(CONTACT, "postalInfo")):
                    data.update(self._postal(element, data))
                for tag in ("voice", "fax"):
                    if chg.find(q(CONTACT, tag)) is not None:
                        data[tag] = self._phone(chg, tag) or ""
                if _text(chg, CONTACT, "email"):
                    data["email"] = _text(chg, CONTACT, "email")
                password = _auth_pw(chg, CONTACT)
                if password is not None:
                    data["auth"] = password
            data["statuses"] = [s for s in statuses if s not in rem_statuses]
            data["statuses"] += [s for s in add_statuses if s not in data["statuses"]]
            data["upDate"] = _when(None)
            row.result = data
            row.save(update_fields=["result"])
            return Result()

        return self._once(cltrid, f"contact:update {contact_id}", apply)

    def _contact_delete(self, body, extensions, cltrid) -> Result:
        contact_id = self._contact_id(_text(body, CONTACT, "id"))

        def apply(registry: SandboxRegistry) -> Result:
            row = self._contact_row(contact_id, for_update=True)
            if row.account != self.config.account:
                raise EppError(2201, "The contact is sponsored by another registrar")
            if "clientDeleteProhibited" in row.result.get("statuses", []):
                raise EppError(2304, "The contact is locked against deletion")
            if self._contact_linked(contact_id):
                raise EppError(2305, "The contact is used by a domain")
            row.delete()
            return Result()

        return self._once(cltrid, f"contact:delete {contact_id}", apply)


def _restore_report(restore: etree._Element) -> None:
    """An rgp restore report (RFC 3915 4.2.5) holds its seven parts; a time is a dateTime."""
    report = restore.find(q(RGP, "report"))
    if report is None:
        raise EppError(2003, '<rgp:report> is required with op="report"')
    for tag in ("preData", "postData", "delTime", "resTime", "resReason", "statement"):
        if not _text(report, RGP, tag):
            raise EppError(2003, f"<rgp:{tag}> is required in a restore report")
    for tag in ("delTime", "resTime"):
        try:
            datetime.fromisoformat(_text(report, RGP, tag).replace("Z", "+00:00"))
        except ValueError:
            raise EppError(2005, f"<rgp:{tag}> is a date and time") from None


def _client_trid(root: etree._Element) -> str | None:
    element = root.find(f"{q(EPP, 'command')}/{q(EPP, 'clTRID')}")
    if element is None:
        return None
    value = " ".join((element.text or "").split())
    return value if 3 <= len(value) <= 64 else None


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- the TLS server -----------------------------------------------------------------------------
@dataclass(eq=False)
class _Connection:
    raw: socket.socket
    tls: ssl.SSLSocket | None = None
    session: EppSession | None = None
    dropped: bool = False

    def cut(self) -> None:
        self.dropped = True
        for sock in (self.tls, self.raw):
            if sock is None:
                continue
            # The plain socket call: it wakes up a thread blocked in recv() on this connection.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _EppHandler(socketserver.BaseRequestHandler):
    server: SandboxEppServer

    def handle(self) -> None:
        server = self.server
        config = server.config
        connection = _Connection(raw=self.request, session=EppSession(config))
        server._track(connection)
        try:
            self.request.settimeout(config.handshake_timeout)
            try:
                connection.tls = server.ssl_context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            if connection.dropped:
                return
            connection.tls.settimeout(config.idle_timeout)
            self._send(connection.tls, connection.session.greeting())
            while not connection.dropped:
                try:
                    data = read_frame(connection.tls)
                except (OSError, FrameError, ValueError):
                    break
                if data is None or connection.dropped:
                    break
                if config.on_frame is not None:
                    config.on_frame("in", data)
                answer, close = connection.session.handle(data)
                if answer:
                    self._send(connection.tls, answer)
                if close:
                    break
        except (OSError, ValueError):
            pass
        finally:
            server._untrack(connection)
            if connection.tls is not None:
                with contextlib.suppress(OSError):
                    connection.tls.close()
            connections.close_all()

    def _send(self, sock, payload: bytes) -> None:
        if self.server.config.on_frame is not None:
            self.server.config.on_frame("out", payload)
        write_frame(sock, payload)


class SandboxEppServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A threaded EPP-over-TLS server; one thread per connection."""

    allow_reuse_address = True
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], config: EppServerConfig, ssl_context):
        self.config = config
        self.ssl_context = ssl_context
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, _EppHandler)

    @property
    def host(self) -> str:
        return self.server_address[0]

    @property
    def port(self) -> int:
        return self.server_address[1]

    def _track(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def drop_sessions(self) -> int:
        """Cut every open connection without a response (a crash or a network failure)."""
        with self._lock:
            live = list(self._connections)
        for connection in live:
            connection.cut()
        return len(live)

    def expire_sessions(self) -> int:
        """Every open session answers its next command with 2500 and closes (a session timeout)."""
        with self._lock:
            live = list(self._connections)
        for connection in live:
            if connection.session is not None:
                connection.session.expired = True
        return len(live)

    @property
    def desk(self) -> queue.RegistryDesk:
        """What other registrars and the registry's staff do (transfer requests and answers,
        auto-renewals, holds, deletions, any poll message), for the account this server serves."""
        return queue.RegistryDesk(self.config.account, self.config.client_id)

    def start(self) -> SandboxEppServer:
        """Serve in a background thread; :meth:`stop` ends it."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-epp-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def server_close(self) -> None:
        self.drop_sessions()
        super().server_close()


def ssl_context(certfile: str | Path, keyfile: str | Path, cafile: str | Path | None = None):
    """A server TLS context (TLS 1.2+); with ``cafile``, clients need a certificate it signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile))
    if cafile:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(cafile))
    return context


def load_schema(path: str | Path) -> etree.XMLSchema:
    """The EPP schema (``epp-all.xsd``) for validating commands."""
    return etree.XMLSchema(etree.parse(str(path), _parser()))


def make_server(
    *,
    host: str = "127.0.0.1",
    port: int = 700,
    certfile: str | Path,
    keyfile: str | Path,
    cafile: str | Path | None = None,
    account: str,
    client_id: str,
    password: str,
    schema: etree.XMLSchema | None = None,
    on_frame: Callable[[str, bytes], None] | None = None,
    idle_timeout: float = 600.0,
) -> SandboxEppServer:
    """Bind (but do not run) the sandbox EPP server; ``port=0`` picks a free port."""
    if not 6 <= len(password) <= 16:
        raise ValueError("An EPP password is 6 to 16 characters (RFC 5730 pwType)")
    if not _CLID.match(client_id):
        raise ValueError("An EPP client id is 3 to 16 characters without spaces")
    config = EppServerConfig(
        account=account,
        client_id=client_id,
        password=password,
        schema=schema,
        on_frame=on_frame,
        idle_timeout=idle_timeout,
    )
    return SandboxEppServer((host, port), config, ssl_context(certfile, keyfile, cafile))


def serve(*, background: bool = False, **options) -> SandboxEppServer:
    """Run the sandbox EPP server (options as :func:`make_server`).

    With ``background=True`` it serves in a thread and is returned at once (``server.port``,
    ``server.stop()``); otherwise this call serves until interrupted.
    """
    server = make_server(**options)
    if background:
        return server.start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return server

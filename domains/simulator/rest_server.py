"""The sandbox registry behind the seed-002 reseller REST protocol (old Name.com API), over HTTP.

A plain WSGI application (:class:`SandboxRestApp`) on top of :class:`SandboxRegistry`, served by a
threaded WSGI server (:func:`serve`, ``manage.py run_sandbox_rest``). It is never mounted in the
portal's URLs: it plays the upstream registrar so that ``ResellerRestAdapter`` is tested over real
sockets.

Every answer is JSON and carries ``{"result": {"code": 100, "message": "Command Successful"}}``
beside its data. Errors keep the same envelope with the seed's numeric codes:

=====  ===========================================  ================================================
code   when                                         HTTP status
=====  ===========================================  ================================================
203    a required parameter is missing, or the      200 (400 for a body that is not JSON)
       body is not a JSON object
204    a parameter has a wrong type or value        200
211    unknown URL / method not allowed             404 / 405
221    the object belongs to another account        200
240    the command failed (name taken, not found)   200
250    unexpected error (the sandbox's transient    503 (500 for a bug; 504 when the
       failures)                                    command was applied and its answer
                                                    lost: the ``lose_answers`` knob)
251    authentication error: bad credentials, no    200
       credentials, unknown or expired session
260    insufficient funds                           200
=====  ===========================================  ================================================

Authentication: ``POST /api/login {"username", "api_token"}`` answers ``{"session_token"}`` for the
``Api-Session-Token`` header (sessions expire after ``session_ttl`` seconds); or send
``Api-Username`` and ``Api-Token`` with every request. ``GET /api/hello`` needs neither.

Idempotency: an ``Idempotency-Key`` header (at most 80 printable characters; not part of seed 002)
becomes the sandbox's idempotency key. An order's item ``i`` uses ``KEY:i`` unless the item
carries its own ``client_reference``. Only with the account's ``replay`` setting on (off by
default, as the seed-002 API has no such header) does repeating a request with the same key
apply it once and answer as the first time; otherwise the key is only logged and a repeated
request is a new command (a renewal renews again, a create of a name that exists answers 240).

Shapes this front end chose where the seed's bodies were lost:

* Order: ``POST /api/order {"items": [{"order_type", "domain_name", "period", "nameservers",
  "contacts", "whois_privacy": 0|1, "client_reference"}]}``. Order types: ``domain/create``,
  ``domain/renew``, ``whois_privacy/create``, ``whois_privacy/renew`` and, as an extension,
  ``domain/transfer`` (with ``auth_code``); ``backorder/create`` answers 240. Every item is checked
  before any is applied (a 203/204 rejects the whole order). Answer: ``{"order_id",
  "total_charged", "results": [{"success": true, "order_type", "domain_name", "period", "price",
  "domain": {...}}]}``; a failed item is ``{"success": false, ..., "result": {"code",
  "message"}}`` and the top-level result then carries the first failure's code and message.
  Without nameservers a registration gets the account's ``default_nameservers`` setting (or
  ``ns1/ns2.sandbox-registry.test``); without contacts, none (the account's defaults).
  ``POST /api/domain/create`` takes one item's fields and answers like a one-item order.
* Domain: ``GET /api/domain/get/NAME`` -> ``{"domain_name", "create_date", "expire_date"``
  (ISO 8601, UTC) ``, "locked", "whois_privacy", "autorenew", "statuses", "nameservers",
  "contacts", "reference"}``. It never includes the auth code. Contacts are
  ``{"type": ["registrant"|"administrative"|"technical"|"billing"], "first_name", "last_name",
  "organization", "address_1", "address_2", "city", "state", "zip", "country", "phone":
  "+1.3035555555", "email"}``. Lock, unlock and the update commands answer ``{"domain": {...}}``.
* ``GET|POST /api/domain/lock/NAME``, ``.../unlock/NAME``; ``POST
  /api/domain/update_nameservers/NAME {"nameservers": [...]}`` (2 to 13 host names);
  ``POST /api/domain/update_contacts/NAME {"contacts": [...]}``. Extensions:
  ``POST /api/domain/update_whois_privacy/NAME {"enabled": bool}`` (turning privacy on is
  normally bought with a ``whois_privacy/create`` order) and
  ``POST /api/domain/update_autorenew/NAME {"autorenew": bool}``.
* Auth code (extension): ``GET /api/domain/auth_code/NAME`` -> ``{"auth_code"}``.
* List: ``GET /api/domain/list`` -> ``{"domains": {"example.com": {"create_date",
  "expire_date", "locked", "whois_privacy", "autorenew"}}}``, the account's domains only.
* Check: ``POST /api/domain/check {"domain_names": ["a.com", ...]}`` (at most 50) or the old
  keyword form ``{"keyword": "a", "tlds": ["com", "net"]}`` -> ``{"domains": {"a.com": {"avail":
  bool, "premium": bool, "price", "renew_price", "transfer_price", "currency": "USD", "reason":
  ""|"registered"|"reserved"}}}``; prices are per year, as strings.
* Hosts (registered nameservers / glue): ``GET /api/host/list/NAME`` -> ``{"hosts":
  [{"hostname", "ips": [...]}]}``; ``POST /api/host/create[/NAME] {"hostname", "ips": [...]}``
  (or one ``"ip"``; with NAME a bare label such as ``ns1`` means ``ns1.NAME``) ->
  ``{"host": {...}}``; ``POST /api/host/update[/NAME] {"hostname", "ips"}`` replaces the
  addresses; ``POST /api/host/add_ip[/NAME]`` and ``/remove_ip[/NAME] {"hostname", "ip"}``;
  ``POST /api/host/delete[/NAME] {"hostname"}``.
* DNS records, kept in memory by the app (not used by the portal yet): ``GET /api/dns/list/NAME``
  -> ``{"records": [{"record_id", "name", "type", "content", "ttl", "priority"}]}``; ``POST
  /api/dns/create/NAME {"hostname": "www"|""|"@", "type", "content", "ttl", "priority"}`` answers
  the record's fields at the top level; ``POST /api/dns/delete/NAME {"record_id"}``.
* ``GET /api/account/get`` -> ``{"username", "account_credit", "currency", "domain_count"}``;
  ``GET /api/hello`` -> ``{"service", "server_date"}``; ``GET|POST /api/logout``.
* DNSSEC is not part of this API.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus

from django.core.exceptions import ValidationError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections
from django.utils import timezone

from domains.models import RegistrarAccount, SandboxBalance, SandboxDomain, SandboxHost
from domains.names import validate_hostname
from domains.registrars.base import (
    AuthorizationError,
    ContactData,
    DomainInfo,
    HostInfo,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from domains.simulator.registry import SandboxRegistry

logger = logging.getLogger(__name__)

MESSAGES = {
    100: "Command Successful",
    203: "Required Parameter Missing",
    204: "Parameter Value Error",
    211: "Invalid Command URL",
    221: "Authorization Error",
    240: "Command Failed",
    250: "Unexpected Error (Exception)",
    251: "Authentication Error",
    260: "Insufficient Funds",
    261: "Unable to Authorize Funds",
}
# Contact roles: the REST API's names <-> ContactData.role (DomainContact.Role values).
TYPE_TO_ROLE = {
    "registrant": "registrant",
    "administrative": "admin",
    "technical": "tech",
    "billing": "billing",
}
ROLE_TO_TYPE = {role: kind for kind, role in TYPE_TO_ROLE.items()}
CONTACT_REQUIRED = ("first_name", "last_name", "address_1", "city", "country", "phone", "email")
CONTACT_OPTIONAL = ("organization", "address_2", "state", "zip")
PHONE = re.compile(r"^\+\d{1,3}\.\d{4,14}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
KEY = re.compile(r"^[\x21-\x7e]{1,80}$")
ORDER_TYPES = {
    "domain/create",
    "domain/renew",
    "domain/transfer",
    "whois_privacy/create",
    "whois_privacy/renew",
    "backorder/create",
}
DNS_TYPES = {"A", "AAAA", "CNAME", "MX", "TXT", "NS", "SRV", "CAA"}
DEFAULT_NAMESERVERS = ["ns1.sandbox-registry.test", "ns2.sandbox-registry.test"]
MAX_BODY = 1024 * 1024
MAX_CHECK = 50


class ApiError(Exception):
    """An answer with a non-100 result code."""

    def __init__(self, code: int, detail: str = "", *, status: int = 200):
        message = MESSAGES[code] + (f": {detail}" if detail else "")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.body: dict = {}


class OrderFailed(ApiError):
    """An order with a failed item: the first failure's code, and every item's result."""

    def __init__(self, code: int, message: str, body: dict):
        super().__init__(code if code in MESSAGES else 240)
        self.message = message
        self.body = body


# --- parameter readers --------------------------------------------------------------------------
def _require(data: dict, key: str, kind: type | tuple[type, ...], *, where: str = ""):
    if key not in data or data[key] is None or data[key] == "":
        raise ApiError(203, f"{where}{key}")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        raise ApiError(204, f"{where}{key} has the wrong type")
    return value


def _types(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _domain_name(raw: str, *, where: str = "domain_name") -> str:
    name = raw.strip().lower().rstrip(".")
    if not DOMAIN.match(name):
        raise ApiError(204, f"{where} {raw!r} is not a domain name")
    return name


def _period(data: dict, *, where: str = "") -> int:
    period = _require(data, "period", (int, str), where=where)
    try:
        years = int(period)
    except ValueError:
        raise ApiError(204, f"{where}period must be a number of years") from None
    if not 1 <= years <= 10:
        raise ApiError(204, f"{where}period must be 1 to 10 years")
    return years


def _flag(value, *, name: str) -> bool:
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false", None, ""):
        return False
    raise ApiError(204, f"{name} must be 0 or 1")


def _hostname(raw, *, where: str = "hostname") -> str:
    if not isinstance(raw, str):
        raise ApiError(204, f"{where} must be a host name")
    try:
        return validate_hostname(raw)
    except ValidationError as exc:
        raise ApiError(204, exc.messages[0]) from None


def _nameservers(raw, *, where: str = "") -> list[str]:
    if not isinstance(raw, list):
        raise ApiError(204, f"{where}nameservers must be a list of host names")
    hosts = [_hostname(h, where=f"{where}nameservers") for h in raw]
    if raw and not 2 <= len(hosts) <= 13:
        raise ApiError(204, f"{where}nameservers: give 2 to 13 host names")
    if len(set(hosts)) != len(hosts):
        raise ApiError(204, f"{where}nameservers: each host only once")
    return hosts


def _contacts(raw, *, where: str = "") -> list[ContactData]:
    if not isinstance(raw, list):
        raise ApiError(204, f"{where}contacts must be a list")
    contacts: list[ContactData] = []
    for i, contact in enumerate(raw):
        at = f"{where}contacts[{i}]."
        if not isinstance(contact, dict):
            raise ApiError(204, f"{where}contacts[{i}] must be an object")
        kinds = _require(contact, "type", (list, str), where=at)
        kinds = [kinds] if isinstance(kinds, str) else kinds
        roles = []
        for kind in kinds:
            role = TYPE_TO_ROLE.get(str(kind).lower()) or (kind if kind in ROLE_TO_TYPE else None)
            if role is None:
                raise ApiError(204, f"{at}type {kind!r} is not one of {', '.join(TYPE_TO_ROLE)}")
            roles.append(role)
        values = {key: _require(contact, key, str, where=at).strip() for key in CONTACT_REQUIRED}
        for key in CONTACT_OPTIONAL:
            value = contact.get(key) or ""
            if not isinstance(value, str):
                raise ApiError(204, f"{at}{key} must be text")
            values[key] = value.strip()
        if not re.match(r"^[A-Za-z]{2}$", values["country"]):
            raise ApiError(204, f"{at}country must be a two-letter code")
        if not PHONE.match(values["phone"]):
            raise ApiError(204, f"{at}phone must look like +1.3035555555")
        if "@" not in values["email"]:
            raise ApiError(204, f"{at}email is not an e-mail address")
        values["country"] = values["country"].upper()
        contacts.extend(ContactData(role=role, **values) for role in roles)
    return contacts


def _ips(raw, *, where: str = "ips") -> tuple[list[str], list[str]]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise ApiError(204, f"{where} must be a list of IP addresses")
    ipv4, ipv6 = [], []
    for value in raw:
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            raise ApiError(204, f"{value!r} is not an IP address") from None
        (ipv4 if address.version == 4 else ipv6).append(str(address))
    return ipv4, ipv6


# --- JSON shapes --------------------------------------------------------------------------------
def _date(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _contact_json(contact: ContactData) -> dict:
    data = {"type": [ROLE_TO_TYPE.get(contact.role, contact.role)]}
    for key in CONTACT_REQUIRED + CONTACT_OPTIONAL:
        data[key] = getattr(contact, key)
    return data


def _domain_json(info: DomainInfo) -> dict:
    return {
        "domain_name": info.name,
        "create_date": _date(info.registered_at),
        "expire_date": _date(info.expires_at),
        "locked": bool(info.locked),
        "whois_privacy": bool(info.privacy),
        "autorenew": bool(info.autorenew),
        "statuses": list(info.statuses),
        "nameservers": list(info.nameservers),
        "contacts": [_contact_json(c) for c in info.contacts],
        "reference": info.reference,
    }


def _host_json(host: HostInfo) -> dict:
    return {"hostname": host.hostname, "ips": [*host.ipv4, *host.ipv6]}


# --- the application ----------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    environ: dict = field(repr=False)  # headers carry the credentials: keep them out of reprs
    body: bytes = field(repr=False)
    _json: dict | None = field(default=None, repr=False)

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    @property
    def data(self) -> dict:
        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    parsed = json.loads(self.body)
                except (ValueError, UnicodeDecodeError, RecursionError):  # too deep: not JSON here
                    raise ApiError(203, "the body is not valid JSON", status=400) from None
                if not isinstance(parsed, dict):
                    raise ApiError(203, "the body must be a JSON object", status=400)
                self._json = parsed
        return self._json

    def idempotency_key(self) -> str:
        key = self.header("Idempotency-Key")
        if key and not KEY.match(key):
            raise ApiError(204, "Idempotency-Key must be 1 to 80 printable characters")
        return key


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern
    handler: Callable
    auth: bool = True


NAME = r"(?P<name>[^/]+)"
OPT_NAME = r"(?:/(?P<name>[^/]+))?"


class SandboxRestApp:
    """The WSGI application. ``account`` is a RegistrarAccount of kind sandbox. Its settings are
    read again when they are older than ``settings_ttl`` seconds (0, the default: on every
    request), so the sandbox's knobs can change while it runs."""

    def __init__(
        self,
        *,
        account: RegistrarAccount | str,
        username: str,
        api_token: str,
        session_ttl: float = 3600,
        settings_ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if isinstance(account, str):
            account = RegistrarAccount.objects.get(name=account)
        if not username or not api_token:
            raise ValueError("the sandbox needs a username and an API token")
        self.account_id = account.pk
        self.settings_ttl = settings_ttl
        self._account: tuple[float, RegistrarAccount] | None = None
        self._username = username.encode()
        self._token = api_token.encode()
        self.session_ttl = session_ttl
        self.clock = clock
        self._sessions: dict[str, float] = {}
        self.sessions_issued = 0
        self._lock = threading.Lock()
        self._records: dict[str, list[dict]] = {}
        self._next_record_id = 1
        get, post, both = frozenset({"GET"}), frozenset({"POST"}), frozenset({"GET", "POST"})
        table = [
            (post, r"/api/login", self.login, False),
            (both, r"/api/logout", self.logout, True),
            (get, r"/api/hello", self.hello, False),
            (get, r"/api/account/get", self.account_get, True),
            (post, r"/api/order", self.order, True),
            (post, r"/api/domain/create", self.domain_create, True),
            (get, rf"/api/domain/get/{NAME}", self.domain_get, True),
            (get, r"/api/domain/list", self.domain_list, True),
            (both, rf"/api/domain/lock/{NAME}", self.domain_lock, True),
            (both, rf"/api/domain/unlock/{NAME}", self.domain_unlock, True),
            (post, rf"/api/domain/update_nameservers/{NAME}", self.update_nameservers, True),
            (post, rf"/api/domain/update_contacts/{NAME}", self.update_contacts, True),
            (post, rf"/api/domain/update_whois_privacy/{NAME}", self.update_privacy, True),
            (post, rf"/api/domain/update_autorenew/{NAME}", self.update_autorenew, True),
            (get, rf"/api/domain/auth_code/{NAME}", self.auth_code, True),
            (post, r"/api/domain/check", self.check, True),
            (get, rf"/api/host/list/{NAME}", self.host_list, True),
            (post, rf"/api/host/create{OPT_NAME}", self.host_create, True),
            (post, rf"/api/host/update{OPT_NAME}", self.host_update, True),
            (post, rf"/api/host/add_ip{OPT_NAME}", self.host_add_ip, True),
            (post, rf"/api/host/remove_ip{OPT_NAME}", self.host_remove_ip, True),
            (post, rf"/api/host/delete{OPT_NAME}", self.host_delete, True),
            (get, rf"/api/dns/list/{NAME}", self.dns_list, True),
            (post, rf"/api/dns/create/{NAME}", self.dns_create, True),
            (post, rf"/api/dns/delete/{NAME}", self.dns_delete, True),
        ]
        self.routes = [Route(m, re.compile(p + "$"), h, a) for m, p, h, a in table]

    # --- WSGI ------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        status, payload = self.dispatch(environ)
        body = json.dumps(payload).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    def dispatch(self, environ) -> tuple[int, dict]:
        try:
            request = self._request(environ)
            route, params = self._route(request)
            if route.auth:
                self._authenticate(request)
            data = route.handler(request, **params)
            return 200, {"result": {"code": 100, "message": MESSAGES[100]}, **data}
        except ApiError as exc:
            return exc.status, {"result": {"code": exc.code, "message": exc.message}, **exc.body}
        except Exception as exc:
            code, message, status = self._map(exc)
            return status, {"result": {"code": code, "message": message}}

    def _map(self, exc: Exception) -> tuple[int, str, int]:
        if isinstance(exc, InsufficientFundsError):
            return 260, f"{MESSAGES[260]}: {exc.message}", 200
        if isinstance(exc, AuthorizationError):
            return 221, f"{MESSAGES[221]}: {exc.message}", 200
        if isinstance(exc, NotFoundError | PermanentError):
            return 240, f"{MESSAGES[240]}: {exc.message}", 200
        if isinstance(exc, OutcomeUnknown):  # applied, but the answer is lost: a gateway timeout
            return 250, f"{MESSAGES[250]}: {exc.message}", 504
        if isinstance(exc, TransientError):
            return 250, f"{MESSAGES[250]}: {exc.message}", 503
        logger.exception("sandbox REST: unexpected error")
        return 250, MESSAGES[250], 500

    def _request(self, environ) -> Request:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            raise ApiError(204, "the body is too large", status=413)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        path = environ.get("PATH_INFO", "") or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        return Request(
            method=environ.get("REQUEST_METHOD", "GET"), path=path, environ=environ, body=body
        )

    def _route(self, request: Request) -> tuple[Route, dict]:
        allowed: set[str] = set()
        for route in self.routes:
            match = route.pattern.match(request.path)
            if match is None:
                continue
            if request.method not in route.methods:
                allowed |= route.methods
                continue
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            if "name" in params:
                params["name"] = _domain_name(params["name"], where="domain")
            return route, params
        if allowed:
            raise ApiError(211, f"use {' or '.join(sorted(allowed))}", status=405)
        raise ApiError(211, request.path, status=404)

    # --- authentication ------------------------------------------------------------------------
    def _credentials_match(self, username: str, token: str) -> bool:
        # Both comparisons always run, so the timing says nothing about which one failed.
        user_ok = secrets.compare_digest(username.encode(), self._username)
        token_ok = secrets.compare_digest(token.encode(), self._token)
        return user_ok and token_ok

    def _authenticate(self, request: Request) -> None:
        session = request.header("Api-Session-Token")
        if session:
            with self._lock:
                expires = self._sessions.get(session)
                if expires is not None and expires <= self.clock():
                    del self._sessions[session]
                    expires = None
            if expires is None:
                raise ApiError(251, "invalid or expired session, log in again")
            return
        username, token = request.header("Api-Username"), request.header("Api-Token")
        if not username and not token:
            raise ApiError(251, "send Api-Session-Token, or Api-Username and Api-Token")
        if not self._credentials_match(username, token):
            raise ApiError(251, "invalid username or API token")

    def expire_sessions(self) -> None:
        """Forget every session (as a server restart or a timeout would)."""
        with self._lock:
            self._sessions.clear()

    def login(self, request: Request) -> dict:
        username = _require(request.data, "username", str)
        token = _require(request.data, "api_token", str)
        if not self._credentials_match(username, token):
            raise ApiError(251, "invalid username or API token")
        session = secrets.token_urlsafe(24)
        with self._lock:
            now = self.clock()
            self._sessions = {k: v for k, v in self._sessions.items() if v > now}
            self._sessions[session] = now + self.session_ttl
            self.sessions_issued += 1
        return {"session_token": session}

    def logout(self, request: Request) -> dict:
        with self._lock:
            self._sessions.pop(request.header("Api-Session-Token"), None)
        return {}

    def hello(self, request: Request) -> dict:
        return {"service": "Nameport sandbox reseller API", "server_date": _date(timezone.now())}

    # --- helpers -------------------------------------------------------------------------------
    def registry(self) -> SandboxRegistry:
        cached, now = self._account, self.clock()
        if cached is None or now - cached[0] >= self.settings_ttl:
            cached = self._account = (now, RegistrarAccount.objects.get(pk=self.account_id))
        return SandboxRegistry(cached[1])

    @staticmethod
    def _key(request: Request) -> str:
        return request.idempotency_key() or f"rest-{uuid.uuid4()}"

    # --- account -------------------------------------------------------------------------------
    def account_get(self, request: Request) -> dict:
        registry = self.registry()
        name = registry.account.name
        row = SandboxBalance.objects.filter(account=name).first()
        credit = row.amount if row else Decimal(str(registry.options.get("balance", "100000")))
        return {
            "username": self._username.decode(),
            "account_credit": f"{credit:.2f}",
            "currency": "USD",
            "domain_count": SandboxDomain.objects.filter(account=name).count(),
        }

    # --- orders --------------------------------------------------------------------------------
    def _parse_item(self, item, index: int) -> dict:
        where = f"items[{index}]."
        if not isinstance(item, dict):
            raise ApiError(204, f"items[{index}] must be an object")
        order_type = _require(item, "order_type", str, where=where)
        if order_type not in ORDER_TYPES:
            raise ApiError(204, f"{where}order_type {order_type!r} is not offered")
        parsed = {
            "order_type": order_type,
            "domain_name": _domain_name(
                _require(item, "domain_name", str, where=where), where=f"{where}domain_name"
            ),
        }
        reference = item.get("client_reference")
        if reference is not None and not (isinstance(reference, str) and KEY.match(reference)):
            raise ApiError(204, f"{where}client_reference must be 1 to 80 printable characters")
        parsed["client_reference"] = reference
        if order_type == "backorder/create":
            return parsed
        parsed["period"] = _period(item, where=where)
        parsed["whois_privacy"] = _flag(item.get("whois_privacy"), name=f"{where}whois_privacy")
        if order_type == "domain/create":
            parsed["nameservers"] = _nameservers(item.get("nameservers") or [], where=where)
            parsed["contacts"] = _contacts(
                item.get("contacts") or item.get("contact") or [], where=where
            )
        if order_type == "domain/transfer":
            parsed["auth_code"] = _require(item, "auth_code", str, where=where)
        return parsed

    def _apply_item(self, registry: SandboxRegistry, item: dict, key: str) -> dict:
        order_type, name = item["order_type"], item["domain_name"]
        if order_type == "backorder/create":
            raise PermanentError("backorders are not offered by the sandbox")
        years = item["period"]
        price = Decimal("0.00")
        if order_type == "domain/create":
            price = registry.price(name, "register", years).price or price
            info = registry.register(
                name=name,
                years=years,
                nameservers=item["nameservers"] or self._default_nameservers(registry),
                contacts=item["contacts"],
                privacy=item["whois_privacy"],
                idempotency_key=key,
            )
        elif order_type in ("domain/renew", "domain/transfer"):
            action = "renew" if order_type == "domain/renew" else "transfer"
            price = registry.price(name, action, years).price or price
            if action == "renew":
                # Seed 002's renewal names no current expiry: nothing refuses a duplicate.
                info = registry.renew(
                    name=name, years=years, current_expiry=None, idempotency_key=key
                )
            else:
                info = registry.transfer(
                    name=name, auth_code=item["auth_code"], years=years, idempotency_key=key
                )
            if item["whois_privacy"]:
                info = registry.set_privacy(name=name, enabled=True, idempotency_key=key + ":wp")
        else:  # whois_privacy/create, whois_privacy/renew: the sandbox does not bill privacy
            info = registry.set_privacy(name=name, enabled=True, idempotency_key=key)
        return {"price": f"{price:.2f}", "domain": _domain_json(info)}

    @staticmethod
    def _default_nameservers(registry: SandboxRegistry) -> list[str]:
        return list(registry.options.get("default_nameservers") or DEFAULT_NAMESERVERS)

    def _run_order(self, request: Request, items) -> dict:
        """Check every item, then apply them in order; raise OrderFailed if one failed."""
        if not isinstance(items, list) or not items:
            raise ApiError(203 if not items else 204, "items: give one or more products")
        parsed = [self._parse_item(item, i) for i, item in enumerate(items)]
        header_key = request.idempotency_key()
        registry = self.registry()
        results, failure, total = [], None, Decimal("0.00")
        for i, item in enumerate(parsed):
            key = item["client_reference"] or (f"{header_key}:{i}" if header_key else "")
            summary = {"order_type": item["order_type"], "domain_name": item["domain_name"]}
            if "period" in item:
                summary["period"] = item["period"]
            try:
                outcome = self._apply_item(registry, item, key or f"rest-{uuid.uuid4()}")
            except TransientError:
                raise  # the whole order answers 503; a retry with the same key replays the rest
            except (PermanentError, ApiError) as exc:
                code, message, _ = (
                    (exc.code, exc.message, 200) if isinstance(exc, ApiError) else self._map(exc)
                )
                results.append(
                    {"success": False, **summary, "result": {"code": code, "message": message}}
                )
                failure = failure or (code, f"items[{i}]: {message}")
                continue
            total += Decimal(outcome["price"])
            results.append({"success": True, **summary, **outcome})
        order_id = header_key or uuid.uuid4().hex
        body = {"order_id": order_id, "total_charged": f"{total:.2f}", "results": results}
        if failure is not None:
            raise OrderFailed(*failure, body)
        return body

    def order(self, request: Request) -> dict:
        return self._run_order(request, request.data.get("items"))

    def domain_create(self, request: Request) -> dict:
        return self._run_order(request, [{**request.data, "order_type": "domain/create"}])

    # --- domains -------------------------------------------------------------------------------
    def domain_get(self, request: Request, name: str) -> dict:
        return _domain_json(self.registry().info(name))

    def domain_list(self, request: Request) -> dict:
        registry = self.registry()
        rows = SandboxDomain.objects.filter(account=registry.account.name).order_by("name")
        return {
            "domains": {
                row.name: {
                    "create_date": _date(row.registered_at),
                    "expire_date": _date(row.expires_at),
                    "locked": row.locked,
                    "whois_privacy": row.privacy,
                    "autorenew": row.autorenew,
                }
                for row in rows
            }
        }

    def _domain_answer(self, info: DomainInfo) -> dict:
        return {"domain": _domain_json(info)}

    def domain_lock(self, request: Request, name: str) -> dict:
        info = self.registry().set_lock(name=name, locked=True, idempotency_key=self._key(request))
        return self._domain_answer(info)

    def domain_unlock(self, request: Request, name: str) -> dict:
        info = self.registry().set_lock(name=name, locked=False, idempotency_key=self._key(request))
        return self._domain_answer(info)

    def update_nameservers(self, request: Request, name: str) -> dict:
        raw = _require(request.data, "nameservers", list)
        hosts = _nameservers(raw)
        info = self.registry().set_nameservers(
            name=name, nameservers=hosts, idempotency_key=self._key(request)
        )
        return self._domain_answer(info)

    def update_contacts(self, request: Request, name: str) -> dict:
        contacts = _contacts(_require(request.data, "contacts", list))
        info = self.registry().set_contacts(
            name=name, contacts=contacts, idempotency_key=self._key(request)
        )
        return self._domain_answer(info)

    def update_privacy(self, request: Request, name: str) -> dict:
        enabled = _require(request.data, "enabled", (bool, int, str))
        info = self.registry().set_privacy(
            name=name, enabled=_flag(enabled, name="enabled"), idempotency_key=self._key(request)
        )
        return self._domain_answer(info)

    def update_autorenew(self, request: Request, name: str) -> dict:
        enabled = _require(request.data, "autorenew", (bool, int, str))
        info = self.registry().set_autorenew(
            name=name, enabled=_flag(enabled, name="autorenew"), idempotency_key=self._key(request)
        )
        return self._domain_answer(info)

    def auth_code(self, request: Request, name: str) -> dict:
        return {"auth_code": self.registry().auth_code(name)}

    def check(self, request: Request) -> dict:
        data = request.data
        if "domain_names" in data:
            raw = _require(data, "domain_names", list)
        elif "keyword" in data:
            keyword = _require(data, "keyword", str).strip().lower()
            tlds = data.get("tlds") or ["com", "net", "org"]
            if not isinstance(tlds, list) or not all(isinstance(t, str) for t in tlds):
                raise ApiError(204, "tlds must be a list of suffixes")
            raw = [f"{keyword}.{t.strip('.').lower()}" for t in tlds]
        else:
            raise ApiError(203, "domain_names")
        if not raw or len(raw) > MAX_CHECK:
            raise ApiError(204, f"check 1 to {MAX_CHECK} names at a time")
        names = [_domain_name(n, where="domain_names") if isinstance(n, str) else "" for n in raw]
        if "" in names:
            raise ApiError(204, "domain_names must be a list of domain names")
        registry = self.registry()
        domains = {}
        for result in registry.check(list(dict.fromkeys(names))):
            domains[result.name] = {
                "avail": result.available,
                "premium": result.premium,
                "price": f"{result.price:.2f}" if result.price is not None else None,
                "renew_price": f"{registry.price(result.name, 'renew', 1).price:.2f}",
                "transfer_price": f"{registry.price(result.name, 'transfer', 1).price:.2f}",
                "currency": result.currency,
                "reason": result.reason,
            }
        return {"domains": domains}

    # --- hosts ---------------------------------------------------------------------------------
    def _host_name(self, request: Request, name: str | None) -> str:
        raw = _require(request.data, "hostname", str)
        if name and "." not in raw.strip().rstrip("."):
            raw = f"{raw.strip()}.{name}"
        hostname = _hostname(raw)
        if name:
            self.registry().info(name)  # the domain must exist and be ours
            if not hostname.endswith("." + name):
                raise ApiError(204, f"{hostname} is not under {name}")
        return hostname

    def _host_ips(self, request: Request) -> tuple[list[str], list[str]]:
        data = request.data
        if "ips" in data:
            return _ips(data["ips"])
        if "ip" in data:
            return _ips(data["ip"], where="ip")
        return [], []

    def _host_row(self, registry: SandboxRegistry, hostname: str) -> SandboxHost:
        row = SandboxHost.objects.filter(hostname=hostname).first()
        if row is None:
            raise NotFoundError(f"Host {hostname} does not exist")
        if row.account != registry.account.name:
            raise AuthorizationError(f"Host {hostname} belongs to another account")
        return row

    def host_list(self, request: Request, name: str) -> dict:
        registry = self.registry()
        registry.info(name)
        rows = SandboxHost.objects.filter(
            account=registry.account.name, hostname__endswith="." + name
        ).order_by("hostname")
        return {"hosts": [_host_json(HostInfo(r.hostname, r.ipv4, r.ipv6)) for r in rows]}

    def host_create(self, request: Request, name: str | None = None) -> dict:
        hostname = self._host_name(request, name)
        ipv4, ipv6 = self._host_ips(request)
        host = self.registry().host_create(
            hostname=hostname, ipv4=ipv4, ipv6=ipv6, idempotency_key=self._key(request)
        )
        return {"host": _host_json(host)}

    def host_update(self, request: Request, name: str | None = None) -> dict:
        hostname = self._host_name(request, name)
        if "ips" not in request.data and "ip" not in request.data:
            raise ApiError(203, "ips")
        ipv4, ipv6 = self._host_ips(request)
        host = self.registry().host_update(
            hostname=hostname, ipv4=ipv4, ipv6=ipv6, idempotency_key=self._key(request)
        )
        return {"host": _host_json(host)}

    def _host_change_ip(self, request: Request, name: str | None, *, add: bool) -> dict:
        hostname = self._host_name(request, name)
        ipv4, ipv6 = _ips(_require(request.data, "ip", str), where="ip")
        registry = self.registry()
        row = self._host_row(registry, hostname)
        current4, current6 = list(row.ipv4), list(row.ipv6)
        for address, current in [(a, current4) for a in ipv4] + [(a, current6) for a in ipv6]:
            if add and address not in current:
                current.append(address)
            elif not add and address in current:
                current.remove(address)
        host = registry.host_update(
            hostname=hostname, ipv4=current4, ipv6=current6, idempotency_key=self._key(request)
        )
        return {"host": _host_json(host)}

    def host_add_ip(self, request: Request, name: str | None = None) -> dict:
        return self._host_change_ip(request, name, add=True)

    def host_remove_ip(self, request: Request, name: str | None = None) -> dict:
        return self._host_change_ip(request, name, add=False)

    def host_delete(self, request: Request, name: str | None = None) -> dict:
        hostname = self._host_name(request, name)
        self.registry().host_delete(hostname=hostname, idempotency_key=self._key(request))
        return {}

    # --- DNS records (in memory) ---------------------------------------------------------------
    def dns_list(self, request: Request, name: str) -> dict:
        self.registry().info(name)
        with self._lock:
            return {"records": [dict(r) for r in self._records.get(name, [])]}

    def dns_create(self, request: Request, name: str) -> dict:
        self.registry().info(name)
        data = request.data
        kind = _require(data, "type", str).upper()
        if kind not in DNS_TYPES:
            raise ApiError(204, f"type must be one of {', '.join(sorted(DNS_TYPES))}")
        content = _require(data, "content", str).strip()
        label = data.get("hostname", data.get("name", ""))
        if not isinstance(label, str):
            raise ApiError(204, "hostname must be text")
        label = label.strip().lower().rstrip(".")
        if label in ("", "@", name):
            fqdn = name
        elif label.endswith("." + name):
            fqdn = label
        else:
            fqdn = f"{label}.{name}"
        ttl, priority = (
            data.get("ttl", 300),
            data.get("priority", 10 if kind in ("MX", "SRV") else 0),
        )
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 60 <= ttl <= 86400:
            raise ApiError(204, "ttl must be 60 to 86400 seconds")
        if (
            not isinstance(priority, int)
            or isinstance(priority, bool)
            or not 0 <= priority <= 65535
        ):
            raise ApiError(204, "priority must be 0 to 65535")
        with self._lock:
            record = {
                "record_id": str(self._next_record_id),
                "name": fqdn,
                "type": kind,
                "content": content,
                "ttl": ttl,
                "priority": priority,
                "create_date": _date(timezone.now()),
            }
            self._next_record_id += 1
            self._records.setdefault(name, []).append(record)
        return dict(record)

    def dns_delete(self, request: Request, name: str) -> dict:
        self.registry().info(name)
        record_id = str(_require(request.data, "record_id", (str, int)))
        with self._lock:
            records = self._records.get(name, [])
            kept = [r for r in records if r["record_id"] != record_id]
            if len(kept) == len(records):
                raise ApiError(240, f"record {record_id} does not exist")
            self._records[name] = kept
        return {}


# --- the server ---------------------------------------------------------------------------------
class SandboxRestServer(ThreadedWSGIServer):
    """A threaded WSGI server (wsgiref + ThreadingMixIn, Django's flavour) for one app."""

    app: SandboxRestApp
    # socketserver's default backlog is 5: a burst of clients would have their SYNs dropped and
    # retried a second later, which looks like a slow registry.
    request_queue_size = 1024

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def close_thread_connections(self) -> None:
        """Close this thread's own database connections; shared ones belong to their owner."""
        shared = set(self.connections_override or ())
        for conn in connections.all(initialized_only=True):
            if conn.alias not in shared:
                conn.close()

    def _close_connections(self) -> None:
        self.close_thread_connections()


class _Handler(WSGIRequestHandler):
    # wsgiref writes the headers and the body separately: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK of the headers (~40 ms a response on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        # Request lines only (method, path, status): never headers, which carry the tokens.
        logger.debug("sandbox REST %s", format % args)


def _closing_db(app: SandboxRestApp, server: SandboxRestServer):
    """Close the request thread's database connections after every request: the server is not a
    Django request cycle, and a kept-alive HTTP connection would otherwise hold an idle database
    connection open (past the end of a test database, for one)."""

    def wrapped(environ, start_response):
        try:
            return app(environ, start_response)
        finally:
            server.close_thread_connections()

    return wrapped


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    account: RegistrarAccount | str,
    username: str,
    api_token: str,
    session_ttl: float = 3600,
    settings_ttl: float = 0.0,
    connections_override: dict | None = None,
    close_db_per_request: bool = True,
) -> SandboxRestServer:
    """Bind a server for the sandbox REST app; run it with ``server.serve_forever()`` (in a
    thread in tests, then ``server.shutdown(); server.server_close()``). Port 0 picks a free one;
    ``server.url`` says where it listens. ``connections_override`` shares the caller's database
    connections with the request threads (needed for an in-memory SQLite test database).
    ``close_db_per_request=False`` keeps a request thread's database connection for the life of
    its (kept-alive) HTTP connection, as a long-running server wants; tests keep the default so
    that no connection outlives the test database."""
    app = SandboxRestApp(
        account=account,
        username=username,
        api_token=api_token,
        session_ttl=session_ttl,
        settings_ttl=settings_ttl,
    )
    server = SandboxRestServer(
        (host, port),
        _Handler,
        ipv6=":" in host,
        connections_override=connections_override,
    )
    server.app = app
    server.set_app(_closing_db(app, server) if close_db_per_request else app)
    return server

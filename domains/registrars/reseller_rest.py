"""The adapter for the seed-002 reseller REST API (the old, pre-v4 Name.com API).

Configuration of a ``RegistrarAccount`` of kind ``reseller_rest``:

* ``settings``: ``{"base_url": "https://api.example.net", "timeout": 10, "auth": "session"}``;
  ``auth`` is ``"session"`` (``POST /api/login``, then the ``Api-Session-Token`` header; a code
  251 logs in again once and retries) or ``"headers"`` (``Api-Username`` + ``Api-Token`` on every
  request).
* ``credentials`` (encrypted): ``{"username": "...", "api_token": "..."}`` as JSON.
* ``rate_per_second``: a per-process token bucket shared by every adapter of the account.

Error mapping: result codes 260/261 -> InsufficientFundsError; 203/204/211 -> PermanentError;
221 and 251 (after one failed re-login) -> AuthorizationError; 240/250 -> TransientError when
the message says "unexpected" or "timeout", NotFoundError when it says the object does not exist,
PermanentError otherwise. A request that surely never reached the registrar (connection refused,
connect timeout, no free connection) -> TransientError; one whose outcome is unknown (a read or
write timeout or a connection lost after sending, HTTP 5xx, an answer that is not the JSON
envelope) -> OutcomeUnknown, after which the outbox asks the registrar for the domain's state
before sending again (seed 002 has no idempotency key and its renewal names no current expiry, so
that check is what keeps a retried renewal, create or transfer from being applied twice). Every
mutating call still sends the operation's idempotency key as an ``Idempotency-Key`` header, a
hint the seed-002 API ignores (as does the simulator unless its ``replay`` setting is on). When a
registration fails because the name is taken, the adapter asks the registry whether the name is
already ours (a retry whose first attempt did go through) before giving up. The shapes follow
``domains/simulator/rest_server.py``. DNSSEC is not part of this API. Credentials and tokens are
never passed to a logger.

No poll queue: unlike EPP (``domains.poll``), the seed-002 API has nothing that tells a registrar
what happened to its names (transfers away, auto-renewals, registry holds, deletions). The
periodic sync covers it: every held domain is read at least once a day (``services.sync_schedule``,
closest to expiry first) and its status follows the registry's view (``apply_registry_view``), a
``pendingTransfer`` included (a transfer request for the customer, ``domains.transfers``).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import httpx

from domains.models import RegistrarAccount
from domains.registrars.base import (
    AuthorizationError,
    CheckResult,
    ConnectionReport,
    ContactData,
    DomainInfo,
    DsData,
    HostInfo,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    RegistrarError,
    TransientError,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
ROLE_TO_TYPE = {
    "registrant": "registrant",
    "admin": "administrative",
    "tech": "technical",
    "billing": "billing",
}
TYPE_TO_ROLE = {kind: role for role, kind in ROLE_TO_TYPE.items()}
CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "organization",
    "address_1",
    "address_2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
)


# --- rate budget --------------------------------------------------------------------------------
class TokenBucket:
    """``rate`` requests per second on average, bursts up to ``capacity``; thread-safe."""

    def __init__(
        self,
        rate: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(rate, 1))
        self.clock = clock
        self.sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting for it if needed; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                wait = (1 - self._tokens) / self.rate
            self.sleep(wait)
            waited += wait


_BUCKETS: dict[object, TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(account: RegistrarAccount) -> TokenBucket:
    key = account.pk or account.name
    rate = max(int(account.rate_per_second or 1), 1)
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = _BUCKETS[key] = TokenBucket(rate)
        return bucket


# HTTP clients, per process, by (base URL, timeout): adapters are made per operation, and a
# shared client keeps its connections alive (httpx clients are thread-safe).
_CLIENTS: dict[tuple[str, float], httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def _new_client(base_url: str, timeout: float, transport=None) -> httpx.Client:
    if transport is None:
        # httpcore writes a request's headers and body separately; with Nagle's algorithm the
        # body would wait for the server's delayed ACK (~40 ms a call on Linux).
        transport = httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
    return httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={"Accept": "application/json", "User-Agent": "Nameport reseller_rest"},
        transport=transport,
        follow_redirects=False,
    )


def _shared_client(base_url: str, timeout: float) -> httpx.Client:
    with _CLIENTS_LOCK:
        client = _CLIENTS.get((base_url, timeout))
        if client is None or client.is_closed:
            client = _CLIENTS[(base_url, timeout)] = _new_client(base_url, timeout)
        return client


# Session tokens, per process, by (base URL, user, fingerprint of the token): adapters are made
# per operation and should not log in every time.
_SESSIONS: dict[tuple[str, str, str], str] = {}
_SESSIONS_LOCK = threading.Lock()


# --- parsing ------------------------------------------------------------------------------------
def _parse_date(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise TransientError(f"The registrar sent an unreadable date: {value!r:.40}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _contacts_from(raw) -> list[ContactData]:
    contacts = []
    for item in raw or []:
        kinds = item.get("type") or []
        kinds = [kinds] if isinstance(kinds, str) else kinds
        values = {key: str(item.get(key) or "") for key in CONTACT_FIELDS}
        for kind in kinds:
            role = TYPE_TO_ROLE.get(str(kind).lower(), str(kind).lower())
            contacts.append(ContactData(role=role, **values))
    return contacts


def _contact_json(contact: ContactData) -> dict:
    data: dict = {"type": [ROLE_TO_TYPE.get(contact.role, contact.role)]}
    for key in CONTACT_FIELDS:
        data[key] = getattr(contact, key)
    return data


def _domain_from(data: dict) -> DomainInfo:
    try:
        name = data["domain_name"]
    except (KeyError, TypeError):
        raise TransientError("The registrar's answer has no domain_name") from None
    return DomainInfo(
        name=name,
        registered_at=_parse_date(data.get("create_date")),
        expires_at=_parse_date(data.get("expire_date")),
        statuses=list(data.get("statuses") or []),
        nameservers=[str(h).lower() for h in data.get("nameservers") or []],
        locked=data.get("locked"),
        privacy=data.get("whois_privacy"),
        autorenew=data.get("autorenew"),
        contacts=_contacts_from(data.get("contacts")),
        reference=str(data.get("reference") or ""),
    )


def _host_from(data: dict) -> HostInfo:
    ipv4, ipv6 = [], []
    for value in data.get("ips") or []:
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            continue
        (ipv4 if address.version == 4 else ipv6).append(str(address))
    return HostInfo(hostname=data.get("hostname", ""), ipv4=ipv4, ipv6=ipv6)


def error_for(code: int, message: str) -> RegistrarError:
    """The taxonomy error for a non-100 result code."""
    text = message.lower()
    if code in (260, 261):
        return InsufficientFundsError(message, code=code)
    if code in (221, 251):
        return AuthorizationError(message, code=code)
    if code in (203, 204, 211):
        return PermanentError(message, code=code)
    if "unexpected" in text or "timeout" in text or "timed out" in text:
        return TransientError(message, code=code)
    if "does not exist" in text or "not found" in text:
        return NotFoundError(message, code=code)
    return PermanentError(message, code=code)


class ResellerRestAdapter:
    """``RegistrarAdapter`` over HTTP. One httpx client per adapter; close it when done (the
    outbox makes one adapter per operation and lets it go)."""

    def __init__(self, account: RegistrarAccount, *, transport: httpx.BaseTransport | None = None):
        self.account = account
        options = dict(account.settings or {})
        base_url = str(options.get("base_url") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise PermanentError(
                f"Registrar account {account.name} has no base_url (http:// or https://)."
            )
        self.auth_mode = options.get("auth", "session")
        if self.auth_mode not in ("session", "headers"):
            raise PermanentError(
                f"Registrar account {account.name}: auth must be session or headers"
            )
        self._username, self._token = self._credentials(account)
        self._bucket = bucket_for(account)
        fingerprint = hashlib.sha256(self._token.encode()).hexdigest()[:16]
        self._session_key = (base_url, self._username, fingerprint)
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT) or DEFAULT_TIMEOUT)
        if transport is None:
            self._client = _shared_client(base_url, timeout)
            self._owns_client = False
        else:
            self._client = _new_client(base_url, timeout, transport)
            self._owns_client = True

    @staticmethod
    def _credentials(account: RegistrarAccount) -> tuple[str, str]:
        problem = PermanentError(
            f"Registrar account {account.name} needs credentials as JSON "
            '{"username": ..., "api_token": ...}.'
        )
        try:
            data = json.loads(str(account.credentials or ""))
        except ValueError:
            raise problem from None
        if not isinstance(data, dict):
            raise problem
        username, token = data.get("username"), data.get("api_token")
        if not (isinstance(username, str) and isinstance(token, str) and username and token):
            raise problem
        return username, token

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> ResellerRestAdapter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, body: dict | None, headers: dict) -> dict:
        self._bucket.acquire()
        try:
            response = self._client.request(method, path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing was sent: the registrar cannot have applied anything.
            raise TransientError(
                f"Could not reach the registrar ({type(exc).__name__}) for {method} {path}"
            ) from None
        except httpx.TimeoutException:
            raise OutcomeUnknown(
                f"The registrar did not answer {method} {path} in time; it may have applied it"
            ) from None
        except httpx.HTTPError as exc:
            raise OutcomeUnknown(
                f"The connection to the registrar was lost ({type(exc).__name__}) during "
                f"{method} {path}; it may have applied it"
            ) from None
        try:
            data = response.json()
            code = int(data["result"]["code"])
            message = str(data["result"].get("message") or "")[:500]
        except (ValueError, TypeError, KeyError, AttributeError):
            raise OutcomeUnknown(
                f"The registrar answered {method} {path} with HTTP {response.status_code} "
                "and no readable result"
            ) from None
        logger.debug(
            "reseller_rest %s %s -> HTTP %s code %s", method, path, response.status_code, code
        )
        if response.status_code >= 500:  # a gateway or the registrar failed: applied or not
            raise OutcomeUnknown(message or f"HTTP {response.status_code}", code=code)
        data["_code"], data["_message"] = code, message
        return data

    def _session(self) -> str:
        with _SESSIONS_LOCK:
            token = _SESSIONS.get(self._session_key)
        if token:
            return token
        data = self._send(
            "POST",
            "/api/login",
            body={"username": self._username, "api_token": self._token},
            headers={},
        )
        if data["_code"] != 100:
            error = error_for(data["_code"], data["_message"])
            if data["_code"] == 251:  # a failed login is an authorization problem, not a retry
                error = AuthorizationError(data["_message"], code=251)
            raise error
        token = data.get("session_token")
        if not isinstance(token, str) or not token:
            raise TransientError("The registrar's login answer has no session token")
        with _SESSIONS_LOCK:
            _SESSIONS[self._session_key] = token
        return token

    def _forget_session(self, token: str) -> None:
        with _SESSIONS_LOCK:
            if _SESSIONS.get(self._session_key) == token:
                del _SESSIONS[self._session_key]

    def _request(
        self, method: str, path: str, body: dict | None = None, *, key: str | None = None
    ) -> dict:
        headers = {"Idempotency-Key": key} if key else {}
        if self.auth_mode == "headers":
            headers |= {"Api-Username": self._username, "Api-Token": self._token}
            data = self._send(method, path, body=body, headers=headers)
        else:
            token = self._session()
            data = self._send(
                method, path, body=body, headers={**headers, "Api-Session-Token": token}
            )
            if data["_code"] == 251:  # the session expired: log in again, once
                self._forget_session(token)
                token = self._session()
                data = self._send(
                    method, path, body=body, headers={**headers, "Api-Session-Token": token}
                )
        if data["_code"] != 100:
            raise error_for(data["_code"], data["_message"])
        return data

    def logout(self) -> None:
        if self.auth_mode != "session":
            return
        with _SESSIONS_LOCK:
            token = _SESSIONS.pop(self._session_key, None)
        if token:
            self._send("GET", "/api/logout", body=None, headers={"Api-Session-Token": token})

    def test_connection(self) -> ConnectionReport:
        """Log in afresh (``POST /api/login``, then log out) or, with header authentication,
        read the account (``GET /api/account/get``); what the registrar answered. The cached
        session is neither used nor replaced."""
        where = str(self._client.base_url)
        try:
            if self.auth_mode == "headers":
                headers = {"Api-Username": self._username, "Api-Token": self._token}
                data = self._send("GET", "/api/account/get", body=None, headers=headers)
                details = [f"Header authentication at {where}"]
            else:
                data = self._send(
                    "POST",
                    "/api/login",
                    body={"username": self._username, "api_token": self._token},
                    headers={},
                )
                details = [f"Session login at {where}"]
                token = data.get("session_token")
                if data["_code"] == 100 and isinstance(token, str) and token:
                    with contextlib.suppress(RegistrarError):
                        self._send(
                            "GET", "/api/logout", body=None, headers={"Api-Session-Token": token}
                        )
        except RegistrarError as exc:
            return ConnectionReport(False, _int(exc.code), exc.message, [f"At {where}"])
        return ConnectionReport(data["_code"] == 100, data["_code"], data["_message"], details)

    @staticmethod
    def _path(*parts: str) -> str:
        return "/api/" + "/".join(quote(p, safe="") for p in parts)

    def _domain_answer(self, data: dict, name: str) -> DomainInfo:
        domain = data.get("domain")
        return _domain_from(domain) if isinstance(domain, dict) else self.info(name)

    def _order(self, item: dict, key: str) -> DomainInfo:
        data = self._request("POST", "/api/order", {"items": [item]}, key=key)
        results = data.get("results") or []
        result = results[0] if results and isinstance(results[0], dict) else {}
        if result.get("success") is False:  # an answer with code 100 should not say this
            inner = result.get("result") or {}
            raise error_for(int(inner.get("code", 240)), str(inner.get("message", "Order failed")))
        return self._domain_answer(result, item["domain_name"])

    # --- the adapter protocol ------------------------------------------------------------------
    def check(self, names: list[str]) -> list[CheckResult]:
        if not names:
            return []
        data = self._request("POST", "/api/domain/check", {"domain_names": list(names)})
        domains = data.get("domains") or {}
        results = []
        for name in names:
            row = domains.get(name.lower())
            if not isinstance(row, dict):
                raise TransientError(f"The registrar's check answer does not mention {name}")
            results.append(
                CheckResult(
                    name=name,
                    available=bool(row.get("avail")),
                    premium=bool(row.get("premium")),
                    price=_decimal(row.get("price")),
                    currency=str(row.get("currency") or "USD"),
                    reason=str(row.get("reason") or ""),
                )
            )
        return results

    def price(self, name: str, action: str, years: int) -> CheckResult:
        data = self._request("POST", "/api/domain/check", {"domain_names": [name]})
        row = (data.get("domains") or {}).get(name.lower()) or {}
        field = {"register": "price", "renew": "renew_price", "transfer": "transfer_price"}.get(
            action, "price"
        )
        per_year = _decimal(row.get(field))
        return CheckResult(
            name=name,
            available=bool(row.get("avail", True)),
            premium=bool(row.get("premium")),
            price=per_year * years if per_year is not None else None,
            currency=str(row.get("currency") or "USD"),
        )

    # ``quoted_fee`` (register, renew, transfer): seed 002's orders carry no price cap, so it is
    # not sent; the outbox's premium-price guard checks ``price`` before the order instead.
    def register(
        self, *, name, years, nameservers, contacts, privacy, idempotency_key, quoted_fee=None
    ):
        item = {
            "order_type": "domain/create",
            "domain_name": name,
            "period": years,
            "nameservers": list(nameservers),
            "contacts": [_contact_json(c) for c in contacts],
            "whois_privacy": 1 if privacy else 0,
        }
        try:
            return self._order(item, idempotency_key)
        except (AuthorizationError, InsufficientFundsError, NotFoundError):
            raise
        except PermanentError as exc:
            # "Not available" on a retry whose first attempt went through: the name is ours.
            if "not available" not in exc.message.lower():
                raise
            try:
                return self.info(name)
            except PermanentError:
                raise exc from None

    def renew(self, *, name, years, current_expiry, idempotency_key, quoted_fee=None):
        # Seed 002's renewal order names no current expiry, so ``current_expiry`` is not sent and
        # nothing at the registrar refuses a duplicate: the outbox's check before a retry does.
        item = {"order_type": "domain/renew", "domain_name": name, "period": years}
        return self._order(item, idempotency_key)

    def transfer(self, *, name, auth_code, years, idempotency_key, quoted_fee=None):
        item = {
            "order_type": "domain/transfer",
            "domain_name": name,
            "period": years,
            "auth_code": auth_code,
        }
        return self._order(item, idempotency_key)

    def info(self, name: str) -> DomainInfo:
        return _domain_from(self._request("GET", self._path("domain", "get", name)))

    def set_nameservers(self, *, name, nameservers, idempotency_key):
        data = self._request(
            "POST",
            self._path("domain", "update_nameservers", name),
            {"nameservers": list(nameservers)},
            key=idempotency_key,
        )
        return self._domain_answer(data, name)

    def set_lock(self, *, name, locked, idempotency_key):
        command = "lock" if locked else "unlock"
        data = self._request("POST", self._path("domain", command, name), key=idempotency_key)
        return self._domain_answer(data, name)

    def set_privacy(self, *, name, enabled, idempotency_key):
        if enabled:  # bought as an order item, as the seed describes
            item = {"order_type": "whois_privacy/create", "domain_name": name, "period": 1}
            return self._order(item, idempotency_key)
        data = self._request(
            "POST",
            self._path("domain", "update_whois_privacy", name),
            {"enabled": False},
            key=idempotency_key,
        )
        return self._domain_answer(data, name)

    def set_autorenew(self, *, name, enabled, idempotency_key):
        data = self._request(
            "POST",
            self._path("domain", "update_autorenew", name),
            {"autorenew": bool(enabled)},
            key=idempotency_key,
        )
        return self._domain_answer(data, name)

    def set_contacts(self, *, name, contacts, idempotency_key):
        data = self._request(
            "POST",
            self._path("domain", "update_contacts", name),
            {"contacts": [_contact_json(c) for c in contacts]},
            key=idempotency_key,
        )
        return self._domain_answer(data, name)

    def auth_code(self, name: str) -> str:
        code = self._request("GET", self._path("domain", "auth_code", name)).get("auth_code")
        if not isinstance(code, str) or not code:
            raise TransientError("The registrar's answer has no auth code")
        return code

    def _host(self, command: str, body: dict, key: str) -> HostInfo:
        data = self._request("POST", self._path("host", command), body, key=key)
        host = data.get("host")
        if not isinstance(host, dict):
            raise TransientError(f"The registrar's host/{command} answer has no host")
        return _host_from(host)

    def host_create(self, *, hostname, ipv4, ipv6, idempotency_key):
        body = {"hostname": hostname, "ips": [*ipv4, *ipv6]}
        return self._host("create", body, idempotency_key)

    def host_update(self, *, hostname, ipv4, ipv6, idempotency_key):
        body = {"hostname": hostname, "ips": [*ipv4, *ipv6]}
        return self._host("update", body, idempotency_key)

    def host_delete(self, *, hostname, idempotency_key):
        self._request(
            "POST", self._path("host", "delete"), {"hostname": hostname}, key=idempotency_key
        )

    def set_ds_records(self, *, name, records: list[DsData], idempotency_key):
        raise PermanentError("DNSSEC is not available through the reseller REST API.")

    # --- beyond the protocol (not used by the portal yet) --------------------------------------
    def hosts(self, name: str) -> list[HostInfo]:
        data = self._request("GET", self._path("host", "list", name))
        return [_host_from(h) for h in data.get("hosts") or [] if isinstance(h, dict)]

    def domains(self) -> list[str]:
        return sorted((self._request("GET", "/api/domain/list").get("domains") or {}).keys())

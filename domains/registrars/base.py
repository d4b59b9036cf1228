"""The protocol every registry adapter implements, its typed results and its error taxonomy.

Workers call adapters with an operation's idempotency key; an adapter must make a repeated call
with the same key harmless (the sandbox remembers keys; REST and EPP adapters map it to the
registry's transaction id and ask the registry for the current state before retrying).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


class RegistrarError(Exception):
    """Base of every adapter error. ``message`` is safe to show (no secrets)."""

    retryable = False

    def __init__(self, message: str, *, code: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class TransientError(RegistrarError):
    """Timeouts, connection errors, 5xx, "unexpected error": retry with backoff."""

    retryable = True


class PermanentError(RegistrarError):
    """The registry refused the request as it stands (parameter errors, name taken...)."""


class AuthorizationError(PermanentError):
    """Our credentials or the auth code were refused."""


class InsufficientFundsError(PermanentError):
    """The registrar account has no money for this (codes 260/261 in seed 002)."""


class NotFoundError(PermanentError):
    """The object does not exist at the registry."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    available: bool
    premium: bool = False
    price: Decimal | None = None
    currency: str = "USD"
    reason: str = ""


@dataclass(frozen=True)
class ContactData:
    role: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address_1: str
    city: str
    country: str
    organization: str = ""
    address_2: str = ""
    state: str = ""
    zip: str = ""
    handle: str = ""


@dataclass(frozen=True)
class DsData:
    key_tag: int
    algorithm: int
    digest_type: int
    digest: str


@dataclass(frozen=True)
class DomainInfo:
    """What the registry says about a domain."""

    name: str
    expires_at: datetime | None
    registered_at: datetime | None = None
    statuses: list[str] = field(default_factory=list)
    nameservers: list[str] = field(default_factory=list)
    locked: bool | None = None
    privacy: bool | None = None
    autorenew: bool | None = None
    ds_records: list[DsData] = field(default_factory=list)
    contacts: list[ContactData] = field(default_factory=list)
    reference: str = ""


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)


@runtime_checkable
class RegistrarAdapter(Protocol):
    """One upstream registry. Every method may raise a RegistrarError subclass."""

    def check(self, names: list[str]) -> list[CheckResult]: ...

    def price(self, name: str, action: str, years: int) -> CheckResult: ...

    def register(
        self,
        *,
        name: str,
        years: int,
        nameservers: list[str],
        contacts: list[ContactData],
        privacy: bool,
        idempotency_key: str,
    ) -> DomainInfo: ...

    def renew(self, *, name: str, years: int, idempotency_key: str) -> DomainInfo: ...

    def transfer(
        self, *, name: str, auth_code: str, years: int, idempotency_key: str
    ) -> DomainInfo: ...

    def info(self, name: str) -> DomainInfo: ...

    def set_nameservers(
        self, *, name: str, nameservers: list[str], idempotency_key: str
    ) -> DomainInfo: ...

    def set_lock(self, *, name: str, locked: bool, idempotency_key: str) -> DomainInfo: ...

    def set_privacy(self, *, name: str, enabled: bool, idempotency_key: str) -> DomainInfo: ...

    def set_autorenew(self, *, name: str, enabled: bool, idempotency_key: str) -> DomainInfo: ...

    def set_contacts(
        self, *, name: str, contacts: list[ContactData], idempotency_key: str
    ) -> DomainInfo: ...

    def auth_code(self, name: str) -> str: ...

    def host_create(
        self, *, hostname: str, ipv4: list[str], ipv6: list[str], idempotency_key: str
    ) -> HostInfo: ...

    def host_update(
        self, *, hostname: str, ipv4: list[str], ipv6: list[str], idempotency_key: str
    ) -> HostInfo: ...

    def host_delete(self, *, hostname: str, idempotency_key: str) -> None: ...

    def set_ds_records(
        self, *, name: str, records: list[DsData], idempotency_key: str
    ) -> DomainInfo: ...

"""The protocol every registry adapter implements, its typed results and its error taxonomy.

Workers call adapters with an operation's idempotency key, which adapters pass on as the
registry's transaction id where it has one (EPP clTRID). It is not a dedup key: real registries
do not replay it. Exactly once rests on the worker instead (``domains.outbox``): an operation
records when it is queued what success looks like, and before retrying after an unknown outcome
the worker asks the registry (``info``) and records success without sending again when that state
is there. So an adapter must tell a failure whose command surely was not applied (a plain
:class:`TransientError`: connection refused, a clear registry error) from one whose outcome is
unknown (:class:`OutcomeUnknown`: a timeout or a lost connection after sending, an HTTP 5xx), and
``renew`` sends the current expiry recorded at queue time (EPP ``curExpDate``), never one read
again, so that a registry refuses a duplicate (2306) rather than renewing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


class RegistrarError(Exception):
    """Base of every adapter error. ``message`` is safe to show (no secrets)."""

    retryable = False
    epp_result: EppResult | None = None  # the EPP result an EPP error was read from

    def __init__(self, message: str, *, code: str | int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class TransientError(RegistrarError):
    """Timeouts, connection errors, 5xx, "unexpected error": retry with backoff."""

    retryable = True


class OutcomeUnknown(TransientError):
    """The command may have reached the registry and been applied, but no answer says so: a
    timeout or a closed connection after sending, an HTTP 5xx, an answer that could not be read.
    Retried like any transient error, but the worker first asks the registry whether the change
    is already there (``domains.outbox``)."""


class PermanentError(RegistrarError):
    """The registry refused the request as it stands (parameter errors, name taken...)."""


class AuthorizationError(PermanentError):
    """Our credentials or the auth code were refused."""


class InsufficientFundsError(PermanentError):
    """The registrar account has no money for this (codes 260/261 in seed 002)."""


class NotFoundError(PermanentError):
    """The object does not exist at the registry."""


class HostileResponseError(PermanentError):
    """The registry answered with XML that EPP never contains: a document type declaration (DTD),
    entity declarations or references to external entities (entity-expansion bombs, XXE).

    Refused unread (nothing is expanded or fetched) and permanent on purpose: a registry that sends
    this is broken or compromised, retrying cannot mend it and every retry would hand it our login
    again. The operation stops for staff; the outcome of a write sent on that session is unknown.
    """


class MalformedResponseError(TransientError):
    """The registry's answer is not a well-formed EPP response (truncated, not XML, no result)."""


@dataclass(frozen=True)
class QuotedFee:
    """The most the platform agreed to pay the registry for one command: the cost the customer's
    price was quoted on (an operation's ``expected_cost``, or the ``accepted_cost`` staff accepted).
    An EPP registry that offers fee-1.0 receives it as ``<fee:fee>`` (RFC 8748) and refuses the
    command when its price is higher; the simulated registry refuses it likewise."""

    amount: Decimal
    currency: str

    @classmethod
    def from_payload(cls, value: dict | None) -> QuotedFee | None:
        """``{"amount": "9.80", "currency": "USD"}`` (as services record it), or None."""
        if not value or value.get("amount") in (None, ""):
            return None
        return cls(amount=Decimal(str(value["amount"])), currency=str(value.get("currency") or ""))


class FeeRefusedError(PermanentError):
    """The registry refused a command because its price is above the fee we agreed to pay
    (RFC 8748: 2004, or 2306 when the fee does not match). ``price`` is the registry's price when
    it could be read (a fee check after the refusal), else None. The outbox holds the operation for
    staff, as the premium-price guard does."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        agreed: QuotedFee | None = None,
        price: QuotedFee | None = None,
    ):
        super().__init__(message, code=code)
        self.agreed = agreed
        self.price = price


@dataclass(frozen=True)
class FeeItem:
    """One ``<fee:fee>`` or ``<fee:credit>`` (RFC 8748): credits are negative amounts."""

    amount: Decimal
    description: str = ""
    refundable: bool | None = None
    grace_period: str = ""  # an xs:duration such as "P5D", as the registry wrote it
    applied: str = ""  # "immediate", "delayed" or ""


@dataclass(frozen=True)
class FeeQuote:
    """The registry's price for one command on one name, from a fee-1.0 check
    (``<fee:cd>/<fee:command>``). ``amount`` is the sum of its fees (credits not deducted),
    ``None`` when the registry gave no fee (the command is not available for this name).

    ``premium`` follows one rule: the ``<fee:class>`` names premium ("premium",
    "premium-collision", "Premium tier 2"...), or, when the registry sends no class, the command
    says ``standard="0"``. Any other class ("standard", "reserved", "collision", a promotion) is
    not premium; the price is always the registry's amount, whatever the class.
    """

    command: str  # create, renew, transfer, restore, update, delete or custom
    currency: str
    years: int | None = None
    amount: Decimal | None = None
    fees: list[FeeItem] = field(default_factory=list)
    credits: list[FeeItem] = field(default_factory=list)
    fee_class: str = ""
    premium: bool = False
    standard: bool | None = None  # the command's ``standard`` attribute, None when absent
    available: bool = True
    reason: str = ""
    phase: str = ""
    subphase: str = ""
    custom_name: str = ""


@dataclass(frozen=True)
class FeeCharge:
    """What a transform cost, from ``fee:creData``/``renData``/``trnData``/``updData``/``delData``:
    ``amount`` is the sum of the fees, ``credit`` the sum of the credits (zero or negative, a
    refund), ``balance`` and ``credit_limit`` the account after the command when the registry
    says."""

    currency: str
    amount: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    fees: list[FeeItem] = field(default_factory=list)
    credits: list[FeeItem] = field(default_factory=list)
    years: int | None = None
    balance: Decimal | None = None
    credit_limit: Decimal | None = None


@dataclass(frozen=True)
class CheckResult:
    name: str
    available: bool
    premium: bool = False
    price: Decimal | None = None
    currency: str = "USD"
    reason: str = ""
    fees: list[FeeQuote] = field(default_factory=list)  # fee-1.0 quotes, one per command/period
    fee_class: str = ""  # the class of the create quote (else of the first quote)
    detail: str = ""  # the registry's own reason text ("Reserved", "In use"...)
    # The price is the registrar account's configured one, not the registry's (an EPP registry
    # that does not offer fee-1.0 announces no price).
    price_configured: bool = False

    def fee(self, command: str, years: int | None = None) -> FeeQuote | None:
        """The quote for ``command`` (and ``years`` when given), or None."""
        for quote in self.fees:
            if quote.command == command and (years is None or quote.years == years):
                return quote
        return None


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
    rgp_statuses: list[str] = field(default_factory=list)  # RFC 3915: redemptionPeriod...
    updated_at: datetime | None = None
    transferred_at: datetime | None = None
    sponsor: str = ""  # the registrar of record (clID)
    hosts: list[str] = field(default_factory=list)  # subordinate hosts (<domain:host>)
    transfer: TransferInfo | None = None  # a transfer request's state, when the answer had one
    charged: FeeCharge | None = None  # what the command that produced this answer cost


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    ipv4: list[str] = field(default_factory=list)
    ipv6: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    sponsor: str = ""
    reference: str = ""
    registered_at: datetime | None = None
    updated_at: datetime | None = None
    transferred_at: datetime | None = None


@dataclass(frozen=True)
class TransferInfo:
    """A transfer's state (``<domain:trnData>``). ``status`` is the RFC 5731 trStatus: pending,
    clientApproved, clientCancelled, clientRejected, serverApproved or serverCancelled.
    ``requested_by`` is the gaining registrar (reID), ``action_by`` the losing one (acID);
    ``action_at`` is when it was acted on, or while pending the date it will be acted on
    automatically; ``expires_at`` the expiry after the transfer."""

    name: str
    status: str
    requested_by: str = ""
    requested_at: datetime | None = None
    action_by: str = ""
    action_at: datetime | None = None
    expires_at: datetime | None = None
    fee: FeeCharge | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @property
    def approved(self) -> bool:
        return self.status in ("clientApproved", "serverApproved")


@dataclass(frozen=True)
class PendingActionResult:
    """The outcome of an action the registry left pending (RFC 5731 ``<domain:panData>``)."""

    name: str
    succeeded: bool
    cl_trid: str = ""  # the clTRID of the command that was pending
    sv_trid: str = ""
    acted_at: datetime | None = None


@dataclass(frozen=True)
class EppReason:
    """One ``<extValue>`` of a result: the element the registry objected to, and why."""

    reason: str
    value: str = ""  # the text of the offending element
    element: str = ""  # its local name ("name", "period"...)


@dataclass(frozen=True)
class EppResult:
    """One ``<result>`` of an EPP response."""

    code: int
    message: str = ""
    lang: str = "en"
    reasons: list[EppReason] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return 1000 <= self.code < 2000


FEE_1_0 = "urn:ietf:params:xml:ns:epp:fee-1.0"


@dataclass(frozen=True)
class Greeting:
    """What an EPP server offers (``<greeting>``): object and extension URIs."""

    server_id: str
    server_date: datetime | None = None
    versions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)

    def offers(self, uri: str) -> bool:
        return uri in self.objects or uri in self.extensions

    @property
    def fee(self) -> bool:
        """Whether the RFC 8748 fee extension (fee-1.0) is offered; its drafts do not count."""
        return FEE_1_0 in self.extensions

    @property
    def fee_drafts(self) -> list[str]:
        """Older drafts of the fee extension the server also speaks (fee-0.6, 0.11, 0.12...)."""
        return [u for u in self.extensions if u.startswith("urn:ietf:params:xml:ns:fee-")]


@dataclass(frozen=True)
class ConnectionReport:
    """What a registry answered when staff tested an account's connection (a login, then a
    logout): its result code and message, and notes (the server's name, what it offers). Never
    holds a credential."""

    ok: bool
    code: int | None
    message: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PollMessage:
    """The message at the head of the registry's queue (RFC 5730 ``<poll op="req">``, 1301).

    ``kind`` says what it is about: "transfer" (``transfer`` is set: requested, approved,
    rejected, cancelled, auto-approved, by its status), "pending_action" (``pending_action``),
    "renewal" (an auto-renewal: ``expires_at``), "domain" (``domain``: a domain's new state),
    "host" (``host``), "host_deleted" / "contact_deleted" (``name``), or "notice" (text only).
    A transfer message may carry a pending-action result as well.
    """

    id: str
    count: int
    kind: str
    message: str = ""
    lang: str = "en"
    queued_at: datetime | None = None
    name: str = ""
    transfer: TransferInfo | None = None
    pending_action: PendingActionResult | None = None
    expires_at: datetime | None = None
    domain: DomainInfo | None = None
    host: HostInfo | None = None


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
        quoted_fee: QuotedFee | None = None,
    ) -> DomainInfo: ...

    # ``quoted_fee`` (register, renew, transfer): the most the registry may charge; a registry
    # that can refuse a higher price (EPP fee-1.0, the simulator) raises FeeRefusedError.
    # ``current_expiry`` (renew): the expiry recorded when the renewal was queued, sent as EPP
    # ``curExpDate`` so that a duplicate is refused; None only where the protocol has no such field.
    def renew(
        self,
        *,
        name: str,
        years: int,
        current_expiry: date | None,
        idempotency_key: str,
        quoted_fee: QuotedFee | None = None,
    ) -> DomainInfo: ...

    def transfer(
        self,
        *,
        name: str,
        auth_code: str,
        years: int,
        idempotency_key: str,
        quoted_fee: QuotedFee | None = None,
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

"""TLDs, registrar accounts, domains and what hangs off them, and the registrar outbox."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Customer, Organisation
from portal.crypto import EncryptedTextField


class RegistrarAccount(models.Model):
    """An account at an upstream registry/registrar. Credentials are encrypted and never logged."""

    class Kind(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox registry (simulated)"
        RESELLER_REST = "reseller_rest", "Reseller REST API"
        EPP = "epp", "EPP (RFC 5730)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SANDBOX)
    livemode = models.BooleanField(
        default=False, help_text="Live accounts register for real; sandbox ones never bill."
    )
    settings = models.JSONField(
        default=dict, blank=True, help_text="Endpoint, timeouts and other non-secret options."
    )
    credentials = EncryptedTextField(
        blank=True, help_text="Secret (user name/password, API token); stored encrypted."
    )
    rate_per_second = models.PositiveIntegerField(default=20)
    max_sessions = models.PositiveIntegerField(default=4)
    is_active = models.BooleanField(default=True)
    # Since when the registrar has answered that this account has no money for an operation
    # (seed 002's 260/261, EPP 2104); staff are told once, and "upstream topped up" clears it and
    # resumes the operations that wait for it (domains.outbox.upstream_topped_up).
    funds_short_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["sandbox", "reseller_rest", "epp"]),
                name="registraraccount_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(rate_per_second__gte=1) & Q(max_sessions__gte=1),
                name="registraraccount_budget_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class TransferDefault(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class Tld(models.Model):
    """A suffix Nameport sells (com, or a second level like com.ng), routed to an account."""

    name = models.CharField(max_length=63, unique=True, help_text="Without the dot: com, com.ng")
    registrar_account = models.ForeignKey(
        RegistrarAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="tlds"
    )
    grace_days = models.PositiveSmallIntegerField(default=30)
    redemption_days = models.PositiveSmallIntegerField(default=30)
    pending_delete_days = models.PositiveSmallIntegerField(default=5)
    min_years = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    max_years = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    idn_allowed = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    reserved_names = models.JSONField(
        default=list,
        blank=True,
        help_text="Labels (without the TLD) that are never offered or registered here.",
    )
    transfer_default = models.CharField(
        max_length=8,
        choices=TransferDefault.choices,
        default=TransferDefault.APPROVE,
        help_text="The answer to another registrar's transfer request when the customer has "
        "not answered by the end of the registry's window (most registries approve after 5 "
        "days).",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "TLD"
        constraints = [
            models.CheckConstraint(
                condition=Q(min_years__gte=1)
                & Q(max_years__lte=10)
                & Q(min_years__lte=models.F("max_years")),
                name="tld_years_range_valid",
            ),
            models.CheckConstraint(
                condition=Q(transfer_default__in=["approve", "reject"]),
                name="tld_transfer_default_valid",
            ),
        ]

    def __str__(self) -> str:
        return f".{self.name}"

    def clean(self) -> None:
        self.name = (self.name or "").strip().lower().lstrip(".")
        if self.min_years and self.max_years and self.min_years > self.max_years:
            raise ValidationError({"max_years": "Must be at least the minimum years."})


class DomainStatus(models.TextChoices):
    PENDING_REGISTRATION = "pending_registration", "Pending registration"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    GRACE = "grace", "Grace period"
    REDEMPTION = "redemption", "Redemption"
    PENDING_DELETE = "pending_delete", "Pending delete"
    DELETED = "deleted", "Deleted"
    PENDING_TRANSFER = "pending_transfer", "Pending transfer"
    TRANSFERRED_AWAY = "transferred_away", "Transferred away"
    SUSPENDED = "suspended", "Suspended"
    # Terminal: the registry refused the registration (or the incoming transfer) for good.
    REGISTRATION_FAILED = "registration_failed", "Registration failed"
    TRANSFER_FAILED = "transfer_failed", "Transfer failed"


# Statuses in which a name is no longer held by us: another registration of it may exist.
RELEASED_STATUSES = [
    DomainStatus.DELETED,
    DomainStatus.TRANSFERRED_AWAY,
    DomainStatus.REGISTRATION_FAILED,
    DomainStatus.TRANSFER_FAILED,
]


class Domain(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="domains")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="domains")
    livemode = models.BooleanField(default=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=253, help_text="Unicode form, e.g. bücher.de")
    name_puny = models.CharField(max_length=253, help_text="ASCII (punycode) form")
    tld = models.ForeignKey(Tld, on_delete=models.PROTECT, related_name="domains")
    registrar_account = models.ForeignKey(
        RegistrarAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="domains"
    )
    status = models.CharField(
        max_length=24, choices=DomainStatus.choices, default=DomainStatus.PENDING_REGISTRATION
    )
    epp_statuses = models.JSONField(default=list, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    outzone_at = models.DateTimeField(null=True, blank=True)
    delete_at = models.DateTimeField(null=True, blank=True)
    period = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    autorenew = models.BooleanField(default=True)
    registrar_lock = models.BooleanField(default=True)
    id_protection = models.BooleanField(default=False)
    auth_code = EncryptedTextField(blank=True)
    registry_reference = models.CharField(max_length=100, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name_puny"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_puny", "livemode"],
                condition=~Q(status__in=RELEASED_STATUSES),
                name="domain_name_unique_while_held",
                violation_error_message="This domain is already registered in Nameport.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DomainStatus]),
                name="domain_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(period__gte=1) & Q(period__lte=10), name="domain_period_valid"
            ),
        ]
        indexes = [
            # The id ends the list indexes so that a deep page's ids come from the index alone.
            models.Index(fields=["name_puny", "id"], name="domain_name_id_idx"),
            models.Index(
                fields=["organisation", "livemode", "name_puny", "id"], name="domain_org_name_idx"
            ),
            models.Index(
                fields=["organisation", "livemode", "status", "name_puny"],
                name="domain_org_status_name_idx",
            ),
            models.Index(
                fields=["organisation", "livemode", "tld", "name_puny"],
                name="domain_org_tld_name_idx",
            ),
            # A reseller's renewal list ("expiring within N days"): a range of its own rows.
            models.Index(
                fields=["organisation", "livemode", "expires_at"], name="domain_org_expires_idx"
            ),
            models.Index(fields=["customer", "name_puny"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_idn(self) -> bool:
        return self.name != self.name_puny

    @property
    def is_released(self) -> bool:
        """Deleted, transferred away or never obtained: nothing here holds the name, so its
        registrar lock and auto-renew mean nothing and are not shown."""
        return self.status in RELEASED_STATUSES


class DomainStatusChange(models.Model):
    """History of the domain state machine: one row per transition."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=24, choices=DomainStatus.choices)
    to_status = models.CharField(max_length=24, choices=DomainStatus.choices)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.domain}: {self.from_status} -> {self.to_status}"


class Nameserver(models.Model):
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="nameservers")
    position = models.PositiveSmallIntegerField()
    hostname = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain", "position"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "position"], name="nameserver_position"),
            models.UniqueConstraint(fields=["domain", "hostname"], name="nameserver_unique"),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=13), name="nameserver_position_1_13"
            ),
        ]

    def __str__(self) -> str:
        return self.hostname


class HostRecord(models.Model):
    """A glue host registered under a domain (ns1.example.com with its IPv4/IPv6 addresses)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="hosts")
    hostname = models.CharField(max_length=253)
    ipv4 = models.JSONField(default=list, blank=True)
    ipv6 = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["hostname"]
        verbose_name = "glue host"
        constraints = [
            models.UniqueConstraint(fields=["domain", "hostname"], name="hostrecord_unique")
        ]

    def __str__(self) -> str:
        return self.hostname

    def clean(self) -> None:
        for field, version in (("ipv4", 4), ("ipv6", 6)):
            for address in getattr(self, field) or []:
                try:
                    parsed = ipaddress.ip_address(str(address))
                except ValueError:
                    raise ValidationError({field: f"{address!r} is not an IP address."}) from None
                if parsed.version != version:
                    raise ValidationError({field: f"{address} is not an IPv{version} address."})


class DomainContact(models.Model):
    class Role(models.TextChoices):
        REGISTRANT = "registrant", "Registrant"
        ADMIN = "admin", "Administrative"
        TECH = "tech", "Technical"
        BILLING = "billing", "Billing"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=12, choices=Role.choices)
    handle = models.CharField(max_length=64, blank=True, help_text="The registry's contact ID")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    organization = models.CharField(max_length=200, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=32)
    address_1 = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=100, blank=True)
    zip = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)

    class Meta:
        ordering = ["domain", "role"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "role"], name="domaincontact_role_unique"),
            models.CheckConstraint(
                condition=Q(role__in=["registrant", "admin", "tech", "billing"]),
                name="domaincontact_role_valid",
            ),
        ]
        indexes = [models.Index(fields=["role", "handle"])]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.first_name} {self.last_name}"


class DnssecDs(models.Model):
    """A DS record published at the registry for a domain (RFC 5910 dsData)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="ds_records")
    key_tag = models.PositiveIntegerField(validators=[MaxValueValidator(65535)])
    algorithm = models.PositiveSmallIntegerField()
    digest_type = models.PositiveSmallIntegerField()
    digest = models.CharField(max_length=128)

    class Meta:
        ordering = ["key_tag"]
        verbose_name = "DS record"
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "key_tag", "algorithm", "digest_type", "digest"],
                name="dnssecds_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key_tag} {self.algorithm} {self.digest_type} {self.digest}"


# A pending operation parked behind an unfinished one of its domain is due at this far-off moment
# (its reason in ``last_error``) until the one before it ends and wakes it (domains.dispatch).
OPERATION_PARKED_AT = datetime(9999, 1, 1, tzinfo=UTC)


class RegistrarOperation(models.Model):
    """The outbox: one change that must reach a registry, pushed by a worker."""

    class Kind(models.TextChoices):
        REGISTER = "register", "Register"
        TRANSFER = "transfer", "Transfer in"
        RENEW = "renew", "Renew"
        NAMESERVERS = "nameservers", "Nameservers"
        LOCK = "lock", "Registrar lock"
        PRIVACY = "privacy", "ID protection"
        CONTACTS = "contacts", "Contacts"
        AUTH_CODE = "auth_code", "Auth code"
        HOST_CREATE = "host_create", "Glue host create"
        HOST_UPDATE = "host_update", "Glue host addresses"
        HOST_DELETE = "host_delete", "Glue host delete"
        DNSSEC = "dnssec", "DNSSEC"
        SYNC = "sync", "Sync"
        AUTORENEW = "autorenew", "Auto-renew"
        # Transfers in progress (EPP): following ours, answering another registrar's.
        TRANSFER_QUERY = "transfer_query", "Transfer status check"
        TRANSFER_APPROVE = "transfer_approve", "Transfer away approved"
        TRANSFER_REJECT = "transfer_reject", "Transfer away rejected"
        TRANSFER_CANCEL = "transfer_cancel", "Transfer in cancelled"
        # Out of the redemption period (rgp restore request, and report where required).
        RESTORE = "restore", "Restore"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        HELD = "held", "Held for staff"
        # Not sent: the reseller's account with the platform (or the platform's own account at
        # the registrar) cannot pay for it; a top-up resumes it. Not a failure.
        AWAITING_FUNDS = "awaiting_funds", "Awaiting funds"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="operations"
    )
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="operations"
    )
    registrar_account = models.ForeignKey(
        RegistrarAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="operations"
    )
    livemode = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    # When a worker may take it next ("due"); always set, so the due rows are an index range.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    upstream_reference = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "running",
                        "succeeded",
                        "failed",
                        "cancelled",
                        "held",
                        "awaiting_funds",
                    ]
                ),
                name="registraroperation_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["domain", "created_at"]),
            models.Index(fields=["organisation", "status"]),
        ]

    def __str__(self) -> str:
        target = self.domain.name if self.domain_id else "-"
        return f"{self.get_kind_display()} {target} [{self.status}]"


class RegistrarOperationAttempt(models.Model):
    """One call of an operation to its registry: when, what was sent (never a secret), what came
    back, and when the next attempt is due. Written by the worker (``domains.outbox``) with the
    attempt's outcome; staff read them on the operation page."""

    class Outcome(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed"
        HELD = "held", "Held for staff"
        AWAITING_FUNDS = "awaiting_funds", "Awaiting funds"
        SKIPPED = "skipped", "Not recorded (the operation had moved on)"

    operation = models.ForeignKey(
        RegistrarOperation, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(help_text="The operation's attempt count then")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    request = models.JSONField(default=dict, blank=True, help_text="What was sent, no secrets")
    response = models.JSONField(default=dict, blank=True, help_text="What came back")
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["operation", "started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    outcome__in=[
                        "succeeded",
                        "retry",
                        "failed",
                        "held",
                        "awaiting_funds",
                        "skipped",
                    ]
                ),
                name="operationattempt_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.operation_id} attempt {self.number}: {self.outcome}"


class DomainDrift(models.Model):
    """A difference found by sync between what the portal believes and what the registry says.

    Staff resolve it with one click: re-push the portal's value, or accept the registry's."""

    class Resolution(models.TextChoices):
        OPEN = "open", "Open"
        REPUSHED = "repushed", "Re-pushed"
        ACCEPTED = "accepted", "Accepted"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="drifts")
    field = models.CharField(max_length=32)
    portal_value = models.JSONField(null=True)
    registry_value = models.JSONField(null=True)
    resolution = models.CharField(
        max_length=10, choices=Resolution.choices, default=Resolution.OPEN
    )
    resolved_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolution__in=["open", "repushed", "accepted"]),
                name="domaindrift_resolution_valid",
            ),
            models.UniqueConstraint(
                fields=["domain", "field"],
                condition=Q(resolution="open"),
                name="domaindrift_one_open_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.field} differs"


class TransferRequest(models.Model):
    """Another registrar asked the registry for one of our domains (an outgoing transfer),
    learned from the EPP poll queue or from a sync that shows ``pendingTransfer``. The customer
    approves or rejects it before ``act_by``; when nobody answers, Nameport sends the TLD's
    ``transfer_default`` shortly before the registry's window ends."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        APPROVING = "approving", "Approval sent"
        REJECTING = "rejecting", "Rejection sent"
        APPROVED = "approved", "Approved (transferred away)"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Withdrawn"

    OPEN = ("pending", "approving", "rejecting")

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="transfer_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gaining_registrar = models.CharField(max_length=100, blank=True, help_text="reID")
    requested_at = models.DateTimeField(null=True, blank=True)
    act_by = models.DateTimeField(
        null=True, blank=True, help_text="When the registry acts by itself (acDate)"
    )
    registry_status = models.CharField(max_length=20, blank=True, help_text="trStatus")
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    by_default = models.BooleanField(
        default=False, help_text="Answered with the TLD's default (nobody answered in time)"
    )
    source = models.CharField(max_length=10, blank=True, help_text="poll or sync")
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=[
                        "pending",
                        "approving",
                        "rejecting",
                        "approved",
                        "rejected",
                        "cancelled",
                    ]
                ),
                name="transferrequest_status_valid",
            ),
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(status__in=["pending", "approving", "rejecting"]),
                name="transferrequest_one_open_per_domain",
            ),
        ]
        indexes = [models.Index(fields=["status", "act_by"])]

    def __str__(self) -> str:
        return f"{self.domain}: transfer to {self.gaining_registrar or '?'} [{self.status}]"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class RegistryMessage(models.Model):
    """One message of a registry's EPP poll queue (RFC 5730 ``<poll>``), kept for staff with
    what Nameport did about it. It is acknowledged at the registry only after what it says has
    been committed here (``acked_at``)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        UNAPPLIED = "unapplied", "Not applied"
        IGNORED = "ignored", "Nothing to do"

    account = models.ForeignKey(
        RegistrarAccount, on_delete=models.PROTECT, related_name="registry_messages"
    )
    message_id = models.CharField(max_length=100, help_text="The registry's msgID")
    queued_at = models.DateTimeField(null=True, blank=True, help_text="qDate")
    kind = models.CharField(max_length=20)
    name = models.CharField(max_length=253, blank=True)
    domain = models.ForeignKey(
        Domain,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_messages",
    )
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    note = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "message_id"], name="registrymessage_unique_per_account"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["applied", "unapplied", "ignored"]),
                name="registrymessage_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["name"]),
        ]

    def __str__(self) -> str:
        return f"{self.account.name} #{self.message_id}: {self.kind} {self.name}".strip()


# --- The sandbox registry's own state (domains/simulator/registry.py) -------------------------
# A simulated registry keeps its own tables so that what the portal believes and what "the
# registry" says can differ, exactly as with a real one.


class SandboxDomain(models.Model):
    name = models.CharField(max_length=253, unique=True)
    account = models.CharField(max_length=100, help_text="Sponsoring registrar account")
    registered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    statuses = models.JSONField(default=list)
    nameservers = models.JSONField(default=list)
    locked = models.BooleanField(default=False)
    privacy = models.BooleanField(default=False)
    autorenew = models.BooleanField(default=False)
    auth_code = models.CharField(max_length=64)
    ds_records = models.JSONField(default=list)
    contacts = models.JSONField(default=list)
    # The last transfer of the name at the EPP front end: trStatus, gaining and losing accounts,
    # dates (``domains.simulator.queue``); {} when it was never asked for.
    transfer = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SandboxHost(models.Model):
    hostname = models.CharField(max_length=253, unique=True)
    account = models.CharField(max_length=100)
    ipv4 = models.JSONField(default=list)
    ipv6 = models.JSONField(default=list)

    class Meta:
        ordering = ["hostname"]

    def __str__(self) -> str:
        return self.hostname


class SandboxTransaction(models.Model):
    """The registry's record of each command it applied, by the client's idempotency key."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    account = models.CharField(max_length=100)
    command = models.CharField(max_length=40)
    result = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.command} {self.idempotency_key}"


class SandboxPollMessage(models.Model):
    """A message in a sandbox account's EPP poll queue (``domains.simulator.queue``)."""

    account = models.CharField(max_length=100, help_text="Whose queue (a sandbox account name)")
    queued_at = models.DateTimeField(default=timezone.now)
    text = models.CharField(max_length=500)
    res_data = models.TextField(blank=True, help_text="The <resData> child, as XML")

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return f"{self.account} #{self.pk}: {self.text}"


class SandboxBalance(models.Model):
    account = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")

    def __str__(self) -> str:
        return f"{self.account}: {self.amount} {self.currency}"

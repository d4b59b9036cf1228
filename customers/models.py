"""Organisations (resellers), their members, their customers, customer contacts and API keys."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code, e.g. USD.")
COUNTRY_VALIDATOR = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 code, e.g. NG.")
PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9][0-9 .\-()]{4,24}$",
    "Enter a phone number with its country code, e.g. +234.8012345678.",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. Signs in with the e-mail address; no separate user name."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


COLOUR_VALIDATOR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Give the colour as #rrggbb, e.g. #1f4e79.")
HOST_PATTERN = re.compile(
    r"^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$"
)
HOST_VALIDATOR = RegexValidator(HOST_PATTERN, "Give a host name, e.g. portal.example.com.")
DEFAULT_REMINDER_DAYS = (30, 14, 7, 1)


def default_reminder_days() -> list[int]:
    return list(DEFAULT_REMINDER_DAYS)


def logo_path(instance: Organisation, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return f"brand/{instance.pk or 'new'}/{uuid.uuid4().hex}{suffix}"


class Organisation(models.Model):
    """A reseller: owns customers, their domains, zones, invoices, API keys and its price list."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    default_currency = models.CharField(
        max_length=3, default="USD", validators=[CURRENCY_VALIDATOR]
    )
    is_active = models.BooleanField(default=True)
    # What its customers' invoices show as the seller (PDF, printable page).
    legal_name = models.CharField(max_length=200, blank=True)
    address = models.TextField(blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    invoice_email = models.EmailField(blank=True)
    # Renewal invoices are raised this many days before a domain expires.
    renewal_invoice_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    # Two-factor sign-in: when on, the organisation's members (or its customers and their
    # contacts) must set up and use an authenticator app to get past sign-in.
    require_2fa_members = models.BooleanField(
        "require two-factor sign-in for members", default=False
    )
    require_2fa_customers = models.BooleanField(
        "require two-factor sign-in for customers", default=False
    )
    # Settings page (/settings/, customers.org_settings). Nameservers a registration without
    # any gets (empty: the platform's NAMEPORT_DEFAULT_NAMESERVERS).
    default_nameservers = models.JSONField(default=list, blank=True)
    # Unpaid renewal invoices are reminded this many days before the expiry (billing.renewals).
    reminder_days = models.JSONField(default=default_reminder_days, blank=True)
    # From address of the ticket e-mails to its customers (empty: the platform's).
    support_email = models.EmailField(blank=True)
    # The brand its customers and contacts see (customers.branding); empty: Nameport's.
    portal_name = models.CharField(max_length=60, blank=True)
    logo = models.ImageField(upload_to=logo_path, max_length=255, blank=True)
    accent_colour = models.CharField(max_length=7, blank=True, validators=[COLOUR_VALIDATOR])
    # A host name of its own (mapped by staff): requests to it show the brand before sign-in.
    custom_host = models.CharField(
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        validators=[HOST_VALIDATOR],
        error_messages={"unique": "This host name already belongs to another organisation."},
        help_text="e.g. portal.reseller.example; point its DNS at the portal.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.custom_host = (self.custom_host or "").strip().lower().rstrip(".") or None
        self.accent_colour = (self.accent_colour or "").strip().lower()
        self.portal_name = (self.portal_name or "").strip()
        errors = {}
        nameservers = self.default_nameservers or []
        if isinstance(nameservers, list) and all(isinstance(h, str) for h in nameservers):
            nameservers = self.default_nameservers = [
                h.strip().lower().rstrip(".") for h in nameservers
            ]
        if not isinstance(nameservers, list) or not all(
            isinstance(h, str) and HOST_PATTERN.match(h) for h in nameservers
        ):
            errors["default_nameservers"] = "Give host names, e.g. ns1.example.net."
        elif nameservers and not 2 <= len(nameservers) <= 13:
            errors["default_nameservers"] = "Give 2 to 13 nameservers, or none."
        elif len({h.lower() for h in nameservers}) != len(nameservers):
            errors["default_nameservers"] = "A nameserver is listed twice."
        days = self.reminder_days
        if not isinstance(days, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 120 for d in days
        ):
            errors["reminder_days"] = "Give whole days from 1 to 120, e.g. 30, 14, 7, 1."
        elif len(days) > 10:
            errors["reminder_days"] = "Give at most 10 reminder days."
        elif len(set(days)) != len(days):
            errors["reminder_days"] = "A day is listed twice."
        else:
            self.reminder_days = sorted(days, reverse=True)
        if errors:
            raise ValidationError(errors)


class Membership(models.Model):
    """A person's place in an organisation. What each role may do: customers/roles.py."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        BILLING = "billing", "Billing"
        SUPPORT = "support", "Support"
        READ_ONLY = "read_only", "Read-only"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.READ_ONLY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "billing", "support", "read_only"]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class Customer(models.Model):
    """A reseller's customer: the account that holds domains, zones, invoices and tickets."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="customers"
    )
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer"
    )
    livemode = models.BooleanField(default=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField()
    phone = models.CharField(max_length=32, validators=[PHONE_VALIDATOR])
    company = models.CharField(max_length=200, blank=True)
    # The contact address of seed 000 ("contact": {address, country, city, post_code}).
    address = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    post_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, validators=[COUNTRY_VALIDATOR])
    currency = models.CharField(max_length=3, default="USD", validators=[CURRENCY_VALIDATOR])
    tax_exempt = models.BooleanField(default=False)
    tax_number = models.CharField(max_length=50, blank=True)
    # Archived: kept with all its history, hidden from the default list, no new orders
    # (customers.accounts.customer_require_open).
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                "livemode",
                Lower("email"),
                name="customer_email_unique_per_organisation",
                violation_error_message="Customer already exists for organisation",
            )
        ]
        indexes = [models.Index(fields=["organisation", "livemode", "last_name"])]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def name(self) -> str:
        return str(self)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        self.email = (self.email or "").strip().lower()
        self.post_code = (self.post_code or "").strip()
        self.country = (self.country or "").strip().upper()


# Seed 003 `GET /contact/privileges`: the catalogue of privileges a contact may be given.
PRIVILEGE_CATALOGUE: dict[str, list[str]] = {
    "billing": ["emails", "payinvoice", "orders", "balance", "addfunds", "creditcard"],
    "support": ["newticket", "tickets", "closeticket", "emails"],
    "misc": ["editmain", "emails", "editipaccess", "manageprofiles", "affiliates"],
}
DOMAIN_PRIVILEGES = [
    "basic",
    "renew",
    "notify",
    "contactinfo",
    "nameservers",
    "dnsmanagement",
    "reglock",
    "idprotection",
    "eppcode",
    "autorenew",
]
SERVICE_PRIVILEGES = [
    "basic",
    "billing",
    "cancelation",
    "upgrade",
    "notify",
    "logindetails",
]


def _names_within(items: object, allowed: list[str]) -> bool:
    """``items`` is a list of privilege names, each one of ``allowed`` (nothing else: not a
    nested list or object, which a JSON body may carry)."""
    return isinstance(items, list) and all(
        isinstance(item, str) and item in allowed for item in items
    )


def validate_privileges(value: object) -> None:
    """The shape of seed 003's privileges: flat lists per section, per-object lists per domain."""
    if not isinstance(value, dict):
        raise ValidationError("Privileges must be an object of sections.")
    for section, granted in value.items():
        if section in PRIVILEGE_CATALOGUE:
            if not _names_within(granted, PRIVILEGE_CATALOGUE[section]):
                allowed = ", ".join(PRIVILEGE_CATALOGUE[section])
                raise ValidationError(f"Unknown {section} privilege; allowed: {allowed}.")
        elif section in {"domains", "services"}:
            allowed = DOMAIN_PRIVILEGES if section == "domains" else SERVICE_PRIVILEGES
            if not isinstance(granted, dict):
                raise ValidationError(f"{section} privileges must be an object.")
            for key, items in granted.items():
                if key == "full":
                    if items not in (0, 1, True, False):
                        raise ValidationError(f"{section}.full must be 0 or 1.")
                    continue
                if not str(key).isdigit():
                    raise ValidationError(f"{section} privileges are keyed by numeric id.")
                if not _names_within(items, allowed):
                    raise ValidationError(
                        f"Unknown {section} privilege; allowed: {', '.join(allowed)}."
                    )
        else:
            raise ValidationError(f"Unknown privilege section {section!r}.")


class Contact(models.Model):
    """An extra person on a customer account (seed 003 contacts), limited by privileges."""

    class Type(models.TextChoices):
        PRIVATE = "Private", "Private"
        COMPANY = "Company", "Company"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact"
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    company_name = models.CharField(max_length=200, blank=True)
    address1 = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    post_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, validators=[COUNTRY_VALIDATOR])
    phone = models.CharField(max_length=32, blank=True, validators=[PHONE_VALIDATOR])
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.PRIVATE)
    privileges = models.JSONField(default=dict, blank=True, validators=[validate_privileges])
    last_login = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                "customer", Lower("email"), name="contact_email_unique_per_customer"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=["Private", "Company"]), name="contact_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"

    def has_privilege(self, section: str, name: str, object_id: int | None = None) -> bool:
        granted = self.privileges.get(section)
        if section in {"domains", "services"}:
            if not isinstance(granted, dict):
                return False
            if granted.get("full"):
                return True
            return object_id is not None and name in granted.get(str(object_id), [])
        return isinstance(granted, list) and name in granted


class ApiKey(models.Model):
    """An organisation's API key. Only a prefix and a SHA-256 hash are stored; the key is shown
    once when issued (see customers.services.api_key_issue)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, blank=True)
    livemode = models.BooleanField(default=False)
    prefix = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Every authenticated request adds one (an F() update in api_key_authenticate).
    use_count = models.PositiveBigIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        mode = "live" if self.livemode else "sandbox"
        return f"{self.prefix}… ({mode}, {self.organisation.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(models.Model):
    """An e-mail invitation to join an organisation's team with a role. Only a SHA-256 hash of
    the link's token is stored; the link works once, until ``expires_at``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField("e-mail address")
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "billing", "support", "read_only"]),
                name="invitation_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organisation} ({self.role})"

    def clean(self) -> None:
        self.email = (self.email or "").strip().lower()


class RecoveryCode(models.Model):
    """A one-use code that stands in for the authenticator app at sign-in. Stored as a keyed
    hash (HMAC-SHA256 with the secret key); shown once when generated."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_unique")
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user} ({'used' if self.used_at else 'unused'})"


class UserSession(models.Model):
    """A signed-in browser session, keyed by its session key: what the account page lists and
    "sign out everywhere else" ends. Touched at most once a minute per session."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        indexes = [models.Index(fields=["user", "last_seen_at"])]

    def __str__(self) -> str:
        return f"{self.user} session seen {self.last_seen_at:%Y-%m-%d %H:%M}"


class RegistrantToken(models.Model):
    """A customer's Bearer token for the registrant API (seed 004): read-only access to that
    customer's domains. Only a prefix and a SHA-256 hash are stored; the token is shown once
    when created (see customers.registrant_tokens)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="registrant_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Marked at most once a minute per token (customers.registrant_tokens.authenticate).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}, customer {self.customer_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

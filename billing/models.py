"""Prices, orders, invoices, payments and the credit ledger. Money is Decimal + currency."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from customers.models import COUNTRY_VALIDATOR, CURRENCY_VALIDATOR, Customer, Organisation
from domains.models import Domain, Tld
from portal.crypto import EncryptedTextField

ZERO = Decimal("0.00")


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, default=ZERO, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR], **kwargs)


class Price(models.Model):
    """A price list row. ``organisation`` empty: the platform's cost list; set: a reseller's
    selling price for its customers."""

    class Action(models.TextChoices):
        REGISTER = "register", "Register"
        TRANSFER = "transfer", "Transfer"
        RENEW = "renew", "Renew"
        REDEMPTION = "redemption", "Redemption"
        PRIVACY = "privacy", "ID protection"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="prices"
    )
    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="prices")
    action = models.CharField(max_length=12, choices=Action.choices)
    years = models.PositiveSmallIntegerField(default=1)
    currency = currency_field()
    cost = money_field(validators=[MinValueValidator(ZERO)])
    sell = money_field(validators=[MinValueValidator(ZERO)])

    class Meta:
        ordering = ["tld__name", "action", "years", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "tld", "action", "years", "currency"],
                name="price_unique_per_org",
            ),
            models.UniqueConstraint(
                fields=["tld", "action", "years", "currency"],
                condition=Q(organisation__isnull=True),
                name="price_unique_platform",
            ),
            models.CheckConstraint(
                condition=Q(action__in=["register", "transfer", "renew", "redemption", "privacy"]),
                name="price_action_valid",
            ),
            models.CheckConstraint(
                condition=Q(cost__gte=0) & Q(sell__gte=0), name="price_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f".{self.tld.name} {self.action} {self.years}y {self.sell} {self.currency}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        COMPLETED = "completed", "Completed"
        INCOMPLETE = "incomplete", "Incomplete (routed to support)"
        CANCELLED = "cancelled", "Cancelled"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    livemode = models.BooleanField(default=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    currency = currency_field()
    total = money_field()
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "paid", "completed", "incomplete", "cancelled"]),
                name="order_status_valid",
            ),
            models.UniqueConstraint(
                fields=["organisation", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk} ({self.status})"


class OrderItem(models.Model):
    class Kind(models.TextChoices):
        DOMAIN_REGISTER = "domain_register", "Domain registration"
        DOMAIN_TRANSFER = "domain_transfer", "Domain transfer"
        DOMAIN_RENEW = "domain_renew", "Domain renewal"
        ID_PROTECTION = "id_protection", "ID protection"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    domain_name = models.CharField(max_length=253)
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="order_items"
    )
    years = models.PositiveSmallIntegerField(default=1)
    amount = money_field()
    currency = currency_field()
    status = models.CharField(max_length=12, default="pending")
    # The registry operation the paid item queued: its failure for good credits the item back.
    operation = models.ForeignKey(
        "domains.RegistrarOperation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="order_items",
    )
    # A transfer's code waits with the order until the invoice is paid; emptied once queued
    # (the domain keeps it, encrypted as well).
    auth_code = EncryptedTextField(blank=True)
    # A registration's choices from the register page: nameservers, id_protection, autorenew.
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.domain_name} {self.years}y"


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "Draft"
        UNPAID = "Unpaid"
        PAID = "Paid"
        CANCELLED = "Cancelled"
        REFUNDED = "Refunded"
        COLLECTIONS = "Collections"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoices"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    livemode = models.BooleanField(default=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    # Assigned when the invoice is issued (``billing.services.invoice_issue``): per organisation
    # and year, gapless and never reused (``InvoiceSequence``); empty while a draft.
    number = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNPAID)
    issued_at = models.DateTimeField(null=True, blank=True)
    date = models.DateField()
    duedate = models.DateField()
    paybefore = models.DateField()
    datepaid = models.DateTimeField(null=True, blank=True)
    subtotal = money_field()
    tax = money_field()
    taxrate = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    taxname = models.CharField(max_length=100, blank=True)
    tax2 = money_field()
    taxrate2 = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO)
    taxname2 = models.CharField(max_length=100, blank=True)
    credit = money_field()
    total = money_field()
    currency = currency_field()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "number"],
                condition=~Q(number=""),
                name="invoice_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(status="Draft") | ~Q(number=""), name="invoice_issued_has_number"
            ),
            models.CheckConstraint(
                condition=Q(credit__gte=0) & Q(credit__lte=F("total")),
                name="invoice_credit_within_total",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["Draft", "Unpaid", "Paid", "Cancelled", "Refunded", "Collections"]
                ),
                name="invoice_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "livemode", "status"]),
            models.Index(fields=["customer", "status"]),
        ]

    def __str__(self) -> str:
        return f"Invoice {self.number}"

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.credit if self.status == self.Status.UNPAID else ZERO


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    type = models.CharField(max_length=32, default="Other")
    item_id = models.IntegerField(default=0)
    description = models.CharField(max_length=255)
    amount = money_field()
    qty = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1.00"))
    taxed = models.BooleanField(default=True)
    linetotal = money_field()
    order_item = models.ForeignKey(
        "OrderItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines"
    )
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoice_lines"
    )
    # A "DomainRenew" line raised by billing.renewals: the domain expiry it renews (the line is
    # for that expiry only), and the smallest reminder threshold (30, 14, 7, 1 days before it)
    # already e-mailed for its unpaid invoice.
    renews_expiry = models.DateTimeField(null=True, blank=True)
    renewal_reminded_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["invoice", "id"]
        indexes = [
            models.Index(
                fields=["domain", "renews_expiry"],
                condition=Q(renews_expiry__isnull=False),
                name="invoiceline_renewal_idx",
            ),
            models.Index(
                fields=["renews_expiry"],
                condition=Q(renews_expiry__isnull=False),
                name="invoiceline_renews_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class PaymentMethod(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="payment_methods",
    )
    name = models.CharField(max_length=100)
    fixed_fee = money_field(validators=[MinValueValidator(ZERO)])
    percent_fee = models.DecimalField(
        max_digits=5, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    # Which billing.gateways gateway takes the money: "bank_transfer" (marked paid by the
    # reseller or staff with the bank's reference) or an online gateway such as "test".
    gateway = models.CharField(max_length=32, default="bank_transfer")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.ForeignKey(
        PaymentMethod, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = money_field()
    fee = money_field()
    currency = currency_field()
    reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # The gateway that took it ("bank_transfer", "test", "credit"...) and its own reference.
    gateway = models.CharField(max_length=32, blank=True)
    gateway_reference = models.CharField(max_length=100, blank=True)
    # A refund is a row of its own, negative, pointing at the payment it gives back.
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_unique",
            ),
            models.UniqueConstraint(
                fields=["gateway", "gateway_reference"],
                condition=~Q(gateway_reference=""),
                name="payment_gateway_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for {self.invoice}"


class CreditEntry(models.Model):
    """Append-only ledger of a customer's account credit; the balance is the sum of amounts."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_entries")
    livemode = models.BooleanField(default=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = currency_field()
    # The balance after this entry, written under the customer's row lock: the latest entry
    # answers the balance without summing (the sum of ``amount`` stays the truth).
    balance_after = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reason = models.CharField(max_length=255)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_entries"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "credit entries"
        indexes = [models.Index(fields=["customer", "currency"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__isnull=True) | Q(balance_after__gte=0),
                name="credit_never_below_zero",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.currency}: {self.reason}"


class TaxRule(models.Model):
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="tax_rules"
    )
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, validators=[COUNTRY_VALIDATOR])
    state = models.CharField(max_length=100, blank=True)
    rate = models.DecimalField(max_digits=5, decimal_places=2, validators=[MinValueValidator(ZERO)])
    # 1: the invoice's tax; 2: a second tax on top (seed 003's tax2/taxrate2).
    level = models.PositiveSmallIntegerField(default=1, choices=[(1, "Tax"), (2, "Second tax")])
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["country", "state"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="taxrule_rate_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate}% ({self.country})"


class InvoiceSequence(models.Model):
    """The last invoice number given per organisation and year: locked (``select_for_update``)
    to give the next one, so numbers are gapless and never reused under concurrency."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    livemode = models.BooleanField(default=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "livemode"], name="invoice_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}/{self.year}: {self.last}"


class ResellerAccount(models.Model):
    """A reseller's prepaid account with the platform (wholesale), one per organisation,
    currency and mode (sandbox operations are charged to a sandbox account, never a live one).
    Its balance is the sum of its entries; the latest entry's ``balance_after`` says it."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="reseller_accounts"
    )
    currency = currency_field()
    livemode = models.BooleanField(default=True)
    # When the reseller and staff were last told the balance could not cover an operation
    # (told once until a top-up clears it).
    low_funds_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "currency", "-livemode"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "currency", "livemode"], name="reseller_account_unique"
            )
        ]

    def __str__(self) -> str:
        mode = "" if self.livemode else " (sandbox)"
        return f"{self.organisation} {self.currency}{mode}"


class AccountEntry(models.Model):
    """One append-only line of a reseller account: a top-up, a charge for a registry operation,
    its refund, or a staff adjustment. Never edited or deleted."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    account = models.ForeignKey(ResellerAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    operation = models.ForeignKey(
        "domains.RegistrarOperation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_entries",
    )
    # The charge round of ``operation``: 1, then 2 when staff retry it after its refund, ...
    round = models.PositiveSmallIntegerField(default=1)
    reference = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "account entries"
        indexes = [models.Index(fields=["account", "-id"], name="account_entry_latest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["topup", "charge", "refund", "adjustment"]),
                name="account_entry_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="account_never_overdrawn"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="charge", amount__lt=0) | Q(kind__in=["topup", "refund"], amount__gt=0)
                )
                | Q(kind="adjustment"),
                name="account_entry_sign",
            ),
            # An operation is charged once per round and refunded at most once per round.
            models.UniqueConstraint(
                fields=["operation", "kind", "round"],
                condition=Q(operation__isnull=False),
                name="account_entry_once_per_operation",
            ),
            models.UniqueConstraint(
                fields=["account", "reference"],
                condition=Q(kind="topup") & ~Q(reference=""),
                name="account_topup_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+} {self.account.currency}"


from billing.price_models import (  # noqa: E402,F401
    ExchangeRate,
    MarkupRule,
    PriceGroup,
    PriceGroupMembership,
    PromotionCode,
)

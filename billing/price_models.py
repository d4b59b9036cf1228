"""The price-setting models: dated exchange rates (staff), resellers' markup rules, promotion
codes and customer price groups.

Imported by ``billing.models`` (their app is billing). The platform's cost list and the
resellers' per-TLD overrides are ``billing.models.Price`` rows; ``billing.pricing`` reads all of
them and is the only place that turns them into a price.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from customers.models import CURRENCY_VALIDATOR, Customer, Organisation
from domains.models import Tld

ZERO = Decimal("0.00")


class ExchangeRate(models.Model):
    """``1 base = rate quote`` from ``valid_from`` on (the latest one valid on a day applies).
    Used for a currency the platform's cost list has no row in."""

    base = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    quote = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    rate = models.DecimalField(
        max_digits=18, decimal_places=8, validators=[MinValueValidator(Decimal("0.00000001"))]
    )
    valid_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["base", "quote", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["base", "quote", "valid_from"], name="exchange_rate_unique_per_day"
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(condition=~Q(base=models.F("quote")), name="exchange_rate_pair"),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} from {self.valid_from}"


class MarkupRule(models.Model):
    """How a reseller sells over its cost where it set no price of its own: ``cost * (1 +
    percent/100) + fixed``, then rounded up. The most specific rule applies: TLD and action, then
    TLD, then action, then the reseller's default (no TLD, no action). A premium name is sold at
    the registry's premium price times ``premium_factor`` when set (else with the same markup),
    or not priced at all when ``premium_on_request``: "Price on request", the customer asks the
    reseller."""

    class Rounding(models.TextChoices):
        NONE = "none", "To the cent"
        NINETY_NINE = "99", "Up to .99"
        WHOLE = "whole", "Up to a whole unit"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="markup_rules"
    )
    tld = models.ForeignKey(
        Tld, null=True, blank=True, on_delete=models.CASCADE, related_name="markup_rules"
    )
    action = models.CharField(
        max_length=12,
        blank=True,
        choices=[
            ("register", "Register"),
            ("transfer", "Transfer"),
            ("renew", "Renew"),
            ("redemption", "Redemption"),
            ("privacy", "ID protection"),
        ],
    )
    percent = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("10000"))],
    )
    fixed = models.DecimalField(
        max_digits=14, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    # The currency of ``fixed`` (converted at the day's rate for a price in another currency);
    # empty: the price's own currency.
    fixed_currency = models.CharField(max_length=3, blank=True, validators=[CURRENCY_VALIDATOR])
    rounding = models.CharField(max_length=5, choices=Rounding.choices, default=Rounding.NONE)
    premium_factor = models.DecimalField(
        max_digits=7,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1.000"))],
    )
    # Premium names are not sold at a computed price: "Price on request" (no factor then).
    premium_on_request = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "tld__name", "action"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "tld", "action"],
                condition=Q(tld__isnull=False),
                name="markup_rule_unique_per_tld",
            ),
            models.UniqueConstraint(
                fields=["organisation", "action"],
                condition=Q(tld__isnull=True),
                name="markup_rule_unique_default",
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(fixed__gte=0), name="markup_rule_nonnegative"
            ),
            models.CheckConstraint(
                condition=Q(rounding__in=["none", "99", "whole"]), name="markup_rule_rounding"
            ),
            models.CheckConstraint(
                condition=Q(premium_on_request=False) | Q(premium_factor__isnull=True),
                name="markup_rule_premium_factor_or_on_request",
            ),
        ]

    def __str__(self) -> str:
        where = f".{self.tld.name}" if self.tld_id else "every TLD"
        return f"{self.organisation}: {where} {self.action or 'any action'} +{self.percent}%"


class PromotionCode(models.Model):
    """A reseller's promotion code: a percent or fixed discount on the items of a cart it
    applies to (TLDs and actions; empty: all), between its dates, at most ``max_uses`` orders
    (``uses`` is counted when an order redeems it, under the code's row lock)."""

    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED = "fixed", "Amount off"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="promotion_codes"
    )
    code = models.CharField(max_length=40)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PERCENT)
    value = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    # The currency of a fixed discount (only carts in it get it).
    currency = models.CharField(max_length=3, blank=True, validators=[CURRENCY_VALIDATOR])
    tlds = models.ManyToManyField(Tld, blank=True, related_name="promotion_codes")
    actions = models.JSONField(default=list, blank=True)  # ["register", "transfer", "renew"]
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "code"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="promotion_code_unique"),
            models.CheckConstraint(
                condition=Q(value__gt=0) & (Q(kind="fixed") | Q(value__lte=100)),
                name="promotion_value_range",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="promotion_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.code}"


class PriceGroup(models.Model):
    """A reseller's customer price group (WHMCS's client groups): its customers pay the
    reseller's sell prices less ``percent`` (0 to 100), on every TLD and action."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="price_groups"
    )
    name = models.CharField(max_length=80)
    percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation", "name"]
        constraints = [
            models.UniqueConstraint(
                models.F("organisation"),
                Lower("name"),
                name="price_group_name_unique",
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="price_group_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (-{self.percent}%)"


class PriceGroupMembership(models.Model):
    """A customer's price group: at most one, of the customer's own reseller, in the customer's
    mode (billing keeps it: customers sits below billing and never points at it)."""

    customer = models.OneToOneField(
        Customer, on_delete=models.CASCADE, related_name="price_group_membership"
    )
    group = models.ForeignKey(PriceGroup, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="price_group_memberships"
    )
    livemode = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["group", "customer"]

    def __str__(self) -> str:
        return f"{self.customer} in {self.group}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.group_id and self.group.organisation_id != self.organisation_id:
            raise ValidationError({"group": "Choose one of your own price groups."})
        if self.customer_id and (
            self.customer.organisation_id != self.organisation_id
            or self.customer.livemode != self.livemode
        ):
            raise ValidationError({"customer": "Choose one of your own customers."})

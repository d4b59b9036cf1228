"""Setting prices: the platform's cost list and exchange rates (staff), a reseller's markup rules
and its own per-TLD prices. Every change is audited; what prices come out of them is
``billing.pricing``'s alone.

Prices are shared set-up of live rows: a sandbox key or a member in sandbox mode reads them but
cannot change them (issue 9's rule for shared set-up).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from billing.models import ExchangeRate, MarkupRule, Price
from billing.pricing import PriceList, apply_markup, exchange_rate
from customers.models import Organisation
from customers.roles import Right, requires
from domains.models import Tld
from portal.audit import audit
from portal.tenancy import Actor, ActorKind

ACTIONS = {choice for choice, _label in Price.Action.choices}
MAX_YEARS = 10
MAX_AMOUNT = Decimal("1000000000")


def clean_amount(value, field: str, *, allow_zero: bool = True) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount such as 12.50."}) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: "Enter an amount with at most two decimals."})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError({field: "Enter an amount above zero."})
    if amount >= MAX_AMOUNT:
        raise ValidationError({field: "That amount is too large."})
    return amount


def clean_currency(value: str, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    allowed = getattr(settings, "NAMEPORT_CURRENCIES", ("USD", "NGN", "EUR", "GBP"))
    if code not in allowed:
        raise ValidationError({field: f"Choose one of the currencies: {', '.join(allowed)}."})
    return code


def _action(value: str, *, blank: bool = False) -> str:
    value = (value or "").strip()
    if blank and value == "":
        return ""
    if value not in ACTIONS:
        raise ValidationError({"action": f"Choose one of: {', '.join(sorted(ACTIONS))}."})
    return value


def _seller(actor: Actor, organisation: Organisation | None) -> Organisation:
    """The organisation whose prices ``actor`` may change: its own (a reseller member or live
    key), any (staff, who must name it)."""
    if actor.livemode is False:
        raise PermissionDenied("Prices are shared with live: switch to live mode to change them.")
    if actor.is_staff:
        if organisation is None:
            raise ValidationError({"organisation": "Choose the reseller."})
        return organisation
    if actor.is_reseller and actor.organisation is not None:
        return actor.organisation
    raise PermissionDenied("Only the reseller sets its prices.")


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff change the cost list and exchange rates.")


# --- a reseller's markup rules and own prices ---------------------------------------------------
@requires(Right.BILLING)
def markup_rule_save(
    *,
    actor: Actor,
    organisation: Organisation | None = None,
    tld: Tld | None = None,
    action: str = "",
    percent="0",
    fixed="0",
    fixed_currency: str = "",
    rounding: str = MarkupRule.Rounding.NONE,
    premium_factor=None,
    premium_on_request: bool = False,
) -> MarkupRule:
    """Create or replace the rule for (reseller, TLD or every TLD, action or every action).
    Premium names: the same markup, ``premium_factor`` times the registry's price, or
    ``premium_on_request`` (no price: the customer asks the reseller)."""
    seller = _seller(actor, organisation)
    action = _action(action, blank=True)
    percent = clean_amount(percent, "percent")
    if percent > Decimal("10000"):
        raise ValidationError({"percent": "A markup of at most 10,000 percent."})
    fixed = clean_amount(fixed, "fixed")
    fixed_currency = clean_currency(fixed_currency, "fixed_currency") if fixed_currency else ""
    if rounding not in MarkupRule.Rounding.values:
        raise ValidationError({"rounding": "Choose none, 99 or whole."})
    factor = None
    if premium_factor not in (None, ""):
        try:
            factor = Decimal(str(premium_factor))
        except (InvalidOperation, ValueError):
            raise ValidationError({"premium_factor": "Enter a factor such as 1.5."}) from None
        if not factor.is_finite() or factor < 1 or factor > 1000:
            raise ValidationError(
                {"premium_factor": "A premium factor of 1 to 1000 (1: the premium price)."}
            )
        factor = factor.quantize(Decimal("0.001"))
    premium_on_request = bool(premium_on_request)
    if premium_on_request and factor is not None:
        raise ValidationError(
            {
                "premium_factor": "Premium names are priced either at a factor or on request: "
                "leave the factor empty for on request."
            }
        )
    with transaction.atomic():
        rule, created = MarkupRule.objects.select_for_update().update_or_create(
            organisation=seller,
            tld=tld,
            action=action,
            defaults={
                "percent": percent,
                "fixed": fixed,
                "fixed_currency": fixed_currency,
                "rounding": rounding,
                "premium_factor": factor,
                "premium_on_request": premium_on_request,
            },
        )
        audit(
            actor=actor,
            action="billing.markup_rule.create" if created else "billing.markup_rule.change",
            obj=rule,
            organisation=seller,
            data={
                "tld": tld.name if tld else "",
                "action": action,
                "percent": str(percent),
                "fixed": str(fixed),
                "fixed_currency": fixed_currency,
                "rounding": rounding,
                "premium_factor": str(factor) if factor is not None else "",
                "premium_on_request": premium_on_request,
            },
        )
    return rule


@requires(Right.BILLING)
def markup_rule_delete(*, actor: Actor, rule: MarkupRule) -> None:
    seller = _seller(actor, rule.organisation)
    if seller.pk != rule.organisation_id:
        raise PermissionDenied("Only the reseller sets its prices.")
    with transaction.atomic():
        audit(
            actor=actor,
            action="billing.markup_rule.delete",
            obj=rule,
            organisation=seller,
            data={"tld": rule.tld.name if rule.tld_id else "", "action": rule.action},
        )
        rule.delete()


def reseller_cost(seller: Organisation, tld: Tld, action: str, years: int, currency: str):
    """What ``seller`` pays the platform for ``years`` of ``action`` under ``tld`` in
    ``currency`` (converted at today's rate when the list has another), or None."""
    as_reseller = Actor(kind=ActorKind.RESELLER, organisation=seller)
    quote = PriceList(as_reseller, [tld], action, years).price(tld)
    if quote is None or quote.cost is None:
        return None
    if quote.currency == currency:
        return quote.cost
    rate = exchange_rate(quote.currency, currency)
    return (quote.cost * rate).quantize(Decimal("0.01")) if rate is not None else None


@requires(Right.BILLING)
def price_override_save(
    *,
    actor: Actor,
    tld: Tld,
    action: str,
    years: int,
    currency: str,
    sell,
    organisation: Organisation | None = None,
) -> Price:
    """The reseller's own price for one TLD, action, term and currency; refused below what it
    pays the platform for it (after exchange)."""
    seller = _seller(actor, organisation)
    action = _action(action)
    currency = clean_currency(currency)
    if not (1 <= int(years) <= MAX_YEARS):
        raise ValidationError({"years": f"Choose 1 to {MAX_YEARS} years."})
    sell = clean_amount(sell, "sell", allow_zero=False)
    cost = reseller_cost(seller, tld, action, int(years), currency)
    if cost is None:
        raise ValidationError(
            {"tld": f"The platform has no {action} price for .{tld.name} in {currency} yet."}
        )
    if sell < cost:
        raise ValidationError(
            {"sell": f"{sell} {currency} is below what you pay for it ({cost} {currency})."}
        )
    return _save_row(
        actor,
        seller,
        tld,
        action,
        years,
        currency,
        cost,
        sell,
        "billing.price",
        {"sell": str(sell)},
    )


def _save_row(
    actor: Actor, organisation, tld, action, years, currency, cost, sell, audit_as: str, extra
) -> Price:
    """Create or change one price row (the reseller's, or the platform's when ``organisation``
    is None), audited as ``<audit_as>.create`` or ``.change``."""
    with transaction.atomic():
        row, created = Price.objects.select_for_update().update_or_create(
            organisation=organisation,
            tld=tld,
            action=action,
            years=int(years),
            currency=currency,
            defaults={"cost": cost, "sell": sell},
        )
        audit(
            actor=actor,
            action=f"{audit_as}.create" if created else f"{audit_as}.change",
            obj=row,
            organisation=organisation,
            data={"tld": tld.name, "action": action, "years": int(years), **extra},
        )
    return row


@requires(Right.BILLING)
def price_override_delete(*, actor: Actor, row: Price) -> None:
    seller = _seller(actor, row.organisation)
    if row.organisation_id is None or seller.pk != row.organisation_id:
        raise PermissionDenied("Only the reseller sets its prices.")
    with transaction.atomic():
        audit(
            actor=actor,
            action="billing.price.delete",
            obj=row,
            organisation=seller,
            data={"tld": row.tld.name, "action": row.action, "years": row.years},
        )
        row.delete()


def price_preview(
    *, actor: Actor, tlds, action: str = "register", years: int = 1, group=None
) -> list[dict]:
    """Per TLD: what the reseller pays, what it sells at (to the customers of price ``group``
    when given), its margin, and whether the price is below cost (the price editor's
    preview)."""
    prices = PriceList(actor, tlds, action, years, group=group)
    rows = []
    for tld in tlds:
        quote = prices.price(tld)
        if quote is None:
            continue
        margin = quote.price - quote.cost if quote.cost is not None else None
        rows.append(
            {
                "tld": tld.name,
                "action": action,
                "years": years,
                "currency": quote.currency,
                "cost": quote.cost,
                "price": quote.price,
                "margin": margin,
                "below_cost": quote.below_cost,
            }
        )
    return rows


# --- the platform's cost list and exchange rates (staff) ----------------------------------------
def platform_price_save(
    *, actor: Actor, tld: Tld, action: str, years: int, currency: str, cost, sell
) -> Price:
    """A row of the platform's list: ``cost`` what the registry charges, ``sell`` what
    resellers pay."""
    _require_staff(actor)
    action = _action(action)
    currency = clean_currency(currency)
    if not (1 <= int(years) <= MAX_YEARS):
        raise ValidationError({"years": f"Choose 1 to {MAX_YEARS} years."})
    cost, sell = clean_amount(cost, "cost"), clean_amount(sell, "sell")
    if sell < cost:
        raise ValidationError({"sell": "The platform's price is below the registry's cost."})
    return _save_row(
        actor,
        None,
        tld,
        action,
        years,
        currency,
        cost,
        sell,
        "billing.platform_price",
        {"cost": str(cost)},
    )


def exchange_rate_save(
    *, actor: Actor, base: str, quote: str, rate, valid_from: date
) -> ExchangeRate:
    _require_staff(actor)
    base, quote = clean_currency(base, "base"), clean_currency(quote, "quote")
    if base == quote:
        raise ValidationError({"quote": "Choose two different currencies."})
    try:
        value = Decimal(str(rate).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"rate": "Enter a rate such as 1500.25."}) from None
    if not value.is_finite() or value <= 0 or value >= MAX_AMOUNT:
        raise ValidationError({"rate": "Enter a rate above zero."})
    if value != value.quantize(Decimal("0.00000001")):
        raise ValidationError({"rate": "A rate has at most eight decimals."})
    with transaction.atomic():
        row, created = ExchangeRate.objects.select_for_update().update_or_create(
            base=base,
            quote=quote,
            valid_from=valid_from,
            defaults={"rate": value, "created_by": actor.user},
        )
        audit(
            actor=actor,
            action="billing.exchange_rate.create" if created else "billing.exchange_rate.change",
            obj=row,
            organisation=None,
            data={"base": base, "quote": quote, "rate": str(value), "from": str(valid_from)},
        )
    return row


__all__ = [
    "apply_markup",
    "exchange_rate_save",
    "markup_rule_delete",
    "markup_rule_save",
    "platform_price_save",
    "price_override_delete",
    "price_override_save",
    "price_preview",
    "reseller_cost",
]

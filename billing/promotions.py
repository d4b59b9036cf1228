"""Promotion codes: a reseller's percent or fixed discounts, checked with a clear reason, applied
to the cart items they cover, and redeemed once per order under the code's row lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing.models import PromotionCode
from billing.prices import clean_amount, clean_currency
from customers.models import Organisation
from portal.audit import audit
from portal.tenancy import Actor

CENT = Decimal("0.01")
ACTIONS = ("register", "transfer", "renew")


def _clean_code(code: str) -> str:
    return (code or "").strip().upper()


def promotion_for(organisation_id: int, code: str, *, at: datetime | None = None) -> PromotionCode:
    """The organisation's usable code, or a ValidationError that says why not (the same words
    for a code that does not exist and one of another reseller)."""
    code = _clean_code(code)
    at = at or timezone.now()
    promo = (
        PromotionCode.objects.filter(organisation_id=organisation_id, code=code)
        .prefetch_related("tlds")
        .first()
    )
    if not code or promo is None or not promo.is_active:
        raise ValidationError({"promo_code": "That promotion code is not valid."})
    if promo.valid_from and at < promo.valid_from:
        when = promo.valid_from.date().isoformat()
        raise ValidationError({"promo_code": f"That promotion code starts on {when}."})
    if promo.valid_to and at > promo.valid_to:
        when = promo.valid_to.date().isoformat()
        raise ValidationError({"promo_code": f"That promotion code expired on {when}."})
    if promo.max_uses is not None and promo.uses >= promo.max_uses:
        raise ValidationError({"promo_code": "That promotion code has been used up."})
    return promo


@dataclass(frozen=True)
class CartLine:
    tld_id: int
    action: str
    amount: Decimal
    currency: str


def discounts(promo: PromotionCode, lines: list[CartLine]) -> list[Decimal]:
    """The discount of each line (zero where the code does not apply). Percent: of each line
    it covers, rounded half up to the cent. Fixed: once per cart, spread over the lines it covers
    in order, never more than they cost, only for a cart in the code's currency."""
    tld_ids = {tld.pk for tld in promo.tlds.all()}
    covered = [
        (not tld_ids or line.tld_id in tld_ids)
        and (not promo.actions or line.action in promo.actions)
        for line in lines
    ]
    if not any(covered):
        raise ValidationError(
            {"promo_code": "That promotion code does not apply to anything in this cart."}
        )
    out = []
    if promo.kind == PromotionCode.Kind.PERCENT:
        for line, applies in zip(lines, covered, strict=True):
            amount = line.amount * promo.value / Decimal(100) if applies else Decimal(0)
            out.append(amount.quantize(CENT, rounding=ROUND_HALF_UP))
        return out
    currencies = {line.currency for line, applies in zip(lines, covered, strict=True) if applies}
    if promo.currency and currencies != {promo.currency}:
        raise ValidationError(
            {"promo_code": f"That promotion code is for carts in {promo.currency}."}
        )
    left = promo.value
    for line, applies in zip(lines, covered, strict=True):
        take = min(left, line.amount) if applies else Decimal(0)
        left -= take
        out.append(take.quantize(CENT))
    return out


def promotion_redeem(promo: PromotionCode) -> PromotionCode:
    """Count one use (inside the order's transaction); refused when it is used up meanwhile."""
    with transaction.atomic():
        locked = PromotionCode.objects.select_for_update().get(pk=promo.pk)
        if locked.max_uses is not None and locked.uses >= locked.max_uses:
            raise ValidationError({"promo_code": "That promotion code has been used up."})
        locked.uses += 1
        locked.save(update_fields=["uses"])
    return locked


def promotion_save(
    *,
    actor: Actor,
    code: str,
    kind: str,
    value,
    currency: str = "",
    tlds=(),
    actions=(),
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    max_uses: int | None = None,
    organisation: Organisation | None = None,
) -> PromotionCode:
    """Create or change the reseller's code (staff name the reseller)."""
    if actor.livemode is False:
        raise PermissionDenied("Promotion codes are shared with live: switch to live mode.")
    if actor.is_staff:
        if organisation is None:
            raise ValidationError({"organisation": "Choose the reseller."})
        seller = organisation
    elif actor.is_reseller and actor.organisation is not None:
        seller = actor.organisation
    else:
        raise PermissionDenied("Only the reseller makes promotion codes.")
    code = _clean_code(code)
    if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").isalnum():
        raise ValidationError({"code": "A code of letters, digits, - and _ (at most 40)."})
    if kind not in PromotionCode.Kind.values:
        raise ValidationError({"kind": "Choose percent or fixed."})
    value = clean_amount(value, "value", allow_zero=False)
    if kind == PromotionCode.Kind.PERCENT and value > 100:
        raise ValidationError({"value": "A percent discount of at most 100."})
    currency = clean_currency(currency) if currency else ""
    if kind == PromotionCode.Kind.FIXED and not currency:
        raise ValidationError({"currency": "Say the currency of the amount off."})
    actions = list(dict.fromkeys(actions or []))
    if any(a not in ACTIONS for a in actions):
        raise ValidationError({"actions": "Actions are register, transfer and renew."})
    if valid_from and valid_to and valid_to <= valid_from:
        raise ValidationError({"valid_to": "The end comes after the start."})
    if max_uses is not None and max_uses < 1:
        raise ValidationError({"max_uses": "At least one use, or no limit."})
    with transaction.atomic():
        promo, created = PromotionCode.objects.select_for_update().update_or_create(
            organisation=seller,
            code=code,
            defaults={
                "kind": kind,
                "value": value,
                "currency": currency,
                "actions": actions,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "max_uses": max_uses,
                "is_active": True,
            },
        )
        if promo.max_uses is not None and promo.uses > promo.max_uses:
            raise ValidationError({"max_uses": f"It has been used {promo.uses} times already."})
        promo.tlds.set(list(tlds))
        audit(
            actor=actor,
            action="billing.promotion.create" if created else "billing.promotion.change",
            obj=promo,
            organisation=seller,
            data={"code": code, "kind": kind, "value": str(value), "max_uses": max_uses},
        )
    return promo

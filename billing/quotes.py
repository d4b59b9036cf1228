"""Quotes: what a cart of registrations, transfers and renewals costs, in the shape of seed 003's
``POST /quote``, computed exactly as its invoice will be (``billing.services.recompute_totals``
on unsaved rows) and priced by the one price function (``billing.pricing.PriceList``).

Nothing is written. Each item is checked on its own (its ``valid``, ``info`` and ``error``); a
quote with invalid items still prices the valid ones. Registrations are asked of the registries
(``domains.availability.check_names``: batched, in parallel) unless ``check_registry`` is False;
names Nameport already holds are refused without asking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Invoice, InvoiceLine, PaymentMethod
from billing.pricing import PriceList
from billing.promotions import CartLine, discounts, promotion_for
from billing.services import FEE_LINE_TYPE, credit_balance, payment_fee, recompute_totals
from customers.models import Customer
from domains.models import RELEASED_STATUSES, Domain, DomainStatus, Tld
from domains.names import parse_domain_name
from domains.selectors import visible_domains
from portal.tenancy import Actor, ActorKind

MAX_ITEMS = 100
ACTIONS = ("register", "transfer", "renew")
RENEWABLE = {DomainStatus.ACTIVE, DomainStatus.GRACE, DomainStatus.EXPIRED}
LINE_TYPES = {"register": "DomainRegister", "transfer": "DomainTransfer", "renew": "DomainRenew"}
ZERO = Decimal("0.00")


@dataclass
class _Item:
    index: int
    action: str = ""
    name: str = ""
    years: int = 1
    tld: Any = None
    domain: Domain | None = None
    price: Decimal | None = None
    per_year: Decimal | None = None
    currency: str = ""
    premium: bool = False
    info: list[str] = field(default_factory=list)
    error: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.error


def _customer_actor(actor: Actor, customer: Customer) -> Actor:
    """Quotes are priced as the customer sees them, whoever asks."""
    if actor.is_customer:
        return actor
    return Actor(
        kind=ActorKind.CUSTOMER,
        organisation=customer.organisation,
        customer=customer,
        livemode=customer.livemode,
    )


def _years(raw: Any) -> int | None:
    try:
        years = int(raw)
    except (TypeError, ValueError):
        return None
    return years if 1 <= years <= 10 else None


def _parse(raw: Any, index: int, tlds: dict, renewable: dict[int, Domain]) -> _Item:
    item = _Item(index=index)
    if not isinstance(raw, dict):
        item.error.append("Each item is an object with type, action, name and years.")
        return item
    if raw.get("type", "domain") != "domain":
        item.error.append("Only domain items can be quoted.")
        return item
    item.action = str(raw.get("action", "register"))
    if item.action not in ACTIONS:
        item.error.append("The action is one of register, transfer or renew.")
        return item
    years = _years(raw.get("years", 1))
    if years is None:
        item.error.append("Choose 1 to 10 years.")
        return item
    item.years = years
    if item.action == "renew":
        domain_id = str(raw.get("domain_id", ""))
        domain = renewable.get(int(domain_id)) if domain_id.isdigit() else None
        if domain_id.isdigit() and int(domain_id) >= 2**63:
            domain = None
        if domain is None:
            item.error.append("No such domain in your account.")
            return item
        item.domain, item.tld, item.name = domain, domain.tld, domain.name
        if domain.status not in RENEWABLE:
            item.error.append(
                f"{domain.name} cannot be renewed now ({domain.get_status_display()})."
            )
        elif years > domain.tld.max_years:
            item.error.append(f"Choose 1 to {domain.tld.max_years} years.")
        return item
    try:
        parsed = parse_domain_name(str(raw.get("name", "")), tlds=tlds)
    except ValidationError as exc:
        item.error.extend(exc.messages)
        return item
    item.name, item.tld = parsed.unicode, parsed.tld
    if years > parsed.tld.max_years:
        item.error.append(f"Choose 1 to {parsed.tld.max_years} years.")
    return item


def _renewable(actor: Actor, customer: Customer, items: list[Any]) -> dict[int, Domain]:
    """The customer's domains the actor sees that the items name for renewal, by id (one
    query for the cart)."""
    ids = set()
    for raw in items:
        if isinstance(raw, dict) and str(raw.get("domain_id", "")).isdigit():
            value = int(str(raw["domain_id"]))
            if 0 < value < 2**63:
                ids.add(value)
    if not ids:
        return {}
    found = visible_domains(actor).select_related("tld").filter(pk__in=ids, customer_id=customer.pk)
    return {domain.pk: domain for domain in found}


def _held(names: list[str]) -> set[str]:
    """Names a Nameport customer holds or is ordering (not released)."""
    if not names:
        return set()
    return set(
        Domain.objects.filter(name__in=names)
        .exclude(status__in=RELEASED_STATUSES)
        .values_list("name", flat=True)
    )


def _check_registry(actor: Actor, items: list[_Item]) -> None:
    from domains.availability import check_names

    wanted = [i for i in items if i.valid and i.action == "register"]
    if not wanted:
        return
    answers = {a.name_unicode: a for a in check_names(actor, [i.name for i in wanted])}
    for item in wanted:
        answer = answers.get(item.name)
        if answer is None or answer.available is None:
            item.info.append("The registry could not be asked now; it is asked again at order.")
        elif not answer.available:
            item.error.append(f"{item.name} is not available.")
        elif answer.premium and answer.on_request:
            item.premium = True
            item.error.append(
                f"{item.name} is a premium name priced on request: contact "
                f"{actor.organisation or 'your provider'} for its price."
            )
        elif answer.premium:
            item.premium = True
            item.info.append("A premium name: the registry sets its price.")
            if answer.price is not None:
                item.price, item.currency = answer.price, answer.currency


def _price(actor: Actor, items: list[_Item]) -> None:
    groups: dict[tuple[str, int], list[_Item]] = defaultdict(list)
    for item in items:
        if item.valid:
            groups[(item.action, item.years)].append(item)
    every_tld = list({i.tld.pk: i.tld for i in items if i.valid}.values())
    yearly = PriceList(actor, every_tld, "renew", 1)  # what renews each year
    for (action, years), members in groups.items():
        tlds = list({i.tld.pk: i.tld for i in members}.values())
        term = yearly if (action, years) == ("renew", 1) else PriceList(actor, tlds, action, years)
        for item in members:
            quote = term.price(item.tld)
            renewal = yearly.price(item.tld)
            if item.price is None:  # a premium price from the registry check stays
                if quote is None:
                    item.error.append(f".{item.tld.name} cannot be ordered: it has no price.")
                    continue
                if quote.below_cost:
                    item.error.append(f".{item.tld.name} is not for sale at the moment.")
                    continue
                item.price, item.currency = quote.price, quote.currency
            item.per_year = renewal.price if renewal is not None else None


def quote(
    *,
    actor: Actor,
    customer: Customer,
    items: list[Any],
    pay_method: PaymentMethod | None = None,
    check_registry: bool = True,
    promo_code: str = "",
) -> dict:
    """Seed 003's quote: ``{"summary": {...}, "items": [...]}``. Amounts are Decimal."""
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": "Add at least one item to quote."})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": f"At most {MAX_ITEMS} items in one quote."})
    buyer = _customer_actor(actor, customer)
    tlds = {
        t.name: t for t in Tld.objects.filter(is_active=True).select_related("registrar_account")
    }
    renewable = _renewable(actor, customer, items)
    parsed = [_parse(raw, n, tlds, renewable) for n, raw in enumerate(items)]
    held = _held([i.name for i in parsed if i.valid and i.action == "register"])
    seen: set[tuple[str, str]] = set()
    for item in parsed:
        if not item.valid:
            continue
        key = (item.action, item.name)
        if key in seen:
            item.error.append(f"{item.name} is in the cart already.")
        seen.add(key)
        if item.action == "register" and item.name in held:
            item.error.append(f"{item.name} is not available.")
    if check_registry:
        _check_registry(buyer, parsed)
    _price(buyer, parsed)

    currency = customer.currency
    for item in parsed:
        if item.valid and item.currency and item.currency != currency:
            item.error.append(
                f"{item.name} is priced in {item.currency}, not in {currency}: it needs an "
                "order of its own."
            )
    valid = [i for i in parsed if i.valid]
    off = [ZERO] * len(valid)
    coupon: dict = {}
    if promo_code:
        promo = promotion_for(customer.organisation_id, promo_code)  # ValidationError: why not
        off = discounts(promo, [CartLine(i.tld.pk, i.action, i.price, i.currency) for i in valid])
        coupon = {"code": promo.code, "kind": promo.kind, "value": promo.value}
    discount_of = {id(item): amount for item, amount in zip(valid, off, strict=True)}
    today = timezone.localdate()
    invoice = Invoice(
        organisation_id=customer.organisation_id,
        customer=customer,
        livemode=customer.livemode,
        date=today,
        currency=currency,
    )
    lines = [
        InvoiceLine(
            invoice=invoice,
            type=LINE_TYPES[i.action],
            description=f"Domain {i.action} {i.name} ({i.years} year{'s' if i.years > 1 else ''})",
            amount=i.price - discount_of[id(i)],
            qty=Decimal("1.00"),
            taxed=True,
        )
        for i in valid
    ]
    recompute_totals(invoice, lines)
    fee = ZERO
    if pay_method is not None and invoice.total > 0:
        fee = payment_fee(pay_method, invoice.total)
        if fee > 0:
            lines.append(
                InvoiceLine(
                    invoice=invoice,
                    type=FEE_LINE_TYPE,
                    description=f"{pay_method.name} Payment Fee",
                    amount=fee,
                    qty=Decimal("1.00"),
                    taxed=True,
                )
            )
            recompute_totals(invoice, lines)
    credit = min(credit_balance(customer, currency), invoice.total)
    taxes = []
    if invoice.taxrate:
        taxes.append({"name": invoice.taxname, "tax": invoice.tax, "value": invoice.taxrate})
    if invoice.taxrate2:
        taxes.append({"name": invoice.taxname2, "tax": invoice.tax2, "value": invoice.taxrate2})
    recurring = sum((i.per_year for i in valid if i.per_year is not None), ZERO)
    discount = sum(off, ZERO)
    return {
        "summary": {
            "subtotal": invoice.subtotal - fee + discount,
            "total": invoice.total,
            "credit": credit,
            "discount": discount,
            "cost": invoice.subtotal - fee,
            "fee": fee,
            "due": invoice.total - credit,
            "currency": currency,
            "recurring": [{"title": "Annually", "price": recurring, "value": "a"}] if valid else [],
            "tax": taxes,
        },
        "items": [
            {
                "product": None,
                "domains": {
                    item.name: {
                        "id": item.tld.pk if item.tld is not None else None,
                        "index": 0,
                        "category_name": "Domains",
                        "name": item.name,
                        "tld": f".{item.tld.name}" if item.tld is not None else "",
                        "period": item.years,
                        "action": item.action,
                        "price": item.price if item.valid else None,
                        "premium": item.premium,
                    }
                }
                if item.name
                else {},
                "coupon": (
                    {**coupon, "discount": discount_of[id(item)]}
                    if coupon and discount_of.get(id(item))
                    else {}
                ),
                "index": item.index,
                "valid": item.valid,
                "info": item.info,
                "error": item.error,
            }
            for item in parsed
        ],
    }

"""The one place that computes a price anyone sees (pages, the API, the premium-price guard).

Domains reads it through ``domains.hooks`` (``price_list``, ``priced_tlds``, ``registry_cost``),
which ``BillingConfig.ready`` fills in: domains sits below billing and never imports it.

A price has three levels, read from the price list (``billing.models.Price``):

- the registry's cost: the platform row's ``cost``, or the registry's own quote for a premium name;
- the platform's price: the platform row's ``sell``, which is what a reseller pays (its cost);
- the reseller's price: the reseller's own row's ``sell`` (the platform's price when it set none),
  which is what its customers pay.

Who sees what:

| actor                  | ``price`` (offered / sells at) | ``cost`` (pays upstream)         |
| ---------------------- | ------------------------------ | -------------------------------- |
| customer, contact      | the reseller's price           | never (``None``)                 |
| reseller member, key   | its own price                  | the platform's price             |
| staff                  | the platform's price           | the registry's cost              |

For a premium name the registry quotes its own price; each level keeps its markup on it (its
``sell / cost`` for the TLD's standard price), so a customer is offered the quote times the
platform's markup times the reseller's markup, never the registry's wholesale quote itself.

Where the reseller set no price of its own for a TLD, its ``MarkupRule`` (the most specific of
TLD + action, TLD, action, default) prices it over its cost: ``cost * (1 + percent/100) +
fixed``, rounded up as the rule says (to the cent, to .99, to a whole unit); a premium name at the
registry's quote times the rule's ``premium_factor`` when it has one. No rule and no row: the
platform's price. A premium name whose rule (the most specific one for the TLD and action, own
rows or not) says ``premium_on_request`` has no price for customers and the reseller:
``on_request`` is set and ``price`` is None ("Price on request"), never the registry's quote.

Customer price groups: a customer in one of its reseller's ``PriceGroup``s pays the reseller's
price less the group's percent (to the cent, half up), standard and premium alike, whoever asks
for the customer (a quote for it is priced as the customer sees it). The reseller's preview asks
with ``group=``. A group price under what the reseller pays is ``below_cost``, refused as any.

Currencies: the actor's currency first. When the list has no row in it, the platform's row in
another currency is converted at the latest ``ExchangeRate`` valid today (either direction), and
the reseller's level is computed over that; without a rate, the price stays in the list's
currency. ``below_cost`` says that a reseller's price (an override or a premium factor, or a
conversion) is under what it pays: such a sale is refused and shown to the reseller as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from billing.models import ExchangeRate, MarkupRule, Price, PriceGroup, PriceGroupMembership
from portal.tenancy import Actor

CENT = Decimal("0.01")
ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ActorPrice:
    """A price as ``actor`` may see it."""

    price: Decimal | None  # None only when ``on_request``
    currency: str
    cost: Decimal | None = None  # what the actor pays upstream; None for customers and contacts
    premium: bool = False
    # The reseller's price is below what it pays the platform: not for sale at this price.
    below_cost: bool = False
    # A premium name the reseller prices on request: no price, the customer asks the reseller.
    on_request: bool = False


def exchange_rate(base: str, quote: str, on: date | None = None) -> Decimal | None:
    """How many ``quote`` one ``base`` buys on ``on`` (today): the latest rate valid then, read
    directly or as the inverse of the opposite pair; None without one."""
    if base == quote:
        return ONE
    on = on or timezone.now().date()
    rows = (
        ExchangeRate.objects.filter(valid_from__lte=on)
        .filter(Q(base=base, quote=quote) | Q(base=quote, quote=base))
        .order_by("-valid_from", "-id")
        .values_list("base", "rate")
    )
    for row_base, rate in rows[:1]:
        return rate if row_base == base else ONE / rate
    return None


def apply_markup(cost: Decimal, rule: MarkupRule, currency: str) -> Decimal:
    """``cost`` (in ``currency``) sold under ``rule``."""
    fixed = rule.fixed or Decimal(0)
    if fixed and rule.fixed_currency and rule.fixed_currency != currency:
        rate = exchange_rate(rule.fixed_currency, currency)
        fixed = fixed * rate if rate is not None else Decimal(0)
    price = cost * (ONE + (rule.percent or Decimal(0)) / HUNDRED) + fixed
    return round_price(price, rule.rounding)


def round_price(price: Decimal, rounding: str) -> Decimal:
    if rounding == MarkupRule.Rounding.WHOLE:
        return price.quantize(ONE, rounding=ROUND_CEILING).quantize(CENT)
    if rounding == MarkupRule.Rounding.NINETY_NINE:
        whole = price.quantize(ONE, rounding=ROUND_CEILING)
        candidate = whole - CENT
        return (
            candidate
            if candidate >= price.quantize(CENT, rounding=ROUND_CEILING)
            else (whole + ONE - CENT)
        )
    return price.quantize(CENT, rounding=ROUND_CEILING)


def actor_currency(actor: Actor) -> str:
    if actor.customer is not None:
        return actor.customer.currency
    if actor.organisation is not None:
        return actor.organisation.default_currency
    return "USD"


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def discounted(price: Decimal, percent: Decimal) -> Decimal:
    """``price`` less ``percent`` (a price group's), to the cent."""
    return _money(price * (HUNDRED - percent) / HUNDRED)


# ``PriceList(group=...)`` not given: the customer actor's own group is read.
CUSTOMERS_GROUP = object()


def _markup(sell: Decimal | None, cost: Decimal | None) -> Decimal:
    if sell is None or not cost:
        return ONE
    return sell / cost


class PriceList:
    """The rows of one action and term for some TLDs, read once, priced for one actor.

    ``price(tld)`` is the function every page, serializer and check uses; ``registry_quote``
    prices a premium name from the registry's own quote.

    ``group``: the price group to price for. By default a customer's own group (one query); a
    ``PriceGroup`` of the seller (the reseller's preview, the renewal sweep that read its
    customers' groups at once) or None (no group).

    ``currency``: price in this currency rather than the actor's own (the Leanstack API shows a
    reseller's cost in USD and NGN side by side); the same rules apply, a row in it first, else
    the platform's row converted at today's rate, else the list's own currency.
    """

    def __init__(
        self,
        actor: Actor,
        tlds: Iterable,
        action: str = "register",
        years: int = 1,
        *,
        group: PriceGroup | object | None = CUSTOMERS_GROUP,
        currency: str | None = None,
    ):
        self.actor = actor
        self.currency = (currency or actor_currency(actor)).upper()
        self.action = action
        self.years = max(1, int(years))
        tld_ids = [getattr(t, "pk", t) for t in tlds]
        owners = Q(organisation__isnull=True)
        if actor.organisation_id is not None and not actor.is_staff:
            owners |= Q(organisation_id=actor.organisation_id)
        # (tld, owner, currency) -> (cost, sell) for the requested term; 1-year rows times the
        # term when the list has no row for it.
        self._rows: dict[tuple[int, str, str], tuple[Decimal, Decimal]] = {}
        rows = Price.objects.filter(owners, tld_id__in=tld_ids, action=action).filter(
            years__in={1, self.years}
        )
        for tld_id, org_id, row_years, currency, cost, sell in rows.values_list(
            "tld_id", "organisation_id", "years", "currency", "cost", "sell"
        ):
            owner = "platform" if org_id is None else "reseller"
            key = (tld_id, owner, currency)
            if row_years == self.years:
                self._rows[key] = (cost, sell)
            elif key not in self._rows:
                self._rows[key] = (cost * self.years, sell * self.years)
            # (a 1-year row never replaces a row of the exact term)
        self._convert_platform_rows(tld_ids)
        # The reseller's markup rules for this action, most specific first (see _rule).
        self._rules: dict[tuple[int | None, str], MarkupRule] = {}
        self._seller_id = None if actor.is_staff else actor.organisation_id
        if self._seller_id is not None:
            rules = MarkupRule.objects.filter(organisation_id=self._seller_id).filter(
                Q(tld_id__in=tld_ids) | Q(tld__isnull=True), action__in=[action, ""]
            )
            for rule in rules:
                self._rules[(rule.tld_id, rule.action)] = rule
        self.group_percent = self._group_percent(group)

    def _group_percent(self, group) -> Decimal | None:
        """The discount of the price group priced for (None: no group, or none of the seller's)."""
        if self._seller_id is None:
            return None
        if group is CUSTOMERS_GROUP:
            if not self.actor.is_customer or self.actor.customer_id is None:
                return None
            return (
                PriceGroupMembership.objects.filter(
                    customer_id=self.actor.customer_id, group__organisation_id=self._seller_id
                )
                .values_list("group__percent", flat=True)
                .first()
            )
        if isinstance(group, PriceGroup) and group.organisation_id == self._seller_id:
            return group.percent
        return None

    def _in_group(self, price: Decimal) -> Decimal:
        percent = self.group_percent
        return discounted(price, percent) if percent else price

    def _convert_platform_rows(self, tld_ids: list[int]) -> None:
        """A platform row in the actor's currency for every TLD that has one only in another
        currency a rate converts (the first such currency by name)."""
        wanted = self.currency
        for tld_id in tld_ids:
            if self._row(tld_id, "platform", wanted) is not None:
                continue
            for currency in self._currencies(tld_id):
                row = self._row(tld_id, "platform", currency)
                rate = exchange_rate(currency, wanted) if row is not None else None
                if rate is None:
                    continue
                self._rows[(tld_id, "platform", wanted)] = (
                    _money(row[0] * rate),
                    _money(row[1] * rate),
                )
                break

    def _rule(self, tld_id: int) -> MarkupRule | None:
        for key in ((tld_id, self.action), (tld_id, ""), (None, self.action), (None, "")):
            rule = self._rules.get(key)
            if rule is not None:
                return rule
        return None

    # --- reading the list --------------------------------------------------------------------
    def _row(self, tld_id: int, owner: str, currency: str) -> tuple[Decimal, Decimal] | None:
        return self._rows.get((tld_id, owner, currency))

    def _currencies(self, tld_id: int) -> list[str]:
        return sorted({c for (t, _, c) in self._rows if t == tld_id})

    def _pick_currency(self, tld_id: int) -> str | None:
        """The reseller's own row before the platform's, the actor's currency before another."""
        best: tuple[int, str] | None = None
        for currency in self._currencies(tld_id):
            for owner, rank in (("reseller", 0), ("platform", 2)):
                if self._row(tld_id, owner, currency) is None:
                    continue
                score = rank + (0 if currency == self.currency else 1)
                if best is None or score < best[0]:
                    best = (score, currency)
        return best[1] if best else None

    def _levels(self, tld_id: int, currency: str) -> tuple[Decimal | None, Decimal, Decimal]:
        """(registry cost, platform price, reseller price) of the standard price in
        ``currency``; None for the registry cost when the list only has the reseller's row."""
        platform = self._row(tld_id, "platform", currency)
        reseller = self._row(tld_id, "reseller", currency)
        registry_cost = platform[0] if platform else None
        platform_price = platform[1] if platform else reseller[0]  # type: ignore[index]
        if reseller:
            reseller_price = reseller[1]
        else:
            rule = self._rule(tld_id)
            reseller_price = (
                apply_markup(platform_price, rule, currency) if rule else platform_price
            )
        return registry_cost, platform_price, self._in_group(reseller_price)

    def _markups(self, tld_id: int, currency: str) -> tuple[Decimal, Decimal]:
        """The platform's and the reseller's markups for this TLD (ratios do not depend on the
        currency: the quote's currency first, else any currency the list has)."""
        for candidate in [currency, *self._currencies(tld_id)]:
            platform = self._row(tld_id, "platform", candidate)
            reseller = self._row(tld_id, "reseller", candidate)
            if platform is None and reseller is None:
                continue
            platform_markup = _markup(platform[1], platform[0]) if platform else ONE
            base = platform[1] if platform else (reseller[0] if reseller else None)
            reseller_markup = _markup(reseller[1], base) if reseller else ONE
            return platform_markup, reseller_markup
        return ONE, ONE

    def _for_actor(
        self,
        registry_cost: Decimal | None,
        platform_price: Decimal,
        reseller_price: Decimal,
        currency: str,
        premium: bool,
    ) -> ActorPrice | None:
        actor = self.actor
        below = reseller_price < platform_price
        if actor.is_staff:
            return ActorPrice(platform_price, currency, registry_cost, premium)
        if actor.is_reseller:
            return ActorPrice(reseller_price, currency, platform_price, premium, below)
        if actor.is_customer:
            return ActorPrice(reseller_price, currency, None, premium, below)
        return None

    def premium_on_request(self, tld) -> bool:
        """The seller prices premium names of ``tld`` on request (its rule for the TLD and
        action says so): no premium price is offered, whatever the registry quotes."""
        rule = self._rule(getattr(tld, "pk", tld)) if self._seller_id is not None else None
        return bool(rule is not None and rule.premium_on_request)

    def _on_request(
        self, registry_cost: Decimal, platform_price: Decimal, currency: str
    ) -> ActorPrice | None:
        """A premium name priced on request: no price; a reseller still sees what it pays."""
        if self.actor.is_reseller:
            return ActorPrice(None, currency, platform_price, True, on_request=True)
        if self.actor.is_customer:
            return ActorPrice(None, currency, None, True, on_request=True)
        return None

    def _has_reseller_row(self, tld_id: int) -> bool:
        return any(t == tld_id and owner == "reseller" for (t, owner, _c) in self._rows)

    # --- the one function --------------------------------------------------------------------
    def price(self, tld, registry_quote: tuple[Decimal, str] | None = None) -> ActorPrice | None:
        """The price of ``tld`` for the actor; with ``registry_quote`` (amount, currency), the
        price of a premium name the registry quoted. None when the list has no price."""
        tld_id = getattr(tld, "pk", tld)
        if registry_quote is not None:
            amount, currency = registry_quote
            platform_markup, reseller_markup = self._markups(tld_id, currency)
            platform_price = _money(amount * platform_markup)
            if self.premium_on_request(tld_id):
                return self._on_request(amount, platform_price, currency)
            rule = None if self._has_reseller_row(tld_id) else self._rule(tld_id)
            if rule is not None and rule.premium_factor:
                reseller_price = round_price(amount * rule.premium_factor, rule.rounding)
            elif rule is not None:
                reseller_price = apply_markup(platform_price, rule, currency)
            else:
                reseller_price = _money(platform_price * reseller_markup)
            reseller_price = self._in_group(reseller_price)
            return self._for_actor(amount, platform_price, reseller_price, currency, True)
        currency = self._pick_currency(tld_id)
        if currency is None:
            return None
        return self._for_actor(*self._levels(tld_id, currency), currency, False)


def priced_tld_names(*, action: str) -> list[str]:
    """The active TLDs the price list has ``action`` prices for, by name (``domains.hooks``)."""
    return list(
        Price.objects.filter(action=action, tld__is_active=True)
        .values_list("tld__name", flat=True)
        .distinct()
        .order_by("tld__name")
    )


def platform_cost(*, tld: str, action: str) -> Decimal | None:
    """The platform row's registry cost of one year of ``action`` under ``tld`` in USD, which
    the simulated registry charges (``domains.hooks.registry_cost``)."""
    return (
        Price.objects.filter(
            organisation__isnull=True, tld__name=tld, action=action, years=1, currency="USD"
        )
        .values_list("cost", flat=True)
        .first()
    )


def price_for(actor: Actor, tlds: Iterable, action: str = "register", years: int = 1) -> dict:
    """``{tld_id: ActorPrice}`` for the TLDs the list has a price for."""
    tlds = list(tlds)
    prices = PriceList(actor, tlds, action, years)
    found = {getattr(t, "pk", t): prices.price(t) for t in tlds}
    return {tld_id: price for tld_id, price in found.items() if price is not None}

"""billing.pricing, the one function: a reseller's markup rules over its cost, its own rows
before them, dated exchange rates for a currency the cost list has no row in, premium names under
a premium factor, and the below-cost flag a sale is refused on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import ExchangeRate, MarkupRule, Price
from billing.pricing import PriceList, exchange_rate, round_price
from portal.tenancy import actor_for_user
from tests.domains.factories import TldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def com():
    tld = TldFactory(name="com")
    Price.objects.create(tld=tld, action="register", currency="USD", cost="8.00", sell="10.00")
    Price.objects.create(tld=tld, action="renew", currency="USD", cost="8.00", sell="10.00")
    return tld


def seen(actor, tld, action="register", years=1, **quote):
    return PriceList(actor, [tld], action, years).price(tld, **quote)


def test_without_rules_or_rows_customers_pay_the_platform_price(world, com):
    price = seen(actor_for_user(world.a.customer_user), com)
    assert (price.price, price.currency, price.cost) == (Decimal("10.00"), "USD", None)


def test_a_default_rule_marks_up_every_tld_and_the_reseller_sees_its_margin(world, com):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="20", fixed="0.50")

    customer = seen(actor_for_user(world.a.customer_user), com)
    reseller = seen(actor_for_user(world.a.member), com)
    other = seen(actor_for_user(world.b.customer_user), com)

    assert customer.price == Decimal("12.50")  # 10.00 * 1.20 + 0.50
    assert (reseller.price, reseller.cost) == (Decimal("12.50"), Decimal("10.00"))
    assert other.price == Decimal("10.00"), "another reseller's rule never applies"
    assert not customer.below_cost


def test_the_most_specific_rule_wins(world, com):
    org = world.a.organisation
    MarkupRule.objects.create(organisation=org, percent="10")
    MarkupRule.objects.create(organisation=org, action="renew", percent="30")
    MarkupRule.objects.create(organisation=org, tld=com, percent="50")
    MarkupRule.objects.create(organisation=org, tld=com, action="renew", percent="5")
    actor = actor_for_user(world.a.customer_user)

    assert seen(actor, com, "register").price == Decimal("15.00")  # TLD rule
    assert seen(actor, com, "renew").price == Decimal("10.50")  # TLD + action rule
    net = TldFactory(name="net")
    Price.objects.create(tld=net, action="renew", currency="USD", cost="9.00", sell="12.00")
    Price.objects.create(tld=net, action="register", currency="USD", cost="9.00", sell="12.00")
    assert seen(actor, net, "renew").price == Decimal("15.60")  # action rule
    assert seen(actor, net, "register").price == Decimal("13.20")  # default rule


def test_the_resellers_own_row_comes_before_its_rules(world, com):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="100")
    Price.objects.create(
        organisation=world.a.organisation,
        tld=com,
        action="register",
        currency="USD",
        cost="10.00",
        sell="11.00",
    )
    assert seen(actor_for_user(world.a.customer_user), com).price == Decimal("11.00")


@pytest.mark.parametrize(
    ("price", "rounding", "expected"),
    [
        ("12.301", "none", "12.31"),
        ("12.30", "99", "12.99"),
        ("12.995", "99", "13.99"),
        ("13.00", "99", "13.99"),
        ("12.01", "whole", "13.00"),
        ("12.00", "whole", "12.00"),
    ],
)
def test_rounding_goes_up(price, rounding, expected):
    assert round_price(Decimal(price), rounding) == Decimal(expected)


def test_a_rounded_rule_applies_to_every_term(world, com):
    MarkupRule.objects.create(
        organisation=world.a.organisation, percent="15", rounding=MarkupRule.Rounding.NINETY_NINE
    )
    actor = actor_for_user(world.a.customer_user)
    assert seen(actor, com, years=1).price == Decimal("11.99")  # 11.50 up to .99
    assert seen(actor, com, years=3).price == Decimal("34.99")  # 3 x 10.00 = 30, +15% = 34.50


def test_a_currency_without_a_row_is_converted_at_todays_rate(world, com):
    today = timezone.now().date()
    ExchangeRate.objects.create(base="USD", quote="NGN", rate="1500", valid_from=today)
    ExchangeRate.objects.create(
        base="USD", quote="NGN", rate="1600", valid_from=today + timedelta(days=1)
    )
    customer = world.a.customer
    customer.currency = "NGN"
    customer.save()
    MarkupRule.objects.create(organisation=world.a.organisation, percent="10")

    price = seen(actor_for_user(world.a.customer_user), com)

    assert (price.price, price.currency) == (Decimal("16500.00"), "NGN")  # 15,000 + 10%
    reseller = world.a.organisation
    reseller.default_currency = "NGN"
    reseller.save()
    assert seen(actor_for_user(world.a.member), com).cost == Decimal("15000.00")


def test_a_rate_is_read_both_ways_and_none_without_one():
    today = timezone.now().date()
    ExchangeRate.objects.create(base="EUR", quote="USD", rate="1.25", valid_from=today)
    assert exchange_rate("EUR", "USD") == Decimal("1.25")
    assert exchange_rate("USD", "EUR") == Decimal("0.8")
    assert exchange_rate("USD", "NGN") is None
    assert exchange_rate("EUR", "USD", on=today - timedelta(days=1)) is None


def test_without_a_rate_the_price_stays_in_the_lists_currency(world, com):
    customer = world.a.customer
    customer.currency = "EUR"
    customer.save()
    price = seen(actor_for_user(world.a.customer_user), com)
    assert (price.price, price.currency) == (Decimal("10.00"), "USD")


def test_a_premium_factor_prices_premium_names_and_may_fall_below_cost(world, com):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="10", premium_factor="2")
    customer = actor_for_user(world.a.customer_user)

    premium = seen(customer, com, registry_quote=(Decimal("100.00"), "USD"))
    assert premium.price == Decimal("200.00") and premium.premium and not premium.below_cost

    MarkupRule.objects.filter(organisation=world.a.organisation).update(premium_factor="1.1")
    # The platform sells the premium name at 100 x 10.00/8.00 = 125.00: 110.00 is below cost.
    cheap = seen(actor_for_user(world.a.member), com, registry_quote=(Decimal("100.00"), "USD"))
    assert (cheap.price, cheap.cost, cheap.below_cost) == (
        Decimal("110.00"),
        Decimal("125.00"),
        True,
    )


def test_a_resellers_row_below_its_cost_is_flagged(world, com):
    Price.objects.create(
        organisation=world.a.organisation,
        tld=com,
        action="register",
        currency="USD",
        cost="10.00",
        sell="9.00",
    )
    assert seen(actor_for_user(world.a.member), com).below_cost
    assert not seen(actor_for_user(world.b.member), com).below_cost


# --- setting prices (billing.prices) ------------------------------------------------------------
def test_a_reseller_sets_a_rule_and_its_customers_see_the_new_price_audited(world, com):
    from billing import prices
    from portal.models import AuditEntry

    member = actor_for_user(world.a.member)
    prices.markup_rule_save(actor=member, percent="25", rounding="whole")
    assert seen(actor_for_user(world.a.customer_user), com).price == Decimal("13.00")

    prices.markup_rule_save(actor=member, percent="5")  # the same rule replaced, not a second
    assert MarkupRule.objects.filter(organisation=world.a.organisation).count() == 1
    assert seen(actor_for_user(world.a.customer_user), com).price == Decimal("10.50")
    assert (
        AuditEntry.objects.filter(
            action__startswith="billing.markup_rule", organisation=world.a.organisation
        ).count()
        == 2
    )


def test_an_own_price_below_cost_is_refused_and_nothing_saved(world, com):
    from django.core.exceptions import ValidationError

    from billing import prices

    member = actor_for_user(world.a.member)
    with pytest.raises(ValidationError) as refused:
        prices.price_override_save(
            actor=member, tld=com, action="register", years=1, currency="USD", sell="9.99"
        )
    assert "below what you pay for it (10.00 USD)" in str(refused.value)
    assert not Price.objects.filter(organisation=world.a.organisation).exists()

    row = prices.price_override_save(
        actor=member, tld=com, action="register", years=1, currency="USD", sell="10.00"
    )
    assert (row.cost, row.sell) == (Decimal("10.00"), Decimal("10.00"))


def test_an_own_price_in_another_currency_is_checked_after_exchange(world, com):
    from django.core.exceptions import ValidationError

    from billing import prices

    ExchangeRate.objects.create(
        base="USD", quote="NGN", rate="1500", valid_from=timezone.now().date()
    )
    member = actor_for_user(world.a.member)
    with pytest.raises(ValidationError, match="below what you pay"):
        prices.price_override_save(
            actor=member, tld=com, action="register", years=1, currency="NGN", sell="14999.99"
        )
    row = prices.price_override_save(
        actor=member, tld=com, action="register", years=1, currency="NGN", sell="16000"
    )
    assert row.cost == Decimal("15000.00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"percent": "-5"},
        {"percent": "abc"},
        {"percent": "1.234"},
        {"fixed": "-1"},
        {"fixed": "1", "fixed_currency": "XYZ"},
        {"rounding": "up"},
        {"premium_factor": "0.5"},
        {"premium_factor": "NaN"},
        {"action": "steal"},
    ],
)
def test_bad_rules_are_refused(world, kwargs):
    from django.core.exceptions import ValidationError

    from billing import prices

    with pytest.raises(ValidationError):
        prices.markup_rule_save(actor=actor_for_user(world.a.member), **kwargs)
    assert not MarkupRule.objects.exists()


def test_customers_and_sandbox_members_cannot_set_prices(world, com):
    from dataclasses import replace

    from django.core.exceptions import PermissionDenied

    from billing import prices

    with pytest.raises(PermissionDenied):
        prices.markup_rule_save(actor=actor_for_user(world.a.customer_user), percent="1")
    sandbox = replace(actor_for_user(world.a.member), livemode=False)
    with pytest.raises(PermissionDenied):
        prices.markup_rule_save(actor=sandbox, percent="1")
    with pytest.raises(PermissionDenied):
        prices.exchange_rate_save(
            actor=actor_for_user(world.a.member),
            base="USD",
            quote="NGN",
            rate="1",
            valid_from=timezone.now().date(),
        )
    assert not MarkupRule.objects.exists() and not ExchangeRate.objects.exists()


def test_staff_set_the_cost_list_and_rates(world, com):
    from django.core.exceptions import ValidationError

    from billing import prices

    staff = actor_for_user(world.staff)
    prices.platform_price_save(
        actor=staff, tld=com, action="register", years=2, currency="NGN", cost="20000", sell="24000"
    )
    with pytest.raises(ValidationError, match="below the registry"):
        prices.platform_price_save(
            actor=staff, tld=com, action="renew", years=1, currency="USD", cost="9", sell="8"
        )
    prices.exchange_rate_save(
        actor=staff, base="EUR", quote="USD", rate="1.1", valid_from=timezone.now().date()
    )
    assert exchange_rate("USD", "EUR").quantize(Decimal("0.0001")) == Decimal("0.9091")

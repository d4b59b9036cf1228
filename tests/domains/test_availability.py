"""Availability and suggestions against the sandbox registry (checks run in threads, so the
database rows they read must be committed: transactional tests)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Price
from domains.availability import check_across_tlds, check_names, suggest, suggestion_candidates
from domains.models import SandboxDomain
from portal.tenancy import actor_for_user
from tests.customers.factories import CustomerFactory, MembershipFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account():
    return RegistrarAccountFactory(
        name="Sandbox", settings={"premium": {"cash.com": "2500.00"}, "reserved": ["nic.ng"]}
    )


@pytest.fixture
def tlds(account):
    com = TldFactory(name="com", registrar_account=account)
    ng = TldFactory(name="ng", registrar_account=account)
    Price.objects.create(tld=com, action="register", currency="USD", cost="4.00", sell="4.90")
    Price.objects.create(tld=com, action="register", currency="NGN", cost="3000", sell="4000")
    Price.objects.create(tld=ng, action="register", currency="USD", cost="10", sell="15.00")
    return com, ng


@pytest.fixture
def member():
    return MembershipFactory(user=UserFactory()).user


def test_it_checks_many_names_with_prices_in_the_actors_currency(tlds, member):
    SandboxDomain.objects.create(
        name="taken.com",
        account="x",
        registered_at=timezone.now(),
        expires_at=timezone.now(),
        auth_code="x",
    )
    actor = actor_for_user(member)
    results = {r.name: r for r in check_names(actor, ["free.com", "taken.com", "nic.ng"])}
    assert results["free.com"].status == "available"
    assert (results["free.com"].price, results["free.com"].currency) == (Decimal("4.90"), "USD")
    assert results["taken.com"].status == "taken"
    assert results["nic.ng"].status == "taken" and results["nic.ng"].reason == "reserved"


def test_a_customer_sees_prices_in_its_own_currency(tlds):
    customer = CustomerFactory(user=UserFactory(), currency="NGN")
    [result] = check_names(actor_for_user(customer.user), ["naira.com"])
    assert (result.price, result.currency) == (Decimal("4000.00"), "NGN")


def test_the_organisations_own_price_wins(tlds, member):
    actor = actor_for_user(member)
    Price.objects.create(
        organisation=actor.organisation,
        tld=tlds[0],
        action="register",
        currency="USD",
        cost="4.90",
        sell="7.50",
    )
    [result] = check_names(actor, ["markup.com"])
    assert result.price == Decimal("7.50")


def test_premium_names_are_priced_from_the_registry_quote_with_each_markup(tlds, member):
    """The registry quotes 2500.00; the platform's markup on .com is 4.90 / 4.00: a reseller
    without its own .com price pays and sells at 3062.50; staff see the registry's 2500.00 as
    the cost; a customer is offered the reseller's price and never sees the quote."""
    [result] = check_names(actor_for_user(member), ["cash.com"])
    assert result.premium and result.price == Decimal("3062.50")
    assert result.cost == Decimal("3062.50")
    from tests.customers.factories import StaffFactory

    [staff] = check_names(actor_for_user(StaffFactory()), ["cash.com"])
    assert (staff.price, staff.cost) == (Decimal("3062.50"), Decimal("2500.00"))
    organisation = actor_for_user(member).organisation
    Price.objects.create(
        organisation=organisation,
        tld=tlds[0],
        action="register",
        currency="USD",
        cost="4.90",
        sell="9.80",
    )
    customer = CustomerFactory(user=UserFactory(), organisation=organisation)
    [offered] = check_names(actor_for_user(customer.user), ["cash.com"])
    assert offered.premium and (offered.price, offered.cost) == (Decimal("6125.00"), None)


def test_names_held_in_nameport_are_taken_without_asking(tlds, member):
    DomainFactory(name="mine.com", tld=tlds[0])
    [result] = check_names(actor_for_user(member), ["mine.com"])
    assert result.status == "taken"


def test_invalid_names_come_back_with_the_reason(tlds, member):
    results = check_names(actor_for_user(member), ["bad_name.com", "x.xyz", "ok.ng"])
    assert [r.status for r in results] == ["taken", "taken", "available"]
    assert "not a valid" in results[0].reason and "do not offer .xyz" in results[1].reason


def test_idn_names_show_both_forms(account, member):
    TldFactory(name="de", registrar_account=account, idn_allowed=True)
    [result] = check_names(actor_for_user(member), ["Bücher.de"])
    assert (result.name, result.name_unicode) == ("xn--bcher-kva.de", "bücher.de")


def test_many_tlds_are_checked_in_parallel(account, member, monkeypatch):
    """Every batch's check must be in flight at once (here one name per batch): a barrier for
    ten callers only opens if all ten calls run together (sequential calls would break it and
    come back unknown)."""
    from domains.simulator.registry import SandboxRegistry

    account.settings = {"check_batch_size": 1}
    account.save()
    for i in range(10):
        TldFactory(name=f"t{i}", registrar_account=account)
    barrier = threading.Barrier(10, timeout=10)
    original = SandboxRegistry.check

    def check_together(self, names):
        barrier.wait()
        return original(self, names)

    monkeypatch.setattr(SandboxRegistry, "check", check_together)
    results = check_across_tlds(actor_for_user(member), "parallel")
    assert [r.status for r in results] == ["available"] * 10


def test_too_many_names_is_a_clear_error(member):
    with pytest.raises(ValidationError, match="at most 100"):
        check_names(actor_for_user(member), [f"n{i}.com" for i in range(101)])


def test_suggestions_are_variants_that_are_available(tlds, member):
    SandboxDomain.objects.create(
        name="tunji.com",
        account="x",
        registered_at=timezone.now(),
        expires_at=timezone.now(),
        auth_code="x",
    )
    names = [r.name for r in suggest(actor_for_user(member), "tunji")]
    assert "tunji.com" not in names
    assert "tunji.ng" in names and "gettunji.com" in names


def test_suggestion_candidates_include_hyphenation():
    assert "tunj-iclub.com" in suggestion_candidates("tunjiclub", ["com"])


def test_suggestions_keep_idn_letters():
    assert "bücherhub.de" in suggestion_candidates("Bücher", ["de"])

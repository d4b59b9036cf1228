"""Role rights are the services' own rule, not only the middleware's: a read-only (or billing)
member calling a domains, DNS or billing service directly, as a compatibility API or a script
would, is refused before anything changes; and every service that changes things says which
right it needs, so a new one cannot forget."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from billing import prices as billing_prices
from billing import services as billing_services
from customers.models import Membership
from dns import services as dns_services
from domains import services as domain_services
from portal.tenancy import actor_for_user
from tests.customers.factories import MembershipFactory

pytestmark = pytest.mark.django_db

# Services that take an actor but are not a member's change (reads, system hooks, callbacks).
NOT_CHANGES = {
    "authorize_customer",
    "zone_create_for_domain",  # a system hook after a registration (the SYSTEM actor)
    "can_pay",
    "can_manage",
    "payment_gateway_event",  # the payment gateway's callback, not a member
    "price_preview",
    "platform_price_save",  # staff only (its own check)
    "exchange_rate_save",  # staff only (its own check)
    "domain_transfer_codes",  # a read (audited) for the read-only registrant API
}


def actor(world, role):
    user = MembershipFactory(organisation=world.a.organisation, role=role).user
    return actor_for_user(user)


@pytest.mark.parametrize(
    "module", [domain_services, dns_services, billing_services, billing_prices]
)
def test_every_changing_service_names_its_right(module):
    missing = [
        name
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and name not in NOT_CHANGES
        and "actor" in inspect.signature(function).parameters
        and not hasattr(function, "required_right")
    ]
    assert missing == []


@pytest.mark.parametrize("role", [Membership.Role.READ_ONLY, Membership.Role.BILLING])
def test_a_member_without_the_domains_right_changes_no_domain(world, role):
    who = actor(world, role)
    with pytest.raises(PermissionDenied, match="may not change domains"):
        domain_services.domain_set_autorenew(actor=who, domain=world.a.domain, enabled=False)
    with pytest.raises(PermissionDenied):
        dns_services.record_delete(actor=who, record=world.a.record)
    world.a.domain.refresh_from_db()
    assert world.a.domain.autorenew is True
    assert type(world.a.record).objects.filter(pk=world.a.record.pk).exists()


@pytest.mark.parametrize("role", [Membership.Role.READ_ONLY, Membership.Role.SUPPORT])
def test_a_member_without_the_billing_right_adds_no_credit(world, role):
    who = actor(world, role)
    with pytest.raises(PermissionDenied, match="may not change billing"):
        billing_services.credit_add(
            actor=who,
            customer=world.a.customer,
            amount=Decimal("10.00"),
            currency="USD",
            reason="gift",
        )
    from billing.models import CreditEntry

    assert not CreditEntry.objects.filter(customer=world.a.customer).exists()


def test_an_admin_may(world):
    who = actor(world, Membership.Role.ADMIN)
    domain_services.domain_set_autorenew(actor=who, domain=world.a.domain, enabled=False)
    world.a.domain.refresh_from_db()
    assert world.a.domain.autorenew is False

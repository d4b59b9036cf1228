"""Attacks on "sign in as this customer": another reseller's customer, a role without the
right, a customer or contact trying it, a session key pointed at a foreign customer, a chain of
impersonations, and a role taken away while it lasts. Each is refused and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Membership
from portal.models import AuditEntry
from portal.tenancy import SESSION_IMPERSONATE_KEY
from tests.customers.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def start(client, customer):
    return client.post(
        reverse("customers:impersonate", kwargs={"pk": customer.pk}), {"confirm": "1"}
    )


def refused(client, response):
    assert response.status_code in (403, 404)
    assert SESSION_IMPERSONATE_KEY not in client.session
    assert not AuditEntry.objects.filter(action="customer.impersonate_start").exists()


def test_another_resellers_customer_is_not_found(client, world):
    client.force_login(world.a.member)
    response = start(client, world.b.customer)
    assert response.status_code == 404
    refused(client, response)


@pytest.mark.parametrize(
    "role", [Membership.Role.BILLING, Membership.Role.SUPPORT, Membership.Role.READ_ONLY]
)
def test_a_role_without_the_right_is_refused(client, world, role):
    member = MembershipFactory(organisation=world.a.organisation, role=role).user
    client.force_login(member)
    refused(client, start(client, world.a.customer))


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_a_customer_or_contact_cannot_sign_in_as_another(client, world, who):
    client.force_login(getattr(world.a, who))
    other = world.a.sandbox_customer
    refused(client, start(client, other))


def test_a_session_pointed_at_a_foreign_customer_is_ignored(client, world):
    client.force_login(world.a.member)
    session = client.session
    session[SESSION_IMPERSONATE_KEY] = world.b.customer.pk
    session.save()
    html = client.get(reverse("domains:list")).content.decode()
    assert "data-impersonating" not in html
    assert world.b.domain.name not in html
    # Still the reseller: its own customers' page answers.
    assert client.get(reverse("customers:list")).status_code == 200


def test_no_chain_of_impersonations(client, world):
    client.force_login(world.staff)
    assert start(client, world.a.customer).status_code == 302
    # As the customer, another customer's page does not exist.
    response = start(client, world.b.customer)
    assert response.status_code == 404
    assert client.session[SESSION_IMPERSONATE_KEY] == world.a.customer.pk


def test_while_signed_in_as_a_customer_the_reseller_pages_are_gone(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    assert client.get(reverse("customers:list")).status_code in (403, 404)
    assert client.get(reverse("team:page")).status_code in (403, 404)


def test_a_role_taken_away_ends_it_at_the_next_request(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    Membership.objects.filter(user=world.a.member).update(role=Membership.Role.READ_ONLY)
    html = client.get(reverse("domains:list")).content.decode()
    assert "data-impersonating" not in html
    # Back as the (now read-only) member: a customer's change is refused, nothing written.
    before = AuditEntry.objects.count()
    client.post(reverse("domains:autorenew", kwargs={"pk": world.a.domain.pk}), {"value": "0"})
    world.a.domain.refresh_from_db()
    assert world.a.domain.autorenew is True
    assert AuditEntry.objects.count() == before


def test_an_api_key_cannot_start_it(client, world):
    response = client.post(
        reverse("customers:impersonate", kwargs={"pk": world.a.customer.pk}),
        {"confirm": "1"},
        HTTP_AUTHORIZATION=f"Bearer {world.a.live_key_raw}",
    )
    assert response.status_code in (302, 401, 403, 404)
    assert not AuditEntry.objects.filter(action="customer.impersonate_start").exists()

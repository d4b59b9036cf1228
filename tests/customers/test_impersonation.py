"""Sign in as a customer: the reseller (or staff) sees the portal as the customer does, a
banner says so with one button back, and every change made meanwhile is audited under the real
person with the customer noted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import AuditEntry
from portal.tenancy import SESSION_IMPERSONATE_KEY

pytestmark = pytest.mark.django_db


def start(client, customer):
    return client.post(
        reverse("customers:impersonate", kwargs={"pk": customer.pk}), {"confirm": "1"}
    )


def test_the_owner_signs_in_as_a_customer_and_sees_the_banner(client, world):
    client.force_login(world.a.member)
    response = start(client, world.a.customer)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.session[SESSION_IMPERSONATE_KEY] == world.a.customer.pk
    html = client.get(reverse("dashboard")).content.decode()
    assert f'data-impersonating="{world.a.customer.pk}"' in html
    assert f"Return to {world.a.member.email}" in html
    # The domain list is the customer's, not the reseller's: the sandbox customer's is not there.
    domains = client.get(reverse("domains:list")).content.decode()
    assert world.a.domain.name in domains and world.a.sandbox_domain.name not in domains


def test_the_start_is_audited_under_the_real_person(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    entry = AuditEntry.objects.get(action="customer.impersonate_start")
    assert entry.user == world.a.member
    assert entry.organisation == world.a.organisation
    assert entry.object_id == str(world.a.customer.pk)


def test_a_change_made_as_the_customer_names_the_real_person(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    before = AuditEntry.objects.count()
    response = client.post(
        reverse("domains:autorenew", kwargs={"pk": world.a.domain.pk}), {"value": "0"}
    )
    assert response.status_code in (200, 302)
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert entries, "the change wrote no audit row"
    for entry in entries:
        assert entry.user == world.a.member
        assert entry.data.get("impersonating_customer") == world.a.customer.pk
    world.a.domain.refresh_from_db()
    assert world.a.domain.autorenew is False


def test_return_ends_it_and_goes_back_to_the_customer_page(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    response = client.post(reverse("customers:impersonation_stop"))
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"pk": world.a.customer.pk})
    assert SESSION_IMPERSONATE_KEY not in client.session
    html = client.get(reverse("customers:detail", kwargs={"pk": world.a.customer.pk}))
    assert html.status_code == 200 and "data-impersonating" not in html.content.decode()
    stop = AuditEntry.objects.get(action="customer.impersonate_stop")
    assert stop.user == world.a.member and "impersonating_customer" not in stop.data


def test_staff_sign_in_as_any_customer(client, world):
    client.force_login(world.staff)
    assert start(client, world.b.customer).status_code == 302
    html = client.get(reverse("dashboard")).content.decode()
    assert f'data-impersonating="{world.b.customer.pk}"' in html


def test_a_bare_post_starts_nothing(client, world):
    client.force_login(world.a.member)
    response = client.post(reverse("customers:impersonate", kwargs={"pk": world.a.customer.pk}))
    assert response.status_code == 400
    assert SESSION_IMPERSONATE_KEY not in client.session
    assert not AuditEntry.objects.filter(action="customer.impersonate_start").exists()


def test_a_get_starts_nothing(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("customers:impersonate", kwargs={"pk": world.a.customer.pk}))
    assert response.status_code == 405
    assert SESSION_IMPERSONATE_KEY not in client.session


def test_a_reply_written_as_the_customer_carries_the_customers_address(client, world):
    client.force_login(world.a.member)
    start(client, world.a.customer)
    ticket = world.a.ticket
    response = client.post(
        reverse("support:ticket_reply", kwargs={"ticket_number": ticket.ticket_number}),
        {"body": "Written for the customer."},
    )
    assert response.status_code in (200, 302)
    message = ticket.messages.order_by("-pk").first()
    assert message.body == "Written for the customer."
    assert message.author_email == world.a.customer.email
    assert world.a.member.email not in (message.author_email, message.author_name)

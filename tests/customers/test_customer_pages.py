"""The reseller's customer pages: add, edit, archive, the list's archived filter, and the
customer page with everything about the customer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing import services as billing_services
from customers import accounts
from customers.models import Customer
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

FORM = {
    "first_name": "Chidi",
    "last_name": "Eze",
    "email": "chidi@example.test",
    "phone": "+234.8011112222",
    "address": "3 Awolowo Road",
    "city": "Lagos",
    "post_code": "101233",
    "country": "NG",
    "currency": "USD",
}


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def test_the_list_offers_to_add_a_customer(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("customers:list")).content.decode()
    assert 'data-action="add-customer"' in html


def test_a_reseller_adds_a_customer_through_the_form(client, world):
    client.force_login(world.a.member)
    assert client.get(reverse("customers:create")).status_code == 200
    response = client.post(reverse("customers:create"), FORM)
    customer = Customer.objects.get(email="chidi@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", kwargs={"pk": customer.pk})
    assert customer.organisation == world.a.organisation and customer.livemode


def test_a_duplicate_email_is_a_form_error(client, world):
    client.force_login(world.a.member)
    response = client.post(reverse("customers:create"), {**FORM, "email": world.a.customer.email})
    assert response.status_code == 400
    assert "Customer already exists for organisation" in response.content.decode()
    assert Customer.objects.filter(email=world.a.customer.email).count() == 1


def test_a_local_phone_number_is_a_form_error(client, world):
    client.force_login(world.a.member)
    response = client.post(reverse("customers:create"), {**FORM, "phone": "08011112222"})
    assert response.status_code == 400
    assert "international form" in response.content.decode()
    assert not Customer.objects.filter(email="chidi@example.test").exists()


def test_a_read_only_member_cannot_add_customers(client, world):
    user = MembershipFactory(organisation=world.a.organisation, role="read_only").user
    client.force_login(user)
    response = client.post(reverse("customers:create"), FORM)
    assert response.status_code == 403
    assert not Customer.objects.filter(email="chidi@example.test").exists()


def test_staff_add_a_customer_for_the_chosen_reseller(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("customers:create"), {**FORM, "organisation": world.b.organisation.pk}
    )
    assert response.status_code == 302
    assert Customer.objects.get(email="chidi@example.test").organisation == world.b.organisation


def test_the_edit_form_saves_the_change(client, world):
    customer = world.a.customer
    client.force_login(world.a.member)
    page = client.get(reverse("customers:edit", kwargs={"pk": customer.pk}))
    assert customer.email in page.content.decode()
    response = client.post(
        reverse("customers:edit", kwargs={"pk": customer.pk}),
        {**FORM, "email": customer.email, "city": "Enugu"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Enugu" and customer.first_name == "Chidi"


def test_archive_button_archives_and_the_list_hides_it_unless_filtered(client, world):
    customer = world.a.customer
    other = CustomerFactory(organisation=world.a.organisation)
    client.force_login(world.a.member)
    url = reverse("customers:archive", kwargs={"pk": customer.pk})
    assert client.get(url).status_code == 405
    assert client.post(url, {}).status_code == 400  # says which way
    client.post(url, {"archived": "1"})
    customer.refresh_from_db()
    assert customer.is_archived
    assert rows(client.get(reverse("customers:list"))) == [other.pk]
    assert rows(client.get(reverse("customers:list"), {"archived": "archived"})) == [customer.pk]
    assert set(rows(client.get(reverse("customers:list"), {"archived": "all"}))) == {
        customer.pk,
        other.pk,
    }
    page = client.get(reverse("customers:detail", kwargs={"pk": customer.pk})).content.decode()
    assert "data-archived" in page and 'data-action="unarchive"' in page
    client.post(url, {"archived": "0"})
    customer.refresh_from_db()
    assert not customer.is_archived


def test_the_customer_page_shows_credit_contacts_and_the_activity_log(client, world):
    customer = world.a.customer
    billing_services.credit_add(
        actor=SYSTEM, customer=customer, amount="12.50", currency="USD", reason="Top-up"
    )
    accounts.customer_update(
        actor=actor_for_user(world.a.member), customer=customer, values={"company": "Eze Ltd"}
    )
    client.force_login(world.a.member)
    html = client.get(reverse("customers:detail", kwargs={"pk": customer.pk})).content.decode()
    assert re.search(r"data-credit>12\.50 USD<", html)
    assert world.a.contact.email in html
    assert world.a.domain.name in html and world.a.zone.name in html
    assert world.a.invoice.number in html and world.a.ticket.subject in html
    activity = html[html.index('data-card="activity"') :]
    assert "customer.update" in activity and "member@alpha.test" in activity
    assert 'data-action="impersonate"' in html and 'data-action="add-contact"' in html


def test_the_activity_log_leaves_out_other_customers(client, world):
    neighbour = CustomerFactory(organisation=world.a.organisation)
    accounts.customer_archive(actor=actor_for_user(world.a.member), customer=neighbour)
    client.force_login(world.a.member)
    html = client.get(reverse("customers:detail", kwargs={"pk": world.a.customer.pk}))
    assert "customer.archive" not in html.content.decode()


def test_the_customer_page_stays_within_a_query_budget(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.a.member)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("customers:detail", kwargs={"pk": world.a.customer.pk}))
    assert response.status_code == 200

"""Customer list and page: staff and reseller members only."""

import re

import pytest
from django.urls import reverse

from tests.customers.factories import ContactFactory, CustomerFactory
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def test_member_lists_its_live_customers(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert rows(response) == [world.a.customer.pk]
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("customers:list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-table="customers"' in html
    assert rows(response) == [world.a.customer.pk]


def test_staff_lists_every_customer(client, world):
    client.force_login(world.staff)
    found = set(rows(client.get(reverse("customers:list"))))
    assert {world.a.customer.pk, world.b.customer.pk, world.a.sandbox_customer.pk} <= found


def test_search_finds_by_name_email_or_company(client, world):
    acme = CustomerFactory(organisation=world.a.organisation, company="Acme Widgets")
    client.force_login(world.a.member)
    assert rows(client.get(reverse("customers:list"), {"q": "acme"})) == [acme.pk]
    assert rows(client.get(reverse("customers:list"), {"q": acme.email})) == [acme.pk]
    html = client.get(reverse("customers:list"), {"q": "nobody-by-that-name"}).content.decode()
    assert "Nothing matches these filters." in html


def test_domain_count_column_and_sorting(client, world):
    busy = CustomerFactory(organisation=world.a.organisation)
    for _ in range(3):
        DomainFactory(customer=busy)
    client.force_login(world.a.member)
    by_domains = rows(client.get(reverse("customers:list"), {"sort": "-domains"}))
    assert by_domains[0] == busy.pk
    assert rows(client.get(reverse("customers:list"), {"sort": "domains"}))[-1] == busy.pk


def test_anonymous_is_sent_to_sign_in(client, world):
    for url in [reverse("customers:list"), reverse("customers:detail", args=[world.a.customer.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_and_contacts_get_404(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(reverse("customers:list")).status_code == 404
    detail = reverse("customers:detail", args=[world.a.customer.pk])
    assert client.get(detail).status_code == 404


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_other_tenant_gets_404(client, world, who):
    client.force_login(getattr(world.b, who))
    assert client.get(reverse("customers:detail", args=[world.a.customer.pk])).status_code == 404
    if who == "member":
        assert world.a.customer.pk not in rows(client.get(reverse("customers:list")))


def test_sandbox_customer_is_hidden_in_live_mode(client, world):
    client.force_login(world.a.member)
    url = reverse("customers:detail", args=[world.a.sandbox_customer.pk])
    assert client.get(url).status_code == 404


def test_detail_shows_the_account_and_what_it_holds(client, world):
    ContactFactory(customer=world.a.customer, first_name="Carla", email="carla@example.test")
    client.force_login(world.a.member)
    response = client.get(reverse("customers:detail", args=[world.a.customer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        world.a.customer.email,
        "carla@example.test",
        "alpha-site.com",
        world.a.zone.name,
        world.a.invoice.number,
        world.a.ticket.subject,
    ]:
        assert text in html, text


def test_list_query_count(client, world, django_assert_max_num_queries):
    for _ in range(40):
        DomainFactory(customer=CustomerFactory(organisation=world.a.organisation))
    for user in [world.staff, world.a.member]:
        client.force_login(user)
        with django_assert_max_num_queries(6):
            response = client.get(reverse("customers:list"))
        assert len(rows(response)) > 40


def test_detail_query_count(client, world, django_assert_max_num_queries):
    """The customer page (domains, zones, invoices, credit, tickets, contacts, activity) costs
    a fixed number of queries, whatever the number of rows in each section."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.a.member)
    url = reverse("customers:detail", args=[world.a.customer.pk])
    for _ in range(5):
        DomainFactory(customer=world.a.customer)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(10):
        DomainFactory(customer=world.a.customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(few.captured_queries) <= 22

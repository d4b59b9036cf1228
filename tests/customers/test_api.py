"""/api/v1/customers/: a reseller's customers; a customer or contact sees only its own record."""

from __future__ import annotations

import pytest

from customers.filtersets import CustomerFilterSet
from customers.selectors import visible_customers
from portal.tenancy import actor_for_user
from tests.api_helpers import INTRUDERS, get_as, ids
from tests.customers.factories import CustomerFactory, UserFactory


@pytest.mark.parametrize("who", ["member", "live_key", "bearer"])
def test_a_reseller_lists_its_live_customers(client, world, who):
    other = CustomerFactory(organisation=world.a.organisation)
    response = get_as(client, world.a, who, "/api/v1/customers/")
    assert sorted(ids(response)) == sorted([world.a.customer.pk, other.pk])


def test_a_sandbox_key_lists_the_sandbox_customers(client, world):
    response = get_as(client, world.a, "sandbox_key", "/api/v1/customers/")
    assert ids(response) == [world.a.sandbox_customer.pk]


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_a_customer_or_contact_sees_only_its_own_record(client, world, who):
    neighbour = CustomerFactory(organisation=world.a.organisation)
    response = get_as(client, world.a, who, "/api/v1/customers/")
    assert ids(response) == [world.a.customer.pk]
    detail = get_as(client, world.a, who, f"/api/v1/customers/{world.a.customer.pk}/")
    assert detail.status_code == 200
    hidden = get_as(client, world.a, who, f"/api/v1/customers/{neighbour.pk}/")
    assert hidden.status_code == 404


def test_a_neighbour_customer_gets_404(client, world):
    user = UserFactory(email="neighbour@alpha.test")
    CustomerFactory(organisation=world.a.organisation, user=user)
    client.force_login(user)
    response = client.get(f"/api/v1/customers/{world.a.customer.pk}/")
    assert response.status_code == 404
    assert world.a.customer.email not in response.content.decode()


@pytest.mark.parametrize("who", INTRUDERS)
def test_another_tenant_gets_404_for_the_customer(client, world, who):
    response = get_as(client, world.b, who, f"/api/v1/customers/{world.a.customer.pk}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert world.a.customer.email not in response.content.decode()


def test_the_detail_shows_the_address(client, world):
    customer = world.a.customer
    response = get_as(client, world.a, "live_key", f"/api/v1/customers/{customer.pk}/")
    body = response.json()
    assert body["id"] == customer.pk
    assert body["email"] == customer.email
    assert body["name"] == f"Bob {customer.last_name}"
    assert body["address"] == "1 Marina Road"
    assert body["city"] == "Lagos"
    assert body["post_code"] == "100001"
    assert body["country"] == "NG"
    assert body["phone"] == "+234.8012345678"
    assert body["livemode"] is True
    assert body["organisation"] == world.a.organisation.pk
    assert body["created_at"]


@pytest.mark.parametrize("params", [{"q": "ada"}, {"q": "LOVELACE"}, {"country": "gh"}])
def test_a_filter_gives_the_same_ids_as_the_list_page_filterset(client, world, params):
    ada = CustomerFactory(
        organisation=world.a.organisation, first_name="Ada", last_name="Lovelace", country="GH"
    )
    response = get_as(client, world.a, "member", "/api/v1/customers/", params)
    page = CustomerFilterSet(params, queryset=visible_customers(actor_for_user(world.a.member)))
    assert ids(response) == list(page.qs.values_list("pk", flat=True)) == [ada.pk]


def test_a_bad_date_filter_gets_400(client, world):
    response = get_as(
        client, world.a, "live_key", "/api/v1/customers/", {"created_after": "yesterday"}
    )
    assert response.status_code == 400
    assert "created_after" in response.json()["errors"]


def test_the_list_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(15):
        CustomerFactory(organisation=world.a.organisation)
    get_as(client, world.a, "live_key", "/api/v1/customers/")  # stamps the key's last use
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/customers/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.json()["count"] == 16

"""/api/v1/customers/: a reseller (key or session) and staff create, change (PATCH), archive and
unarchive customers; the rules are customers.accounts'."""

from __future__ import annotations

import pytest

from customers.models import Customer
from portal.models import AuditEntry
from tests.api_helpers import INTRUDERS

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
BODY = {
    "first_name": "Bola",
    "last_name": "Ade",
    "email": "bola@example.test",
    "phone": "+234.8098765432",
    "address": "7 Allen Avenue",
    "city": "Ikeja",
    "post_code": "100271",
    "country": "NG",
}


def send(client, tenant, who, method, url, body=None):
    client.logout()
    headers = {}
    if who == "bearer":
        headers["HTTP_AUTHORIZATION"] = f"Bearer {tenant.live_key_raw}"
    elif who.endswith("_key"):
        headers["HTTP_ACCESS_TOKEN"] = getattr(tenant, f"{who}_raw")
    else:
        client.force_login(getattr(tenant, who))
    return getattr(client, method)(url, body or {}, content_type="application/json", **headers)


@pytest.mark.parametrize("who", ["member", "live_key"])
def test_a_reseller_creates_a_customer(client, world, who):
    response = send(client, world.a, who, "post", URL, BODY)
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert customer.organisation == world.a.organisation and customer.livemode
    assert body["email"] == "bola@example.test" and body["archived"] is False
    assert body["currency"] == world.a.organisation.default_currency
    assert AuditEntry.objects.filter(action="customer.create", object_id=str(customer.pk)).exists()


def test_a_sandbox_key_creates_a_sandbox_customer(client, world):
    response = send(client, world.a, "sandbox_key", "post", URL, BODY)
    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).livemode is False


def test_a_duplicate_email_answers_400_with_the_seed_message(client, world):
    send(client, world.a, "live_key", "post", URL, BODY)
    response = send(
        client, world.a, "live_key", "post", URL, {**BODY, "email": "BOLA@example.test"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Customer already exists for organisation"
    assert Customer.objects.filter(email="bola@example.test").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not-an-address"},
        {"phone": "08098765432"},
        {"country": "Nigeria"},
        {"first_name": ""},
        {"address": None},
        {"currency": "dollars"},
    ],
)
def test_bad_input_answers_400_and_creates_nothing(client, world, change):
    response = send(client, world.a, "live_key", "post", URL, {**BODY, **change})
    assert response.status_code == 400, response.content
    field = next(iter(change))
    assert field in response.json()["errors"]
    assert not Customer.objects.filter(email="bola@example.test").exists()


def test_a_reseller_cannot_create_in_another_organisation(client, world):
    body = {**BODY, "organisation": world.b.organisation.pk}
    response = send(client, world.a, "live_key", "post", URL, body)
    assert response.status_code == 400
    assert not Customer.objects.filter(email="bola@example.test").exists()


def test_staff_create_for_the_reseller_they_name(client, world):
    client.force_login(world.staff)
    response = client.post(
        URL, {**BODY, "organisation": world.b.organisation.pk}, content_type="application/json"
    )
    assert response.status_code == 201
    assert Customer.objects.get(pk=response.json()["id"]).organisation == world.b.organisation


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_a_customer_or_contact_cannot_create_customers(client, world, who):
    response = send(client, world.a, who, "post", URL, BODY)
    assert response.status_code == 404
    assert not Customer.objects.filter(email="bola@example.test").exists()


def test_patch_changes_the_given_fields(client, world):
    url = f"{URL}{world.a.customer.pk}/"
    response = send(client, world.a, "live_key", "patch", url, {"company": "Ade & Co"})
    assert response.status_code == 200, response.content
    assert response.json()["company"] == "Ade & Co"
    world.a.customer.refresh_from_db()
    assert world.a.customer.company == "Ade & Co" and world.a.customer.city == "Lagos"


def test_patch_to_a_taken_email_answers_400(client, world):
    send(client, world.a, "live_key", "post", URL, BODY)
    url = f"{URL}{world.a.customer.pk}/"
    response = send(client, world.a, "live_key", "patch", url, {"email": "bola@example.test"})
    assert response.status_code == 400
    assert response.json()["message"] == "Customer already exists for organisation"


def test_put_is_not_offered(client, world):
    url = f"{URL}{world.a.customer.pk}/"
    response = send(client, world.a, "live_key", "put", url, BODY)
    assert response.status_code == 405


def test_archive_hides_the_customer_from_the_list_until_asked(client, world):
    pk = world.a.customer.pk
    response = send(client, world.a, "live_key", "post", f"{URL}{pk}/archive/")
    assert response.status_code == 200 and response.json()["archived"] is True
    listed = send(client, world.a, "live_key", "get", URL).json()["results"]
    assert pk not in [row["id"] for row in listed]
    shown = send(client, world.a, "live_key", "get", URL + "?archived=archived").json()
    assert [row["id"] for row in shown["results"]] == [pk]
    detail = send(client, world.a, "live_key", "get", f"{URL}{pk}/")
    assert detail.status_code == 200 and detail.json()["archived_at"]
    back = send(client, world.a, "live_key", "post", f"{URL}{pk}/unarchive/")
    assert back.json()["archived"] is False


@pytest.mark.parametrize("who", INTRUDERS)
def test_another_tenant_gets_404_for_every_write(client, world, who):
    pk = world.a.customer.pk
    for method, url, body in (
        ("patch", f"{URL}{pk}/", {"company": "Stolen"}),
        ("post", f"{URL}{pk}/archive/", None),
        ("post", f"{URL}{pk}/unarchive/", None),
    ):
        response = send(client, world.b, who, method, url, body)
        assert response.status_code == 404, (who, url, response.status_code)
    world.a.customer.refresh_from_db()
    assert world.a.customer.company != "Stolen" and not world.a.customer.is_archived

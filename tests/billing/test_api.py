"""/api/v1/invoices/: the caller's invoices; money as two-decimal strings plus a currency."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from billing.filtersets import InvoiceFilterSet
from billing.models import Invoice
from billing.selectors import visible_invoices
from portal.tenancy import actor_for_user
from tests.api_helpers import INTRUDERS, get_as, ids
from tests.billing.factories import InvoiceFactory, InvoiceLineFactory


@pytest.mark.parametrize("who", ["member", "customer_user", "live_key", "bearer"])
def test_each_actor_of_the_owner_lists_its_invoices(client, world, who):
    response = get_as(client, world.a, who, "/api/v1/invoices/")
    assert ids(response) == [world.a.invoice.pk]


def test_a_contact_needs_the_payinvoice_privilege(client, world):
    contact = world.a.contact
    contact.privileges = {**contact.privileges, "billing": ["balance"]}
    contact.save()
    assert ids(get_as(client, world.a, "contact_user", "/api/v1/invoices/")) == []
    contact.privileges = {**contact.privileges, "billing": ["payinvoice"]}
    contact.save()
    assert ids(get_as(client, world.a, "contact_user", "/api/v1/invoices/")) == [world.a.invoice.pk]


@pytest.mark.parametrize("who", INTRUDERS)
def test_another_tenant_gets_404_for_the_invoice(client, world, who):
    response = get_as(client, world.b, who, f"/api/v1/invoices/{world.a.invoice.pk}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert world.a.invoice.number not in response.content.decode()


def test_the_detail_shows_money_as_strings_and_the_lines(client, world):
    invoice = world.a.invoice
    invoice.tax = Decimal("1.5")
    invoice.taxrate = Decimal("7.5")
    invoice.total = Decimal("11.50")
    invoice.save()
    line = InvoiceLineFactory(invoice=invoice, amount=Decimal("10"), linetotal=Decimal("10"))
    response = get_as(client, world.a, "live_key", f"/api/v1/invoices/{invoice.pk}/")
    body = response.json()
    assert body["number"] == invoice.number
    assert body["currency"] == "USD"
    assert body["subtotal"] == "10.00"
    assert body["tax"] == "1.50"
    assert body["taxrate"] == "7.50"
    assert body["credit"] == "0.00"
    assert body["total"] == "11.50"
    assert body["balance_due"] == "11.50"
    assert body["status"] == "Unpaid"
    assert body["lines"] == [
        {
            "id": line.pk,
            "type": "Other",
            "item_id": 0,
            "description": "Domain registration example.com (1 year)",
            "amount": "10.00",
            "qty": "1.00",
            "taxed": True,
            "linetotal": "10.00",
        }
    ]


def test_the_list_leaves_the_lines_out(client, world):
    InvoiceLineFactory(invoice=world.a.invoice)
    response = get_as(client, world.a, "member", "/api/v1/invoices/")
    row = response.json()["results"][0]
    assert "lines" not in row
    assert row["total"] == "10.00"


@pytest.mark.parametrize(
    "params",
    [{"status": "Paid"}, {"status": ["Paid", "Cancelled"]}, {"q": "INV-77"}, {"currency": "eur"}],
)
def test_a_filter_gives_the_same_ids_as_the_list_page_filterset(client, world, params):
    InvoiceFactory(customer=world.a.customer, status=Invoice.Status.PAID, number="INV-77")
    InvoiceFactory(customer=world.a.customer, status=Invoice.Status.CANCELLED, currency="EUR")
    response = get_as(client, world.a, "member", "/api/v1/invoices/", params)
    query = QueryDict(urlencode(params, doseq=True))
    page = InvoiceFilterSet(query, queryset=visible_invoices(actor_for_user(world.a.member)))
    expected = list(page.qs.values_list("pk", flat=True))
    assert expected
    assert ids(response) == expected


def test_a_bad_status_gets_400(client, world):
    response = get_as(client, world.a, "live_key", "/api/v1/invoices/", {"status": "Lost"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("status: ")


def test_a_sandbox_key_sees_only_sandbox_invoices(client, world):
    sandbox = InvoiceFactory(customer=world.a.sandbox_customer)
    response = get_as(client, world.a, "sandbox_key", "/api/v1/invoices/")
    assert ids(response) == [sandbox.pk]
    assert response.json()["results"][0]["livemode"] is False


def test_lists_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(12):
        InvoiceLineFactory(invoice=InvoiceFactory(customer=world.a.customer))
    for _ in range(12):
        InvoiceLineFactory(invoice=world.a.invoice)
    headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    client.get("/api/v1/invoices/", **headers)  # stamps the key's last use
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/invoices/", **headers).json()["count"] == 13
    with django_assert_max_num_queries(4):
        detail = client.get(f"/api/v1/invoices/{world.a.invoice.pk}/", **headers)
        assert len(detail.json()["lines"]) == 12

"""Invoice list and invoice page."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice, Payment
from tests.billing.factories import InvoiceFactory, InvoiceLineFactory
from tests.customers.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def test_member_lists_its_invoices(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("billing:invoice_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert rows(response) == [world.a.invoice.pk]
    assert "10.00 USD" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results(client, world):
    client.force_login(world.a.customer_user)
    response = client.get(
        reverse("billing:invoice_list"), {"status": "Unpaid"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-table="invoices"' in html
    assert rows(response) == [world.a.invoice.pk]


def test_status_filter_and_sorting_by_total(client, world):
    paid = InvoiceFactory(customer=world.a.customer, status=Invoice.Status.PAID, total="99.50")
    client.force_login(world.a.member)
    url = reverse("billing:invoice_list")
    assert rows(client.get(url, {"status": "Paid"})) == [paid.pk]
    assert rows(client.get(url, {"status": "Unpaid"})) == [world.a.invoice.pk]
    assert rows(client.get(url, {"sort": "-total"})) == [paid.pk, world.a.invoice.pk]
    assert rows(client.get(url, {"sort": "total"})) == [world.a.invoice.pk, paid.pk]
    assert "Nothing matches these filters." in client.get(url, {"q": "nope"}).content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    urls = [
        reverse("billing:invoice_list"),
        reverse("billing:invoice_detail", args=[world.a.invoice.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_other_tenant_gets_404(client, world, who):
    client.force_login(getattr(world.b, who))
    url = reverse("billing:invoice_detail", args=[world.a.invoice.pk])
    assert client.get(url).status_code == 404
    assert world.a.invoice.pk not in rows(client.get(reverse("billing:invoice_list")))


def test_contact_without_billing_privilege_sees_no_invoice(client, world):
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="nobilling@alpha.test"),
        privileges={"support": ["tickets"]},
    )
    client.force_login(contact.user)
    assert rows(client.get(reverse("billing:invoice_list"))) == []
    url = reverse("billing:invoice_detail", args=[world.a.invoice.pk])
    assert client.get(url).status_code == 404


def test_invoice_page_shows_lines_totals_and_payments(client, world):
    invoice = InvoiceFactory(
        customer=world.a.customer,
        subtotal=Decimal("1250.00"),
        tax=Decimal("93.75"),
        taxrate=Decimal("7.50"),
        credit=Decimal("100.00"),
        total=Decimal("1343.75"),
        currency="EUR",
    )
    InvoiceLineFactory(
        invoice=invoice,
        description="Domain registration alpha-shop.com (2 years)",
        amount=Decimal("1250.00"),
        linetotal=Decimal("1250.00"),
    )
    Payment.objects.create(
        invoice=invoice, amount=Decimal("50.00"), currency="EUR", reference="PAY-123"
    )
    client.force_login(world.a.customer_user)
    response = client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "Domain registration alpha-shop.com (2 years)",
        "1,250.00 EUR",
        "93.75 EUR",
        "7.50%",
        "1,343.75 EUR",
        "1,243.75 EUR",  # balance due: total minus credit
        "PAY-123",
    ]:
        assert text in html, text


def test_query_counts(client, world, django_assert_max_num_queries):
    for _ in range(40):
        InvoiceFactory(customer=world.a.customer)
    for i in range(10):
        InvoiceLineFactory(invoice=world.a.invoice, description=f"Line {i}")
    for user in [world.staff, world.a.member, world.a.customer_user]:
        client.force_login(user)
        with django_assert_max_num_queries(7):
            response = client.get(reverse("billing:invoice_list"))
        assert len(rows(response)) == (42 if user.is_staff else 41)
        with django_assert_max_num_queries(9):
            response = client.get(reverse("billing:invoice_detail", args=[world.a.invoice.pk]))
        assert response.status_code == 200

"""The invoice actions in the native API: pay (Idempotency-Key), credit, pdf, refund,
mark-paid; /api/v1/credit/ and /api/v1/payment-methods/."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import Invoice, Payment
from portal.tenancy import SYSTEM
from tests.billing.invoicing import method

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def key(world):
    return {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}


@pytest.fixture
def live_test_gateway(settings):
    settings.NAMEPORT_TEST_GATEWAY_LIVE = True
    return method("Stripe", "0.50", "2.90", gateway="test")


def action(name, invoice):
    return reverse(f"api:invoice-{name}", args=[invoice.pk])


def test_pay_with_the_test_gateway_at_once(client, world, key, live_test_gateway):
    invoice = world.a.invoice
    response = client.post(
        action("pay", invoice),
        {"method": live_test_gateway.pk, "outcome": "approve"},
        content_type="application/json",
        **key,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["payment"]["status"] == "completed"
    assert body["payment"]["amount"] == "10.79"  # 10.00 + 0.50 + 0.29 fee
    assert body["invoice"]["status"] == "Paid" and body["redirect_url"] == ""


def test_pay_pending_gives_the_gateway_page_and_the_same_key_the_same_payment(
    client, world, key, live_test_gateway
):
    invoice = world.a.invoice
    headers = {**key, "HTTP_IDEMPOTENCY_KEY": "order-77"}
    data = {"method": live_test_gateway.pk}
    first = client.post(action("pay", invoice), data, content_type="application/json", **headers)
    again = client.post(action("pay", invoice), data, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["payment"]["id"] == again.json()["payment"]["id"]
    assert "/test-gateway/" in first.json()["redirect_url"]
    assert Payment.objects.count() == 1


def test_paying_a_paid_invoice_is_refused(client, world, key, live_test_gateway):
    invoice = world.a.invoice
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    response = client.post(
        action("pay", invoice),
        {"method": live_test_gateway.pk, "outcome": "approve"},
        content_type="application/json",
        **key,
    )
    assert response.status_code == 400
    assert response.json()["message"] == services.ALREADY_PAID


def test_apply_credit_in_seed_003_shape(client, world):
    invoice = world.a.invoice
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount="4", currency="USD", reason="x"
    )
    client.force_login(world.a.customer_user)
    response = client.post(action("credit", invoice), {}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["success"], body["invoice_status"], body["applied"]) == (True, "Unpaid", "4.00")
    assert body["invoice"]["credit"] == "4.00" and body["invoice"]["balance_due"] == "6.00"


def test_pdf_download(client, world, key):
    response = client.get(action("pdf", world.a.invoice), **key)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_mark_paid_then_refund_by_the_reseller(client, world, key):
    invoice = world.a.invoice
    response = client.post(
        action("mark-paid", invoice),
        {"reference": "BANK-9"},
        content_type="application/json",
        **key,
    )
    assert response.status_code == 200, response.content
    assert response.json()["reference"] == "BANK-9"
    response = client.post(
        action("refund", invoice), {"to": "credit"}, content_type="application/json", **key
    )
    assert response.status_code == 200, response.content
    assert response.json()["refunded"] == "10.00"
    assert response.json()["invoice"]["status"] == "Refunded"


def test_a_customer_gets_403_on_mark_paid_and_refund(client, world):
    client.force_login(world.a.customer_user)
    response = client.post(
        action("mark-paid", world.a.invoice), {"reference": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Invoice.objects.get(pk=world.a.invoice.pk).status == Invoice.Status.UNPAID


def test_credit_ledger_balance_and_add(client, world, key):
    customer = world.a.customer
    response = client.post(
        reverse("api:credit-list"),
        {"customer": customer.pk, "amount": "12.50", "currency": "USD", "reason": "Goodwill"},
        content_type="application/json",
        **key,
    )
    assert response.status_code == 201, response.content
    assert response.json()["balance_after"] == "12.50"
    client.force_login(world.a.customer_user)
    ledger = client.get(reverse("api:credit-list")).json()
    assert [e["reason"] for e in ledger["results"]] == ["Goodwill"]
    balance = client.get(reverse("api:credit-balance")).json()
    assert balance == [
        {"customer": customer.pk, "currency": "USD", "acc_credit": "12.50", "acc_balance": "10.00"}
    ]
    # A customer cannot add credit to itself.
    response = client.post(
        reverse("api:credit-list"),
        {"customer": customer.pk, "amount": "100", "currency": "USD", "reason": "free"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_payment_methods_with_fees(client, world, key):
    method("PayPal", "0.30", "2.90", gateway="test")
    method("Bank Transfer", "0", "0", gateway="bank_transfer")
    method("Other reseller's", "0", "0", organisation=world.b.organisation)
    rows = client.get(reverse("api:payment-method-list"), {"amount": "100.00"}, **key).json()
    assert [(r["name"], r["fixed_fee"], r["percent_fee"], r["fee"]) for r in rows] == [
        ("Bank Transfer", "0.00", "0.00", "0.00"),
        ("PayPal", "0.30", "2.90", "3.20"),
    ]
    rows = client.get(
        reverse("api:payment-method-list"), {"invoice": world.a.invoice.pk}, **key
    ).json()
    assert [r["fee"] for r in rows] == ["0.00", "0.59"]
    assert (
        client.get(reverse("api:payment-method-list"), {"amount": "-1"}, **key).status_code == 400
    )


def test_cancel_through_the_api(client, world, key):
    invoice = world.a.invoice
    response = client.post(
        action("cancel", invoice), {"reason": "dup"}, content_type="application/json", **key
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "Cancelled"
    again = client.post(action("cancel", invoice), {}, content_type="application/json", **key)
    assert again.status_code == 400

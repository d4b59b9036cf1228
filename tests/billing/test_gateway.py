"""The test gateway: approve, decline, pending then a signed callback; forged callbacks refused."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from billing import gateways, services
from billing.models import Invoice, Payment
from tests.billing.invoicing import customer_actor, issued_invoice, method
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
D = Decimal
CALLBACK = "billing:test_gateway_callback"


@pytest.fixture
def customer():
    return CustomerFactory(livemode=False, country="")


@pytest.fixture
def invoice(customer):
    return issued_invoice(customer, [("Domain", D("20.00"), 1, True)])


@pytest.fixture
def card():
    return method("Test card", "0.30", "2.90", gateway="test")


def start(invoice, card, outcome="", key=""):
    return services.payment_start(
        actor=customer_actor(invoice.customer),
        invoice=invoice,
        method=card,
        outcome=outcome,
        idempotency_key=key,
    )


def test_approve_pays_the_invoice_with_the_fee(invoice, card):
    payment, result = start(invoice, card, "approve")
    invoice.refresh_from_db()
    assert result.status == Payment.Status.COMPLETED
    assert invoice.status == Invoice.Status.PAID
    # 20.00 + 0.30 + 0.58 fee
    assert payment.amount == D("20.88") and payment.fee == D("0.88")
    assert payment.gateway == "test" and payment.gateway_reference.startswith("test_")


def test_decline_leaves_the_invoice_unpaid(invoice, card):
    payment, result = start(invoice, card, "decline")
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert result.status == payment.status == Payment.Status.FAILED
    assert invoice.status == Invoice.Status.UNPAID
    assert "declined" in result.message


def test_pending_then_a_signed_callback_approves(client, invoice, card):
    payment, result = start(invoice, card, "pending")
    assert result.status == Payment.Status.PENDING
    body = gateways.TestGateway.callback_body(payment.gateway_reference, "completed")
    response = client.post(
        reverse(CALLBACK),
        body,
        content_type="application/json",
        HTTP_X_NAMEPORT_SIGNATURE=gateways.TestGateway.sign(body),
    )
    assert response.status_code == 200, response.content
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert invoice.status == Invoice.Status.PAID
    # Delivered again: nothing changes.
    client.post(
        reverse(CALLBACK),
        body,
        content_type="application/json",
        HTTP_X_NAMEPORT_SIGNATURE=gateways.TestGateway.sign(body),
    )
    assert Payment.objects.filter(status=Payment.Status.COMPLETED).count() == 1


def test_forged_callbacks_are_refused(client, invoice, card):
    payment, _ = start(invoice, card, "pending")
    body = gateways.TestGateway.callback_body(payment.gateway_reference, "completed")
    url = reverse(CALLBACK)
    for signature in ("", "0" * 64, gateways.TestGateway.sign(body + b" ")):
        response = client.post(
            url, body, content_type="application/json", HTTP_X_NAMEPORT_SIGNATURE=signature
        )
        assert response.status_code == 400
        assert "signature" in response.json()["message"]
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and invoice.status == Invoice.Status.UNPAID


def test_a_late_confirmation_after_the_invoice_was_paid_goes_to_credit(invoice, card):
    payment, _ = start(invoice, card, "pending")
    services.invoice_mark_paid(actor=services_actor(invoice), invoice=invoice, reference="bank-123")
    services.payment_gateway_event(
        actor=services_actor(invoice),
        gateway="test",
        reference=payment.gateway_reference,
        status="completed",
    )
    assert services.credit_balance(invoice.customer, "USD") == payment.amount
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def services_actor(invoice):
    from portal.tenancy import SYSTEM

    return SYSTEM


def test_the_same_idempotency_key_returns_the_same_payment(invoice, card):
    first, _ = start(invoice, card, "pending", key="abc")
    again, result = start(invoice, card, "pending", key="abc")
    assert again.pk == first.pk and result.status == Payment.Status.PENDING
    assert Payment.objects.count() == 1


def test_the_test_gateway_refuses_live_invoices_unless_allowed(card):
    live = issued_invoice(CustomerFactory(livemode=True, country=""))
    with override_settings(NAMEPORT_TEST_GATEWAY_LIVE=False), pytest.raises(ValidationError):
        start(live, card, "approve")
    assert not Payment.objects.exists()
    with override_settings(NAMEPORT_TEST_GATEWAY_LIVE=True):
        start(live, card, "approve")
    live.refresh_from_db()
    assert live.status == Invoice.Status.PAID

"""Attacks on invoices and payments, through the native API and the pages: each is refused with a
clear message and changes nothing (no payment, no credit entry, the invoice as it was)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing import gateways, services
from billing.models import CreditEntry, Invoice, Payment
from portal.tenancy import SYSTEM
from tests.billing.invoicing import method

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(settings):
    settings.NAMEPORT_TEST_GATEWAY_LIVE = True
    return method("Test card", "0.30", "2.90", gateway="test")


def post(client, name, invoice, data, **headers):
    return client.post(
        reverse(f"api:invoice-{name}", args=[invoice.pk]),
        data,
        content_type="application/json",
        **headers,
    )


def snapshot(invoice):
    invoice = Invoice.objects.get(pk=invoice.pk)
    return (
        invoice.status,
        invoice.total,
        invoice.credit,
        Payment.objects.count(),
        CreditEntry.objects.count(),
    )


@pytest.mark.parametrize("status", ["Paid", "Cancelled", "Refunded", "Collections"])
def test_paying_an_invoice_that_is_not_unpaid_is_refused(client, world, card, status):
    invoice = world.a.invoice
    Invoice.objects.filter(pk=invoice.pk).update(status=status)
    before = snapshot(invoice)
    client.force_login(world.a.customer_user)
    response = post(client, "pay", invoice, {"method": card.pk, "outcome": "approve"})
    assert response.status_code == 400
    assert "paid" in response.json()["message"].lower()
    assert post(client, "credit", invoice, {}).status_code == 400
    assert snapshot(invoice) == before


def test_a_draft_cannot_be_paid_by_anyone(client, world, card, key_headers):
    invoice = world.a.invoice
    Invoice.objects.filter(pk=invoice.pk).update(status="Draft")
    before = snapshot(invoice)
    client.force_login(world.a.customer_user)  # a draft is the seller's: not found
    assert (
        post(client, "pay", invoice, {"method": card.pk, "outcome": "approve"}).status_code == 404
    )
    client.logout()
    response = post(
        client, "pay", invoice, {"method": card.pk, "outcome": "approve"}, **key_headers
    )
    assert response.status_code == 400 and "Draft" in response.json()["message"]
    assert snapshot(invoice) == before


def test_credit_beyond_the_balance_or_the_invoice_is_refused(client, world):
    invoice = world.a.invoice
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount="30", currency="USD", reason="x"
    )
    before = snapshot(invoice)
    client.force_login(world.a.customer_user)
    too_much = post(client, "credit", invoice, {"amount": "10.01"})
    assert too_much.status_code == 400 and "more than is due" in too_much.json()["message"]
    CreditEntry.objects.update(amount=Decimal("5.00"), balance_after=Decimal("5.00"))
    before = snapshot(invoice)
    beyond = post(client, "credit", invoice, {"amount": "6.00"})
    assert beyond.status_code == 400 and "account credit" in beyond.json()["message"]
    assert snapshot(invoice) == before


@pytest.mark.parametrize("amount", ["-5", "0", "0.00", "1.001", "NaN", "1e400", "abc"])
def test_negative_zero_and_malformed_amounts_are_refused(client, world, key_headers, amount):
    invoice = world.a.invoice
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount="30", currency="USD", reason="x"
    )
    services.invoice_mark_paid(actor=SYSTEM, invoice=world.b.invoice, reference="B")
    before = snapshot(invoice)
    client.force_login(world.a.customer_user)
    assert post(client, "credit", invoice, {"amount": amount}).status_code == 400
    client.logout()
    response = client.post(
        reverse("api:credit-list"),
        {"customer": world.a.customer.pk, "amount": amount, "currency": "USD", "reason": "x"},
        content_type="application/json",
        **key_headers,
    )
    assert response.status_code == 400
    assert snapshot(invoice) == before


@pytest.fixture
def key_headers(world):
    return {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}


@pytest.mark.parametrize("currency", ["XYZ", "usd1", "", "US"])
def test_unknown_currency_is_refused(client, world, key_headers, currency):
    response = client.post(
        reverse("api:credit-list"),
        {"customer": world.a.customer.pk, "amount": "5", "currency": currency, "reason": "x"},
        content_type="application/json",
        **key_headers,
    )
    assert response.status_code == 400
    assert not CreditEntry.objects.exists()


def test_a_forged_gateway_callback_pays_nothing(client, world, card):
    client.force_login(world.a.customer_user)
    pending = post(client, "pay", world.a.invoice, {"method": card.pk, "outcome": "pending"})
    reference = pending.json()["payment"]["gateway_reference"]
    client.logout()
    body = gateways.TestGateway.callback_body(reference, "completed")
    forged = {
        "no signature": "",
        "signed with another key": "deadbeef" * 8,
        "signature of another body": gateways.TestGateway.sign(b'{"reference": "x"}'),
    }
    for _why, signature in forged.items():
        response = client.post(
            reverse("billing:test_gateway_callback"),
            body,
            content_type="application/json",
            HTTP_X_NAMEPORT_SIGNATURE=signature,
        )
        assert response.status_code == 400
    invoice = Invoice.objects.get(pk=world.a.invoice.pk)
    assert invoice.status == Invoice.Status.UNPAID
    assert Payment.objects.get(gateway_reference=reference).status == Payment.Status.PENDING


def test_another_tenants_invoice_is_404_for_every_action(client, world, card):
    victim = world.b.invoice
    before = snapshot(victim)
    client.force_login(world.a.member)
    for name, data in (
        ("pay", {"method": card.pk, "outcome": "approve"}),
        ("credit", {}),
        ("mark-paid", {"reference": "x"}),
        ("refund", {"to": "credit"}),
    ):
        assert post(client, name, victim, data).status_code == 404
    assert client.get(reverse("api:invoice-pdf", args=[victim.pk])).status_code == 404
    for name in ("invoice_pay", "invoice_credit", "invoice_mark_paid", "invoice_refund"):
        url = reverse(f"billing:{name}", args=[victim.pk])
        assert client.post(url, {"method": card.pk, "reference": "x"}).status_code == 404
    # Another tenant's customer cannot be credited either.
    response = client.post(
        reverse("api:credit-list"),
        {"customer": world.b.customer.pk, "amount": "5", "currency": "USD", "reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert snapshot(victim) == before


def test_a_customer_cannot_mark_paid_or_refund(client, world):
    invoice = world.a.invoice
    client.force_login(world.a.customer_user)
    before = snapshot(invoice)
    assert post(client, "mark-paid", invoice, {"reference": "I paid, honest"}).status_code == 403
    assert snapshot(invoice) == before
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    before = snapshot(invoice)
    assert post(client, "refund", invoice, {"to": "credit"}).status_code == 403
    client.force_login(world.a.contact_user)
    assert post(client, "refund", invoice, {"to": "method"}).status_code == 403
    assert snapshot(invoice) == before


def test_a_refund_never_exceeds_what_was_paid(client, world, key_headers):
    invoice = world.a.invoice
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    response = post(client, "refund", invoice, {"amount": "10.01"}, **key_headers)
    assert response.status_code == 400
    assert post(client, "refund", invoice, {"amount": "10.00"}, **key_headers).status_code == 200
    assert post(client, "refund", invoice, {"amount": "0.01"}, **key_headers).status_code == 400
    assert Payment.objects.filter(amount__lt=0).count() == 1


def test_the_test_gateway_cannot_pay_live_invoices_by_default(client, world, settings):
    settings.NAMEPORT_TEST_GATEWAY_LIVE = False
    card = method("Test card", gateway="test")
    client.force_login(world.a.customer_user)
    response = post(client, "pay", world.a.invoice, {"method": card.pk, "outcome": "approve"})
    assert response.status_code == 400
    assert Invoice.objects.get(pk=world.a.invoice.pk).status == Invoice.Status.UNPAID

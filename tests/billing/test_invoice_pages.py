"""The invoice page's actions: pay (method, fee, test gateway, return page), apply credit, mark
paid, refund; the credit ledger page."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import services
from billing.models import CreditEntry, Invoice, InvoiceLine, Payment
from portal.tenancy import SYSTEM
from tests.billing.invoicing import issued_invoice, method
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def sandbox(world):
    """A sandbox customer with a login, an issued invoice and the test gateway."""
    user = UserFactory(email="sandbox-customer@alpha.test")
    customer = CustomerFactory(organisation=world.a.organisation, livemode=False, user=user)
    customer.country = ""
    customer.save()
    invoice = issued_invoice(customer, [("Domain registration ada.com", D("20.00"), 1, True)])
    return customer, invoice, method("Test card", "0.30", "2.90", gateway="test")


def url(name, invoice, **kw):
    return reverse(f"billing:{name}", kwargs={"pk": invoice.pk, **kw})


def test_the_page_offers_each_method_with_its_fee(client, sandbox):
    customer, invoice, _card = sandbox
    method("Bank Transfer", "0", "0", gateway="bank_transfer")
    client.force_login(customer.user)
    html = client.get(url("invoice_detail", invoice)).content.decode()
    assert "Test card" in html and "fee 0.88 USD" in html
    assert "Bank Transfer" in html and "no fee" in html
    assert 'data-section="mark-paid"' not in html and 'data-section="refund"' not in html


def test_choose_then_pay_through_the_test_gateway_and_its_return_page(client, sandbox):
    customer, invoice, card = sandbox
    client.force_login(customer.user)
    response = client.post(url("invoice_method", invoice), {"method": card.pk})
    assert response.status_code == 302
    html = client.get(url("invoice_detail", invoice)).content.decode()
    assert "Test card Payment Fee" in html and "Pay 20.88 USD" in html
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)
    response = client.post(url("invoice_pay", invoice), {"method": card.pk, "token": token})
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("test_gateway", invoice, payment_pk=payment.pk)
    # A double click (the same form token) is the same payment.
    client.post(url("invoice_pay", invoice), {"method": card.pk, "token": token})
    assert Payment.objects.count() == 1
    gateway_page = client.get(response["Location"])
    assert "20.88 USD" in gateway_page.content.decode()
    done = client.post(response["Location"], {"decision": "approve"})
    assert done["Location"] == url("payment_return", invoice, payment_pk=payment.pk)
    page = client.get(done["Location"]).content.decode()
    assert "Payment approved." in page
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_a_declined_test_payment_leaves_the_invoice_unpaid(client, sandbox):
    customer, invoice, card = sandbox
    client.force_login(customer.user)
    client.post(url("invoice_pay", invoice), {"method": card.pk, "token": "t1"})
    payment = Payment.objects.get()
    client.post(url("test_gateway", invoice, payment_pk=payment.pk), {"decision": "decline"})
    page = client.get(url("payment_return", invoice, payment_pk=payment.pk)).content.decode()
    assert "declined" in page
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID


def test_apply_credit_part_then_all_from_the_page(client, sandbox):
    customer, invoice, _ = sandbox
    services.credit_add(actor=SYSTEM, customer=customer, amount="50", currency="USD", reason="x")
    client.force_login(customer.user)
    client.post(url("invoice_credit", invoice), {"amount": "5.00"})
    invoice.refresh_from_db()
    assert invoice.credit == D("5.00")
    html = client.get(url("invoice_detail", invoice)).content.decode()
    assert html.index("data-total") < html.index("data-credit") < html.index("data-due")
    client.post(url("invoice_credit", invoice), {"amount": ""})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_too_much_credit_answers_422_with_the_reason_and_changes_nothing(client, sandbox):
    customer, invoice, _ = sandbox
    services.credit_add(actor=SYSTEM, customer=customer, amount="5", currency="USD", reason="x")
    client.force_login(customer.user)
    response = client.post(url("invoice_credit", invoice), {"amount": "6.00"})
    assert response.status_code == 422
    assert "more than the account credit" in response.content.decode()
    for bad in ("-1", "0", "abc", "1.001"):
        assert client.post(url("invoice_credit", invoice), {"amount": bad}).status_code == 422
    invoice.refresh_from_db()
    assert invoice.credit == D("0.00")


def test_the_reseller_marks_paid_and_refunds(client, world):
    invoice = world.a.invoice
    client.force_login(world.a.member)
    html = client.get(url("invoice_detail", invoice)).content.decode()
    assert 'data-section="mark-paid"' in html
    response = client.post(url("invoice_mark_paid", invoice), {"reference": "BANK-42"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.get(invoice=invoice).reference == "BANK-42"
    html = client.get(url("invoice_detail", invoice)).content.decode()
    assert 'data-section="refund"' in html
    client.post(url("invoice_refund", invoice), {"amount": "4.00", "to": "credit", "reason": ""})
    assert services.credit_balance(invoice.customer, "USD") == D("4.00")
    client.post(url("invoice_refund", invoice), {"amount": "", "to": "method", "reason": "dup"})
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REFUNDED


def test_a_customer_cannot_mark_paid_or_refund(client, world):
    invoice = world.a.invoice
    client.force_login(world.a.customer_user)
    response = client.post(url("invoice_mark_paid", invoice), {"reference": "FAKE"})
    assert response.status_code == 403
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    response = client.post(url("invoice_refund", invoice), {"to": "credit"})
    assert response.status_code == 403
    assert not Payment.objects.filter(amount__lt=0).exists()


def test_actions_refuse_get(client, world):
    client.force_login(world.a.member)
    for name in ("invoice_method", "invoice_pay", "invoice_credit", "invoice_mark_paid"):
        assert client.get(url(name, world.a.invoice)).status_code == 405


def test_the_live_invoice_does_not_offer_the_test_gateway(client, world, settings):
    settings.NAMEPORT_TEST_GATEWAY_LIVE = False
    card = method("Test card", gateway="test")
    client.force_login(world.a.customer_user)
    html = client.get(url("invoice_detail", world.a.invoice)).content.decode()
    assert f'data-method="{card.pk}"' not in html
    response = client.post(url("invoice_pay", world.a.invoice), {"method": card.pk})
    assert response.status_code == 422
    assert not Payment.objects.filter(method=card).exists()


def test_a_contact_without_payinvoice_does_not_see_invoices(client, world):
    contact_user = UserFactory()
    ContactFactory(customer=world.a.customer, user=contact_user, privileges={"billing": []})
    client.force_login(contact_user)
    assert client.get(url("invoice_detail", world.a.invoice)).status_code == 404
    assert client.post(url("invoice_credit", world.a.invoice), {}).status_code == 404


def test_the_credit_ledger_page_shows_balance_after_each_entry(client, world):
    customer = world.a.customer
    services.credit_add(actor=SYSTEM, customer=customer, amount="30", currency="USD", reason="Gift")
    services.credit_apply(actor=SYSTEM, invoice=world.a.invoice, amount="4")
    client.force_login(world.a.customer_user)
    html = client.get(reverse("billing:credit_ledger")).content.decode()
    assert 'data-balance="USD">26.00 USD' in html
    assert "Gift" in html and "+30.00 USD" in html and "-4.00 USD" in html
    client.force_login(world.b.customer_user)
    html = client.get(reverse("billing:credit_ledger")).content.decode()
    assert "Gift" not in html and "No account credit yet." in html


def test_invoice_lines_stay_one_fee_line_after_repicking(client, sandbox):
    customer, invoice, card = sandbox
    other = method("Other card", "1.00", "0", gateway="test")
    client.force_login(customer.user)
    for chosen in (card, other, card):
        client.post(url("invoice_method", invoice), {"method": chosen.pk})
    fees = InvoiceLine.objects.filter(invoice=invoice, type=services.FEE_LINE_TYPE)
    assert [f.description for f in fees] == ["Test card Payment Fee"]


def test_staff_adjust_credit_in_the_admin_through_the_service(client, world):
    customer = world.a.customer
    add = reverse("admin:billing_creditentry_add")
    client.force_login(world.staff)
    form = {"customer": customer.pk, "amount": "15.00", "currency": "USD", "reason": "Goodwill"}
    response = client.post(add, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = CreditEntry.objects.get()
    assert (entry.balance_after, entry.organisation_id) == (D("15.00"), customer.organisation_id)
    response = client.post(add, {**form, "amount": "-20.00", "reason": "Too much"})
    assert response.status_code == 200
    assert "The credit cannot go below zero." in response.content.decode()
    client.post(add, {**form, "amount": "-5.00", "reason": "Correction"})
    assert services.credit_balance(customer, "USD") == D("10.00")
    assert CreditEntry.objects.order_by("-id").first().balance_after == D("10.00")


def test_a_draft_is_the_sellers_until_it_is_issued(client, world):
    customer = world.a.customer
    draft = services.invoice_create(
        actor=SYSTEM, customer=customer, lines=[("Domain", D("10.00"), 1, True)]
    )
    client.force_login(world.a.customer_user)
    assert client.get(url("invoice_detail", draft)).status_code == 404
    client.force_login(world.a.member)
    assert client.get(url("invoice_detail", draft)).status_code == 200
    services.invoice_issue(actor=SYSTEM, invoice=draft)
    client.force_login(world.a.customer_user)
    assert client.get(url("invoice_detail", draft)).status_code == 200


def test_the_reseller_cancels_and_the_applied_credit_goes_back(client, world):
    invoice = world.a.invoice
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount="3", currency="USD", reason="x"
    )
    services.credit_apply(actor=SYSTEM, invoice=invoice)
    client.force_login(world.a.customer_user)
    assert client.post(url("invoice_cancel", invoice), {"reason": "no"}).status_code == 403
    client.force_login(world.a.member)
    assert 'data-section="cancel"' in client.get(url("invoice_detail", invoice)).content.decode()
    response = client.post(url("invoice_cancel", invoice), {"reason": "ordered twice"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert services.credit_balance(world.a.customer, "USD") == D("3.00")
    assert client.post(url("invoice_cancel", invoice), {}).status_code == 422

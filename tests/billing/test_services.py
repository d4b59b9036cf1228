"""billing.services: invoices to the cent, gapless numbers, credit, payments, fees, refunds."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from billing import services
from billing.models import CreditEntry, Invoice, InvoiceLine, Payment
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.billing.invoicing import customer_actor, issued_invoice, method, reseller_of, vat
from tests.customers.factories import CustomerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def customer():
    return CustomerFactory(country="NG")


def lines_of(invoice):
    return [(x.description, x.linetotal) for x in invoice.lines.order_by("id")]


# --- totals ------------------------------------------------------------------------------------


def test_totals_round_each_line_half_up_and_sum_the_line_taxes(customer):
    vat(rate="21.00")
    invoice = issued_invoice(
        customer,
        [
            ("Example Service", D("15.00"), 1, True),
            ("PayPal Payment Fee", D("1.24"), 1, True),
            ("Untaxed item", D("0.25"), D("0.5"), False),
        ],
    )
    # 15.00 -> 3.15 tax; 1.24 -> 0.2604 -> 0.26; seed 003's 3.41 on a 16.24 taxed base.
    assert invoice.subtotal == D("16.37")
    assert invoice.tax == D("3.41")
    assert invoice.taxrate == D("21.00") and invoice.taxname == "VAT"
    assert invoice.total == D("19.78")
    assert invoice.credit == D("0.00")
    assert lines_of(invoice)[2] == ("Untaxed item", D("0.13"))  # 0.125 rounds half up


def test_half_a_cent_rounds_up_per_line(customer):
    vat(rate="7.50")
    invoice = issued_invoice(customer, [("a", D("0.06"), 1, True), ("b", D("0.06"), 1, True)])
    # 0.0045 per line -> 0.00 each (half up only at .005): the sum of line taxes, not 0.01.
    assert invoice.tax == D("0.00")
    invoice = issued_invoice(customer, [("a", D("0.20"), 1, True)])
    assert invoice.tax == D("0.02")  # 0.015 -> 0.02


def test_second_tax_and_the_organisations_own_rule(customer):
    vat(rate="10.00")  # the platform's, overridden by the organisation's
    vat(rate="5.00", organisation=customer.organisation, name="Own VAT")
    vat(rate="2.50", level=2, name="Levy")
    invoice = issued_invoice(customer, [("Domain", D("40.00"), 1, True)])
    assert (invoice.tax, invoice.taxrate, invoice.taxname) == (D("2.00"), D("5.00"), "Own VAT")
    assert (invoice.tax2, invoice.taxrate2, invoice.taxname2) == (D("1.00"), D("2.50"), "Levy")
    assert invoice.total == D("43.00")


def test_rules_apply_by_the_invoice_date(customer):
    today = date.today()
    vat(rate="5.00", valid_to=today - timedelta(days=1))
    vat(rate="7.50", valid_from=today)
    vat(rate="99.00", valid_from=today + timedelta(days=1))
    assert issued_invoice(customer, [("Domain", D("100.00"), 1, True)]).tax == D("7.50")


def test_tax_exempt_customer_pays_no_tax(customer):
    vat(rate="7.50")
    vat(rate="2.50", level=2)
    customer.tax_exempt = True
    customer.save()
    invoice = issued_invoice(customer, [("Domain", D("100.00"), 1, True)])
    assert (invoice.tax, invoice.tax2, invoice.total) == (D("0.00"), D("0.00"), D("100.00"))


def test_a_customer_cannot_create_invoices_and_bad_lines_are_refused(customer):
    with pytest.raises(PermissionDenied):
        services.invoice_create(
            actor=customer_actor(customer), customer=customer, lines=[("x", D("1"), 1, True)]
        )
    actor = reseller_of(customer)
    for lines in ([], [("x", D("-1"), 1, True)], [("x", D("1"), 0, True)]):
        with pytest.raises(ValidationError):
            services.invoice_create(actor=actor, customer=customer, lines=lines)
    with pytest.raises(ValidationError, match="Unknown currency"):
        services.invoice_create(
            actor=actor, customer=customer, lines=[("x", D("1"), 1, True)], currency="XYZ"
        )
    assert not Invoice.objects.exists()


# --- numbering ---------------------------------------------------------------------------------


def test_numbers_are_gapless_per_organisation_and_year_and_sandbox_apart(customer):
    year_month = date.today().strftime("%Y/%m")
    numbers = [issued_invoice(customer).number for _ in range(3)]
    assert numbers == [f"{year_month}/1", f"{year_month}/2", f"{year_month}/3"]
    other = CustomerFactory()
    assert issued_invoice(other).number == f"{year_month}/1"
    sandbox = CustomerFactory(organisation=customer.organisation, livemode=False)
    assert issued_invoice(sandbox).number == f"TEST-{year_month}/1"
    assert issued_invoice(customer).number == f"{year_month}/4"


def test_a_failed_issue_uses_no_number_and_drafts_have_none(customer):
    actor = reseller_of(customer)
    draft = services.invoice_create(actor=actor, customer=customer, lines=[("x", D("5"), 1, True)])
    assert draft.number == "" and draft.status == Invoice.Status.DRAFT
    issued = services.invoice_issue(actor=actor, invoice=draft)
    with pytest.raises(ValidationError, match="Only a draft"):
        services.invoice_issue(actor=actor, invoice=issued)
    assert issued_invoice(customer).number.endswith("/2")


def test_issue_sends_the_invoice_email_after_commit(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invoice = issued_invoice(customer)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert invoice.number in mail.outbox[0].subject
    assert "10.00 USD" in mail.outbox[0].body
    assert invoice.issued_at is not None and invoice.status == Invoice.Status.UNPAID
    assert AuditEntry.objects.filter(action="invoice.issue", object_id=str(invoice.pk)).exists()


# --- credit ------------------------------------------------------------------------------------


def test_credit_add_and_apply_part_then_all(customer):
    actor = reseller_of(customer)
    invoice = issued_invoice(customer, [("Domain", D("30.00"), 1, True)])
    services.credit_add(actor=actor, customer=customer, amount="50.00", currency="USD", reason="x")
    payer = customer_actor(customer)
    assert services.credit_apply(actor=payer, invoice=invoice, amount="12.50") == D("12.50")
    invoice.refresh_from_db()
    assert (invoice.credit, invoice.balance_due, invoice.status) == (
        D("12.50"),
        D("17.50"),
        "Unpaid",
    )
    assert services.credit_apply(actor=payer, invoice=invoice) == D("17.50")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.datepaid is not None
    ledger = list(CreditEntry.objects.order_by("id").values_list("amount", "balance_after"))
    assert ledger == [
        (D("50.00"), D("50.00")),
        (D("-12.50"), D("37.50")),
        (D("-17.50"), D("20.00")),
    ]
    assert services.credit_balance(customer, "USD") == D("20.00")


def test_apply_all_takes_only_what_the_balance_has(customer):
    invoice = issued_invoice(customer, [("Domain", D("30.00"), 1, True)])
    services.credit_add(actor=SYSTEM, customer=customer, amount="8", currency="USD", reason="x")
    assert services.credit_apply(actor=SYSTEM, invoice=invoice) == D("8.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID and invoice.balance_due == D("22.00")
    with pytest.raises(ValidationError, match="no account credit"):
        services.credit_apply(actor=SYSTEM, invoice=invoice)


def test_credit_beyond_balance_or_due_is_refused(customer):
    invoice = issued_invoice(customer, [("Domain", D("10.00"), 1, True)])
    services.credit_add(actor=SYSTEM, customer=customer, amount="20", currency="USD", reason="x")
    with pytest.raises(ValidationError, match="more than is due"):
        services.credit_apply(actor=SYSTEM, invoice=invoice, amount="10.01")
    other = issued_invoice(customer, [("Domain", D("50.00"), 1, True)])
    with pytest.raises(ValidationError, match="more than the account credit"):
        services.credit_apply(actor=SYSTEM, invoice=other, amount="20.01")
    assert CreditEntry.objects.count() == 1


def test_credit_in_another_currency_does_not_count(customer):
    invoice = issued_invoice(customer, [("Domain", D("10.00"), 1, True)])
    services.credit_add(actor=SYSTEM, customer=customer, amount="20", currency="EUR", reason="x")
    with pytest.raises(ValidationError, match="no account credit"):
        services.credit_apply(actor=SYSTEM, invoice=invoice)


# --- fees and payments ---------------------------------------------------------------------------


def test_choosing_a_method_adds_one_fee_line_and_choosing_again_replaces_it(customer):
    vat(rate="10.00")
    invoice = issued_invoice(customer, [("Domain", D("100.00"), 1, True)])
    payer = customer_actor(customer)
    stripe = method("Stripe", "0.50", "2.90")
    paypal = method("PayPal", "0.30", "2.90", gateway="test")
    bank = method("Bank Transfer", "0", "0", gateway="bank_transfer")
    invoice = services.invoice_choose_method(actor=payer, invoice=invoice, method=stripe)
    # due 110.00 -> 0.50 + 3.19 = 3.69, taxed 0.37
    assert lines_of(invoice)[-1] == ("Stripe Payment Fee", D("3.69"))
    assert invoice.total == D("110.00") + D("3.69") + D("0.37")
    invoice = services.invoice_choose_method(actor=payer, invoice=invoice, method=paypal)
    assert InvoiceLine.objects.filter(invoice=invoice, type=services.FEE_LINE_TYPE).count() == 1
    assert lines_of(invoice)[-1] == ("PayPal Payment Fee", D("3.49"))
    invoice = services.invoice_choose_method(actor=payer, invoice=invoice, method=bank)
    assert len(lines_of(invoice)) == 1 and invoice.total == D("110.00")


def test_fee_is_only_changed_while_unpaid(customer):
    invoice = issued_invoice(customer)
    services.invoice_mark_paid(actor=reseller_of(customer), invoice=invoice, reference="B-1")
    with pytest.raises(ValidationError, match="Only an unpaid invoice"):
        services.invoice_choose_method(actor=SYSTEM, invoice=invoice, method=method())


def test_pay_records_a_payment_and_settles_once(customer):
    invoice = issued_invoice(customer, [("Domain", D("20.00"), 1, True)])
    paid_listener = []
    services.on_invoice_paid(paid_listener.append)
    try:
        payment = services.invoice_pay(
            actor=SYSTEM, invoice=invoice, method=None, reference="R1", idempotency_key="k1"
        )
    finally:
        services.remove_invoice_paid_listener(paid_listener.append)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert (payment.amount, payment.status) == (D("20.00"), Payment.Status.COMPLETED)
    assert [i.pk for i in paid_listener] == [invoice.pk]
    again = services.invoice_pay(
        actor=SYSTEM, invoice=invoice, method=None, reference="R1", idempotency_key="k1"
    )
    assert again.pk == payment.pk
    with pytest.raises(ValidationError, match="already paid"):
        services.invoice_pay(actor=SYSTEM, invoice=invoice, method=None, idempotency_key="k2")
    assert Payment.objects.count() == 1
    assert AuditEntry.objects.filter(action="invoice.paid", object_id=str(invoice.pk)).count() == 1


def test_pay_after_partial_credit_pays_what_is_left(customer):
    invoice = issued_invoice(customer, [("Domain", D("20.00"), 1, True)])
    services.credit_add(actor=SYSTEM, customer=customer, amount="5", currency="USD", reason="x")
    services.credit_apply(actor=SYSTEM, invoice=invoice)
    payment = services.invoice_pay(actor=SYSTEM, invoice=invoice, method=None, reference="R")
    assert payment.amount == D("15.00")


def test_a_customer_may_not_mark_paid(customer):
    invoice = issued_invoice(customer)
    with pytest.raises(PermissionDenied):
        services.invoice_mark_paid(actor=customer_actor(customer), invoice=invoice, reference="x")
    with pytest.raises(ValidationError, match="reference"):
        services.invoice_mark_paid(actor=reseller_of(customer), invoice=invoice, reference=" ")


# --- refunds -------------------------------------------------------------------------------------


def test_refund_to_method_part_then_rest_marks_refunded(customer):
    invoice = issued_invoice(customer, [("Domain", D("20.00"), 1, True)])
    actor = reseller_of(customer)
    payment = services.invoice_mark_paid(actor=actor, invoice=invoice, reference="B-7")
    assert services.invoice_refund(actor=actor, invoice=invoice, amount="5.00") == D("5.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    refund = Payment.objects.get(refund_of=payment)
    assert refund.amount == D("-5.00")
    with pytest.raises(ValidationError, match=r"At most 15\.00"):
        services.invoice_refund(actor=actor, invoice=invoice, amount="15.01")
    assert services.invoice_refund(actor=actor, invoice=invoice) == D("15.00")
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.status == Invoice.Status.REFUNDED
    assert payment.status == Payment.Status.REFUNDED
    with pytest.raises(ValidationError, match="Only a paid invoice"):
        services.invoice_refund(actor=actor, invoice=invoice, amount="1")


def test_refund_to_credit_includes_credit_applied(customer):
    invoice = issued_invoice(customer, [("Domain", D("20.00"), 1, True)])
    actor = reseller_of(customer)
    services.credit_add(actor=actor, customer=customer, amount="5", currency="USD", reason="x")
    services.credit_apply(actor=actor, invoice=invoice)
    services.invoice_mark_paid(actor=actor, invoice=invoice, reference="B-8")
    with pytest.raises(ValidationError, match=r"At most 15\.00"):
        services.invoice_refund(actor=actor, invoice=invoice, amount="20", to="method")
    assert services.invoice_refund(actor=actor, invoice=invoice, to="credit") == D("20.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.REFUNDED
    assert services.credit_balance(customer, "USD") == D("20.00")


def test_a_customer_may_not_refund(customer):
    invoice = issued_invoice(customer)
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    with pytest.raises(PermissionDenied):
        services.invoice_refund(actor=customer_actor(customer), invoice=invoice)


# --- cancel --------------------------------------------------------------------------------------


def test_cancel_gives_applied_credit_back(customer):
    invoice = issued_invoice(customer, [("Domain", D("20.00"), 1, True)])
    actor = reseller_of(customer)
    services.credit_add(actor=actor, customer=customer, amount="7", currency="USD", reason="x")
    services.credit_apply(actor=actor, invoice=invoice)
    services.invoice_cancel(actor=actor, invoice=invoice, reason="ordered by mistake")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED and invoice.credit == D("0.00")
    assert services.credit_balance(customer, "USD") == D("7.00")
    assert CreditEntry.objects.order_by("-id").first().balance_after == D("7.00")
    with pytest.raises(ValidationError, match="Only a draft or unpaid"):
        services.invoice_cancel(actor=actor, invoice=invoice)
    assert AuditEntry.objects.filter(action="invoice.cancel").count() == 1


def test_a_paid_invoice_cannot_be_cancelled(customer):
    invoice = issued_invoice(customer)
    services.invoice_mark_paid(actor=SYSTEM, invoice=invoice, reference="B")
    with pytest.raises(ValidationError):
        services.invoice_cancel(actor=SYSTEM, invoice=invoice)


def test_another_organisations_reseller_may_not_touch_the_invoice(customer):
    invoice = issued_invoice(customer)
    outsider = reseller_of(CustomerFactory(organisation=OrganisationFactory()))
    for call in (
        lambda: services.invoice_cancel(actor=outsider, invoice=invoice),
        lambda: services.invoice_mark_paid(actor=outsider, invoice=invoice, reference="x"),
        lambda: services.credit_apply(actor=outsider, invoice=invoice),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_applying_credit_takes_the_payment_fee_off_and_paying_puts_it_back(customer):
    invoice = issued_invoice(customer, [("Domain", D("100.00"), 1, True)])
    stripe = method("Stripe", "0.50", "2.90")
    invoice = services.invoice_choose_method(actor=SYSTEM, invoice=invoice, method=stripe)
    assert invoice.total == D("103.40")
    services.credit_add(actor=SYSTEM, customer=customer, amount="40", currency="USD", reason="x")
    services.credit_apply(actor=SYSTEM, invoice=invoice)
    invoice.refresh_from_db()
    assert (invoice.total, invoice.credit) == (D("100.00"), D("40.00"))
    assert not invoice.lines.filter(type=services.FEE_LINE_TYPE).exists()
    payment = services.invoice_pay(actor=SYSTEM, invoice=invoice, method=stripe, reference="c")
    # The fee on the 60.00 left: 0.50 + 1.74
    assert (payment.fee, payment.amount) == (D("2.24"), D("62.24"))

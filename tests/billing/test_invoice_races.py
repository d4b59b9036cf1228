"""Invoices under concurrency, with two real concurrent transactions on PostgreSQL
(``tests.domains.test_races.race``: the first holds its transaction open until the second waits
for a lock or is done).

Two payments of one invoice settle it once: the second waits for the invoice row's lock, then
finds it Paid and is refused. Two invoices issued at once get consecutive numbers, also when the
year's sequence row does not exist yet (both try to create it; the loser waits on the unique index,
then locks the winner's row).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing import services
from billing.models import Invoice, InvoiceSequence, Payment
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.test_races import race

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs two concurrent transactions with row locks (DATABASE_URL=postgres://...)",
    ),
]


def _draft(customer) -> Invoice:
    return services.invoice_create(
        actor=SYSTEM, customer=customer, lines=[("Domain", Decimal("25.00"), 1, True)]
    )


def _fresh(invoice: Invoice) -> Invoice:
    return Invoice.objects.get(pk=invoice.pk)


def test_two_concurrent_payments_settle_the_invoice_once():
    invoice = services.invoice_issue(actor=SYSTEM, invoice=_draft(CustomerFactory(country="")))

    def pay(key):
        return lambda: services.invoice_pay(
            actor=SYSTEM, invoice=_fresh(invoice), method=None, reference=key, idempotency_key=key
        )

    results = race(pay("first"), pay("second"))
    assert isinstance(results["first"], Payment)
    assert isinstance(results["second"], ValidationError)
    assert services.ALREADY_PAID in results["second"].messages
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert list(Payment.objects.values_list("reference", "amount")) == [("first", Decimal("25.00"))]


def test_two_concurrent_credit_applications_never_overdraw_the_credit():
    customer = CustomerFactory(country="")
    one = services.invoice_issue(actor=SYSTEM, invoice=_draft(customer))
    two = services.invoice_issue(actor=SYSTEM, invoice=_draft(customer))
    services.credit_add(actor=SYSTEM, customer=customer, amount="30", currency="USD", reason="x")

    results = race(
        lambda: services.credit_apply(actor=SYSTEM, invoice=_fresh(one), amount="20"),
        lambda: services.credit_apply(actor=SYSTEM, invoice=_fresh(two), amount="20"),
    )
    assert results["first"] == Decimal("20.00")
    assert isinstance(results["second"], ValidationError)
    assert services.credit_balance(customer, "USD") == Decimal("10.00")


@pytest.mark.parametrize("sequence_exists", [True, False])
def test_two_concurrent_issues_get_consecutive_numbers(sequence_exists):
    customer = CustomerFactory(country="")
    first, second = _draft(customer), _draft(customer)
    if sequence_exists:
        InvoiceSequence.objects.create(
            organisation=customer.organisation, year=date.today().year, livemode=True, last=41
        )

    results = race(
        lambda: services.invoice_issue(actor=SYSTEM, invoice=_fresh(first)).number,
        lambda: services.invoice_issue(actor=SYSTEM, invoice=_fresh(second)).number,
    )
    start = 42 if sequence_exists else 1
    prefix = date.today().strftime("%Y/%m/")
    assert [results["first"], results["second"]] == [f"{prefix}{start}", f"{prefix}{start + 1}"]
    sequence = InvoiceSequence.objects.get(organisation=customer.organisation)
    assert sequence.last == start + 1

"""Renewal billing (billing.renewals) cannot be made to pay or renew the wrong thing: sandbox
renewals never touch live credit or live numbering, credit in another currency never pays a
renewal, a renewal invoice cannot be paid twice nor its renewal queued twice, and a domain that
can no longer be renewed when its invoice is paid is not renewed (the payment still stands and
goes back as account credit, the reason is audited, nothing crashes)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import renewals, services
from billing.models import CreditEntry, Invoice, InvoiceSequence, Price
from domains.models import Domain, DomainStatus, RegistrarOperation
from portal.models import AuditEntry
from tests.billing.invoicing import reseller_of
from tests.customers.factories import CustomerFactory, OrganisationFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def com():
    account = RegistrarAccountFactory(name="Sandbox", settings={"balance": "1000.00"})
    tld = TldFactory(name="com", registrar_account=account)
    Price.objects.create(tld=tld, action="renew", currency="USD", cost="8.00", sell="10.00")
    return tld


def expiring(customer, tld, days=5, autorenew=True, **extra):
    return DomainFactory(
        customer=customer,
        tld=tld,
        autorenew=autorenew,
        expires_at=datetime.combine(NOW.date() + timedelta(days=days), time(12), tzinfo=UTC),
        **extra,
    )


def renewal_invoice(domain) -> Invoice:
    return Invoice.objects.get(lines__domain=domain, lines__type="DomainRenew")


def test_a_sandbox_renewal_is_paid_from_sandbox_credit_and_numbered_apart(com):
    org = OrganisationFactory()
    sandbox = CustomerFactory(organisation=org, livemode=False)
    services.credit_add(
        actor=reseller_of(sandbox), customer=sandbox, amount="20.00", currency="USD", reason="t"
    )
    domain = expiring(sandbox, com)

    renewals.renewals_sweep(now=NOW)

    invoice = renewal_invoice(domain)
    assert not invoice.livemode and invoice.number.startswith("TEST-")
    assert invoice.status == Invoice.Status.PAID
    assert not InvoiceSequence.objects.filter(organisation=org, livemode=True).exists()
    assert not CreditEntry.objects.filter(customer=sandbox, livemode=True).exists()


def test_credit_in_another_currency_never_pays_a_renewal(com):
    customer = CustomerFactory()
    CreditEntry.objects.create(
        organisation=customer.organisation,
        customer=customer,
        amount=Decimal("100.00"),
        currency="EUR",
        balance_after=Decimal("100.00"),
        reason="EUR credit",
    )
    domain = expiring(customer, com)

    renewals.renewals_sweep(now=NOW)

    assert renewal_invoice(domain).status == Invoice.Status.UNPAID
    assert not RegistrarOperation.objects.filter(domain=domain, kind="renew").exists()


def test_a_renewal_invoice_is_paid_once_and_renewed_once(com):
    customer = CustomerFactory()
    domain = expiring(customer, com, autorenew=False)
    renewals.renewals_sweep(now=NOW)
    invoice = renewal_invoice(domain)
    reseller = reseller_of(customer)

    services.invoice_pay(actor=reseller, invoice=invoice, method=None, reference="A")
    with pytest.raises(ValidationError, match="already paid"):
        services.invoice_pay(actor=reseller, invoice=invoice, method=None, reference="B")

    assert RegistrarOperation.objects.filter(domain=domain, kind="renew").count() == 1


def test_a_domain_that_left_the_renewable_states_is_not_renewed_when_paid(com):
    customer = CustomerFactory()
    domain = expiring(customer, com, days=-2, autorenew=False, status=DomainStatus.GRACE)
    renewals.renewals_sweep(now=NOW)
    invoice = renewal_invoice(domain)
    Domain.objects.filter(pk=domain.pk).update(status=DomainStatus.REDEMPTION)

    services.invoice_pay(actor=reseller_of(customer), invoice=invoice, method=None, reference="A")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert not RegistrarOperation.objects.filter(domain=domain, kind="renew").exists()
    entry = AuditEntry.objects.get(action="renewal.not_queued", object_id=str(invoice.pk))
    assert entry.data["domain"] == domain.name and entry.data["reason"]
    assert services.credit_balance(customer, "USD") == invoice.total, "paid back as credit"
    assert "credited to your account" in invoice.notes

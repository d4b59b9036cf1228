"""billing.renewals: the daily sweep raises renewal invoices N days before expiry (once), priced
as the customer sees it, pays auto-renewals from credit and queues the renewal once, reminds at
30, 14, 7 and 1 days, numbers sandbox and live invoices apart and gaplessly."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from billing import renewals, services
from billing.models import Invoice, InvoiceLine, InvoiceSequence, MarkupRule, Price
from domains.models import DomainStatus, RegistrarOperation
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.billing.invoicing import issued_invoice, reseller_of, vat
from tests.customers.factories import CustomerFactory, OrganisationFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def expiring_in(days: int, hour: int = 12) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(hour), tzinfo=UTC)


def sweep(days_later: int = 0, **kwargs) -> dict:
    return renewals.renewals_sweep(now=NOW + timedelta(days=days_later), **kwargs)


def renewal_invoices(domain) -> list[Invoice]:
    return list(
        Invoice.objects.filter(lines__domain=domain, lines__type="DomainRenew").order_by("pk")
    )


@pytest.fixture(autouse=True)
def eager_tasks():
    """The sweep's e-mails are Celery tasks queued after the commit: run them at once."""
    from portal.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def com():
    account = RegistrarAccountFactory(name="Sandbox", settings={"balance": "1000.00"})
    tld = TldFactory(name="com", registrar_account=account)
    Price.objects.create(tld=tld, action="renew", currency="USD", cost="8.00", sell="10.00")
    return tld


@pytest.fixture
def org():
    return OrganisationFactory(renewal_invoice_days=10)


def domain_of(org, com, days: int, *, autorenew: bool = False, customer=None, **extra):
    customer = customer or CustomerFactory(organisation=org)
    return DomainFactory(
        customer=customer,
        tld=com,
        expires_at=expiring_in(days),
        autorenew=autorenew,
        **extra,
    )


def test_the_invoice_is_raised_n_days_before_expiry_once(org, com):
    due = domain_of(org, com, 10)
    tomorrow = domain_of(org, com, 11)
    later = domain_of(org, com, 40)

    assert sweep()["invoiced"] == 1
    assert sweep().get("invoiced", 0) == 0, "a second sweep raises nothing more"
    [invoice] = renewal_invoices(due)
    assert invoice.status == Invoice.Status.UNPAID
    assert invoice.number == f"{TODAY.year}/{TODAY.month:02d}/1"
    assert invoice.date == TODAY
    assert invoice.duedate == due.expires_at.date()
    [line] = invoice.lines.all()
    assert line.renews_expiry == due.expires_at
    assert due.name in line.description
    assert renewal_invoices(tomorrow) == [] and renewal_invoices(later) == []

    assert sweep(days_later=1)["invoiced"] == 1, "the next day's domain, the next day"
    assert len(renewal_invoices(tomorrow)) == 1
    assert len(renewal_invoices(due)) == 1
    assert renewal_invoices(later) == []


def test_the_organisation_sets_n_and_a_missed_day_is_caught_up(com):
    org = OrganisationFactory(renewal_invoice_days=30)
    at_30 = domain_of(org, com, 30)
    at_31 = domain_of(org, com, 31)
    missed = domain_of(org, com, 12)

    sweep()

    assert len(renewal_invoices(at_30)) == 1
    assert len(renewal_invoices(missed)) == 1
    assert renewal_invoices(at_31) == []


def test_only_renewable_domains_are_invoiced(org, com):
    invoiced = {
        status: domain_of(org, com, days, status=status)
        for status, days in [
            (DomainStatus.ACTIVE, 5),
            (DomainStatus.GRACE, -3),
            (DomainStatus.EXPIRED, -1),
        ]
    }
    skipped = [
        domain_of(org, com, 5, status=status)
        for status in [
            DomainStatus.PENDING_REGISTRATION,
            DomainStatus.PENDING_TRANSFER,
            DomainStatus.REDEMPTION,
            DomainStatus.PENDING_DELETE,
            DomainStatus.DELETED,
            DomainStatus.TRANSFERRED_AWAY,
            DomainStatus.SUSPENDED,
        ]
    ]

    assert sweep()["invoiced"] == 3
    for domain in invoiced.values():
        assert len(renewal_invoices(domain)) == 1
    grace_invoice = renewal_invoices(invoiced[DomainStatus.GRACE])[0]
    assert grace_invoice.duedate == TODAY, "raised after the expiry: due today"
    for domain in skipped:
        assert renewal_invoices(domain) == [], domain.status


def test_a_cancelled_renewal_invoice_is_raised_again(org, com):
    domain = domain_of(org, com, 5)
    sweep()
    [first] = renewal_invoices(domain)
    services.invoice_cancel(actor=SYSTEM, invoice=first)

    assert sweep()["invoiced"] == 1
    assert [i.status for i in renewal_invoices(domain)] == ["Cancelled", "Unpaid"]


def test_priced_at_the_customer_price_and_kept_after_a_price_change(org, com):
    MarkupRule.objects.create(organisation=org, action="renew", percent="20")
    first = domain_of(org, com, 10)
    other_org_domain = domain_of(OrganisationFactory(renewal_invoice_days=10), com, 10)

    sweep()
    [invoice] = renewal_invoices(first)
    assert invoice.total == Decimal("12.00")  # the platform's 10.00 under the reseller's +20 %
    assert renewal_invoices(other_org_domain)[0].total == Decimal("10.00")

    Price.objects.filter(tld=com, action="renew").update(sell=Decimal("20.00"))
    second = domain_of(org, com, 10)
    sweep()

    invoice.refresh_from_db()
    assert invoice.total == Decimal("12.00"), "an invoice already raised keeps its price"
    assert invoice.lines.get().amount == Decimal("12.00")
    assert renewal_invoices(second)[0].total == Decimal("24.00")


def test_a_domain_without_a_price_is_skipped_and_counted(org, com):
    account = RegistrarAccountFactory(name="Sandbox")
    unpriced = TldFactory(name="xyz", registrar_account=account)
    domain = DomainFactory(
        customer=CustomerFactory(organisation=org),
        tld=unpriced,
        name="nopricehere.xyz",
        name_puny="nopricehere.xyz",
        expires_at=expiring_in(3),
    )
    euro = domain_of(org, com, 3, customer=CustomerFactory(organisation=org, currency="EUR"))

    counts = sweep()

    assert counts["skipped_no_price"] == 2  # no .xyz price; no EUR price nor rate for .com
    assert renewal_invoices(domain) == [] and renewal_invoices(euro) == []


def test_totals_and_tax_are_those_invoice_create_computes(org, com):
    Price.objects.filter(tld=com, action="renew").update(sell=Decimal("10.05"))
    vat(rate="7.50")
    vat(rate="1.25", level=2, name="Stamp duty")
    customer = CustomerFactory(organisation=org)
    domain = domain_of(org, com, 4, customer=customer)

    sweep()

    [bulk] = renewal_invoices(domain)
    line = bulk.lines.get()
    draft = services.invoice_create(
        actor=SYSTEM,
        customer=customer,
        lines=[services.Line(line.description, line.amount, target=domain, type="DomainRenew")],
        on=TODAY,
    )
    fields = ["subtotal", "tax", "taxrate", "taxname", "tax2", "taxrate2", "taxname2", "total"]
    assert {f: getattr(bulk, f) for f in fields} == {f: getattr(draft, f) for f in fields}
    assert bulk.tax == Decimal("0.75") and bulk.tax2 == Decimal("0.13")
    assert bulk.total == Decimal("10.93")
    assert line.linetotal == draft.lines.get().linetotal
    [entry] = AuditEntry.objects.filter(object_type="billing.invoice", object_id=str(bulk.pk))
    assert entry.action == "invoice.issue" and entry.actor == str(SYSTEM)
    assert entry.data["number"] == bulk.number and entry.data["total"] == "10.93"
    assert entry.data["renewal"] == domain.name and entry.data["renews_expiry"]


def test_the_customer_is_mailed_the_issued_invoice(org, com, django_capture_on_commit_callbacks):
    domain = domain_of(org, com, 10)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sweep()

    [invoice] = renewal_invoices(domain)
    [message] = mail.outbox
    assert message.to == [domain.customer.email]
    assert invoice.number in message.subject


def test_auto_renew_is_paid_from_credit_and_the_renewal_queued_once(org, com):
    customer = CustomerFactory(organisation=org)
    services.credit_add(
        actor=reseller_of(customer), customer=customer, amount="25.00", currency="USD", reason="x"
    )
    domain = domain_of(org, com, 10, autorenew=True, customer=customer)

    counts = sweep()

    assert counts["autorenew_paid"] == 1
    [invoice] = renewal_invoices(domain)
    assert invoice.status == Invoice.Status.PAID
    assert invoice.credit == invoice.total == Decimal("10.00")
    assert services.credit_balance(customer, "USD") == Decimal("15.00")
    renewals_of = RegistrarOperation.objects.filter(domain=domain, kind="renew")
    [operation] = renewals_of
    assert operation.payload["years"] == 1
    assert operation.payload["cur_exp_date"] == domain.expires_at.date().isoformat()

    sweep()
    renewals.queue_paid_renewals(invoice)  # the listener called again: nothing more
    assert renewals_of.count() == 1
    assert services.credit_balance(customer, "USD") == Decimal("15.00")


def test_auto_renew_with_too_little_credit_stays_unpaid(org, com):
    customer = CustomerFactory(organisation=org)
    services.credit_add(
        actor=reseller_of(customer), customer=customer, amount="9.99", currency="USD", reason="x"
    )
    domain = domain_of(org, com, 10, autorenew=True, customer=customer)
    manual = domain_of(org, com, 10, autorenew=False, customer=customer)

    counts = sweep()

    assert counts["autorenew_short"] == 1
    for each in (domain, manual):
        [invoice] = renewal_invoices(each)
        assert invoice.status == Invoice.Status.UNPAID and invoice.credit == 0
    assert services.credit_balance(customer, "USD") == Decimal("9.99"), "no part applied"
    assert not RegistrarOperation.objects.filter(domain__in=[domain, manual], kind="renew")


def test_paying_the_invoice_later_queues_the_renewal_once(org, com):
    domain = domain_of(org, com, 10)
    sweep()
    [invoice] = renewal_invoices(domain)
    already = domain_of(org, com, 10)
    sweep()
    [other] = renewal_invoices(already)
    from domains.services import domain_renew

    domain_renew(actor=SYSTEM, domain=already, years=1)  # the customer renewed by hand first

    reseller = reseller_of(domain.customer)
    services.invoice_mark_paid(actor=reseller, invoice=invoice, reference="BANK-1")
    services.invoice_mark_paid(actor=reseller, invoice=other, reference="BANK-2")

    assert RegistrarOperation.objects.filter(domain=domain, kind="renew").count() == 1
    assert RegistrarOperation.objects.filter(domain=already, kind="renew").count() == 1
    assert services.credit_balance(domain.customer, "USD") == 0
    # The term was renewed another way: the second payment goes back as account credit.
    assert services.credit_balance(already.customer, "USD") == Decimal("10.00")
    other.refresh_from_db()
    assert "credited to your account" in other.notes


def test_no_invoice_while_a_renewal_is_queued(org, com):
    from domains.services import domain_renew

    domain = domain_of(org, com, 5)
    operation = domain_renew(actor=SYSTEM, domain=domain, years=1)

    assert sweep().get("invoiced", 0) == 0
    assert renewal_invoices(domain) == []

    RegistrarOperation.objects.filter(pk=operation.pk).update(status="failed")
    assert sweep()["invoiced"] == 1, "a failed renewal leaves the domain to invoice"


def test_reminders_at_30_14_7_and_1_days_each_once(com, django_capture_on_commit_callbacks):
    org = OrganisationFactory(renewal_invoice_days=40)
    domain = domain_of(org, com, 40)
    sweep()
    [invoice] = renewal_invoices(domain)
    mail.outbox.clear()

    sent = []
    for day in range(0, 41):
        for _ in range(2):  # two sweeps a day: never twice the same reminder
            with django_capture_on_commit_callbacks(execute=True):
                sweep(days_later=day)
        sent.extend(m.subject for m in mail.outbox)
        mail.outbox.clear()

    assert len(sent) == 4, sent
    for subject, when in zip(
        sent, ["in 30 days", "in 14 days", "in 7 days", "tomorrow"], strict=True
    ):
        assert when in subject and invoice.number in subject
    assert InvoiceLine.objects.get(invoice=invoice).renewal_reminded_days == 1


def test_a_paid_invoice_is_not_reminded(com, django_capture_on_commit_callbacks):
    org = OrganisationFactory(renewal_invoice_days=40)
    domain = domain_of(org, com, 40)
    sweep()
    [invoice] = renewal_invoices(domain)
    services.invoice_mark_paid(actor=reseller_of(domain.customer), invoice=invoice, reference="B")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sweep(days_later=10)

    assert mail.outbox == []


def test_sandbox_domains_get_sandbox_numbered_invoices(org, com):
    live = domain_of(org, com, 5)
    sandbox = domain_of(org, com, 5, customer=CustomerFactory(organisation=org, livemode=False))

    sweep()

    [live_invoice] = renewal_invoices(live)
    [sandbox_invoice] = renewal_invoices(sandbox)
    assert live_invoice.livemode and live_invoice.number == f"{TODAY:%Y/%m}/1"
    assert not sandbox_invoice.livemode
    assert sandbox_invoice.number == f"TEST-{TODAY:%Y/%m}/1"
    assert InvoiceSequence.objects.get(organisation=org, livemode=True).last == 1


def test_numbers_are_gapless_across_a_bulk_run_in_chunks(org, com):
    customer = CustomerFactory(organisation=org)
    before = issued_invoice(customer, on=TODAY)
    domains = [domain_of(org, com, 3 + i % 5, customer=customer) for i in range(7)]

    assert sweep(chunk_size=2)["invoiced"] == 7
    after = issued_invoice(customer, on=TODAY)

    numbers = [before.number]
    numbers += [renewal_invoices(d)[0].number for d in domains]
    numbers.append(after.number)
    assert [int(n.rsplit("/", 1)[1]) for n in numbers] == list(range(1, 10))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two concurrent transactions with row locks (run with DATABASE_URL=postgres://)",
)
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_raise_one_invoice_per_domain():
    from tests.domains.test_races import race

    account = RegistrarAccountFactory(name="Sandbox", settings={"balance": "1000.00"})
    tld = TldFactory(name="com", registrar_account=account)
    Price.objects.create(tld=tld, action="renew", currency="USD", cost="8.00", sell="10.00")
    org = OrganisationFactory(renewal_invoice_days=10)
    domains = [domain_of(org, tld, 2 + i) for i in range(3)]

    results = race(lambda: sweep(), lambda: sweep())

    assert results["first"]["invoiced"] == 3
    assert results["second"].get("invoiced", 0) == 0
    for domain in domains:
        assert len(renewal_invoices(domain)) == 1
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"{TODAY:%Y/%m}/{n}" for n in (1, 2, 3)]


def test_the_daily_beat_task_runs_the_sweep(org, com, settings):
    from billing import tasks
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["billing-renewals"]
    assert entry["task"] == "billing.tasks.billing_renewals_sweep"
    assert entry["schedule"] == float(settings.NAMEPORT_RENEWALS_SECONDS) == 86400.0
    assert entry["task"] in app.tasks, "the worker knows the task"
    domain = DomainFactory(
        customer=CustomerFactory(organisation=org),
        tld=com,
        expires_at=datetime.now(UTC) + timedelta(days=3),
    )

    assert tasks.billing_renewals_sweep.delay().get()["invoiced"] == 1
    assert len(renewal_invoices(domain)) == 1


def test_a_paid_renewal_that_does_not_happen_is_credited_back_once(org, com):
    from domains.services import operation_cancel

    domain = domain_of(org, com, 5)
    sweep()
    [invoice] = renewal_invoices(domain)
    services.invoice_mark_paid(actor=reseller_of(domain.customer), invoice=invoice, reference="B-1")
    operation = RegistrarOperation.objects.get(domain=domain, kind="renew")

    operation_cancel(actor=SYSTEM, operation=operation)
    operation.refresh_from_db()
    renewals.credit_back_failed_renewal(operation=operation)  # told twice: credited once

    assert services.credit_balance(domain.customer, "USD") == invoice.total
    invoice.refresh_from_db()
    assert f"{invoice.total} USD credited to your account" in invoice.notes
    assert "not completed by the registry" in invoice.notes
    assert AuditEntry.objects.filter(action="renewal.credited_back").count() == 1


def _renewal_credited_back(org, com):
    from domains.services import operation_cancel

    domain = domain_of(org, com, 5)
    sweep()
    [invoice] = renewal_invoices(domain)
    services.invoice_mark_paid(actor=reseller_of(domain.customer), invoice=invoice, reference="B-1")
    operation = RegistrarOperation.objects.get(domain=domain, kind="renew")
    operation_cancel(actor=SYSTEM, operation=operation)
    operation.refresh_from_db()
    assert services.credit_balance(domain.customer, "USD") == invoice.total
    return domain, invoice, operation


def test_a_staff_retry_of_a_credited_renewal_takes_the_credit_back(org, com):
    from domains.services import operation_cancel, operation_retry

    domain, invoice, operation = _renewal_credited_back(org, com)

    operation_retry(actor=SYSTEM, operation=operation)

    assert services.credit_balance(domain.customer, "USD") == Decimal("0.00")
    invoice.refresh_from_db()
    assert "the renewal is retried" in invoice.notes
    # Cancelled again: credited back again, once more (a new round), never twice.
    operation.refresh_from_db()
    operation_cancel(actor=SYSTEM, operation=operation)
    operation.refresh_from_db()
    renewals.credit_back_failed_renewal(operation=operation)
    assert services.credit_balance(domain.customer, "USD") == invoice.total
    assert AuditEntry.objects.filter(action="renewal.credited_back").count() == 2


def test_a_renewal_retry_is_refused_when_the_credit_is_spent(org, com):
    from domains.services import operation_retry

    domain, invoice, operation = _renewal_credited_back(org, com)
    services.credit_adjust(
        actor=SYSTEM,
        customer=domain.customer,
        amount=-invoice.total,
        currency="USD",
        reason="Spent on something else",
    )

    with pytest.raises(ValidationError, match="has used that credit since"):
        operation_retry(actor=SYSTEM, operation=operation)

    operation.refresh_from_db()
    assert operation.status == RegistrarOperation.Status.CANCELLED
    assert not AuditEntry.objects.filter(action="renewal.credit_taken_back").exists()

"""The reseller's account with the platform is charged when a worker claims a costly operation,
through the real worker paths (``outbox.run_operation`` and the drain's ``claim_due`` /
``record_many``) against the sandbox registry: at the platform's cost, once per round, refunded
when it fails for good, held as "awaiting funds" (not sent) when the balance cannot pay, resumed
by a top-up; the same when the registrar itself has no funds."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from billing import ledger
from billing.models import AccountEntry, Price, ResellerAccount
from domains import dispatch, outbox
from domains.models import (
    Domain,
    DomainStatus,
    RegistrarOperation,
    SandboxDomain,
    SandboxTransaction,
)
from domains.policies import AWAITING_FUNDS_TEXT, operation_message_for
from domains.services import domain_register, domain_set_lock, operation_cancel, operation_retry
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from support.models import Ticket
from tests.billing.ledger_helpers import balance_of, fund
from tests.customers.factories import CustomerFactory, MembershipFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Op = RegistrarOperation
Status = RegistrarOperation.Status
Kind = AccountEntry.Kind


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox", settings={"balance": "1000.00"})


@pytest.fixture
def tld(account):
    tld = TldFactory(name="com", registrar_account=account)
    # Registry cost 8.00; the platform sells at 10.00 (what the reseller pays); 2 years: 19.00.
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=8, sell=10)
    Price.objects.create(tld=tld, action="register", years=2, currency="USD", cost=16, sell=19)
    Price.objects.create(tld=tld, action="renew", years=1, currency="USD", cost=8, sell=11)
    return tld


@pytest.fixture
def customer():
    return CustomerFactory(user=UserFactory())


@pytest.fixture(autouse=True)
def no_messages(monkeypatch):
    """Operations are run by hand here: what would be sent to Celery is recorded instead."""
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send", sent.extend)
    return sent


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block leaves for after commit (the resumed operations' messages)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def register(customer, name="charged.com", **kwargs):
    domain = domain_register(actor=SYSTEM, customer=customer, name=name, **kwargs)
    return Op.objects.get(domain=domain, kind=Op.Kind.REGISTER)


def charges(operation):
    return list(
        AccountEntry.objects.filter(operation=operation)
        .order_by("id")
        .values_list("kind", "amount", "round")
    )


def drain_once():
    """One round of the drain's claim and record, in this thread."""
    claimed = outbox.claim_due(100)
    return outbox.record_many([(op, *outbox._attempt(op)) for op in claimed])


class TestChargedAtCost:
    def test_a_registration_is_charged_the_platform_price_once(self, tld, customer):
        fund(customer.organisation, "50.00")
        operation = register(customer)
        assert balance_of(customer.organisation) == Decimal("50.00"), "nothing before the claim"
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert charges(operation) == [(Kind.CHARGE, Decimal("-10.00"), 1)]
        assert balance_of(customer.organisation) == Decimal("40.00")
        entry = AccountEntry.objects.get(operation=operation)
        assert entry.balance_after == Decimal("40.00") and "charged.com" in entry.note
        assert AuditEntry.objects.filter(action="reseller_account.charge").count() == 1

    def test_a_multi_year_registration_uses_the_row_of_its_term(self, tld, customer):
        fund(customer.organisation, "50.00")
        operation = register(customer, years=2)
        outbox.run_operation(operation.pk)
        assert charges(operation) == [(Kind.CHARGE, Decimal("-19.00"), 1)]

    def test_without_a_row_for_the_term_it_is_the_one_year_price_times_the_years(
        self, tld, customer
    ):
        fund(customer.organisation, "50.00")
        operation = register(customer, years=3)
        outbox.run_operation(operation.pk)
        assert charges(operation) == [(Kind.CHARGE, Decimal("-30.00"), 1)]

    def test_a_retry_after_a_transient_error_is_not_charged_again(self, tld, customer, account):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1000.00", "failure_rate": 1.0, "failure_kind": "transient"}
        account.save()
        operation = register(customer)
        assert outbox.run_operation(operation.pk).status == Status.PENDING
        account.settings = {"balance": "1000.00"}
        account.save()
        Op.objects.filter(pk=operation.pk).update(next_attempt_at=operation.created_at)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert charges(operation) == [(Kind.CHARGE, Decimal("-10.00"), 1)]
        assert balance_of(customer.organisation) == Decimal("40.00")

    def test_a_free_operation_is_not_charged(self, tld, customer):
        fund(customer.organisation, "50.00")
        operation = register(customer)
        outbox.run_operation(operation.pk)
        drain_once()  # the follow-ups the registration queued (lock, privacy...): free
        assert Op.objects.filter(status=Status.SUCCEEDED).count() > 1
        assert AccountEntry.objects.filter(kind=Kind.CHARGE).count() == 1
        assert balance_of(customer.organisation) == Decimal("40.00")

    def test_a_tld_without_a_price_is_not_charged(self, account, customer):
        TldFactory(name="net", registrar_account=account)
        operation = register(customer, name="free.net")
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert not AccountEntry.objects.exists()

    def test_the_drain_charges_each_claimed_operation_once(self, tld, customer):
        fund(customer.organisation, "100.00")
        operations = [register(customer, name=f"drained-{n}.com") for n in range(3)]
        assert sorted(drain_once()) == [Status.SUCCEEDED] * 3
        drain_once()  # the follow-ups the registrations queued (flags): free
        for operation in operations:
            assert charges(operation) == [(Kind.CHARGE, Decimal("-10.00"), 1)]
        assert balance_of(customer.organisation) == Decimal("70.00")
        # The ledger reads 100 -> 90 -> 80 -> 70, in creation order.
        assert list(
            AccountEntry.objects.filter(kind=Kind.CHARGE)
            .order_by("id")
            .values_list("operation_id", "balance_after")
        ) == [
            (op.pk, Decimal(b))
            for op, b in zip(operations, ["90.00", "80.00", "70.00"], strict=True)
        ]

    def test_a_sandbox_operation_charges_only_the_sandbox_account(self, tld):
        sandbox_customer = CustomerFactory(user=UserFactory(), livemode=False)
        organisation = sandbox_customer.organisation
        fund(organisation, "100.00", livemode=True)
        fund(organisation, "20.00", livemode=False)
        operation = register(sandbox_customer, name="sandboxed.com")
        assert not operation.livemode
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert balance_of(organisation, livemode=False) == Decimal("10.00")
        assert balance_of(organisation, livemode=True) == Decimal("100.00"), "live untouched"
        assert AccountEntry.objects.get(operation=operation).account.livemode is False


class TestRefund:
    def test_a_permanent_failure_is_refunded_once(self, tld, customer, account):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1000.00", "reserved": ["charged.com"]}
        account.save()
        operation = register(customer)
        assert outbox.run_operation(operation.pk).status == Status.FAILED
        assert charges(operation) == [
            (Kind.CHARGE, Decimal("-10.00"), 1),
            (Kind.REFUND, Decimal("10.00"), 1),
        ]
        assert balance_of(customer.organisation) == Decimal("50.00")
        # Cancelling the failed one afterwards refunds nothing more.
        operation_cancel(actor=SYSTEM, operation=operation)
        assert len(charges(operation)) == 2

    def test_a_staff_retry_of_a_refunded_operation_charges_a_new_round(
        self, tld, customer, account
    ):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1000.00", "reserved": ["charged.com"]}
        account.save()
        operation = register(customer)
        outbox.run_operation(operation.pk)
        account.settings = {"balance": "1000.00"}
        account.save()
        operation_retry(actor=SYSTEM, operation=operation)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert charges(operation) == [
            (Kind.CHARGE, Decimal("-10.00"), 1),
            (Kind.REFUND, Decimal("10.00"), 1),
            (Kind.CHARGE, Decimal("-10.00"), 2),
        ]
        assert balance_of(customer.organisation) == Decimal("40.00")

    def test_a_held_operation_cancelled_is_refunded(self, tld, customer, account):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1000.00", "premium": {"charged.com": "950.00"}}
        account.save()
        operation = register(customer)
        assert outbox.run_operation(operation.pk).status == Status.HELD
        assert balance_of(customer.organisation) == Decimal("40.00")
        operation_cancel(actor=SYSTEM, operation=operation)
        assert balance_of(customer.organisation) == Decimal("50.00")
        assert [k for k, _, _ in charges(operation)] == [Kind.CHARGE, Kind.REFUND]

    def test_a_held_operation_retried_at_the_registry_price_is_charged_that_price(
        self, tld, customer, account
    ):
        fund(customer.organisation, "5000.00")
        account.settings = {"balance": "5000.00", "premium": {"charged.com": "950.00"}}
        account.save()
        operation = register(customer)
        assert outbox.run_operation(operation.pk).status == Status.HELD

        operation_retry(actor=SYSTEM, operation=operation)  # staff accept the registry's price
        operation.refresh_from_db()
        premium_cost = ledger.price_operations([operation])[operation.pk][0]
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED

        assert premium_cost > Decimal("950.00")
        assert charges(operation) == [
            (Kind.CHARGE, Decimal("-10.00"), 1),
            (Kind.REFUND, Decimal("10.00"), 1),
            (Kind.CHARGE, -premium_cost, 2),
        ]
        assert balance_of(customer.organisation) == Decimal("5000.00") - premium_cost


class TestAwaitingFunds:
    def test_an_empty_account_holds_the_operation_unsent(self, tld, customer):
        operation = register(customer)
        assert outbox.run_operation(operation.pk).status == Status.AWAITING_FUNDS
        operation.refresh_from_db()
        assert operation.status == Status.AWAITING_FUNDS
        assert operation.attempts == 0, "no attempt counted"
        assert not SandboxTransaction.objects.exists(), "nothing reached the registry"
        assert not SandboxDomain.objects.exists()
        assert not AccountEntry.objects.exists()
        # Not a failure: the domain still waits for its registration.
        assert Domain.objects.get(pk=operation.domain_id).status == (
            DomainStatus.PENDING_REGISTRATION
        )

    def test_the_customer_reads_a_plain_message_and_the_reseller_the_reason(self, tld, customer):
        operation = register(customer)
        outbox.run_operation(operation.pk)
        operation.refresh_from_db()
        customer_actor = actor_for_user(customer.user)
        assert operation_message_for(customer_actor, operation) == AWAITING_FUNDS_TEXT
        member = MembershipFactory(organisation=customer.organisation).user
        reseller = actor_for_user(member)
        assert "top-up" in operation_message_for(reseller, operation)

    def test_a_top_up_resumes_it_and_it_succeeds(self, tld, customer, no_messages, committed):
        operation = register(customer)
        outbox.run_operation(operation.pk)
        no_messages.clear()
        with committed():
            with_funds = fund(customer.organisation, "15.00")
        operation.refresh_from_db()
        assert operation.status == Status.PENDING
        assert no_messages == [operation.pk], "sent to the workers again after the top-up"
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert ledger.balance(with_funds) == Decimal("5.00")
        assert SandboxDomain.objects.filter(name="charged.com").exists()

    def test_operations_resume_in_creation_order_and_the_rest_wait_again(
        self, tld, customer, no_messages, committed
    ):
        operations = [register(customer, name=f"waiting-{n}.com") for n in range(3)]
        assert drain_once() == [], "claimed, none paid, none sent"
        assert set(Op.objects.values_list("status", flat=True)) == {Status.AWAITING_FUNDS}
        no_messages.clear()
        with committed():
            fund(customer.organisation, "25.00")  # pays two of the three
        assert no_messages == [op.pk for op in operations]
        drain_once()
        registrations = Op.objects.filter(kind=Op.Kind.REGISTER).order_by("pk")
        statuses = list(registrations.values_list("status", flat=True))
        assert statuses == [Status.SUCCEEDED, Status.SUCCEEDED, Status.AWAITING_FUNDS]
        assert balance_of(customer.organisation) == Decimal("5.00")

    def test_an_operation_behind_it_on_its_domain_stays_parked(self, tld, customer):
        operation = register(customer)
        outbox.run_operation(operation.pk)
        domain = Domain.objects.get(pk=operation.domain_id)
        Domain.objects.filter(pk=domain.pk).update(status=DomainStatus.ACTIVE)
        domain.refresh_from_db()
        lock = domain_set_lock(actor=SYSTEM, domain=domain, locked=not domain.registrar_lock)
        assert outbox.run_operation(lock.pk).status == "parked"
        assert drain_once() == []
        assert outbox.sweep() == [], "the sweep does not wake it either"
        lock.refresh_from_db()
        assert lock.status == Status.PENDING and lock.next_attempt_at == dispatch.PARKED_AT

    def test_the_reseller_and_staff_are_told_once_per_shortage(self, tld, customer):
        first = register(customer, name="short-1.com")
        second = register(customer, name="short-2.com")
        outbox.run_operation(first.pk)
        outbox.run_operation(second.pk)
        account = ResellerAccount.objects.get(organisation=customer.organisation)
        assert account.low_funds_notified_at is not None
        assert AuditEntry.objects.filter(action="reseller_account.low_funds").count() == 1
        fund(customer.organisation, "5.00")  # not enough: a new shortage is told again
        account.refresh_from_db()
        assert account.low_funds_notified_at is None
        outbox.run_operation(first.pk)
        assert AuditEntry.objects.filter(action="reseller_account.low_funds").count() == 2

    def test_the_low_funds_mail_reaches_the_reseller_and_staff(
        self, tld, customer, settings, django_capture_on_commit_callbacks
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        UserFactory(is_staff=True, email="staff@example.com")
        member = MembershipFactory(organisation=customer.organisation).user
        operation = register(customer)
        with django_capture_on_commit_callbacks(execute=True):
            outbox.run_operation(operation.pk)
        assert len(mail.outbox) == 1
        assert {"staff@example.com", member.email} <= set(mail.outbox[0].to)
        assert "top-up" in mail.outbox[0].subject

    def test_an_operation_awaiting_funds_can_be_cancelled(self, tld, customer):
        operation = register(customer)
        outbox.run_operation(operation.pk)
        operation_cancel(actor=SYSTEM, operation=operation)
        operation.refresh_from_db()
        assert operation.status == Status.CANCELLED
        fund(customer.organisation, "50.00")
        operation.refresh_from_db()
        assert operation.status == Status.CANCELLED, "a top-up does not bring it back"


class TestUpstreamInsufficientFunds:
    def test_the_registrar_without_funds_holds_refunds_and_tells_staff_once(
        self, tld, customer, account
    ):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1.00"}  # the platform's own balance at the registrar
        account.save()
        first = register(customer, name="upstream-1.com")
        second = register(customer, name="upstream-2.com")
        assert outbox.run_operation(first.pk).status == Status.AWAITING_FUNDS
        assert outbox.run_operation(second.pk).status == Status.AWAITING_FUNDS
        for operation in (first, second):
            operation.refresh_from_db()
            assert operation.attempts == 0 and "Insufficient funds" in operation.last_error
            assert [k for k, _, _ in charges(operation)] == [Kind.CHARGE, Kind.REFUND]
        assert balance_of(customer.organisation) == Decimal("50.00"), "refunded: not spent"
        account.refresh_from_db()
        assert account.funds_short_since is not None
        assert Ticket.objects.filter(staff_only=True).count() == 1, "staff are told once"
        # A reseller top-up does not send them back to a registrar that still has no money.
        fund(customer.organisation, "10.00")
        first.refresh_from_db()
        assert first.status == Status.AWAITING_FUNDS

    def test_staff_record_the_upstream_top_up_and_they_resume(
        self, tld, customer, account, no_messages, committed
    ):
        fund(customer.organisation, "50.00")
        account.settings = {"balance": "1.00"}
        account.save()
        operation = register(customer, name="upstream.com")
        outbox.run_operation(operation.pk)
        account.settings = {"balance": "1000.00"}
        account.save()
        from domains.models import SandboxBalance

        SandboxBalance.objects.all().delete()  # the registrar's balance is the new opening one
        no_messages.clear()
        staff = actor_for_user(UserFactory(is_staff=True))
        with committed():
            resumed = ledger.upstream_topped_up(actor=staff, account=account)
        assert resumed == [operation.pk]
        assert no_messages == [operation.pk]
        account.refresh_from_db()
        assert account.funds_short_since is None
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert [k for k, _, _ in charges(operation)] == [Kind.CHARGE, Kind.REFUND, Kind.CHARGE]
        assert balance_of(customer.organisation) == Decimal("40.00")
        assert AuditEntry.objects.filter(action="registrar_account.topped_up").count() == 1
        # The staff ticket closes with the success.
        assert set(Ticket.objects.filter(operation=operation).values_list("status", flat=True)) == {
            Ticket.Status.CLOSED
        }


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the drain's calling threads need a database that takes writers from several threads",
)
def test_the_threaded_drain_charges_and_holds(tld, customer):
    fund(customer.organisation, "25.00")
    for n in range(4):
        register(customer, name=f"threaded-{n}.com")
    outbox.drain(max_seconds=10, threads=4)
    assert SandboxDomain.objects.count() == 2, "the unpaid ones were never sent"
    registrations = Op.objects.filter(kind=Op.Kind.REGISTER).order_by("pk")
    statuses = list(registrations.values_list("status", flat=True))
    assert statuses == [Status.SUCCEEDED] * 2 + [Status.AWAITING_FUNDS] * 2
    assert balance_of(customer.organisation) == Decimal("5.00")

"""Draining a backlog: claims in groups, results written in groups, several drains at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from domains import outbox
from domains.lifecycle import lifecycle_dates
from domains.models import DomainStatus, RegistrarOperation, SandboxTransaction
from domains.registrars.base import DomainInfo, PermanentError, TransientError
from domains.services import domain_register, domain_set_lock, domain_set_privacy
from portal.tenancy import SYSTEM
from support.models import Ticket
from tests.customers.factories import CustomerFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Op = RegistrarOperation
Status = RegistrarOperation.Status


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox")


@pytest.fixture
def tld(account):
    return TldFactory(name="com", registrar_account=account)


@pytest.fixture
def customer():
    return CustomerFactory()


def lock_operations(tld, customer, count):
    """``count`` active domains, each with one pending "unlock" operation."""
    domains = [
        DomainFactory(customer=customer, tld=tld, registrar_account=tld.registrar_account)
        for _ in range(count)
    ]
    return [domain_set_lock(actor=SYSTEM, domain=d, locked=False) for d in domains]


def test_a_claim_takes_due_operations_up_to_its_limit(tld, customer):
    operations = lock_operations(tld, customer, 5)
    Op.objects.filter(pk=operations[4].pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    first = outbox.claim_due(3)
    second = outbox.claim_due(3)
    assert len(first) == 3
    assert len(second) == 1, "the fifth is not due yet"
    claimed = {op.pk for op in first + second}
    assert claimed == {op.pk for op in operations[:4]}
    assert set(Op.objects.filter(pk__in=claimed).values_list("status", "attempts")) == {
        (Status.RUNNING, 1)
    }
    assert outbox.claim_due(3) == []


def test_a_claim_keeps_the_operations_of_one_domain_in_order(tld, customer):
    (unlock,) = lock_operations(tld, customer, 1)
    privacy = domain_set_privacy(actor=SYSTEM, domain=unlock.domain, enabled=True)
    assert [op.pk for op in outbox.claim_due(10)] == [unlock.pk]
    assert outbox.claim_due(10) == [], "the privacy change waits while the unlock runs"
    Op.objects.filter(pk=unlock.pk).update(status=Status.HELD)
    assert outbox.claim_due(10) == [], "nor while it is held for staff"
    Op.objects.filter(pk=unlock.pk).update(status=Status.SUCCEEDED)
    assert [op.pk for op in outbox.claim_due(10)] == [privacy.pk]


def test_results_are_written_together_and_a_row_cancelled_meanwhile_is_left_alone(tld, customer):
    operations = lock_operations(tld, customer, 4)
    claimed = outbox.claim_due(10)
    done, cancelled, transient, refused = claimed
    Op.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)
    expires = timezone.now() + timedelta(days=700)

    def answer(op, reference):
        return DomainInfo(
            name=op.domain.name, expires_at=expires, statuses=["ok"], reference=reference
        )

    statuses = outbox.record_many(
        [
            (done, answer(done, "SBX-1"), None),
            (cancelled, answer(cancelled, "SBX-2"), None),
            (transient, None, TransientError("Unexpected error, try again later")),
            (refused, None, PermanentError("Parameter value policy error")),
        ]
    )
    assert sorted(statuses) == sorted([Status.SUCCEEDED, "skipped", Status.PENDING, "failed"])
    rows = {op.pk: op for op in Op.objects.filter(pk__in=[o.pk for o in operations])}
    assert rows[done.pk].status == Status.SUCCEEDED
    assert rows[done.pk].upstream_reference == "SBX-1"
    assert rows[done.pk].finished_at is not None
    assert rows[cancelled.pk].status == Status.CANCELLED
    assert rows[transient.pk].status == Status.PENDING
    assert rows[transient.pk].next_attempt_at > timezone.now()
    assert rows[refused.pk].status == Status.FAILED
    assert Ticket.objects.filter(operation=refused).exists()

    done.domain.refresh_from_db()
    assert done.domain.expires_at == expires
    assert done.domain.outzone_at == lifecycle_dates(tld, expires)["outzone_at"]
    assert done.domain.registry_reference == "SBX-1"
    assert done.domain.last_synced_at is not None
    cancelled.domain.refresh_from_db()
    assert cancelled.domain.expires_at != expires, "a cancelled operation's answer is not applied"


@pytest.mark.django_db(transaction=True)
def test_drains_running_at_once_never_take_the_same_operation(tld, customer):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite has one writer at a time; SKIP LOCKED is what is tested here")
    operations = lock_operations(tld, customer, 60)
    taken: list[list[int]] = [[], [], []]

    def claimer(into):
        try:
            while batch := outbox.claim_due(7):
                into.extend(op.pk for op in batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [pk for into in taken for pk in into]
    assert sorted(everything) == sorted(op.pk for op in operations)


@pytest.mark.django_db(transaction=True)
def test_a_drain_records_successes_failures_and_retries(customer):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database locks whole tables across threads")
    good = TldFactory(name="com", registrar_account=RegistrarAccountFactory(name="good"))
    bad_account = RegistrarAccountFactory(
        name="bad", settings={"failure_rate": 1, "failure_kind": "permanent"}
    )
    bad = TldFactory(name="net", registrar_account=bad_account)
    fine = [domain_register(actor=SYSTEM, customer=customer, name=f"ok-{i}.com") for i in range(6)]
    refused = domain_register(actor=SYSTEM, customer=customer, name="refused.net")
    assert good and bad

    counts = outbox.drain(threads=3, max_seconds=60)

    assert counts[Status.FAILED] == 1
    assert counts[Status.SUCCEEDED] >= 6
    for domain in fine:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
    assert Op.objects.get(domain=refused, kind=Op.Kind.REGISTER).status == Status.FAILED
    # one staff-only ticket in the registry's words, one written for the customer
    assert Ticket.objects.filter(domain=refused, staff_only=True).count() == 1
    assert Ticket.objects.filter(domain=refused, staff_only=False, customer=customer).count() == 1
    assert SandboxTransaction.objects.filter(command="register").count() == 6
    assert not Op.objects.filter(status__in=[Status.PENDING, Status.RUNNING]).exclude(
        next_attempt_at__gt=timezone.now()
    )


@pytest.mark.django_db(transaction=True)
def test_a_drain_with_more_threads_than_sessions_takes_turns(customer):
    """Four calling threads, one session at the registrar: the calls take turns, none of them
    gives up waiting and comes back as a retry."""
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database locks whole tables across threads")
    account = RegistrarAccountFactory(name="narrow", max_sessions=1, settings={"latency_ms": 20})
    TldFactory(name="com", registrar_account=account)
    for i in range(8):
        domain_register(actor=SYSTEM, customer=customer, name=f"turn-{i}.com")

    counts = outbox.drain(threads=4, max_seconds=60)

    assert counts.get(Status.SUCCEEDED, 0) >= 8
    registers = Op.objects.filter(kind=Op.Kind.REGISTER)
    assert set(registers.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}


# --- parked behind another, and the sweep ------------------------------------------------------
def test_a_group_of_successes_wakes_what_is_parked_behind_each(
    tld, customer, monkeypatch, django_capture_on_commit_callbacks
):
    from domains import dispatch

    sent = []
    monkeypatch.setattr(dispatch, "send", sent.extend)
    first, second = lock_operations(tld, customer, 2)
    behind_first = domain_set_privacy(actor=SYSTEM, domain=first.domain, enabled=True)
    behind_second = domain_set_privacy(actor=SYSTEM, domain=second.domain, enabled=True)
    claimed = outbox.claim_due(10)
    assert {op.pk for op in claimed} == {first.pk, second.pk}
    # A worker's message for each of those behind came meanwhile: they park.
    assert outbox.run_operation(behind_first.pk).status == "parked"
    assert outbox.run_operation(behind_second.pk).status == "parked"
    assert outbox.claim_due(10) == [], "parked rows are not due"
    sent.clear()
    answer = [
        (op, DomainInfo(name=op.domain.name, expires_at=None, statuses=["ok"]), None)
        for op in claimed
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.record_many(answer) == [Status.SUCCEEDED] * 2
    assert sorted(sent) == sorted([behind_first.pk, behind_second.pk])
    assert {op.pk for op in outbox.claim_due(10)} == {behind_first.pk, behind_second.pk}


def test_behind_a_held_operation_the_sweep_sends_a_lost_row_once_and_it_parks(
    tld, customer, monkeypatch
):
    """claim_due skips a row behind a held one; without parking the sweep would find it "lost"
    (due long ago, still pending) and send it again on every run."""
    (held,) = lock_operations(tld, customer, 1)
    behind = domain_set_privacy(actor=SYSTEM, domain=held.domain, enabled=True)
    Op.objects.filter(pk=held.pk).update(status=Status.HELD)
    Op.objects.filter(pk=behind.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert outbox.claim_due(10) == []
    assert outbox.sweep() == [behind.pk]
    assert outbox.run_operation(behind.pk).status == "parked"
    real_now = timezone.now
    for hours in range(1, 6):  # hours go by, the held one still held
        monkeypatch.setattr(
            timezone, "now", lambda hours=hours: real_now() + timedelta(hours=hours)
        )
        assert outbox.sweep() == []
        assert outbox.claim_due(10) == []
    behind.refresh_from_db()
    assert behind.status == Status.PENDING and behind.attempts == 0


def test_a_drained_operation_lost_with_its_worker_is_counted_and_stopped_at_the_limit(
    tld, customer
):
    (operation,) = lock_operations(tld, customer, 1)
    Op.objects.filter(pk=operation.pk).update(max_attempts=3)
    lease = timedelta(seconds=outbox.LEASE_SECONDS + 1)
    for attempt in (1, 2, 3):
        assert [op.pk for op in outbox.claim_due(10)] == [operation.pk]  # counts the attempt
        # The drain's process dies with the call in flight.
        Op.objects.filter(pk=operation.pk).update(started_at=timezone.now() - lease)
        swept = outbox.sweep()
        operation.refresh_from_db()
        assert operation.attempts == attempt
        if attempt < 3:
            assert swept == [operation.pk] and operation.status == Status.PENDING
    assert swept == [] and operation.status == Status.FAILED
    assert "lost during the call on each of 3 attempts" in operation.last_error
    assert Ticket.objects.filter(operation=operation, staff_only=True).count() == 1

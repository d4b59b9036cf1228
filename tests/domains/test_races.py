"""Races on one domain, with two real concurrent transactions on PostgreSQL.

Each test runs a first action in a thread, inside a transaction it keeps open (its row locks held,
its writes uncommitted), then the second action in another thread with its own connection. The
first is let go once the second is blocked on a row lock (``pg_stat_activity``) or has finished,
so the two overlap exactly where the race is, every time, without sleeping. Without the row lock
each service now takes first (``select_for_update``, status checked inside the transaction), the
second action would interleave with the first: an IntegrityError for two nameserver
replacements, two creations of one glue host or two orders of one name, a history row with a
stale ``from_status``, a lifecycle step written for a domain a renewal had just taken back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from domains import outbox
from domains.lifecycle import TransitionError, domain_transition, lifecycle_advance
from domains.models import Domain, DomainStatus, HostRecord, Nameserver, RegistrarOperation
from domains.registrars.base import DomainInfo
from domains.services import domain_register, domain_set_nameservers, host_create
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.factories import (
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
    TldFactory,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs two concurrent transactions with row locks: SQLite has one writer at a "
        "time and no SELECT ... FOR UPDATE (run with DATABASE_URL=postgres://...)",
    ),
]
S = DomainStatus
TIMEOUT = 30.0


def _a_session_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def race(first: Callable[[], object], second: Callable[[], object]) -> dict[str, object]:
    """Run ``first`` in a transaction held open until ``second`` (in another thread and
    connection) waits for a lock or is done; what each returned or raised."""
    results: dict[str, object] = {}
    inside, release = threading.Event(), threading.Event()

    def run_first() -> None:
        try:
            with transaction.atomic():
                results["first"] = first()
                inside.set()
                assert release.wait(TIMEOUT), "the second never got going"
        except Exception as exc:
            results["first"] = exc
        finally:
            inside.set()
            connections.close_all()

    def run_second() -> None:
        try:
            results["second"] = second()
        except Exception as exc:
            results["second"] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=run_first, name="first")
    two = threading.Thread(target=run_second, name="second")
    one.start()
    assert inside.wait(TIMEOUT)
    two.start()
    deadline = time.monotonic() + TIMEOUT
    while two.is_alive() and not _a_session_waits_for_a_lock():
        assert time.monotonic() < deadline, "the second neither waited nor finished"
        two.join(0.005)
    release.set()
    one.join(TIMEOUT)
    two.join(TIMEOUT)
    assert not one.is_alive() and not two.is_alive()
    if isinstance(results.get("first"), Exception):
        raise results["first"]
    return results


def assert_history_is_a_chain(domain: Domain, start: str) -> list[tuple[str, str]]:
    """Each history row starts where the one before ended, and the last ends at the status the
    domain has: no row records a status the domain was not in."""
    domain.refresh_from_db()
    rows = [
        (c.from_status, c.to_status) for c in domain.status_changes.order_by("created_at", "pk")
    ]
    current = start
    for from_status, to_status in rows:
        assert from_status == current, rows
        current = to_status
    assert current == domain.status, rows
    return rows


@pytest.fixture
def tld(transactional_db):
    account = RegistrarAccountFactory(name="Sandbox", settings={"balance": "100.00"})
    return TldFactory(name="com", registrar_account=account)


def fresh(domain: Domain) -> Domain:
    """The domain as a request would load it (in the calling thread's own connection)."""
    return Domain.objects.select_related("tld").get(pk=domain.pk)


def test_two_nameserver_replacements_at_once_both_apply_one_after_the_other(tld):
    domain = DomainFactory(tld=tld, name="two-editors.com")
    Nameserver.objects.bulk_create(
        Nameserver(domain=domain, position=i, hostname=f"ns{i}.old.net") for i in (1, 2)
    )
    mine = ["ns1.first.net", "ns2.first.net", "ns3.first.net"]
    theirs = ["ns1.second.net", "ns2.second.net"]

    results = race(
        lambda: domain_set_nameservers(actor=SYSTEM, domain=fresh(domain), nameservers=mine),
        lambda: domain_set_nameservers(actor=SYSTEM, domain=fresh(domain), nameservers=theirs),
    )

    assert isinstance(results["first"], RegistrarOperation), results
    assert isinstance(results["second"], RegistrarOperation), results
    assert list(domain.nameservers.order_by("position").values_list("hostname", flat=True)) == (
        theirs
    )
    pushed = RegistrarOperation.objects.filter(domain=domain, kind="nameservers").order_by("pk")
    assert [op.payload["nameservers"] for op in pushed] == [mine, theirs]


def test_two_creations_of_one_glue_host_make_one_and_refuse_the_other(tld):
    domain = DomainFactory(tld=tld, name="glue-race.com")

    def create():
        return host_create(
            actor=SYSTEM,
            domain=fresh(domain),
            hostname="ns1.glue-race.com",
            ipv4=["192.0.2.1"],
            ipv6=[],
        )

    results = race(create, create)

    assert isinstance(results["first"], HostRecord), results
    refused = results["second"]
    assert isinstance(refused, ValidationError), refused
    assert "already exists" in str(refused)
    assert HostRecord.objects.filter(domain=domain).count() == 1
    assert RegistrarOperation.objects.filter(domain=domain, kind="host_create").count() == 1


def test_two_orders_of_one_name_at_once_register_one_and_refuse_the_other(tld):
    buyers = [CustomerFactory(), CustomerFactory()]

    def order(customer):
        return lambda: domain_register(actor=SYSTEM, customer=customer, name="wanted-twice.com")

    results = race(order(buyers[0]), order(buyers[1]))

    assert isinstance(results["first"], Domain), results
    refused = results["second"]
    assert isinstance(refused, ValidationError), refused
    assert "already registered in Nameport" in str(refused)
    assert Domain.objects.filter(name_puny="wanted-twice.com").count() == 1
    assert RegistrarOperation.objects.filter(kind="register").count() == 1


def test_concurrent_transitions_record_the_status_each_really_changed(tld):
    domain = DomainFactory(tld=tld, name="two-moves.com", status=S.ACTIVE)
    stale = fresh(domain)  # loaded before either moved it: active

    results = race(
        lambda: domain_transition(domain=fresh(domain), to=S.GRACE, actor=SYSTEM),
        lambda: domain_transition(domain=stale, to=S.SUSPENDED, actor=SYSTEM, reason="abuse"),
    )

    assert not isinstance(results["second"], Exception), results
    assert assert_history_is_a_chain(domain, S.ACTIVE) == [
        (S.ACTIVE, S.GRACE),
        (S.GRACE, S.SUSPENDED),
    ]


def test_a_transition_the_first_made_impossible_is_refused_and_writes_nothing(tld):
    domain = DomainFactory(tld=tld, name="gone-away.com", status=S.ACTIVE)
    stale = fresh(domain)

    results = race(
        lambda: domain_transition(domain=fresh(domain), to=S.TRANSFERRED_AWAY, actor=SYSTEM),
        lambda: domain_transition(domain=stale, to=S.GRACE, actor=SYSTEM),
    )

    assert isinstance(results["second"], TransitionError), results
    assert assert_history_is_a_chain(domain, S.ACTIVE) == [(S.ACTIVE, S.TRANSFERRED_AWAY)]


def _renewal_answer(domain: Domain, expires_at) -> Callable[[], object]:
    """What the worker does when the registry answers a renewal: record it (the domain row locked,
    the status through apply_registry_view)."""
    operation = RegistrarOperationFactory(
        domain=domain,
        registrar_account=domain.tld.registrar_account,
        kind=RegistrarOperation.Kind.RENEW,
        payload={"years": 1},
        status=RegistrarOperation.Status.RUNNING,
        attempts=1,
        started_at=timezone.now(),
    )
    info = DomainInfo(name=domain.name, expires_at=expires_at, statuses=["ok"])

    def record():
        running = RegistrarOperation.objects.select_related("domain__tld").get(pk=operation.pk)
        return outbox._record(running, info, None).status

    return record


def lapsed_in_grace(tld, name: str) -> Domain:
    """A domain in grace whose grace is over: the lifecycle would move it to redemption."""
    now = timezone.now()
    return DomainFactory(
        tld=tld,
        name=name,
        status=S.GRACE,
        expires_at=now - timedelta(days=40),
        outzone_at=now - timedelta(days=10),
        delete_at=now + timedelta(days=20),
    )


def test_the_lifecycle_leaves_alone_a_domain_whose_renewal_is_being_recorded(tld):
    domain = lapsed_in_grace(tld, "renewed-meanwhile.com")
    renewed = timezone.now() + timedelta(days=325)

    results = race(
        _renewal_answer(domain, renewed),
        lambda: lifecycle_advance(actor=SYSTEM),
    )

    assert results["first"] == RegistrarOperation.Status.SUCCEEDED
    assert results["second"] == {}, "nothing moved: the renewed domain is not in grace any more"
    assert assert_history_is_a_chain(domain, S.GRACE) == [(S.GRACE, S.ACTIVE)]
    assert domain.expires_at == renewed
    # The next run sees the renewal and has nothing to do.
    assert lifecycle_advance(actor=SYSTEM) == {}


def test_a_renewal_recorded_after_the_lifecycle_moved_the_domain_starts_from_there(tld):
    domain = lapsed_in_grace(tld, "renewed-late.com")
    renewed = timezone.now() + timedelta(days=325)
    record = _renewal_answer(domain, renewed)

    results = race(lambda: lifecycle_advance(actor=SYSTEM), record)

    assert results["first"] == {"grace->redemption": 1}
    assert results["second"] == RegistrarOperation.Status.SUCCEEDED
    assert assert_history_is_a_chain(domain, S.GRACE) == [
        (S.GRACE, S.REDEMPTION),
        (S.REDEMPTION, S.ACTIVE),
    ]
    assert domain.expires_at == renewed

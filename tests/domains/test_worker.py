"""The outbox with a REAL Celery worker process on Redis and PostgreSQL (as in CI).

A worker subprocess shares the test database, so these tests need PostgreSQL (an in-memory
SQLite test database cannot be shared) and a Redis broker; elsewhere they are skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from domains import outbox
from domains.models import (
    DomainStatus,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxTransaction,
)
from domains.services import domain_register, domain_renew
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs a Redis broker (CI)"),
]


@pytest.fixture
def database_url():
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot share an in-memory SQLite test database")
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def start_worker(database_url: str, queue: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_TASK_DEFAULT_QUEUE": queue}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        worker.wait(timeout=30)


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def queue(settings):
    name = f"test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = name
    from portal.celery import app

    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = "celery"


def test_a_real_worker_registers_the_domain(database_url, queue):
    account = RegistrarAccountFactory(name="Sandbox", settings={"latency_ms": 50})
    TldFactory(name="com", registrar_account=account)
    worker = start_worker(database_url, queue)
    try:
        domain = domain_register(actor=SYSTEM, customer=CustomerFactory(), name="worker-test.com")
        operation = RegistrarOperation.objects.get(domain=domain)
        wait_for(
            lambda: RegistrarOperation.objects.filter(pk=operation.pk, status="succeeded").exists()
        )
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
    finally:
        stop(worker)


@pytest.mark.parametrize("kind", ["register", "renew"])
def test_a_worker_killed_mid_call_loses_nothing_and_applies_once(
    database_url, queue, monkeypatch, kind
):
    """The registry (replay off, as a real one) applied the command; the worker was killed before
    it heard the answer. The sweep takes the row back as in doubt, and the next worker asks the
    registry first: the change is there, so it is recorded without being sent again (a create
    sent again would be refused, a renewal applied twice)."""
    account = RegistrarAccountFactory(
        name="Sandbox",
        settings={"balance": "100.00", "lose_answers": [kind], "lost_answer_hold_ms": 30_000},
    )
    tld = TldFactory(name="com", registrar_account=account)
    customer = CustomerFactory()
    if kind == "register":
        domain = domain_register(actor=SYSTEM, customer=customer, name="killed.com")
        expected = None
    else:
        expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
        SandboxDomain.objects.create(
            name="killed.com",
            account=account.name,
            registered_at=expires - timedelta(days=335),
            expires_at=expires,
            statuses=["ok"],
            auth_code="x",
        )
        domain = DomainFactory(
            customer=customer,
            tld=tld,
            name="killed.com",
            registrar_account=account,
            expires_at=expires,
        )
        expected = expires.replace(year=expires.year + 1)
    worker = start_worker(database_url, queue)
    try:
        if kind == "renew":
            domain_renew(actor=SYSTEM, domain=domain, years=1)
        operation = RegistrarOperation.objects.get(domain=domain, kind=kind)
        # Killed once the registry has applied it, while the answer is on its way.
        wait_for(lambda: SandboxTransaction.objects.filter(command=kind).exists())
    finally:
        stop(worker, signal.SIGKILL)
    operation.refresh_from_db()
    assert operation.status == "running", "the dead worker left it claimed"

    account.settings = {"balance": "100.00"}
    account.save()
    worker = start_worker(database_url, queue)
    try:
        monkeypatch.setattr(outbox, "LEASE_SECONDS", 0)
        from domains.tasks import registrar_operations_sweep

        assert registrar_operations_sweep() >= 1
        wait_for(
            lambda: RegistrarOperation.objects.filter(pk=operation.pk, status="succeeded").exists()
        )
    finally:
        stop(worker)
    assert SandboxDomain.objects.filter(name="killed.com").count() == 1
    assert SandboxTransaction.objects.filter(command=kind).count() == 1, "applied once"
    assert SandboxBalance.objects.get(account=account.name).amount == Decimal("92.00")
    if expected is not None:
        assert SandboxDomain.objects.get(name="killed.com").expires_at == expected
    operation.refresh_from_db()
    assert operation.attempts == 2
    assert operation.payload[outbox.IN_DOUBT] is True

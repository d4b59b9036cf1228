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
from pathlib import Path

import pytest
from django.db import connection

from domains import outbox
from domains.models import DomainStatus, RegistrarOperation, SandboxDomain
from domains.services import domain_register
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

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


def test_a_worker_killed_mid_call_loses_nothing_and_applies_once(database_url, queue, monkeypatch):
    account = RegistrarAccountFactory(name="Sandbox", settings={"latency_ms": 3000})
    TldFactory(name="com", registrar_account=account)
    worker = start_worker(database_url, queue)
    try:
        domain = domain_register(actor=SYSTEM, customer=CustomerFactory(), name="killed.com")
        operation = RegistrarOperation.objects.get(domain=domain)
        wait_for(
            lambda: RegistrarOperation.objects.filter(pk=operation.pk, status="running").exists()
        )
    finally:
        stop(worker, signal.SIGKILL)
    operation.refresh_from_db()
    assert operation.status == "running", "the dead worker left it claimed"

    account.settings = {"latency_ms": 0}
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
    operation.refresh_from_db()
    assert operation.attempts == 2

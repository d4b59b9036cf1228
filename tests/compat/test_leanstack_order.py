"""A Leanstack order end to end: the API answers ``success``, a worker registers the name at the
sandbox registry and charges the reseller's account at cost, and the API then shows the domain
active. Once with the worker's code run in this process, once with a REAL Celery worker on
Redis and PostgreSQL (skipped elsewhere, as tests/domains/test_worker.py)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from billing.models import AccountEntry
from domains import dispatch, outbox
from domains.models import Domain, DomainStatus, RegistrarOperation, SandboxDomain
from tests.billing.ledger_helpers import balance_of, fund
from tests.contract.conftest import make_lean
from tests.domains import test_worker as worker_tests
from tests.domains.test_worker import start_worker, stop, wait_for

ORDER = {"domain_name": "testdomain", "tld": "com", "duration": 2, "domain_privacy": False}
BROKER = os.environ.get("CELERY_BROKER_URL", "")


def order(lean) -> list:
    body = {**ORDER, "customer_id": lean.world.a.customer.pk}
    response = lean.call("POST", "/v1/enterprise/domain/order", body)
    assert response.status_code == 200, response.content
    return response.json()


def assert_registered_and_charged(lean) -> None:
    a = lean.world.a
    domain = Domain.objects.get(name="testdomain.com")
    assert domain.status == DomainStatus.ACTIVE
    assert SandboxDomain.objects.filter(name="testdomain.com").exists()
    (charge,) = AccountEntry.objects.filter(operation__domain=domain, kind="charge")
    assert charge.amount == Decimal("-10.00")  # 2 years at the reseller's cost of 5
    assert balance_of(a.organisation) == Decimal("90.00")
    shown = lean.call("GET", f"/v1/enterprise/domain/{domain.pk}").json()
    assert shown["current_status"] == "Active" and shown["registrar_lock"] is True
    assert shown["expiry"] is not None
    listed = lean.call("POST", "/v1/enterprise/domains", {"domain_name": "testdomain"}).json()
    assert [row["current_status"] for row in listed["data"]] == ["1"]


@pytest.mark.django_db
def test_an_order_is_registered_and_charged_by_the_worker(world, client, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send", sent.extend)
    lean = make_lean(world, client)
    fund(world.a.organisation, "100.00")
    assert order(lean) == [{"status": "success", "domain_name": "testdomain.com"}]
    operation = RegistrarOperation.objects.get(domain__name="testdomain.com")
    assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.SUCCEEDED
    assert_registered_and_charged(lean)


# the worker tests' fixtures: the test database's URL for the worker, a queue of its own
database_url = worker_tests.database_url
queue = worker_tests.queue


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not BROKER.startswith("redis://"), reason="needs a Redis broker (CI)")
def test_a_real_worker_completes_a_leanstack_order(world, client, database_url, queue):
    lean = make_lean(world, client)
    fund(world.a.organisation, "100.00")
    worker = start_worker(database_url, queue)
    try:
        assert order(lean) == [{"status": "success", "domain_name": "testdomain.com"}]
        wait_for(
            lambda: RegistrarOperation.objects.filter(
                domain__name="testdomain.com", status=RegistrarOperation.Status.SUCCEEDED
            ).exists()
        )
    finally:
        stop(worker)
    assert_registered_and_charged(lean)

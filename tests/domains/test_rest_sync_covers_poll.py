"""The reseller REST API (seed 002) has no poll queue: its sync covers what an EPP registry's
queue would carry (issue 10, section 3). Over HTTP to the simulator's REST front end
(``domains/simulator/rest_server.py``), a sync of a name we hold brings the portal in step with
what the registry did on its own: an auto-renewal brings a domain the lifecycle moved to grace
back to active, a registry hold suspends it, a deletion puts it in pending delete, and another
registrar's transfer request is shown to the customer. The poll beat never reads a REST account
(``tests/domains/test_poll.py::test_the_beat_fans_out_one_task_per_active_epp_account``).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from domains import dispatch, outbox
from domains.lifecycle import lifecycle_advance
from domains.models import (
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    SandboxDomain,
    TransferRequest,
)
from domains.services import domain_sync
from domains.simulator import rest_server
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db(transaction=True)
S = DomainStatus
NAME = "held-over-rest.com"


def _shared_sqlite() -> dict:
    """An in-memory SQLite test database is shared with the server thread (PostgreSQL server
    threads open their own connections)."""
    return {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }


@pytest.fixture(autouse=True)
def sent(monkeypatch):
    """Operations are run by the test, not handed to a broker."""
    sent: list[int] = []
    monkeypatch.setattr(dispatch, "send", sent.extend)
    return sent


@pytest.fixture
def upstream():
    return RegistrarAccountFactory(name="Upstream", settings={"balance": "1000.00"})


@pytest.fixture
def account(upstream):
    override = _shared_sqlite()
    for conn in override.values():
        conn.inc_thread_sharing()
    server = rest_server.serve(
        "127.0.0.1",
        0,
        account=upstream,
        username="reseller",
        api_token="rest-token-for-tests",
        connections_override=override,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield RegistrarAccountFactory(
            name="REST registrar",
            kind=RegistrarAccount.Kind.RESELLER_REST,
            settings={"base_url": server.url, "timeout": 5},
            credentials=json.dumps({"username": "reseller", "api_token": "rest-token-for-tests"}),
            rate_per_second=1000,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        for conn in override.values():
            conn.dec_thread_sharing()


@pytest.fixture
def domain(upstream, account) -> Domain:
    """A name we hold at the REST registry, and the portal's domain for it, in step."""
    tld = TldFactory(name="com", registrar_account=account)
    expires = (timezone.now() + timedelta(days=100)).replace(microsecond=0)
    SandboxDomain.objects.create(
        name=NAME,
        account=upstream.name,
        registered_at=expires - timedelta(days=265),
        expires_at=expires,
        statuses=["ok"],
        auth_code="Our-auth-1",
    )
    return DomainFactory(
        customer=CustomerFactory(),
        tld=tld,
        name=NAME,
        registrar_account=account,
        expires_at=expires,
    )


def sync(domain: Domain) -> Domain:
    """A sync of the domain, run by the worker side as a worker would."""
    operation = domain_sync(actor=SYSTEM, domain=domain)
    assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.SUCCEEDED
    domain.refresh_from_db()
    return domain


def history(domain: Domain) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.reason)
        for c in domain.status_changes.order_by("created_at", "pk")
    ]


def test_an_auto_renewal_seen_by_the_sync_brings_grace_back_to_active(domain):
    lapsed = timezone.now() - timedelta(days=3)
    Domain.objects.filter(pk=domain.pk).update(expires_at=lapsed)
    assert lifecycle_advance(actor=SYSTEM) == {"active->grace": 1}
    renewed = (lapsed + timedelta(days=365)).replace(microsecond=0)
    SandboxDomain.objects.filter(name=NAME).update(expires_at=renewed)  # the registry auto-renewed

    domain = sync(domain)

    assert domain.status == S.ACTIVE and domain.expires_at == renewed
    assert history(domain)[-2:] == [(S.ACTIVE, S.GRACE, "lifecycle"), (S.GRACE, S.ACTIVE, "Sync")]


def test_a_registry_hold_seen_by_the_sync_suspends_the_domain_and_its_lifting_ends_it(domain):
    SandboxDomain.objects.filter(name=NAME).update(statuses=["serverHold"])
    domain = sync(domain)
    assert domain.status == S.SUSPENDED and domain.epp_statuses == ["serverHold"]

    SandboxDomain.objects.filter(name=NAME).update(statuses=["ok"])
    domain = sync(domain)
    assert domain.status == S.ACTIVE
    assert history(domain) == [(S.ACTIVE, S.SUSPENDED, "Sync"), (S.SUSPENDED, S.ACTIVE, "Sync")]


def test_a_deletion_seen_by_the_sync_is_pending_delete(domain):
    SandboxDomain.objects.filter(name=NAME).update(statuses=["pendingDelete"])
    domain = sync(domain)
    assert domain.status == S.PENDING_DELETE
    assert history(domain) == [(S.ACTIVE, S.PENDING_DELETE, "Sync")]


def test_another_registrars_transfer_request_seen_by_the_sync_is_shown_to_the_customer(domain):
    SandboxDomain.objects.filter(name=NAME).update(statuses=["pendingTransfer"])
    domain = sync(domain)

    request = TransferRequest.objects.get(domain=domain)
    assert request.status == TransferRequest.Status.PENDING and request.source == "sync"
    assert domain.status == S.ACTIVE and "pendingTransfer" in domain.epp_statuses

    SandboxDomain.objects.filter(name=NAME).update(statuses=["ok"])  # withdrawn meanwhile
    sync(domain)
    request.refresh_from_db()
    assert request.status == TransferRequest.Status.CANCELLED and request.finished_at is not None

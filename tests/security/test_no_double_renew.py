"""Issue 10, section 1: a retried renewal renewed twice.

Reproduced (probe): against a registry that, like every real one, does not replay idempotency keys
(the simulator's ``replay`` setting off, its default), a renewal whose answer timed out after the
registry had applied it was sent again on retry. The EPP adapter read the current expiry again and
sent it as ``curExpDate``, so the registry renewed a second time; the reseller REST API (seed 002)
has no idempotency key at all, so it renewed a second time too. The domain was renewed, and paid
for, twice.

Now the renewal records at queue time the expiry it sends and the one it expects; the timeout
marks the operation's outcome unknown, and the retry asks the registry first: the expected expiry
is there, so the worker records success without sending again. Here the reseller renews through
the native API (``POST /api/v1/domains/<id>/renew/``), the registry (EPP over TLS, or reseller REST
over HTTP) applies the renewal and holds its answer past the adapter's read timeout, the worker
retries, and the registry has renewed once, charged once, and the API shows one renewal.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from domains import outbox
from domains.models import (
    RegistrarAccount,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxTransaction,
    Tld,
)
from domains.registrars import epp
from domains.simulator import epp_server, rest_server
from tests.domains.factories import RegistrarAccountFactory
from tests.domains.test_epp import CLID, PASSWORD, _make_pki

pytestmark = pytest.mark.django_db(transaction=True)
Status = RegistrarOperation.Status


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return _make_pki(tmp_path_factory.mktemp("double-renew-pki"))


@pytest.fixture
def upstream(db):
    """The registry: replay off (not set: the default), and a renewal's answer held 1.5 s after
    it is applied, longer than the adapters wait."""
    return RegistrarAccountFactory(
        name="Registry",
        settings={"balance": "100.00", "lose_answers": ["renew"], "lost_answer_hold_ms": 1500},
    )


def _epp_account(upstream, pki):
    server = epp_server.serve(
        background=True,
        host="127.0.0.1",
        port=0,
        certfile=pki.server_cert,
        keyfile=pki.server_key,
        account=upstream.name,
        client_id=CLID,
        password=PASSWORD,
    )
    account = RegistrarAccount.objects.create(
        name="EPP registrar",
        kind=RegistrarAccount.Kind.EPP,
        # EPP reads wait at least a second (epptools); the registry answers after 1.5 s.
        settings={"host": "127.0.0.1", "port": server.port, "cafile": str(pki.ca), "timeout": 1},
        credentials=json.dumps({"client_id": CLID, "password": PASSWORD}),
    )
    try:
        yield account
    finally:
        epp.close_sessions()
        server.stop()


def _rest_account(upstream):
    override = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in override.values():
        conn.inc_thread_sharing()
    server = rest_server.serve(
        "127.0.0.1",
        0,
        account=upstream,
        username="reseller",
        api_token="token-for-tests",
        connections_override=override,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    account = RegistrarAccountFactory(
        name="REST registrar",
        kind=RegistrarAccount.Kind.RESELLER_REST,
        settings={"base_url": server.url, "timeout": 0.5},
        credentials=json.dumps({"username": "reseller", "api_token": "token-for-tests"}),
        rate_per_second=1000,
    )
    try:
        yield account
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        for conn in override.values():
            conn.dec_thread_sharing()


@pytest.fixture(params=["epp", "rest"])
def account(request, upstream, pki):
    if request.param == "epp":
        yield from _epp_account(upstream, pki)
    else:
        yield from _rest_account(upstream)


def api(client, tenant, method, path, data=None):
    send = getattr(client, method)
    return send(
        path, data or {}, content_type="application/json", HTTP_ACCESS_TOKEN=tenant.live_key_raw
    )


def attempt(operation_id: int) -> str:
    """One attempt of the worker, as soon as the operation is due again."""
    RegistrarOperation.objects.filter(pk=operation_id, status=Status.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return outbox.run_operation(operation_id).status


def test_a_renewal_retried_after_a_timeout_renews_once(client, world, upstream, account):
    domain = world.a.domain
    Tld.objects.filter(pk=domain.tld_id).update(registrar_account=account)
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    domain.expires_at = expires
    domain.save(update_fields=["expires_at"])
    SandboxDomain.objects.create(
        name=domain.name_puny,
        account=upstream.name,
        registered_at=expires - timedelta(days=335),
        expires_at=expires,
        statuses=["ok"],
        auth_code="Our-auth-1",
    )

    answer = api(client, world.a, "post", f"/api/v1/domains/{domain.pk}/renew/", {"years": 1})
    assert answer.status_code == 202, answer.content
    operation_id = answer.json()["operation"]["id"]

    assert attempt(operation_id) == Status.PENDING, "the answer timed out: retried later"
    renewed = expires.replace(year=expires.year + 1)
    assert SandboxDomain.objects.get(name=domain.name_puny).expires_at == renewed
    assert attempt(operation_id) == Status.SUCCEEDED

    registry = SandboxDomain.objects.get(name=domain.name_puny)
    assert registry.expires_at == renewed, "renewed once, not twice"
    assert SandboxTransaction.objects.filter(command__in=["renew", "epp:domain:renew"]).count() == 1
    assert SandboxBalance.objects.get(account=upstream.name).amount == Decimal("92.00")
    shown = api(client, world.a, "get", f"/api/v1/domains/{domain.pk}/").json()
    assert shown["expires_at"].startswith(renewed.date().isoformat())
    operation = api(client, world.a, "get", f"/api/v1/operations/{operation_id}/").json()
    assert operation["status"] == "succeeded"
    assert operation["attempts"] == 2
    assert operation["payload"] == {"years": 1}, "what success looks like stays internal"

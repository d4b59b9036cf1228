"""Exactly once without the registry's help (issue 10, section 1).

Every adapter that writes (the in-process simulated registry, the reseller REST adapter over HTTP
to the simulator's REST front end, the EPP adapter over TLS to its EPP front end) runs here against
a registry that, like a real one, does not recognise a repeated idempotency key (``replay`` off,
the simulator's default). The registry applies a renewal, a create or a transfer and the answer is
lost (``lose_answers``: the in-process call times out, the REST front end answers 504, the EPP
front end closes the connection without a word); the outbox's retry path then runs, and the
registry must have applied the command exactly once: one entry in its transaction log, the expiry
advanced by exactly the years, the account charged once, and the operation succeeded.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from domains import outbox
from domains.models import (
    Domain,
    RegistrarAccount,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxTransaction,
)
from domains.policies import operation_payload_for
from domains.registrars import epp
from domains.registrars.reseller_rest import ResellerRestAdapter
from domains.services import domain_register, domain_renew, domain_transfer_in
from domains.simulator import epp_server, rest_server
from domains.simulator.registry import SandboxRegistry
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory
from tests.domains.test_epp import CLID, PASSWORD, _make_pki

pytestmark = pytest.mark.django_db(transaction=True)
Op = RegistrarOperation
Status = RegistrarOperation.Status
ADAPTERS = ["simulator", "rest", "epp"]
PRICE = Decimal("8.00")  # the simulator's price per year when no price list says otherwise
OPENING = Decimal("1000.00")
# What each front end logs an applied command as.
LOGGED = {
    "register": {"register", "epp:domain:create"},
    "renew": {"renew", "epp:domain:renew"},
    "transfer": {"transfer", "epp:domain:transfer"},
}


# --- the three registries ----------------------------------------------------------------------
@dataclass
class Registry:
    kind: str
    account: RegistrarAccount  # the account the portal routes the TLD to
    upstream: RegistrarAccount  # the simulated registry's own account: its knobs and books

    def knobs(self, **settings) -> None:
        self.upstream.refresh_from_db()
        self.upstream.settings = {**self.upstream.settings, **settings}
        self.upstream.save()

    def applied(self, command: str) -> int:
        """How many times the registry applied ``command`` (its transaction log)."""
        return SandboxTransaction.objects.filter(command__in=LOGGED[command]).count()

    def balance(self) -> Decimal:
        row = SandboxBalance.objects.filter(account=self.upstream.name).first()
        return row.amount if row else OPENING

    def adapter_class(self) -> type:
        return {
            "simulator": SandboxRegistry,
            "rest": ResellerRestAdapter,
            "epp": epp.EppAdapter,
        }[self.kind]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return _make_pki(tmp_path_factory.mktemp("once-pki"))


def _shared_sqlite() -> dict:
    """An in-memory SQLite test database is shared with the server threads (as Django's live
    server does); PostgreSQL server threads open their own connections."""
    return {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }


@pytest.fixture(params=ADAPTERS)
def registry(request, pki):
    upstream = RegistrarAccountFactory(name="Upstream", settings={"balance": str(OPENING)})
    if request.param == "simulator":
        yield Registry("simulator", upstream, upstream)
    elif request.param == "rest":
        yield from _rest(upstream)
    else:
        yield from _epp(upstream, pki)


def _rest(upstream: RegistrarAccount):
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
    account = RegistrarAccountFactory(
        name="REST registrar",
        kind=RegistrarAccount.Kind.RESELLER_REST,
        settings={"base_url": server.url, "timeout": 5},
        credentials=json.dumps({"username": "reseller", "api_token": "rest-token-for-tests"}),
        rate_per_second=1000,
    )
    try:
        yield Registry("rest", account, upstream)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        for conn in override.values():
            conn.dec_thread_sharing()


def _epp(upstream: RegistrarAccount, pki):
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
        settings={"host": "127.0.0.1", "port": server.port, "cafile": str(pki.ca), "timeout": 5},
        credentials=json.dumps({"client_id": CLID, "password": PASSWORD}),
        max_sessions=2,
    )
    try:
        yield Registry("epp", account, upstream)
    finally:
        epp.close_sessions()
        server.stop()


# --- helpers -----------------------------------------------------------------------------------
@pytest.fixture
def customer():
    return CustomerFactory(user=UserFactory())


@pytest.fixture
def tld(registry):
    return TldFactory(name="com", registrar_account=registry.account)


def held(registry: Registry, customer, tld, name: str = "held.com") -> Domain:
    """A name we hold at the registry, and the portal's domain for it (in step, as after a sync)."""
    expires = (timezone.now() + timedelta(days=100)).replace(microsecond=0)
    SandboxDomain.objects.create(
        name=name,
        account=registry.upstream.name,
        registered_at=expires - timedelta(days=265),
        expires_at=expires,
        statuses=["ok"],
        auth_code="Our-auth-1",
    )
    return DomainFactory(
        customer=customer,
        tld=tld,
        name=name,
        registrar_account=registry.account,
        expires_at=expires,
    )


def theirs(name: str = "moving.com") -> SandboxDomain:
    """A name another registrar holds."""
    now = timezone.now().replace(microsecond=0)
    return SandboxDomain.objects.create(
        name=name,
        account="Other registrar",
        registered_at=now - timedelta(days=100),
        expires_at=now + timedelta(days=265),
        statuses=["ok"],
        auth_code="Their-auth-1",
    )


def run(operation: Op) -> str:
    """One attempt, as a worker would take it once it is due."""
    Op.objects.filter(pk=operation.pk, status=Status.PENDING).update(next_attempt_at=timezone.now())
    status = outbox.run_operation(operation.pk).status
    operation.refresh_from_db()
    return status


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def years_later(moment, years: int):
    return moment.replace(year=moment.year + years)


def count_info_calls(monkeypatch, registry: Registry) -> list[str]:
    calls: list[str] = []
    cls = registry.adapter_class()
    real = cls.info

    def info(self, name):
        calls.append(name)
        return real(self, name)

    monkeypatch.setattr(cls, "info", info)
    return calls


# --- the first answer lost: applied exactly once ------------------------------------------------
def test_a_renewal_whose_answer_was_lost_is_applied_once(registry, customer, tld):
    domain = held(registry, customer, tld)
    before = domain.expires_at
    operation = domain_renew(actor=SYSTEM, domain=domain, years=2)
    assert operation.payload["cur_exp_date"] == before.astimezone(UTC).date().isoformat()
    registry.knobs(lose_answers=["renew"])

    assert run(operation) == Status.PENDING, "the answer was lost: retried later"
    assert operation.payload[outbox.IN_DOUBT] is True
    assert SandboxDomain.objects.get(name=domain.name).expires_at == years_later(before, 2)

    assert run(operation) == Status.SUCCEEDED
    assert operation.attempts == 2
    assert SandboxDomain.objects.get(name=domain.name).expires_at == years_later(before, 2)
    assert registry.applied("renew") == 1
    assert registry.balance() == OPENING - 2 * PRICE, "charged once"
    domain.refresh_from_db()
    assert domain.expires_at == years_later(before, 2)


def test_a_registration_whose_answer_was_lost_is_applied_once(registry, customer, tld):
    domain = domain_register(actor=SYSTEM, customer=customer, name="fresh.com", years=2)
    operation = Op.objects.get(domain=domain)
    assert operation.payload["expect"]["ours"] is True
    registry.knobs(lose_answers=["register"])

    assert run(operation) == Status.PENDING
    assert SandboxDomain.objects.get(name="fresh.com").account == registry.upstream.name

    assert run(operation) == Status.SUCCEEDED, operation.last_error
    assert operation.attempts == 2
    assert SandboxDomain.objects.filter(name="fresh.com").count() == 1
    assert registry.applied("register") == 1
    assert registry.balance() == OPENING - 2 * PRICE
    domain.refresh_from_db()
    assert domain.status == "active"
    assert domain.expires_at == SandboxDomain.objects.get(name="fresh.com").expires_at


def test_a_transfer_whose_answer_was_lost_is_applied_once(registry, customer, tld):
    row = theirs()
    domain = domain_transfer_in(
        actor=SYSTEM, customer=customer, name=row.name, auth_code="Their-auth-1", years=1
    )
    operation = Op.objects.get(domain=domain)
    registry.knobs(lose_answers=["transfer"])

    assert run(operation) == Status.PENDING
    assert SandboxDomain.objects.get(name=row.name).account == registry.upstream.name

    assert run(operation) == Status.SUCCEEDED, operation.last_error
    assert operation.attempts == 2
    assert SandboxDomain.objects.get(name=row.name).expires_at == years_later(row.expires_at, 1)
    assert registry.applied("transfer") == 1
    assert registry.balance() == OPENING - PRICE
    domain.refresh_from_db()
    assert domain.status == "active"


# --- the check before a retry, and only then ----------------------------------------------------
def test_the_first_attempt_and_a_retry_after_a_sure_failure_never_ask_first(
    registry, customer, tld, monkeypatch
):
    domain = held(registry, customer, tld)
    before = domain.expires_at
    operation = domain_renew(actor=SYSTEM, domain=domain, years=1)
    calls = count_info_calls(monkeypatch, registry)
    # A failure that surely applied nothing: the registry refuses before applying (EPP 2400);
    # the REST registrar is unreachable (an HTTP 5xx would leave the outcome unknown).
    if registry.kind == "rest":
        url = registry.account.settings["base_url"]
        registry.account.settings = {**registry.account.settings, "base_url": closed_port()}
        registry.account.save()
    else:
        registry.knobs(failure_rate=1, failure_kind="transient")

    assert run(operation) == Status.PENDING
    assert outbox.IN_DOUBT not in operation.payload, "nothing can have been applied"
    if registry.kind == "rest":
        registry.account.settings = {**registry.account.settings, "base_url": url}
        registry.account.save()
    else:
        registry.knobs(failure_rate=0)
    assert run(operation) == Status.SUCCEEDED, operation.last_error
    # No check before sending; the EPP adapter reads the domain once the renewal is answered.
    assert calls == ([domain.name] if registry.kind == "epp" else [])
    assert SandboxDomain.objects.get(name=domain.name).expires_at == years_later(before, 1)
    assert registry.applied("renew") == 1


def test_a_check_that_finds_nothing_done_sends_again_with_the_recorded_expiry(
    registry, customer, tld
):
    """A worker lost before the registry heard anything: the sweep marks the row in doubt, the
    check finds the old expiry, and the renewal goes out once, with the curExpDate recorded when
    it was queued."""
    domain = held(registry, customer, tld)
    before = domain.expires_at
    operation = domain_renew(actor=SYSTEM, domain=domain, years=1)
    Op.objects.filter(pk=operation.pk).update(
        status=Status.RUNNING, attempts=1, started_at=timezone.now() - timedelta(hours=1)
    )
    assert operation.pk in outbox.sweep()
    operation.refresh_from_db()
    assert operation.payload[outbox.IN_DOUBT] is True

    assert run(operation) == Status.SUCCEEDED, operation.last_error
    assert SandboxDomain.objects.get(name=domain.name).expires_at == years_later(before, 1)
    assert registry.applied("renew") == 1


@pytest.mark.parametrize("registry", ["simulator", "epp"], indirect=True)
def test_a_duplicate_refused_2306_is_read_as_success_after_the_check(
    registry, customer, tld, monkeypatch
):
    """The check ran before the first renewal landed (the registry was still working on it), so
    the renewal went out again: the registry refused it, as its curExpDate no longer matched,
    and a second look shows the expected expiry. (The reseller REST API names no current expiry,
    so there only the check before the retry guards.)"""
    domain = held(registry, customer, tld)
    before = domain.expires_at
    operation = domain_renew(actor=SYSTEM, domain=domain, years=1)
    registry.knobs(lose_answers=["renew"])
    assert run(operation) == Status.PENDING
    registry.knobs(lose_answers=[])

    cls = registry.adapter_class()
    real = cls.info
    looks = []

    def late_info(self, name):
        info = real(self, name)
        looks.append(info.expires_at)
        return replace(info, expires_at=before) if len(looks) == 1 else info

    monkeypatch.setattr(cls, "info", late_info)
    assert run(operation) == Status.SUCCEEDED, operation.last_error
    assert len(looks) >= 2
    assert SandboxDomain.objects.get(name=domain.name).expires_at == years_later(before, 1)
    assert registry.applied("renew") == 1
    assert registry.balance() == OPENING - PRICE


@pytest.mark.parametrize("registry", ["simulator", "rest"], indirect=True)
def test_a_name_another_registrar_took_is_not_read_as_ours(registry, customer, tld):
    domain = domain_register(actor=SYSTEM, customer=customer, name="contested.com")
    operation = Op.objects.get(domain=domain)
    Op.objects.filter(pk=operation.pk).update(payload={**operation.payload, outbox.IN_DOUBT: True})
    theirs("contested.com")

    assert run(operation) == Status.FAILED
    assert "not available" in operation.last_error
    assert SandboxDomain.objects.get(name="contested.com").account == "Other registrar"


@pytest.mark.parametrize("registry", ["epp"], indirect=True)
def test_a_lost_answer_of_a_transfer_left_pending_is_found_by_a_transfer_query(
    registry, customer, tld
):
    registry.knobs(transfer_mode="pending")
    row = theirs()
    domain = domain_transfer_in(
        actor=SYSTEM, customer=customer, name=row.name, auth_code="Their-auth-1", years=1
    )
    operation = Op.objects.get(domain=domain)
    registry.knobs(lose_answers=["transfer"])

    assert run(operation) == Status.PENDING
    assert run(operation) == Status.SUCCEEDED, operation.last_error
    assert registry.applied("transfer") == 1, "requested once"
    assert SandboxDomain.objects.get(name=row.name).account == "Other registrar", "still pending"


# --- what the payload records, and who sees it --------------------------------------------------
def test_the_expectations_stay_out_of_what_customers_and_resellers_see(registry, customer, tld):
    domain = held(registry, customer, tld)
    operation = domain_renew(actor=SYSTEM, domain=domain, years=1)
    operation.payload = {**operation.payload, outbox.IN_DOUBT: True}
    seen = operation_payload_for(actor_for_user(customer.user), operation)
    assert seen == {"years": 1}
    staff = operation_payload_for(SYSTEM, operation)
    assert {"cur_exp_date", "expect", outbox.IN_DOUBT} <= set(staff)

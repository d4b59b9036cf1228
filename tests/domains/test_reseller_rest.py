"""The seed-002 reseller REST adapter against the sandbox's HTTP front end, over real sockets.

The server runs in a thread on a free 127.0.0.1 port. On PostgreSQL its request threads open their
own connections to the test database (hence ``transaction=True``); on an in-memory SQLite test
database they share the test's connection, as Django's live server does.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import socketserver
import threading
import uuid
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from domains import outbox
from domains.models import (
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxHost,
    SandboxTransaction,
)
from domains.registrars import adapter_for
from domains.registrars.base import (
    AuthorizationError,
    ContactData,
    DsData,
    HostInfo,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from domains.registrars.reseller_rest import ResellerRestAdapter, TokenBucket
from domains.services import domain_register
from domains.simulator.registry import SandboxRegistry
from domains.simulator.rest_server import SandboxRestServer, serve
from domains.tasks import registrar_operation_run
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db(transaction=True)

USER = "reseller"
TOKEN = "rest-token-for-tests-only"
HEADERS = {"Api-Username": USER, "Api-Token": TOKEN}


def key() -> str:
    return str(uuid.uuid4())


def contact(role: str = "registrant") -> ContactData:
    return ContactData(
        role=role,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.test",
        phone="+44.2071234567",
        address_1="1 Analytical Row",
        city="London",
        country="GB",
        organization="Engines Ltd",
        zip="N1 1AA",
    )


@pytest.fixture
def upstream():
    """The registrar's own books: a sandbox registry account with 100 USD of credit."""
    return RegistrarAccountFactory(
        name="Upstream sandbox",
        settings={
            "balance": "100.00",
            "reserved": ["reserved-name.com"],
            "premium": {"gold.com": "500.00"},
        },
    )


@pytest.fixture
def server(upstream):
    override = {
        conn.alias: conn
        for conn in connections.all()
        if conn.vendor == "sqlite" and conn.is_in_memory_db()
    }
    for conn in override.values():
        conn.inc_thread_sharing()
    srv = serve(
        "127.0.0.1",
        0,
        account=upstream,
        username=USER,
        api_token=TOKEN,
        connections_override=override,
    )
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)
    for conn in override.values():
        conn.dec_thread_sharing()


def rest_account(url: str, *, name="Upstream REST", token=TOKEN, **options) -> RegistrarAccount:
    return RegistrarAccountFactory(
        name=name,
        kind=RegistrarAccount.Kind.RESELLER_REST,
        settings={"base_url": url, "timeout": 5, **options},
        credentials=json.dumps({"username": USER, "api_token": token}),
        rate_per_second=1000,
    )


@pytest.fixture
def account(server):
    return rest_account(server.url)


@pytest.fixture
def adapter(account):
    with ResellerRestAdapter(account) as client:
        yield client


@pytest.fixture
def registered(adapter):
    adapter.register(
        name="rest-two.com",
        years=1,
        nameservers=["ns1.host.test", "ns2.host.test"],
        contacts=[contact()],
        privacy=False,
        idempotency_key=key(),
    )
    return "rest-two.com"


def balance(upstream) -> Decimal:
    return SandboxBalance.objects.get(account=upstream.name).amount


@contextmanager
def raw_server(reply: bytes | None):
    """A tiny TCP server that answers every request with ``reply``, or never answers."""
    release = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(65536)
            if reply is None:
                release.wait(timeout=30)
            else:
                self.request.sendall(reply)

    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


class TestDomainCommands:
    def test_it_registers_and_renews_over_http(self, adapter, upstream):
        info = adapter.register(
            name="rest-one.com",
            years=1,
            nameservers=["ns1.host.test", "ns2.host.test"],
            contacts=[contact(), contact("tech")],
            privacy=True,
            idempotency_key=key(),
        )
        row = SandboxDomain.objects.get(name="rest-one.com")
        assert row.account == upstream.name
        assert info.expires_at == row.expires_at
        assert info.nameservers == ["ns1.host.test", "ns2.host.test"]
        assert info.privacy is True
        assert sorted(c.role for c in info.contacts) == ["registrant", "tech"]
        assert info.contacts[0].organization == "Engines Ltd"
        assert info.reference == f"SBX-{row.pk}"

        renewed = adapter.renew(
            name="rest-one.com", years=2, current_expiry=info.expires_at, idempotency_key=key()
        )
        assert renewed.expires_at.year == info.expires_at.year + 2
        assert balance(upstream) == Decimal("76.00")  # 8 to register, 16 to renew for two years
        assert adapter.info("rest-one.com") == renewed

    def test_lock_nameservers_contacts_privacy_and_autorenew(self, adapter, registered):
        assert adapter.set_lock(name=registered, locked=True, idempotency_key=key()).locked
        assert SandboxDomain.objects.get(name=registered).locked
        assert not adapter.set_lock(name=registered, locked=False, idempotency_key=key()).locked

        hosts = ["ns1.other.test", "ns2.other.test", "ns3.other.test"]
        info = adapter.set_nameservers(name=registered, nameservers=hosts, idempotency_key=key())
        assert info.nameservers == hosts

        info = adapter.set_contacts(
            name=registered, contacts=[contact("admin"), contact("billing")], idempotency_key=key()
        )
        assert sorted(c.role for c in info.contacts) == ["admin", "billing"]
        stored = SandboxDomain.objects.get(name=registered).contacts
        assert sorted(c["role"] for c in stored) == ["admin", "billing"]

        assert adapter.set_privacy(name=registered, enabled=True, idempotency_key=key()).privacy
        assert not adapter.set_privacy(
            name=registered, enabled=False, idempotency_key=key()
        ).privacy
        assert adapter.set_autorenew(name=registered, enabled=True, idempotency_key=key()).autorenew

    def test_the_auth_code_comes_only_from_its_own_endpoint(self, adapter, registered, server):
        code = adapter.auth_code(registered)
        assert code == SandboxDomain.objects.get(name=registered).auth_code
        answer = httpx.get(f"{server.url}/api/domain/get/{registered}", headers=HEADERS)
        assert answer.json()["domain_name"] == registered
        assert code not in answer.text

    def test_glue_hosts_are_created_updated_and_deleted(self, adapter, registered):
        host = "ns1.rest-two.com"
        created = adapter.host_create(
            hostname=host, ipv4=["192.0.2.1"], ipv6=["2001:db8::1"], idempotency_key=key()
        )
        assert created == HostInfo(host, ["192.0.2.1"], ["2001:db8::1"])
        updated = adapter.host_update(
            hostname=host, ipv4=["192.0.2.2"], ipv6=[], idempotency_key=key()
        )
        assert updated == HostInfo(host, ["192.0.2.2"], [])
        assert adapter.hosts(registered) == [updated]
        adapter.host_delete(hostname=host, idempotency_key=key())
        assert adapter.hosts(registered) == []
        assert not SandboxHost.objects.filter(hostname=host).exists()

    def test_a_host_in_use_as_a_nameserver_cannot_be_deleted(self, adapter, registered):
        host = "ns1.rest-two.com"
        adapter.host_create(hostname=host, ipv4=["192.0.2.1"], ipv6=[], idempotency_key=key())
        adapter.set_nameservers(
            name=registered, nameservers=[host, "ns2.host.test"], idempotency_key=key()
        )
        with pytest.raises(PermanentError, match="in use as a nameserver"):
            adapter.host_delete(hostname=host, idempotency_key=key())

    def test_check_tells_taken_reserved_free_and_premium_names(self, adapter, registered):
        names = [registered, "free-name.com", "reserved-name.com", "gold.com"]
        results = adapter.check(names)
        assert [(r.name, r.available, r.reason) for r in results] == [
            (registered, False, "registered"),
            ("free-name.com", True, ""),
            ("reserved-name.com", False, "reserved"),
            ("gold.com", True, ""),
        ]
        assert results[3].premium
        assert results[3].price == Decimal("500.00")
        assert results[1].price is None, "a regular name costs what the price list says"
        assert adapter.price("free-name.com", "renew", 3).price == Decimal("24.00")

    def test_it_transfers_in_with_the_auth_code(self, adapter, upstream):
        other = RegistrarAccountFactory(name="Other registrar")
        SandboxRegistry(other).register(
            name="moving.com",
            years=1,
            nameservers=[],
            contacts=[],
            privacy=False,
            idempotency_key=key(),
        )
        code = SandboxDomain.objects.get(name="moving.com").auth_code
        with pytest.raises(AuthorizationError):
            adapter.info("moving.com")
        with pytest.raises(AuthorizationError, match="Invalid authorization code"):
            adapter.transfer(name="moving.com", auth_code="wrong", years=1, idempotency_key=key())
        info = adapter.transfer(name="moving.com", auth_code=code, years=1, idempotency_key=key())
        assert info.name == "moving.com"
        assert SandboxDomain.objects.get(name="moving.com").account == upstream.name

    def test_an_unknown_domain_is_not_found(self, adapter):
        with pytest.raises(NotFoundError, match="does not exist"):
            adapter.info("nowhere.com")

    def test_a_bad_nameserver_is_a_permanent_error_with_the_reason(self, adapter, registered):
        with pytest.raises(PermanentError, match="not a valid host name") as caught:
            adapter.set_nameservers(
                name=registered,
                nameservers=["ns1@sedoparking.com", "ns2.sedoparking.com"],
                idempotency_key=key(),
            )
        assert caught.value.code == 204

    def test_dnssec_is_refused_with_a_reason(self, adapter, registered):
        with pytest.raises(PermanentError, match="DNSSEC is not available"):
            adapter.set_ds_records(
                name=registered, records=[DsData(1, 13, 2, "ab" * 32)], idempotency_key=key()
            )


class TestOutbox:
    def test_a_registration_reaches_the_registrar_over_http(self, account, monkeypatch):
        enqueued = []
        monkeypatch.setattr(registrar_operation_run, "delay", enqueued.append)
        TldFactory(name="com", registrar_account=account)
        customer = CustomerFactory(user=UserFactory())

        domain = domain_register(actor=SYSTEM, customer=customer, name="outbox-rest.com", years=2)
        operation = RegistrarOperation.objects.get(domain=domain)
        assert enqueued == [operation.pk]
        assert isinstance(adapter_for(account), ResellerRestAdapter)

        assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.SUCCEEDED
        domain.refresh_from_db()
        row = SandboxDomain.objects.get(name="outbox-rest.com")
        assert domain.status == DomainStatus.ACTIVE
        assert domain.expires_at == row.expires_at
        assert domain.registry_reference == f"SBX-{row.pk}"
        assert row.nameservers == list(settings.NAMEPORT_DEFAULT_NAMESERVERS)

    def test_insufficient_funds_wait_for_funds_and_tell_staff(self, account, upstream, monkeypatch):
        monkeypatch.setattr(registrar_operation_run, "delay", lambda pk: None)
        upstream.settings = {"balance": "5.00"}
        upstream.save()
        TldFactory(name="com", registrar_account=account)
        domain = domain_register(
            actor=SYSTEM, customer=CustomerFactory(user=UserFactory()), name="broke.com"
        )
        operation = RegistrarOperation.objects.get(domain=domain)
        status = RegistrarOperation.Status.AWAITING_FUNDS
        assert outbox.run_operation(operation.pk).status == status
        operation.refresh_from_db()
        assert operation.status == status and "Insufficient Funds" in operation.last_error
        assert operation.tickets.filter(staff_only=True).count() == 1
        assert not SandboxDomain.objects.filter(name="broke.com").exists()


class TestAuthentication:
    @pytest.mark.parametrize("auth", ["session", "headers"])
    def test_wrong_credentials_are_an_authorization_error(self, server, auth):
        account = rest_account(server.url, name=f"Wrong {auth}", token="not-the-token", auth=auth)
        with (
            ResellerRestAdapter(account) as adapter,
            pytest.raises(AuthorizationError, match="invalid username or API token") as caught,
        ):
            adapter.info("anything.com")
        assert caught.value.code == 251

    def test_header_auth_needs_no_session(self, server):
        account = rest_account(server.url, name="Headers", auth="headers")
        with ResellerRestAdapter(account) as adapter:
            adapter.register(
                name="by-headers.com",
                years=1,
                nameservers=[],
                contacts=[],
                privacy=False,
                idempotency_key=key(),
            )
        assert SandboxDomain.objects.filter(name="by-headers.com").exists()
        assert server.app.sessions_issued == 0

    def test_adapters_of_one_process_share_the_session(self, account, registered, server):
        with ResellerRestAdapter(account) as second:
            assert second.info(registered).name == registered
        assert server.app.sessions_issued == 1

    def test_an_expired_session_logs_in_again_transparently(self, adapter, registered, server):
        server.app.expire_sessions()
        assert adapter.info(registered).name == registered
        assert server.app.sessions_issued == 2

    def test_a_logged_out_session_is_refused(self, server):
        login = httpx.post(
            f"{server.url}/api/login", json={"username": USER, "api_token": TOKEN}
        ).json()
        session = {"Api-Session-Token": login["session_token"]}
        assert httpx.get(f"{server.url}/api/domain/list", headers=session).json()["result"] == {
            "code": 100,
            "message": "Command Successful",
        }
        httpx.get(f"{server.url}/api/logout", headers=session)
        refused = httpx.get(f"{server.url}/api/domain/list", headers=session).json()
        assert refused["result"]["code"] == 251

    def test_no_credentials_no_service(self, server):
        answer = httpx.get(f"{server.url}/api/domain/list").json()
        assert answer["result"]["code"] == 251
        assert httpx.get(f"{server.url}/api/hello").json()["result"]["code"] == 100

    def test_no_secret_reaches_the_logs(self, adapter, registered, server, caplog):
        caplog.set_level(logging.DEBUG)
        server.app.expire_sessions()
        adapter.info(registered)
        code = adapter.auth_code(registered)
        assert TOKEN not in caplog.text
        assert code not in caplog.text
        assert "Api-Session-Token" not in caplog.text
        assert "session_token" not in caplog.text

    def test_credentials_that_are_not_json_are_refused_without_echoing_them(self, server):
        account = rest_account(server.url, name="Broken")
        account.credentials = "plain-secret-value"
        with pytest.raises(PermanentError, match="needs credentials") as caught:
            ResellerRestAdapter(account)
        assert "plain-secret-value" not in str(caught.value)


class TestFailures:
    def test_insufficient_funds_is_code_260(self, adapter, upstream):
        upstream.settings = {"balance": "5.00"}
        upstream.save()
        with pytest.raises(InsufficientFundsError) as caught:
            adapter.register(
                name="too-dear.com",
                years=1,
                nameservers=[],
                contacts=[],
                privacy=False,
                idempotency_key=key(),
            )
        assert caught.value.code == 260
        assert not SandboxDomain.objects.filter(name="too-dear.com").exists()

    def test_a_registry_hiccup_is_transient(self, adapter, upstream, server):
        upstream.settings = {"failure_rate": 1, "failure_kind": "transient"}
        upstream.save()
        with pytest.raises(TransientError, match="Unexpected"):
            adapter.renew(name="any.com", years=1, current_expiry=None, idempotency_key=key())
        answer = httpx.post(f"{server.url}/api/domain/lock/any.com", headers=HEADERS, json={})
        assert answer.status_code == 503
        assert answer.json()["result"]["code"] == 250

    @pytest.mark.parametrize("auth", ["session", "headers"])
    def test_a_server_answering_garbage_is_transient(self, auth):
        reply = (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 17\r\n\r\n"
            b"<html>oops</html>"
        )
        with raw_server(reply) as url:
            account = rest_account(url, name=f"Garbage {auth}", auth=auth)
            with (
                ResellerRestAdapter(account) as adapter,
                pytest.raises(TransientError, match="no readable result"),
            ):
                adapter.info("example.com")

    def test_a_server_that_does_not_answer_in_time_leaves_the_outcome_unknown(self):
        with raw_server(None) as url:
            account = rest_account(url, name="Silent", auth="headers", timeout=0.2)
            with (
                ResellerRestAdapter(account) as adapter,
                pytest.raises(OutcomeUnknown, match="in time"),
            ):
                adapter.info("example.com")

    def test_a_server_that_closes_without_answering_leaves_the_outcome_unknown(self):
        with raw_server(b"") as url:
            account = rest_account(url, name="Mute", auth="headers", timeout=2)
            with (
                ResellerRestAdapter(account) as adapter,
                pytest.raises(OutcomeUnknown, match="connection to the registrar was lost"),
            ):
                adapter.renew(
                    name="example.com", years=1, current_expiry=None, idempotency_key=key()
                )

    def test_a_refused_connection_is_transient(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        account = rest_account(f"http://127.0.0.1:{port}", name="Nobody")
        with (
            ResellerRestAdapter(account) as adapter,
            pytest.raises(TransientError, match="Could not reach") as caught,
        ):
            adapter.info("example.com")
        assert not isinstance(caught.value, OutcomeUnknown), "nothing was sent"


class TestIdempotency:
    def test_a_retried_order_with_the_same_key_registers_once(self, adapter, upstream):
        same = key()
        arguments = {
            "name": "once.com",
            "years": 1,
            "nameservers": [],
            "contacts": [],
            "privacy": False,
        }
        first = adapter.register(**arguments, idempotency_key=same)
        again = adapter.register(**arguments, idempotency_key=same)
        assert again == first
        assert balance(upstream) == Decimal("92.00")
        assert SandboxTransaction.objects.filter(command="register").count() == 1

    def test_with_replay_on_the_server_answers_a_repeated_key_as_the_first_time(
        self, server, upstream
    ):
        upstream.settings = {**upstream.settings, "replay": True}
        upstream.save()
        body = {"items": [{"order_type": "domain/create", "domain_name": "twice.com", "period": 1}]}
        url = f"{server.url}/api/order"
        first = httpx.post(url, json=body, headers={**HEADERS, "Idempotency-Key": "order-1"})
        again = httpx.post(url, json=body, headers={**HEADERS, "Idempotency-Key": "order-1"})
        assert first.json()["result"]["code"] == 100
        assert again.json() == first.json()
        assert balance(upstream) == Decimal("92.00")
        other = httpx.post(url, json=body, headers={**HEADERS, "Idempotency-Key": "order-2"})
        assert other.json()["result"]["code"] == 240
        assert other.json()["results"][0]["success"] is False
        assert "not available" in other.json()["result"]["message"]

    def test_with_replay_off_a_repeated_key_is_a_new_command(self, server, upstream):
        """As at the seed-002 API, which has no Idempotency-Key: the header changes nothing."""
        SandboxRegistry(upstream).register(
            name="again.com",
            years=1,
            nameservers=[],
            contacts=[],
            privacy=False,
            idempotency_key=key(),
        )
        expiry = SandboxDomain.objects.get(name="again.com").expires_at
        url = f"{server.url}/api/order"
        item = {"domain_name": "again.com", "period": 1}
        renew = {"items": [{**item, "order_type": "domain/renew"}]}
        create = {"items": [{**item, "order_type": "domain/create"}]}
        headers = {**HEADERS, "Idempotency-Key": "renew-1"}
        assert httpx.post(url, json=renew, headers=headers).json()["result"]["code"] == 100
        assert httpx.post(url, json=renew, headers=headers).json()["result"]["code"] == 100
        assert SandboxDomain.objects.get(name="again.com").expires_at.year == expiry.year + 2
        refused = httpx.post(url, json=create, headers={**HEADERS, "Idempotency-Key": "c-1"})
        assert refused.json()["result"]["code"] == 240
        assert "not available" in refused.json()["result"]["message"]

    def test_an_answer_lost_after_the_change_is_a_504_and_an_unknown_outcome(
        self, adapter, registered, upstream
    ):
        upstream.settings = {**upstream.settings, "lose_answers": ["lock"]}
        upstream.save()
        with pytest.raises(OutcomeUnknown, match="answer was lost"):
            adapter.set_lock(name=registered, locked=True, idempotency_key=key())
        assert SandboxDomain.objects.get(name=registered).locked, "applied all the same"

    def test_a_retry_after_a_lost_answer_finds_the_domain_already_ours(self, adapter, upstream):
        arguments = {"name": "lost.com", "years": 1, "nameservers": [], "contacts": []}
        first = adapter.register(**arguments, privacy=False, idempotency_key=key())
        again = adapter.register(**arguments, privacy=False, idempotency_key=key())
        assert again == first
        assert balance(upstream) == Decimal("92.00")

    def test_a_name_held_elsewhere_stays_refused(self, adapter):
        SandboxRegistry(RegistrarAccountFactory(name="Other registrar")).register(
            name="elsewhere.com",
            years=1,
            nameservers=[],
            contacts=[],
            privacy=False,
            idempotency_key=key(),
        )
        with pytest.raises(PermanentError, match="not available"):
            adapter.register(
                name="elsewhere.com",
                years=1,
                nameservers=[],
                contacts=[],
                privacy=False,
                idempotency_key=key(),
            )


class TestServerAnswers:
    def test_bad_json_answers_203_as_json(self, server):
        answer = httpx.post(f"{server.url}/api/order", content=b"{not json", headers=HEADERS)
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["result"] == {
            "code": 203,
            "message": "Required Parameter Missing: the body is not valid JSON",
        }

    @pytest.mark.parametrize(
        ("item", "code", "message"),
        [
            ({"order_type": "domain/create", "period": 1}, 203, "items[0].domain_name"),
            ({"order_type": "domain/create", "domain_name": "a.com"}, 203, "items[0].period"),
            (
                {"order_type": "domain/create", "domain_name": "a.com", "period": 11},
                204,
                "1 to 10 years",
            ),
            ({"order_type": "ssl/create", "domain_name": "a.com", "period": 1}, 204, "not offered"),
            (
                {"order_type": "domain/create", "domain_name": "bad_name.com", "period": 1},
                204,
                "not a domain name",
            ),
            (
                {
                    "order_type": "domain/create",
                    "domain_name": "a.com",
                    "period": 1,
                    "contacts": [{"type": ["registrant"], "first_name": "A"}],
                },
                203,
                "contacts[0].last_name",
            ),
        ],
    )
    def test_parameter_errors(self, server, item, code, message):
        answer = httpx.post(f"{server.url}/api/order", json={"items": [item]}, headers=HEADERS)
        assert answer.json()["result"]["code"] == code
        assert message in answer.json()["result"]["message"]
        assert not SandboxDomain.objects.exists()

    def test_a_bad_item_rejects_the_whole_order(self, server):
        items = [
            {"order_type": "domain/create", "domain_name": "good.com", "period": 1},
            {"order_type": "domain/create", "domain_name": "bad.com", "period": 0},
        ]
        answer = httpx.post(f"{server.url}/api/order", json={"items": items}, headers=HEADERS)
        assert answer.json()["result"]["code"] == 204
        assert not SandboxDomain.objects.exists()

    def test_unknown_urls_and_methods(self, server):
        missing = httpx.get(f"{server.url}/api/nothing", headers=HEADERS)
        assert (missing.status_code, missing.json()["result"]["code"]) == (404, 211)
        wrong = httpx.get(f"{server.url}/api/order", headers=HEADERS)
        assert (wrong.status_code, wrong.json()["result"]["code"]) == (405, 211)

    def test_domain_list_and_account(self, adapter, registered, server):
        listing = httpx.get(f"{server.url}/api/domain/list", headers=HEADERS).json()
        assert list(listing["domains"]) == [registered]
        assert adapter.domains() == [registered]
        account = httpx.get(f"{server.url}/api/account/get", headers=HEADERS).json()
        assert account["account_credit"] == "92.00"
        assert account["domain_count"] == 1

    def test_dns_records_are_created_listed_and_deleted(self, registered, server):
        base = f"{server.url}/api/dns"
        created = httpx.post(
            f"{base}/create/{registered}",
            json={"hostname": "www", "type": "A", "content": "192.0.2.7", "ttl": 300},
            headers=HEADERS,
        ).json()
        assert created["result"]["code"] == 100
        assert (created["name"], created["type"], created["content"]) == (
            f"www.{registered}",
            "A",
            "192.0.2.7",
        )
        listed = httpx.get(f"{base}/list/{registered}", headers=HEADERS).json()["records"]
        assert [r["record_id"] for r in listed] == [created["record_id"]]
        httpx.post(
            f"{base}/delete/{registered}", json={"record_id": created["record_id"]}, headers=HEADERS
        )
        assert httpx.get(f"{base}/list/{registered}", headers=HEADERS).json()["records"] == []

    def test_the_keyword_check_expands_to_the_given_tlds(self, server):
        answer = httpx.post(
            f"{server.url}/api/domain/check",
            json={"keyword": "shop", "tlds": ["com", "net"]},
            headers=HEADERS,
        ).json()
        assert sorted(answer["domains"]) == ["shop.com", "shop.net"]
        assert answer["domains"]["shop.com"]["avail"] is True


def test_the_token_bucket_spreads_requests_over_time():
    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(4)] == [0, 0, 0.5, 0.5]
    now[0] += 10
    assert bucket.acquire() == 0  # refilled, but never beyond its capacity
    assert bucket.acquire() == 0
    assert bucket.acquire() == 0.5


class TestCommand:
    def test_it_prints_the_url_it_serves(self, monkeypatch):
        served = []
        monkeypatch.setattr(SandboxRestServer, "serve_forever", lambda self: served.append(self))
        out = io.StringIO()
        call_command(
            "run_sandbox_rest",
            "--port=0",
            "--account=Command sandbox",
            "--username=demo",
            "--token=demo-token",
            stdout=out,
        )
        (server,) = served
        assert f"at {server.url} (user demo)" in out.getvalue()
        assert server.url.startswith("http://127.0.0.1:")
        assert "demo-token" not in out.getvalue()
        created = RegistrarAccount.objects.get(name="Command sandbox")
        assert created.kind == RegistrarAccount.Kind.SANDBOX

    def test_it_refuses_to_start_without_a_token(self, monkeypatch):
        monkeypatch.delenv("NAMEPORT_SANDBOX_REST_TOKEN", raising=False)
        with pytest.raises(CommandError, match="--token"):
            call_command("run_sandbox_rest", "--port=0", "--username=demo", stdout=io.StringIO())

    def test_it_serves_only_a_sandbox_account(self):
        rest_account("http://127.0.0.1:1", name="Not a sandbox")
        with pytest.raises(CommandError, match="not a sandbox registry"):
            call_command(
                "run_sandbox_rest",
                "--account=Not a sandbox",
                "--username=demo",
                "--token=t",
                stdout=io.StringIO(),
            )

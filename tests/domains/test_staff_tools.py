"""Staff tools (issue 12): TLD pages, typed registrar-account forms, the operation page with its
attempts, and the attempts the worker records."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from domains import admin_services, outbox
from domains.models import RegistrarAccount, RegistrarOperationAttempt, Tld
from domains.models import RegistrarOperation as Op
from domains.names import parse_domain_name
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.domains.factories import (
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
    TldFactory,
)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def tld_post(**overrides) -> dict:
    data = {
        "page": "tld",
        "name": "shop",
        "registrar_account": "",
        "grace_days": "40",
        "redemption_days": "30",
        "pending_delete_days": "5",
        "min_years": "1",
        "max_years": "5",
        "idn_allowed": "on",
        "is_active": "on",
        "transfer_default": "approve",
        "reserved_names": "premium\nNIC, www.shop",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- TLD pages ----------------------------------------------------------------------------------
class TestTldPages:
    def test_staff_add_a_tld_with_its_rules_and_routing(self, client, world):
        account = RegistrarAccountFactory(name="Routing target")
        client.force_login(world.staff)
        assert client.get(reverse("domains:tld_create")).status_code == 200
        response = client.post(
            reverse("domains:tld_create"), tld_post(name=".Shop", registrar_account=account.pk)
        )
        assert response.status_code == 302
        tld = Tld.objects.get(name="shop")
        assert (tld.grace_days, tld.max_years, tld.idn_allowed) == (40, 5, True)
        assert tld.registrar_account == account
        assert tld.reserved_names == ["premium", "nic", "www"]
        entry = AuditEntry.objects.get(action="tld.create", object_id=str(tld.pk))
        assert entry.data["reserved_names"] == ["premium", "nic", "www"]
        assert entry.origin == "web" and entry.ip_address == "127.0.0.1"

    def test_a_duplicate_or_invalid_tld_is_a_form_error_and_adds_nothing(self, client, world):
        TldFactory(name="shop")
        client.force_login(world.staff)
        before = Tld.objects.count()
        response = client.post(reverse("domains:tld_create"), tld_post())
        assert response.status_code == 422
        assert "already on the list" in response.content.decode()
        for bad in ({"name": "not a tld"}, {"name": "ok", "min_years": "6", "max_years": "2"}):
            response = client.post(reverse("domains:tld_create"), tld_post(**bad))
            assert response.status_code == 422
        response = client.post(
            reverse("domains:tld_create"), tld_post(name="fine", reserved_names="two.labels")
        )
        assert response.status_code == 422
        assert "not a single label" in response.content.decode()
        assert Tld.objects.count() == before

    def test_the_edit_page_saves_reserved_names_and_audits_the_change(self, client, world):
        tld = TldFactory(name="blog", reserved_names=["old"])
        client.force_login(world.staff)
        page = client.get(reverse("domains:tld_page", args=[tld.pk])).content.decode()
        assert "old</textarea>" in page
        response = client.post(
            reverse("domains:tld_edit", args=[tld.pk]),
            tld_post(name=None, reserved_names="new\nbücher", transfer_default="reject"),
        )
        assert response.status_code == 302
        tld.refresh_from_db()
        assert tld.reserved_names == ["new", "xn--bcher-kva"]
        assert tld.transfer_default == "reject"
        entry = AuditEntry.objects.filter(action="tld.update").latest("id")
        assert entry.data["reserved_names"] == ["new", "xn--bcher-kva"]

    def test_the_list_row_keeps_reserved_names_it_does_not_show(self, client, world):
        tld = TldFactory(name="blog", reserved_names=["keep"])
        client.force_login(world.staff)
        prefix = f"tld-{tld.pk}"
        data = {
            f"{prefix}-registrar_account": "",
            f"{prefix}-grace_days": "10",
            f"{prefix}-redemption_days": "30",
            f"{prefix}-min_years": "1",
            f"{prefix}-max_years": "10",
            f"{prefix}-is_active": "on",
        }
        response = client.post(reverse("domains:tld_edit", args=[tld.pk]), data, **HX)
        assert response.status_code == 200
        tld.refresh_from_db()
        assert (tld.grace_days, tld.reserved_names) == (10, ["keep"])

    def test_a_reserved_name_cannot_be_registered(self, world):
        TldFactory(name="club", reserved_names=["vip"])
        with pytest.raises(ValidationError, match="reserved"):
            parse_domain_name("vip.club")
        assert parse_domain_name("other.club").label == "other"

    @pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
    def test_others_get_404(self, client, world, who):
        tld = TldFactory(name="blog")
        client.force_login(getattr(world.a, who))
        assert client.get(reverse("domains:tld_create")).status_code == 404
        assert client.post(reverse("domains:tld_create"), tld_post()).status_code == 404
        assert client.get(reverse("domains:tld_page", args=[tld.pk])).status_code == 404
        assert not Tld.objects.filter(name="shop").exists()


# --- registrar accounts: typed forms ------------------------------------------------------------
def epp_post(**overrides) -> dict:
    data = {
        "kind": "epp",
        "name": "Registry EPP",
        "rate_per_second": "5",
        "max_sessions": "2",
        "is_active": "on",
        "host": "epp.registry.example",
        "port": "700",
        "timeout": "20",
        "currency": "usd",
        "client_id": "np-clid",
        "password": "S3cret-epp-pass",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class TestAccountForms:
    def test_each_kind_has_its_own_fields(self, client, world):
        client.force_login(world.staff)
        url = reverse("domains:account_create")
        epp = client.get(url, {"kind": "epp"}).content.decode()
        rest = client.get(url, {"kind": "reseller_rest"}).content.decode()
        sandbox = client.get(url).content.decode()
        assert 'name="host"' in epp and 'name="client_id"' in epp and 'name="base_url"' not in epp
        assert 'name="base_url"' in rest and 'name="api_token"' in rest
        assert 'name="host"' not in rest
        assert 'name="failure_rate"' in sandbox and 'name="password"' not in sandbox
        assert 'name="settings"' not in epp + rest + sandbox  # no raw JSON any more

    def test_staff_create_an_epp_account_and_the_secret_is_never_rendered(self, client, world):
        client.force_login(world.staff)
        response = client.post(reverse("domains:account_create"), epp_post())
        assert response.status_code == 302
        account = RegistrarAccount.objects.get(name="Registry EPP")
        assert account.kind == "epp"
        assert account.settings == {
            "host": "epp.registry.example",
            "port": 700,
            "timeout": 20.0,
            "currency": "USD",
        }
        assert json.loads(account.credentials) == {
            "client_id": "np-clid",
            "password": "S3cret-epp-pass",
        }
        html = client.get(reverse("domains:account_edit", args=[account.pk])).content.decode()
        assert "S3cret-epp-pass" not in html and "np-clid" not in html
        assert "Stored (never shown)" in html
        entry = AuditEntry.objects.get(action="registrar_account.create")
        assert "S3cret" not in json.dumps(entry.data)

    def test_blank_credentials_keep_the_stored_ones_and_unshown_settings_are_kept(
        self, client, world
    ):
        account = RegistrarAccountFactory(
            name="Registry EPP",
            kind="epp",
            settings={"host": "old.example", "port": 700, "prices": {"test": {"register": 9}}},
            credentials=json.dumps({"client_id": "np-clid", "password": "S3cret-epp-pass"}),
        )
        client.force_login(world.staff)
        url = reverse("domains:account_edit", args=[account.pk])
        assert "prices" in client.get(url).content.decode()  # "kept as they are"
        response = client.post(url, epp_post(client_id="", password="", host="new.example"))
        assert response.status_code == 302
        account.refresh_from_db()
        assert json.loads(account.credentials)["password"] == "S3cret-epp-pass"
        assert account.settings["host"] == "new.example"
        assert account.settings["prices"] == {"test": {"register": 9}}
        response = client.post(url, epp_post(client_id="", password="N3w-pass"))
        account.refresh_from_db()
        assert json.loads(account.credentials) == {"client_id": "np-clid", "password": "N3w-pass"}

    def test_a_new_account_needs_its_credentials_and_bad_values_are_form_errors(
        self, client, world
    ):
        client.force_login(world.staff)
        url = reverse("domains:account_create")
        cases = [
            epp_post(password=""),
            epp_post(host="epp.example:700"),
            epp_post(port="70000"),
            epp_post(certfile="/etc/cert.pem"),
            {**epp_post(), "kind": "reseller_rest", "base_url": "ftp://x.example"},
        ]
        for data in cases:
            response = client.post(url, data)
            assert response.status_code == 422, data
            assert "S3cret-epp-pass" not in response.content.decode()
        assert not RegistrarAccount.objects.filter(name="Registry EPP").exists()

    def test_a_reseller_rest_account(self, client, world):
        client.force_login(world.staff)
        data = {
            "kind": "reseller_rest",
            "name": "Upstream REST",
            "rate_per_second": "20",
            "max_sessions": "4",
            "base_url": "https://api.registrar.example/",
            "auth": "headers",
            "username": "reseller",
            "api_token": "tok-123-secret",
        }
        assert client.post(reverse("domains:account_create"), data).status_code == 302
        account = RegistrarAccount.objects.get(name="Upstream REST")
        assert account.settings == {"base_url": "https://api.registrar.example", "auth": "headers"}
        assert json.loads(account.credentials)["api_token"] == "tok-123-secret"

    def test_a_sandbox_account_with_its_knobs(self, client, world):
        client.force_login(world.staff)
        data = {
            "kind": "sandbox",
            "name": "Sim",
            "rate_per_second": "20",
            "max_sessions": "4",
            "failure_rate": "0.25",
            "balance": "500",
            "reserved": "taken.test\nother.test",
        }
        assert client.post(reverse("domains:account_create"), data).status_code == 302
        account = RegistrarAccount.objects.get(name="Sim")
        assert account.settings == {
            "failure_rate": "0.25",
            "balance": "500",
            "reserved": ["taken.test", "other.test"],
        }

    def test_the_sandbox_connection_test_reports_the_simulator(self, client, world):
        account = RegistrarAccountFactory(name="Sim")
        client.force_login(world.staff)
        response = client.post(reverse("domains:account_test", args=[account.pk]), **HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-connection="ok"' in html and "1000" in html
        assert AuditEntry.objects.filter(action="registrar_account.test").exists()

    def test_a_connection_test_without_credentials_says_what_is_missing(self, client, world):
        account = RegistrarAccountFactory(
            name="No creds", kind="epp", settings={"host": "127.0.0.1", "port": 1}
        )
        client.force_login(world.staff)
        response = client.post(reverse("domains:account_test", args=[account.pk]), follow=True)
        assert response.status_code == 200
        assert "needs credentials" in response.content.decode()

    @pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
    def test_others_get_404_on_accounts(self, client, world, who):
        account = RegistrarAccountFactory(name="Sim")
        client.force_login(getattr(world.a, who))
        assert client.get(reverse("domains:account_create")).status_code == 404
        assert client.post(reverse("domains:account_test", args=[account.pk])).status_code == 404


# --- the operation page and its attempts -------------------------------------------------------
def attempt(op, number=1, outcome="retry", **response) -> RegistrarOperationAttempt:
    from django.utils import timezone

    now = timezone.now()
    return RegistrarOperationAttempt.objects.create(
        operation=op,
        number=number,
        started_at=now,
        finished_at=now,
        outcome=outcome,
        request={
            "command": op.kind,
            "name": op.domain.name_puny,
            "account": "Upstream",
            "payload": {"years": 1, "registry_cost": {"amount": "99.00"}},
        },
        response={"ok": False, "error": "TransientError", "code": 2400, **response},
        next_attempt_at=now,
    )


class TestOperationPage:
    def test_staff_read_the_attempts(self, client, world):
        op = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.PENDING)
        attempt(op, message="Command failed; try later")
        client.force_login(world.staff)
        response = client.get(reverse("domains:operation_detail", args=[op.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert "Attempt 1" in html and "2400" in html and "Command failed; try later" in html
        assert "registry_cost" in html and "Upstream" in html
        assert "data-next-retry" in html
        fragment = client.get(reverse("domains:operation_detail", args=[op.pk]), **HX)
        assert "<html" not in fragment.content.decode()
        assert 'hx-trigger="every 3s"' in fragment.content.decode()

    def test_a_reseller_sees_its_attempts_without_platform_details(self, client, world):
        op = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.HELD)
        attempt(op, outcome="held", message="Premium price 99.00 USD, more than 8.00")
        client.force_login(world.a.member)
        html = client.get(reverse("domains:operation_detail", args=[op.pk])).content.decode()
        assert "Attempt 1" in html
        assert "99.00" not in html and "registry_cost" not in html and "Upstream" not in html

    def test_the_queue_the_domain_page_and_the_ticket_link_to_it(self, client, world):
        op = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
        url = reverse("domains:operation_detail", args=[op.pk])
        client.force_login(world.staff)
        assert url in client.get(reverse("domains:operation_list")).content.decode()
        history = client.get(reverse("domains:operations", args=[world.a.domain.pk]))
        assert url in history.content.decode()
        ticket = world.a.ticket
        ticket.operation = op
        ticket.save(update_fields=["operation"])
        page = client.get(reverse("support:ticket_detail", args=[ticket.ticket_number]))
        assert url in page.content.decode()

    def test_retry_asks_for_confirmation_and_clears_the_old_error(self, client, world):
        op = RegistrarOperationFactory(
            domain=world.a.domain, status=Op.Status.FAILED, attempts=8, last_error="boom 2306"
        )
        attempt(op, outcome="failed", message="boom 2306")
        client.force_login(world.staff)
        url = reverse("domains:operation_detail", args=[op.pk])
        html = client.get(url).content.decode()
        retry = re.search(r'<form[^>]*operation_retry[^>]*>|<form[^>]*/retry/"[^>]*>', html)
        assert retry and "data-confirm=" in retry.group(0)
        response = client.post(
            reverse("domains:operation_retry", args=[op.pk]), {"next": url}, follow=True
        )
        assert response.redirect_chain[-1][0] == url
        op.refresh_from_db()
        assert (op.status, op.last_error) == (Op.Status.PENDING, "")
        # The old error stays readable in the attempt it came from.
        assert "boom 2306" in response.content.decode()

    @pytest.mark.parametrize("who", ["customer_user", "contact_user"])
    def test_customers_get_404(self, client, world, who):
        op = RegistrarOperationFactory(domain=world.a.domain)
        client.force_login(getattr(world.a, who))
        assert client.get(reverse("domains:operation_detail", args=[op.pk])).status_code == 404

    def test_another_reseller_gets_404(self, client, world):
        op = RegistrarOperationFactory(domain=world.a.domain)
        client.force_login(world.b.member)
        assert client.get(reverse("domains:operation_detail", args=[op.pk])).status_code == 404


class TestAttemptsRecorded:
    """The worker writes one attempt per call, against the simulated registry."""

    def _operation(self, **settings):
        account = RegistrarAccountFactory(name="Sim", settings=settings)
        tld = TldFactory(name="test", registrar_account=account)
        domain = DomainFactory(name="recorded.test", tld=tld, registrar_account=account)
        return RegistrarOperationFactory(
            domain=domain,
            registrar_account=account,
            kind=Op.Kind.LOCK,
            payload={"value": True, "auth_code": "never-recorded"},
        )

    def test_a_success_is_recorded_with_what_was_sent_and_what_came_back(self):
        from domains.models import SandboxDomain

        op = self._operation()
        SandboxDomain.objects.create(
            name="recorded.test",
            account="Sim",
            registered_at="2026-01-01T00:00:00Z",
            expires_at="2027-01-01T00:00:00Z",
            auth_code="x",
        )
        assert outbox.run_operation(op.pk).status == Op.Status.SUCCEEDED
        row = RegistrarOperationAttempt.objects.get(operation=op)
        assert (row.number, row.outcome, row.next_attempt_at) == (1, "succeeded", None)
        assert row.request["command"] == "lock" and row.request["name"] == "recorded.test"
        assert row.request["payload"] == {"value": True, "auth_code": "(not recorded)"}
        assert row.response["ok"] is True
        assert "never-recorded" not in json.dumps(row.request | row.response)

    def test_a_transient_failure_records_the_code_and_the_next_retry(self):
        op = self._operation(failure_rate=1, failure_kind="transient")
        outcome = outbox.run_operation(op.pk)
        assert outcome.status == Op.Status.PENDING
        row = RegistrarOperationAttempt.objects.get(operation=op)
        assert row.outcome == "retry"
        assert row.response["code"] == 500 and "try again later" in row.response["message"]
        op.refresh_from_db()
        assert row.next_attempt_at is not None
        assert abs((row.next_attempt_at - op.next_attempt_at).total_seconds()) < 1

    def test_the_drain_path_records_every_call(self):
        op = self._operation(failure_rate=1, failure_kind="permanent")
        claimed = outbox.claim_due(10)
        assert [c.pk for c in claimed] == [op.pk]
        assert outbox.record_many([(c, *outbox._attempt(c)) for c in claimed]) == ["failed"]
        row = RegistrarOperationAttempt.objects.get(operation=op)
        assert (row.outcome, row.response["code"]) == ("failed", 2306)

    def test_a_call_whose_worker_was_lost_is_recorded_by_the_sweep(self):
        from datetime import timedelta

        from django.utils import timezone

        op = self._operation()
        long_ago = timezone.now() - timedelta(seconds=outbox.LEASE_SECONDS + 60)
        Op.objects.filter(pk=op.pk).update(
            status=Op.Status.RUNNING, started_at=long_ago, attempts=1
        )
        assert op.pk in outbox.sweep()
        row = RegistrarOperationAttempt.objects.get(operation=op)
        assert (row.outcome, row.started_at) == ("retry", long_ago)
        assert row.response["error"] == "OutcomeUnknown"
        assert "worker was lost" in row.response["message"]


def test_services_refuse_non_staff(world):
    from portal.tenancy import actor_for_user

    member = actor_for_user(world.a.member)
    with pytest.raises(Exception, match="Only platform staff"):
        admin_services.tld_create(actor=member, name="evil")
    account = RegistrarAccountFactory(name="Sim")
    with pytest.raises(Exception, match="Only platform staff"):
        admin_services.registrar_account_test(actor=member, account=account)
    assert admin_services.registrar_account_test(actor=SYSTEM, account=account).ok

"""Restore from redemption (RFC 3915): the service, the page action, the API action, and the worker
against the simulated registry, in process and over EPP/TLS (the rgp restore request with its
fee, and the restore report where the registry requires one); the domain is active again."""

# ruff: noqa: F811 (the fixtures imported from test_epp.py are requested by name)

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from billing.models import Price
from domains import outbox
from domains.models import (
    Domain,
    DomainStatus,
    DomainStatusChange,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    Tld,
)
from domains.registrars.base import FeeRefusedError, PermanentError, QuotedFee
from domains.services import domain_restore
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from tests.billing.ledger_helpers import unmetered
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory
from tests.domains.test_epp import (  # noqa: F401 (fixtures)
    account,
    adapter,
    epp_schema,
    frames,
    make_account,
    pki,
    register,
    server,
    upstream,
)


@pytest.fixture(autouse=True)
def _unmetered():
    """About the fee guard and restores, not the reseller's account with the platform:
    operations run without charging it (tests/domains/test_charge_at_claim.py covers that)."""
    with unmetered():
        yield


S = DomainStatus
Status = RegistrarOperation.Status
Kind = RegistrarOperation.Kind
RGP = "urn:ietf:params:xml:ns:rgp-1.0"
FEE = "urn:ietf:params:xml:ns:epp:fee-1.0"
HX = {"HTTP_HX_REQUEST": "true"}


def in_redemption(domain: Domain) -> Domain:
    Domain.objects.filter(pk=domain.pk).update(status=S.REDEMPTION)
    DomainStatusChange.objects.create(domain=domain, from_status=S.GRACE, to_status=S.REDEMPTION)
    domain.refresh_from_db()
    return domain


def deleted_at_registry(domain: Domain, account: str, **fields) -> SandboxDomain:
    """The registry holds the domain in its redemption period (deleted, restorable)."""
    return SandboxDomain.objects.create(
        name=domain.name_puny,
        account=account,
        registered_at=domain.registered_at,
        expires_at=domain.expires_at,
        statuses=["pendingDelete"],
        auth_code="Own-auth-1",
        **fields,
    )


def restores(domain) -> list[RegistrarOperation]:
    return list(RegistrarOperation.objects.filter(domain=domain, kind=Kind.RESTORE))


# --- the service, the page and the API, with the in-process simulated registry -------------------
@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox")
    com, _ = Tld.objects.update_or_create(name="com", defaults={"registrar_account": account})
    Price.objects.create(tld=com, action="redemption", currency="USD", cost="80.00", sell="100.00")
    return account


@pytest.fixture
def redeemable(world, registry):
    return in_redemption(world.a.domain)


@pytest.mark.django_db
class TestService:
    def test_it_queues_a_restore_with_its_price_and_reason(self, world, redeemable):
        actor = actor_for_user(world.a.customer_user)
        operation = domain_restore(actor=actor, domain=redeemable, reason="Renewal was missed")
        assert (operation.kind, operation.status) == (Kind.RESTORE, Status.PENDING)
        assert operation.payload["reason"] == "Renewal was missed"
        assert operation.payload["expected_cost"] == {"amount": "80.00", "currency": "USD"}
        assert "deleted_at" in operation.payload
        assert AuditEntry.objects.filter(
            action="domain.restore", object_id=str(redeemable.pk)
        ).exists()

    def test_the_worker_restores_it_and_the_domain_is_active_again(self, world, registry):
        domain = in_redemption(world.a.domain)
        row = deleted_at_registry(domain, registry.name)
        operation = domain_restore(actor=SYSTEM, domain=domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        domain.refresh_from_db()
        row.refresh_from_db()
        assert domain.status == S.ACTIVE and row.statuses == ["ok"]
        change = domain.status_changes.first()
        assert (change.from_status, change.to_status) == (S.REDEMPTION, S.ACTIVE)
        charged = SandboxBalance.objects.get(account=registry.name)
        assert charged.amount == Decimal("100000") - Decimal("80.00")

    def test_a_domain_not_in_redemption_cannot_be_restored(self, world, registry):
        with pytest.raises(ValidationError) as refused:
            domain_restore(actor=SYSTEM, domain=world.a.domain)
        assert "active" in refused.value.messages[0]
        assert restores(world.a.domain) == []

    def test_one_restore_at_a_time(self, redeemable):
        domain_restore(actor=SYSTEM, domain=redeemable)
        with pytest.raises(ValidationError, match="already under way"):
            domain_restore(actor=SYSTEM, domain=redeemable)
        assert len(restores(redeemable)) == 1

    def test_a_contact_needs_the_renew_privilege(self, world, redeemable):
        user = UserFactory()
        ContactFactory(customer=world.a.customer, user=user, privileges={"domains": {}})
        with pytest.raises(PermissionDenied):
            domain_restore(actor=actor_for_user(user), domain=redeemable)
        assert restores(redeemable) == []

    def test_a_reason_is_short(self, redeemable):
        with pytest.raises(ValidationError):
            domain_restore(actor=SYSTEM, domain=redeemable, reason="x" * 201)
        assert restores(redeemable) == []

    def test_a_held_restore_is_retried_at_the_registrys_price(self, world, registry):
        registry.settings = {"prices": {"com": {"restore": "95.00"}}}
        registry.save()
        domain = in_redemption(world.a.domain)
        row = deleted_at_registry(domain, registry.name)
        operation = domain_restore(actor=SYSTEM, domain=domain)
        assert outbox.run_operation(operation.pk).status == Status.HELD
        row.refresh_from_db()
        assert row.statuses == ["pendingDelete"]  # nothing restored, nothing charged
        assert not SandboxBalance.objects.filter(account=registry.name).exists()
        from domains.services import operation_retry

        operation_retry(actor=SYSTEM, operation=operation)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert SandboxBalance.objects.get(account=registry.name).amount == Decimal("99905.00")


@pytest.mark.django_db
class TestPage:
    @pytest.mark.parametrize("who", ["customer_user", "member"])
    def test_the_customer_and_the_reseller_see_the_action_and_its_price(
        self, client, world, redeemable, who
    ):
        client.force_login(getattr(world.a, who))
        page = client.get(reverse("domains:detail", args=[redeemable.pk])).content.decode()
        assert 'data-form="restore"' in page and "Restore from redemption" in page
        assert "100.00 USD" in page  # the platform's price: neither a registry cost nor 80.00
        assert "80.00" not in page

    def test_an_active_domain_offers_no_restore(self, client, world, registry):
        client.force_login(world.a.customer_user)
        page = client.get(reverse("domains:detail", args=[world.a.domain.pk])).content.decode()
        assert 'data-form="restore"' not in page

    def test_restoring_queues_it(self, client, world, redeemable):
        client.force_login(world.a.customer_user)
        url = reverse("domains:restore", args=[redeemable.pk])
        response = client.post(url, {"reason": "Missed the renewal"})
        assert response.status_code == 302
        [operation] = restores(redeemable)
        assert operation.payload["reason"] == "Missed the renewal"

    def test_the_htmx_answer_is_the_tab_with_a_notice(self, client, world, redeemable):
        client.force_login(world.a.member)
        response = client.post(reverse("domains:restore", args=[redeemable.pk]), {}, **HX)
        assert response.status_code == 200
        assert "Restore of" in response.content.decode()
        assert "np-operations-changed" in response["HX-Trigger"]
        assert len(restores(redeemable)) == 1

    def test_get_is_refused(self, client, world, redeemable):
        client.force_login(world.a.customer_user)
        assert client.get(reverse("domains:restore", args=[redeemable.pk])).status_code == 405

    def test_an_active_domain_is_refused_with_the_reason(self, client, world, registry):
        client.force_login(world.a.customer_user)
        url = reverse("domains:restore", args=[world.a.domain.pk])
        response = client.post(url, {}, **HX)
        assert response.status_code == 422
        assert "cannot be restored now" in response.content.decode()
        assert restores(world.a.domain) == []

    def test_another_tenant_gets_404(self, client, world, redeemable):
        client.force_login(world.b.customer_user)
        assert client.post(reverse("domains:restore", args=[redeemable.pk])).status_code == 404
        assert restores(redeemable) == []

    def test_staff_read_the_operations_log_and_the_customer_does_not(
        self, client, world, redeemable
    ):
        operation = domain_restore(actor=SYSTEM, domain=redeemable)
        line = "The registry does not offer fee-1.0: the price is the configured one (8.00 USD)"
        RegistrarOperation.objects.filter(pk=operation.pk).update(
            result={"log": [{"at": "2026-01-01T00:00:00+00:00", "attempt": 1, "message": line}]}
        )
        history = reverse("domains:operations", args=[redeemable.pk])
        client.force_login(world.staff)
        assert line in client.get(history).content.decode()
        client.force_login(world.a.customer_user)
        assert line not in client.get(history).content.decode()


@pytest.mark.django_db
class TestApi:
    def url(self, domain) -> str:
        return f"/api/v1/domains/{domain.pk}/restore/"

    def post(self, client, tenant, domain, body=None):
        return client.post(
            self.url(domain),
            body or {},
            content_type="application/json",
            HTTP_ACCESS_TOKEN=tenant.live_key_raw,
        )

    def test_it_answers_202_with_the_queued_restore(self, client, world, redeemable):
        response = self.post(client, world.a, redeemable, {"reason": "Missed it"})
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["operation"]["kind"] == "restore"
        assert body["operation"]["payload"] == {"reason": "Missed it"}  # no registry cost
        assert body["domain"]["status"] == "redemption"

    def test_a_domain_not_in_redemption_is_a_400(self, client, world, registry):
        response = self.post(client, world.a, world.a.domain)
        assert response.status_code == 400
        assert "cannot be restored" in response.json()["message"]
        assert restores(world.a.domain) == []

    def test_a_long_reason_is_a_field_error(self, client, world, redeemable):
        response = self.post(client, world.a, redeemable, {"reason": "x" * 201})
        assert response.status_code == 400 and "reason" in response.json()["errors"]
        assert restores(redeemable) == []

    def test_another_tenant_gets_404(self, client, world, redeemable):
        assert self.post(client, world.b, redeemable).status_code == 404
        assert restores(redeemable) == []


# --- over EPP/TLS against the simulator's front end -----------------------------------------------
@pytest.fixture
def epp_domain(account, upstream):
    """A domain in redemption in the portal and at the EPP registry (routed to ``account``)."""
    tld = TldFactory(name="rgptest", registrar_account=account)
    Price.objects.create(tld=tld, action="redemption", currency="USD", cost="50.00", sell="60.00")
    customer = CustomerFactory(user=UserFactory())
    domain = in_redemption(DomainFactory(customer=customer, name="lost.rgptest", tld=tld))
    deleted_at_registry(domain, upstream.name)
    return domain


def updates(frames) -> list:
    return frames.commands("update", "domain")


def restore_ops(update) -> list[str]:
    return [e.get("op") for e in update.getparent().iter(f"{{{RGP}}}restore")]


@pytest.mark.django_db(transaction=True)
class TestOverEpp:
    def test_a_registry_that_restores_at_once_gets_the_request_with_its_fee(
        self, epp_domain, upstream, frames
    ):
        operation = domain_restore(actor=SYSTEM, domain=epp_domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        epp_domain.refresh_from_db()
        assert epp_domain.status == S.ACTIVE
        assert SandboxDomain.objects.get(name="lost.rgptest").statuses == ["ok"]
        [update] = updates(frames)
        assert restore_ops(update) == ["request"]
        [agreed] = update.getparent().iter(f"{{{FEE}}}update")
        assert [e.text for e in agreed] == ["USD", "50.00"]

    def test_a_registry_that_answers_pending_restore_gets_the_report(
        self, epp_domain, upstream, frames
    ):
        upstream.settings = {**upstream.settings, "restore_report": True}
        upstream.save()
        operation = domain_restore(actor=SYSTEM, domain=epp_domain, reason="Missed the renewal")
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        epp_domain.refresh_from_db()
        assert epp_domain.status == S.ACTIVE
        request, report = updates(frames)
        assert restore_ops(request) == ["request"] and restore_ops(report) == ["report"]
        data = next(report.getparent().iter(f"{{{RGP}}}report"))
        parts = [e.tag.split("}")[1] for e in data]
        assert parts == [
            "preData",
            "postData",
            "delTime",
            "resTime",
            "resReason",
            "statement",
            "statement",
        ]
        assert data.findtext(f"{{{RGP}}}resReason") == "Missed the renewal"
        assert "lost.rgptest" in data.findtext(f"{{{RGP}}}preData")
        assert any(
            e.get("s") == "pendingRestore" for d in frames.sent() for e in d.iter(f"{{{RGP}}}*")
        )

    def test_the_accounts_setting_sends_the_report_to_a_registry_that_does_not_say(
        self, server, pki, upstream, frames
    ):
        upstream.settings = {**upstream.settings, "restore_report": "silent"}
        upstream.save()
        quiet = make_account(server, pki, name="Reports always", restore_report=True)
        tld = TldFactory(name="rgpquiet", registrar_account=quiet)
        domain = in_redemption(DomainFactory(name="quiet.rgpquiet", tld=tld))
        deleted_at_registry(domain, upstream.name)
        operation = domain_restore(actor=SYSTEM, domain=domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == S.ACTIVE
        assert [restore_ops(u) for u in updates(frames)] == [["request"], ["report"]]
        assert not [e for d in frames.sent() for e in d.iter(f"{{{RGP}}}upData")]

    def test_a_domain_the_registry_already_restored_is_not_sent_again(
        self, epp_domain, upstream, frames
    ):
        SandboxDomain.objects.filter(name="lost.rgptest").update(statuses=["ok"])
        operation = domain_restore(actor=SYSTEM, domain=epp_domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        epp_domain.refresh_from_db()
        assert epp_domain.status == S.ACTIVE and updates(frames) == []

    def test_a_restore_fee_above_the_quote_is_held(self, epp_domain, upstream, frames):
        upstream.settings = {**upstream.settings, "prices": {"rgptest": {"restore": "75.00"}}}
        upstream.save()
        operation = domain_restore(actor=SYSTEM, domain=epp_domain)
        assert outbox.run_operation(operation.pk).status == Status.HELD
        operation.refresh_from_db()
        assert "75.00" in operation.last_error and "50.00" in operation.last_error
        assert updates(frames) == []
        assert SandboxDomain.objects.get(name="lost.rgptest").statuses == ["pendingDelete"]
        epp_domain.refresh_from_db()
        assert epp_domain.status == S.REDEMPTION

    def test_the_registry_refuses_a_restore_fee_below_its_price(self, adapter, upstream):
        register(adapter, "gone.test", "key-gone")
        adapter.delete(name="gone.test", idempotency_key="key-gone-delete")
        with pytest.raises(FeeRefusedError) as refused:
            adapter.restore(
                name="gone.test",
                idempotency_key="key-gone-restore",
                quoted_fee=QuotedFee(Decimal("1.00"), "USD"),
            )
        assert refused.value.code == 2004 and refused.value.price.amount == Decimal("8.00")
        restored = adapter.restore(
            name="gone.test",
            idempotency_key="key-gone-restore-2",
            quoted_fee=QuotedFee(Decimal("8.00"), "USD"),
        )
        assert restored.statuses == ["ok"] and restored.charged.amount == Decimal("8.00")

    def test_a_report_alone_or_a_second_request_is_refused(self, adapter, upstream):
        upstream.settings = {**upstream.settings, "restore_report": True}
        upstream.save()
        register(adapter, "twice.test", "key-twice")
        adapter.delete(name="twice.test", idempotency_key="key-twice-delete")
        info = adapter.info("twice.test")
        assert info.rgp_statuses == ["redemptionPeriod"]
        adapter._run(lambda c: c.domain.restore("twice.test"), trid="key-twice-r1")
        assert adapter.info("twice.test").rgp_statuses == ["pendingRestore"]
        with pytest.raises(PermanentError) as again:
            adapter._run(lambda c: c.domain.restore("twice.test"), trid="key-twice-r2")
        assert again.value.code == 2304
        restored = adapter.restore(name="twice.test", idempotency_key="key-twice-r3")
        assert restored.statuses == ["ok"] and restored.rgp_statuses == []


@pytest.mark.django_db
def test_an_adapter_without_restore_fails_the_operation_clearly(world, registry):
    rest = RegistrarAccountFactory(
        name="REST",
        kind="reseller_rest",
        settings={"base_url": "http://127.0.0.1:9"},
        credentials='{"username": "np", "api_token": "unused"}',
    )
    Tld.objects.filter(name="com").update(registrar_account=rest)
    domain = in_redemption(world.a.domain)
    Domain.objects.filter(pk=domain.pk).update(registrar_account=rest)
    operation = domain_restore(actor=SYSTEM, domain=domain)
    RegistrarOperation.objects.filter(pk=operation.pk).update(registrar_account=rest)
    assert outbox.run_operation(operation.pk).status == Status.FAILED
    operation.refresh_from_db()
    assert "cannot restore a domain from redemption" in operation.last_error


@pytest.mark.django_db
def test_the_restore_window_is_shown_when_the_dates_are_known(client, world, redeemable):
    Domain.objects.filter(pk=redeemable.pk).update(delete_at=timezone.now() + timedelta(days=9))
    client.force_login(world.a.customer_user)
    page = client.get(reverse("domains:detail", args=[redeemable.pk])).content.decode()
    assert "it can be restored until" in page

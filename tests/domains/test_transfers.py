"""Transfers both ways over real TLS against the simulator's EPP front end (transfers pending until
answered, as at a real registry): our transfer in followed by transfer queries to completion and
to refusal, without any poll message; another registrar's request for a name we hold shown to the
customer (learned by sync), approved, rejected, answered with the TLD's default at the end of the
window; our own transfer cancelled. Every frame is validated against epp-all.xsd."""

# ruff: noqa: F811 (fixtures imported from epp_world / test_epp are requested by name)

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from domains.models import (
    DomainStatus,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    TransferRequest,
)
from domains.services import (
    domain_sync,
    domain_transfer_cancel,
    domain_transfer_in,
    transfer_request_answer,
    transfer_requests_default,
    transfers_follow,
)
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.domains.epp_world import (  # noqa: F401 (fixtures)
    CLID,
    account,
    adapter,
    customer,
    epp_schema,
    frames,
    held,
    pki,
    run_all,
    server,
    set_upstream,
    tld,
    upstream,
)
from tests.domains.test_epp import other_registrars_domain

pytestmark = pytest.mark.django_db(transaction=True)
Kind = RegistrarOperation.Kind
R = TransferRequest.Status


@pytest.fixture
def pending_registry(upstream):
    """Transfers wait for an answer, and the registry sends no poll message about them (so only
    the transfer queries and syncs can tell)."""
    set_upstream(upstream, transfer_mode="pending", transfer_poll=False, balance="1000")
    return upstream


@pytest.fixture
def desk(server):
    return server.desk


def start_transfer_in(customer, name: str):
    other_registrars_domain(name, auth_code="Their-auth-1")
    domain = domain_transfer_in(
        actor=SYSTEM, customer=customer, name=name, auth_code="Their-auth-1"
    )
    run_all(domain)
    domain.refresh_from_db()
    return domain


def queries(domain) -> list[RegistrarOperation]:
    return list(domain.operations.filter(kind=Kind.TRANSFER_QUERY).order_by("pk"))


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


# --- our transfer in, followed ------------------------------------------------------------------
class TestIncoming:
    def test_a_pending_transfer_is_followed_with_backoff_until_it_completes(
        self, pending_registry, customer, tld, desk, frames, settings
    ):
        settings.NAMEPORT_TRANSFER_FOLLOW_SECONDS = 300
        domain = start_transfer_in(customer, "followed.test")
        assert domain.status == DomainStatus.PENDING_TRANSFER
        assert 1001 in frames.result_codes()

        assert transfers_follow(now=later(200)) == 0  # not yet: the first check is 5 min later
        assert transfers_follow(now=later(301)) == 1
        assert transfers_follow(now=later(302)) == 0  # one at a time
        run_all(domain)
        [first] = queries(domain)
        assert first.status == "succeeded" and first.result["transfer_status"] == "pending"
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_TRANSFER

        assert transfers_follow(now=later(301)) == 0  # the next one waits twice as long
        assert transfers_follow(now=later(601)) == 1
        desk.answer_transfer("followed.test", "clientApproved")
        run_all(domain)

        domain.refresh_from_db()
        row = SandboxDomain.objects.get(name="followed.test")
        assert domain.status == DomainStatus.ACTIVE
        assert domain.expires_at == row.expires_at and row.account == pending_registry.name
        assert queries(domain)[-1].result["transfer_status"] == "clientApproved"
        assert transfers_follow(now=later(86400)) == 0  # done: nothing more to follow
        assert desk.queue() == []  # no poll message was needed
        assert len(frames.commands("transfer", "domain")) == 3  # request, query, query

    def test_a_transfer_the_other_registrar_refuses_ends_in_transfer_failed(
        self, pending_registry, customer, tld, desk
    ):
        domain = start_transfer_in(customer, "refused-in.test")
        desk.answer_transfer("refused-in.test", "clientRejected")

        transfers_follow(now=later(301))
        run_all(domain)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.TRANSFER_FAILED
        change = domain.status_changes.get()
        assert (change.from_status, change.to_status) == ("pending_transfer", "transfer_failed")
        assert SandboxBalance.objects.get(account=pending_registry.name).amount == 1000  # refunded

    def test_the_registry_approves_at_the_end_of_the_window(
        self, pending_registry, customer, tld, desk
    ):
        domain = start_transfer_in(customer, "window-in.test")
        desk.end_window("window-in.test")

        transfers_follow(now=later(301))
        run_all(domain)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
        assert queries(domain)[-1].result["transfer_status"] == "serverApproved"

    def test_cancel_withdraws_our_request(self, pending_registry, customer, tld, desk):
        domain = start_transfer_in(customer, "cancelled-in.test")

        operation = domain_transfer_cancel(actor=SYSTEM, domain=domain)
        run_all(domain)

        operation.refresh_from_db()
        domain.refresh_from_db()
        row = SandboxDomain.objects.get(name="cancelled-in.test")
        assert operation.status == "succeeded"
        assert operation.result["transfer_status"] == "clientCancelled"
        assert domain.status == DomainStatus.TRANSFER_FAILED
        assert row.account == "Other registrar" and row.transfer["status"] == "clientCancelled"
        assert "pendingTransfer" not in row.statuses
        assert AuditEntry.objects.filter(action="domain.transfer_cancel").count() == 1
        assert transfers_follow(now=later(86400)) == 0

    def test_cancel_is_refused_when_no_transfer_is_pending(self, account, upstream, tld):
        domain = held("mine.test", upstream=upstream, tld=tld)
        with pytest.raises(ValidationError):
            domain_transfer_cancel(actor=SYSTEM, domain=domain)
        assert not domain.operations.exists()


# --- another registrar's request for a name we hold ---------------------------------------------
@pytest.fixture
def requested(pending_registry, account, tld, desk):
    """A name we hold that another registrar asked for; a sync shows it to the customer."""
    domain = held("requested.test", upstream=pending_registry, tld=tld)
    desk.request_transfer("requested.test", gaining="Rival Registrar")
    domain_sync(actor=SYSTEM, domain=domain)
    run_all(domain)
    domain.refresh_from_db()
    return domain


class TestOutgoing:
    def test_a_sync_shows_the_request_to_the_customer(self, requested):
        request = TransferRequest.objects.get(domain=requested)
        state = SandboxDomain.objects.get(name="requested.test").transfer
        assert (request.status, request.source, request.gaining_registrar) == (
            R.PENDING,
            "sync",
            "RivalRegistrar",
        )
        assert request.act_by.isoformat() == state["act_by"]
        assert requested.status == DomainStatus.ACTIVE
        assert "pendingTransfer" in requested.epp_statuses

    def test_approved_by_the_customer_the_domain_leaves(self, requested):
        operation = transfer_request_answer(actor=SYSTEM, domain=requested, approve=True)
        assert TransferRequest.objects.get(domain=requested).status == R.APPROVING

        run_all(requested)

        operation.refresh_from_db()
        requested.refresh_from_db()
        request = TransferRequest.objects.get(domain=requested)
        assert operation.kind == Kind.TRANSFER_APPROVE and operation.status == "succeeded"
        assert (request.status, request.registry_status) == (R.APPROVED, "clientApproved")
        assert requested.status == DomainStatus.TRANSFERRED_AWAY
        assert SandboxDomain.objects.get(name="requested.test").account == "Rival Registrar"

    def test_rejected_by_the_customer_the_domain_stays(self, requested):
        transfer_request_answer(actor=SYSTEM, domain=requested, approve=False)

        run_all(requested)

        requested.refresh_from_db()
        request = TransferRequest.objects.get(domain=requested)
        row = SandboxDomain.objects.get(name="requested.test")
        assert (request.status, request.registry_status) == (R.REJECTED, "clientRejected")
        assert requested.status == DomainStatus.ACTIVE
        assert "pendingTransfer" not in requested.epp_statuses
        assert row.account == "EPP upstream"
        assert "pendingTransfer" not in row.statuses

    def test_a_second_answer_is_refused(self, requested):
        transfer_request_answer(actor=SYSTEM, domain=requested, approve=False)
        with pytest.raises(ValidationError):
            transfer_request_answer(actor=SYSTEM, domain=requested, approve=True)
        assert requested.operations.filter(kind=Kind.TRANSFER_APPROVE).count() == 0

    def test_after_the_window_the_answer_is_refused(self, requested):
        request = TransferRequest.objects.get(domain=requested)
        TransferRequest.objects.filter(pk=request.pk).update(act_by=timezone.now())
        with pytest.raises(ValidationError, match="window"):
            transfer_request_answer(actor=SYSTEM, domain=requested, approve=False)

    @pytest.mark.parametrize(
        ("default", "final", "sponsor"),
        [("approve", R.APPROVED, "Rival Registrar"), ("reject", R.REJECTED, "EPP upstream")],
    )
    def test_nobody_answers_and_the_tld_default_is_sent_before_the_window_ends(
        self, requested, tld, default, final, sponsor, settings
    ):
        settings.NAMEPORT_TRANSFER_DEFAULT_HOURS = 12
        tld.transfer_default = default
        tld.save()
        act_by = TransferRequest.objects.get(domain=requested).act_by

        assert transfer_requests_default(now=act_by - timedelta(hours=13)) == 0  # not yet
        assert transfer_requests_default(now=act_by - timedelta(hours=11)) == 1
        assert transfer_requests_default(now=act_by - timedelta(hours=10)) == 0  # answered
        run_all(requested)

        request = TransferRequest.objects.get(domain=requested)
        assert request.status == final and request.by_default
        assert request.decided_by == str(SYSTEM)
        assert SandboxDomain.objects.get(name="requested.test").account == sponsor
        audit = AuditEntry.objects.get(action=f"domain.transfer_request.{default}")
        assert audit.data["by_default"] is True

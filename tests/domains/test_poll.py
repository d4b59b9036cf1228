"""The EPP poll queue over real TLS against the simulator's EPP front end: the adapter's
``<poll op="req">`` / ``op="ack"``, and the poller (``domains.poll``) applying each kind of message,
keeping it in the log, acknowledging only after the commit, keeping what it cannot apply, and
never polling one account twice at once. Every frame is validated against epp-all.xsd
(the ``frames`` fixture of test_epp.py)."""

# ruff: noqa: F811 (fixtures imported from epp_world / test_epp are requested by name)

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from lxml import etree

from domains import poll, ratelimit, tasks
from domains.models import (
    DomainStatus,
    DomainStatusChange,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
    SandboxDomain,
    TransferRequest,
)
from domains.registrars import epp
from domains.registrars.base import TransientError
from domains.services import domain_transfer_in
from domains.simulator.queue import ren_data
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
from tests.domains.factories import RegistrarOperationFactory
from tests.domains.test_epp import other_registrars_domain

pytestmark = pytest.mark.django_db(transaction=True)
M = RegistryMessage.Status
EPP = "urn:ietf:params:xml:ns:epp-1.0"


@pytest.fixture
def desk(server):
    return server.desk


def poll_now(account) -> dict:
    return poll.poll_account(account.pk)


def only_message(account) -> RegistryMessage:
    [row] = RegistryMessage.objects.filter(account=account)
    return row


# --- the adapter and the front end ----------------------------------------------------------------
class TestTheQueue:
    def test_the_head_stays_until_it_is_acked(self, adapter, desk, frames):
        first = desk.notice("First notice")
        desk.notice("Second notice")

        head = adapter.poll()
        again = adapter.poll()

        assert (head.id, head.count, head.kind, head.message) == (
            str(first.pk),
            2,
            "notice",
            "First notice",
        )
        assert again.id == head.id
        assert adapter.ack(head.id) == 1
        assert adapter.poll().message == "Second notice"
        assert adapter.ack(adapter.poll().id) == 0
        assert adapter.poll() is None
        assert 1300 in frames.result_codes() and 1301 in frames.result_codes()

    def test_an_unknown_message_id_counts_as_acked(self, adapter, frames):
        assert adapter.ack("999999") == 0
        assert 2303 in frames.result_codes()

    def test_poll_messages_have_the_nomulus_shapes(self, adapter, desk, upstream, tld):
        held("renewed.test", upstream=upstream, tld=tld)
        desk.auto_renew("renewed.test")
        message = adapter.poll()
        row = SandboxDomain.objects.get(name="renewed.test")
        assert (message.kind, message.name, message.message) == (
            "renewal",
            "renewed.test",
            "Domain was auto-renewed.",
        )
        assert message.expires_at == row.expires_at


NOMULUS = Path(__file__).resolve().parents[3] / "shared" / "epp-fixtures" / "nomulus"


def shape(root) -> list[str]:
    """The elements of a response below <response>, in order, without the transaction ids and
    the extensions (the fee extension's own shapes are tested with the fees)."""
    response = root.find(f"{{{EPP}}}response")
    for tag in ("trID", "extension"):
        for element in response.findall(f"{{{EPP}}}{tag}"):
            response.remove(element)
    return [etree.QName(e).localname for e in response.iter() if e is not response]


def nomulus(name: str) -> list[str]:
    if not NOMULUS.is_dir():
        pytest.skip("The Nomulus fixtures are not checked out")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return shape(etree.fromstring((NOMULUS / name).read_bytes(), parser))


def answers(frames, text: str) -> list[etree._Element]:
    return [
        d
        for d in frames.sent()
        if d.find(f".//{{{EPP}}}msgQ/{{{EPP}}}msg") is not None
        and d.findtext(f".//{{{EPP}}}msgQ/{{{EPP}}}msg") == text
    ]


class TestNomulusShapes:
    """The front end answers in the shapes of a production registry (Nomulus's responses)."""

    def test_transfer_request_approval_renewal_hold_and_acks(
        self, adapter, desk, upstream, tld, frames, account
    ):
        held("shaped.test", upstream=upstream, tld=tld)
        held("renew-shape.test", upstream=upstream, tld=tld)
        held("hold-shape.test", upstream=upstream, tld=tld)
        desk.request_transfer("shaped.test")
        desk.auto_renew("renew-shape.test")
        desk.hold("hold-shape.test")
        for _ in range(3):
            adapter.ack(adapter.poll().id)
        assert adapter.poll() is None

        [requested] = answers(frames, "Transfer requested.")
        assert shape(requested) == nomulus("poll_response_domain_transfer_request.xml")
        [renewed] = answers(frames, "Domain was auto-renewed.")
        assert shape(renewed) == nomulus("poll_response_autorenew.xml")
        [hold] = answers(
            frames, "The registry administrator has added the status(es) [serverHold]."
        )
        assert shape(hold) == nomulus("poll_response_server_hold.xml")
        acks = [
            d
            for d in frames.sent()
            if d.find(f".//{{{EPP}}}msgQ") is not None
            and d.find(f".//{{{EPP}}}msgQ/{{{EPP}}}msg") is None
        ]
        assert shape(acks[0]) == nomulus("poll/poll_ack_response.xml")
        empty = frames.sent()[-1]
        assert shape(empty) == nomulus("poll_response_empty.xml")

    def test_the_winners_approval_carries_the_pending_action(
        self, adapter, desk, upstream, customer, tld, frames
    ):
        set_upstream(upstream, transfer_mode="pending")
        other_registrars_domain("winner.test", auth_code="Their-auth-1")
        domain = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="winner.test", auth_code="Their-auth-1"
        )
        run_all(domain)
        desk.answer_transfer("winner.test", "serverApproved")
        adapter.poll()
        adapter.transfer_query("winner.test")

        [approved] = answers(frames, "Transfer approved.")
        assert shape(approved) == nomulus("poll_response_domain_transfer_server_approve_winner.xml")
        query = frames.sent()[-1]
        assert shape(query) == nomulus("domain_transfer_query_response_fakesite.xml")
        codes = [(d, d.find(f".//{{{EPP}}}result")) for d in frames.sent()]
        request = next(d for d, r in codes if r is not None and r.get("code") == "1001")
        assert shape(request) == nomulus("domain_transfer_response.xml")


# --- each kind of message, applied ----------------------------------------------------------------
class TestApplying:
    def test_an_auto_renewal_gives_the_new_expiry_and_brings_grace_back_to_active(
        self, account, upstream, tld, desk
    ):
        domain = held(
            "lapsed.test",
            upstream=upstream,
            tld=tld,
            status=DomainStatus.GRACE,
            expires_in=timedelta(days=-3),
        )
        desk.auto_renew("lapsed.test")

        counts = poll_now(account)

        domain.refresh_from_db()
        assert counts["read"] == 1 and counts[M.APPLIED] == 1
        assert domain.status == DomainStatus.ACTIVE
        assert domain.expires_at == SandboxDomain.objects.get(name="lapsed.test").expires_at
        assert domain.expires_at > timezone.now()
        row = only_message(account)
        assert (row.kind, row.status, row.domain, row.name) == (
            "renewal",
            M.APPLIED,
            domain,
            "lapsed.test",
        )
        assert row.acked_at is not None and row.text == "Domain was auto-renewed."
        assert desk.queue() == []

    def test_another_registrars_request_is_shown_to_the_customer(
        self, account, upstream, tld, desk
    ):
        domain = held("wanted.test", upstream=upstream, tld=tld)
        desk.request_transfer("wanted.test", gaining="Rival Registrar")

        poll_now(account)

        domain.refresh_from_db()
        request = TransferRequest.objects.get(domain=domain)
        assert request.status == TransferRequest.Status.PENDING
        assert request.gaining_registrar == "RivalRegistrar"
        assert request.source == "poll"
        assert timedelta(days=4, hours=23) < request.act_by - timezone.now() <= timedelta(days=5)
        assert domain.status == DomainStatus.ACTIVE
        assert "pendingTransfer" in domain.epp_statuses
        assert only_message(account).status == M.APPLIED

    def test_a_transfer_away_the_registry_approves_at_the_end_of_its_window(
        self, account, upstream, tld, desk
    ):
        domain = held("leaving.test", upstream=upstream, tld=tld)
        desk.request_transfer("leaving.test")
        poll_now(account)
        desk.end_window("leaving.test")

        poll_now(account)  # the front end approves it at the next look, and says so

        domain.refresh_from_db()
        request = TransferRequest.objects.get(domain=domain)
        assert domain.status == DomainStatus.TRANSFERRED_AWAY
        assert (request.status, request.registry_status) == (
            TransferRequest.Status.APPROVED,
            "serverApproved",
        )
        assert SandboxDomain.objects.get(name="leaving.test").account == "Other registrar"
        change = domain.status_changes.get()
        assert (change.from_status, change.to_status) == ("active", "transferred_away")
        assert list(
            RegistryMessage.objects.filter(account=account).values_list("status", flat=True)
        ) == [M.APPLIED, M.APPLIED]

    def test_a_request_the_other_registrar_withdraws_is_closed(self, account, upstream, tld, desk):
        domain = held("kept.test", upstream=upstream, tld=tld)
        desk.request_transfer("kept.test")
        poll_now(account)
        desk.answer_transfer("kept.test", "clientCancelled")

        poll_now(account)

        domain.refresh_from_db()
        request = TransferRequest.objects.get(domain=domain)
        assert request.status == TransferRequest.Status.CANCELLED
        assert domain.status == DomainStatus.ACTIVE
        assert "pendingTransfer" not in domain.epp_statuses

    def test_our_transfer_in_approved_by_the_other_registrar(
        self, account, upstream, customer, tld, desk
    ):
        set_upstream(upstream, transfer_mode="pending")
        other_registrars_domain("arriving.test", auth_code="Their-auth-1")
        domain = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="arriving.test", auth_code="Their-auth-1"
        )
        run_all(domain)
        domain.refresh_from_db()
        assert domain.status == DomainStatus.PENDING_TRANSFER
        desk.answer_transfer("arriving.test", "clientApproved")

        poll_now(account)

        domain.refresh_from_db()
        row = SandboxDomain.objects.get(name="arriving.test")
        assert domain.status == DomainStatus.ACTIVE
        assert row.account == upstream.name
        assert domain.expires_at == row.expires_at
        message = only_message(account)
        assert (message.kind, message.status) == ("transfer", M.APPLIED)
        assert message.data["transfer"]["status"] == "clientApproved"
        assert message.data["pending_action"]["succeeded"] is True

    def test_our_transfer_in_rejected_by_the_other_registrar(
        self, account, upstream, customer, tld, desk
    ):
        set_upstream(upstream, transfer_mode="pending")
        other_registrars_domain("refused.test", auth_code="Their-auth-1")
        domain = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="refused.test", auth_code="Their-auth-1"
        )
        run_all(domain)
        desk.answer_transfer("refused.test", "clientRejected")

        poll_now(account)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.TRANSFER_FAILED
        assert SandboxDomain.objects.get(name="refused.test").account == "Other registrar"
        assert only_message(account).status == M.APPLIED

    def test_a_server_hold_suspends_the_domain(self, account, upstream, tld, desk):
        domain = held("held.test", upstream=upstream, tld=tld)
        desk.hold("held.test")

        poll_now(account)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.SUSPENDED
        assert "serverHold" in domain.epp_statuses
        row = only_message(account)
        assert (row.kind, row.status) == ("pending_action", M.APPLIED)

    def test_a_deletion_by_the_registry_ends_in_deleted(self, account, upstream, tld, desk):
        domain = held("gone.test", upstream=upstream, tld=tld, status=DomainStatus.REDEMPTION)
        desk.delete("gone.test")

        poll_now(account)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.DELETED
        assert [c.to_status for c in domain.status_changes.order_by("pk")] == [
            "pending_delete",
            "deleted",
        ]

    def test_a_pending_registration_that_the_registry_completes(self, account, upstream, tld, desk):
        domain = held(
            "slow.test", upstream=upstream, tld=tld, status=DomainStatus.PENDING_REGISTRATION
        )
        operation = RegistrarOperationFactory(
            domain=domain, registrar_account=account, kind="register", status="succeeded"
        )
        desk.pending_action("slow.test", cl_trid=str(operation.idempotency_key), succeeded=True)

        poll_now(account)

        domain.refresh_from_db()
        operation.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
        assert operation.result["pending_action"] == "succeeded"

    def test_a_pending_registration_that_the_registry_refuses(self, account, upstream, tld, desk):
        domain = held(
            "never.test", upstream=upstream, tld=tld, status=DomainStatus.PENDING_REGISTRATION
        )
        operation = RegistrarOperationFactory(
            domain=domain, registrar_account=account, kind="register", status="succeeded"
        )
        desk.pending_action("never.test", cl_trid=str(operation.idempotency_key), succeeded=False)

        poll_now(account)

        domain.refresh_from_db()
        operation.refresh_from_db()
        assert domain.status == DomainStatus.REGISTRATION_FAILED
        assert operation.status == RegistrarOperation.Status.FAILED
        assert "refused" in operation.last_error

    def test_host_and_contact_deletions_need_nothing(self, account, desk):
        desk.notice("Deleted host ns1.gone.test")
        desk.notice("Deleted contact NP1234")

        counts = poll_now(account)

        assert counts[M.IGNORED] == 2
        assert set(RegistryMessage.objects.values_list("kind", flat=True)) == {
            "host_deleted",
            "contact_deleted",
        }
        assert desk.queue() == []


# --- what cannot be applied, failures, acks after commit -----------------------------------------
class TestSafety:
    def test_a_message_it_cannot_apply_is_kept_for_staff_and_acked(self, account, upstream, desk):
        desk.notice("Domain example.test was unrenewed by 3 years.")
        desk.notice("Domain was auto-renewed.", ren_data("stranger.test", timezone.now()))

        counts = poll_now(account)

        assert counts["read"] == 2 and counts[M.UNAPPLIED] == 2
        rows = list(RegistryMessage.objects.order_by("pk"))
        assert [r.status for r in rows] == [M.UNAPPLIED, M.UNAPPLIED]
        assert "does not understand" in rows[0].note
        assert "No domain named 'stranger.test'" in rows[1].note
        assert all(r.acked_at is not None for r in rows)
        assert desk.queue() == []

    def test_it_acks_only_after_the_change_is_committed(
        self, account, upstream, tld, desk, monkeypatch
    ):
        domain = held("committed.test", upstream=upstream, tld=tld, status=DomainStatus.GRACE)
        desk.auto_renew("committed.test")
        seen = []
        original = epp.EppAdapter.ack

        def ack(self, message_id):
            # What another connection sees at the moment of the ack: the change and the log row.
            def look():
                seen.append(
                    (
                        type(domain).objects.get(pk=domain.pk).status,
                        RegistryMessage.objects.filter(message_id=message_id).exists(),
                    )
                )

            reader = threading.Thread(target=look)
            reader.start()
            reader.join()
            return original(self, message_id)

        monkeypatch.setattr(epp.EppAdapter, "ack", ack)

        poll_now(account)

        assert seen == [(DomainStatus.ACTIVE, True)]

    def test_a_failure_inside_the_apply_leaves_it_queued_and_it_is_applied_once_next_time(
        self, account, upstream, tld, desk, monkeypatch
    ):
        domain = held("retried.test", upstream=upstream, tld=tld, status=DomainStatus.GRACE)
        desk.auto_renew("retried.test")
        original = poll.apply_registry_view
        calls = []

        def broken(**kwargs):
            calls.append(kwargs["domain_id"])
            original(**kwargs)  # the change is made, then the apply fails: all of it rolls back
            if len(calls) == 1:
                raise RuntimeError("disk full")
            return type(domain).objects.get(pk=kwargs["domain_id"])

        monkeypatch.setattr(poll, "apply_registry_view", broken)

        first = poll_now(account)

        domain.refresh_from_db()
        assert first["failed"] == 1 and first[M.APPLIED] == 0
        assert domain.status == DomainStatus.GRACE
        assert len(desk.queue()) == 1  # not acked
        row = only_message(account)
        assert (row.status, row.acked_at, row.attempts) == (M.UNAPPLIED, None, 1)
        assert "disk full" in row.note

        second = poll_now(account)
        third = poll_now(account)

        domain.refresh_from_db()
        assert second[M.APPLIED] == 1 and third["read"] == 0
        assert domain.status == DomainStatus.ACTIVE
        assert DomainStatusChange.objects.filter(domain=domain).count() == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (M.APPLIED, 2) and row.acked_at is not None
        assert desk.queue() == []

    def test_a_message_whose_ack_was_lost_is_not_applied_twice(
        self, account, upstream, tld, desk, monkeypatch
    ):
        domain = held("twice.test", upstream=upstream, tld=tld)
        desk.hold("twice.test")
        original = epp.EppAdapter.ack
        lost = []

        def ack(self, message_id):
            if not lost:
                lost.append(message_id)
                raise TransientError("connection lost")
            return original(self, message_id)

        monkeypatch.setattr(epp.EppAdapter, "ack", ack)

        poll_now(account)
        assert len(desk.queue()) == 1
        poll_now(account)

        domain.refresh_from_db()
        assert domain.status == DomainStatus.SUSPENDED
        assert DomainStatusChange.objects.filter(domain=domain).count() == 1
        row = only_message(account)
        assert row.status == M.APPLIED and row.acked_at is not None
        assert desk.queue() == []

    def test_a_message_that_always_fails_is_kept_unapplied_after_the_last_attempt(
        self, account, upstream, tld, desk, monkeypatch
    ):
        held("broken.test", upstream=upstream, tld=tld)
        desk.auto_renew("broken.test")

        def broken(**kwargs):
            raise RuntimeError("bug")

        monkeypatch.setattr(poll, "apply_registry_view", broken)
        for _ in range(poll.MAX_APPLY_ATTEMPTS):
            poll_now(account)

        row = only_message(account)
        assert (row.status, row.attempts) == (M.UNAPPLIED, poll.MAX_APPLY_ATTEMPTS)
        assert row.acked_at is not None and "Kept for staff" in row.note
        assert desk.queue() == []

    def test_two_pollers_never_poll_one_account_at_once(
        self, account, upstream, tld, desk, frames, monkeypatch
    ):
        held("busy.test", upstream=upstream, tld=tld)
        desk.auto_renew("busy.test")
        inside, release = threading.Event(), threading.Event()
        original = poll._apply

        def slow(*args):
            inside.set()
            assert release.wait(10)
            return original(*args)

        monkeypatch.setattr(poll, "_apply", slow)
        results = {}
        first = threading.Thread(target=lambda: results.setdefault("first", poll_now(account)))
        first.start()
        assert inside.wait(10)
        polls_before = len(frames.commands("poll"))

        second = poll_now(account)

        assert second["busy"] == 1 and second["read"] == 0
        assert len(frames.commands("poll")) == polls_before  # the second sent nothing
        release.set()
        first.join(10)
        assert results["first"][M.APPLIED] == 1

    def test_the_lock_is_the_same_for_every_worker(self, account):
        with ratelimit.exclusive(f"poll:{account.pk}", ttl=30) as mine:
            assert mine
            assert poll_now(account)["busy"] == 1
        assert poll_now(account)["busy"] == 0

    def test_it_refuses_to_run_inside_a_transaction(self, account):
        from django.db import transaction

        with pytest.raises(RuntimeError), transaction.atomic():
            poll_now(account)


def test_the_management_command_queues_what_a_registry_would_send(account, upstream, tld, desk):
    held("commanded.test", upstream=upstream, tld=tld)
    options = {"account": upstream.name, "client_id": CLID}
    call_command("sandbox_epp_event", "request-transfer", "commanded.test", **options)
    call_command("sandbox_epp_event", "notice", "Maintenance on Sunday", **options)
    with pytest.raises(CommandError):
        call_command("sandbox_epp_event", "hold", "nobody.test", **options)
    with pytest.raises(CommandError):
        call_command("sandbox_epp_event", "answer-transfer", "commanded.test", "maybe", **options)

    assert [m.text for m in desk.queue()] == ["Transfer requested.", "Maintenance on Sunday"]
    poll_now(account)
    assert TransferRequest.objects.get(domain__name="commanded.test").status == "pending"


# --- the beat -------------------------------------------------------------------------------------
def test_the_beat_entry_expires_before_its_next_run():
    entry = settings.CELERY_BEAT_SCHEDULE["registry-poll"]
    assert entry["task"] == "domains.tasks.registry_poll"
    assert entry["options"]["expires"] < entry["schedule"]


def test_the_beat_fans_out_one_task_per_active_epp_account(account, monkeypatch):
    RegistrarAccount.objects.create(name="Old EPP", kind="epp", is_active=False)
    RegistrarAccount.objects.create(name="REST", kind="reseller_rest")
    sent = []
    monkeypatch.setattr(
        tasks.registry_poll_account, "apply_async", lambda args, **kw: sent.append((args, kw))
    )

    assert tasks.registry_poll() == 1

    [(args, options)] = sent
    assert args == (account.pk,)
    assert options["expires"] < settings.NAMEPORT_POLL_SECONDS

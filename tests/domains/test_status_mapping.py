# ruff: noqa: E501 (the tables read best one case a line)
"""The portal's status follows the registry's: ``domains.lifecycle.status_from_registry`` (one
mapping from EPP statuses, rgp statuses, the transfer state and the expiry to Nameport's status)
over every combination that matters, over what a production registry (Nomulus) really answers,
and ``apply_registry_view`` (the row locked, each change through ``domain_transition`` with a
history row), through the outbox's recording of register, transfer, renew and sync answers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from domains import outbox
from domains.lifecycle import (
    TRANSITIONS,
    _path,
    apply_registry_view,
    status_from_registry,
)
from domains.models import Domain, DomainStatus, RegistrarOperation, SandboxDomain
from domains.registrars.base import DomainInfo, TransferInfo
from domains.registrars.epp_responses import parse_domain_info, parse_domain_transfer
from domains.services import domain_register, domain_sync, domain_transfer_in
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory
from tests.domains.test_epp_fixtures import FIXTURES, filled

S = DomainStatus
NOW = timezone.now()
FUTURE = NOW + timedelta(days=300)
PAST = NOW - timedelta(days=3)


def view(statuses=("ok",), rgp=(), transfer=None, expires_at=FUTURE) -> DomainInfo:
    return DomainInfo(
        name="example.com",
        expires_at=expires_at,
        statuses=list(statuses),
        rgp_statuses=list(rgp),
        transfer=TransferInfo(name="example.com", status=transfer) if transfer else None,
    )


# (case, registry's view, the portal's current status, keyword arguments, expected status)
TABLE = [
    # A name we hold, in good standing.
    ("ok", view(), S.ACTIVE, {}, S.ACTIVE),
    ("no expiry in the answer", view(expires_at=None), S.ACTIVE, {}, S.ACTIVE),
    ("inactive: no nameservers", view(["inactive"]), S.ACTIVE, {}, S.ACTIVE),
    ("prohibitions", view(["clientTransferProhibited", "serverDeleteProhibited"]), S.ACTIVE, {}, S.ACTIVE),
    ("an update pending", view(["pendingUpdate"]), S.ACTIVE, {}, S.ACTIVE),
    ("a renewal pending", view(["pendingRenew"]), S.ACTIVE, {}, S.ACTIVE),
    ("renew period", view(rgp=["renewPeriod"]), S.ACTIVE, {}, S.ACTIVE),
    ("transfer period", view(rgp=["transferPeriod"]), S.ACTIVE, {}, S.ACTIVE),
    # Renewed at the registry while the portal's dates had moved it on.
    ("auto-renewed from grace", view(rgp=["autoRenewPeriod"]), S.GRACE, {}, S.ACTIVE),
    ("auto-renewed, no rgp (REST)", view(), S.GRACE, {}, S.ACTIVE),
    ("renewed from expired", view(rgp=["renewPeriod"]), S.EXPIRED, {}, S.ACTIVE),
    ("renewed from redemption (dates only)", view(), S.REDEMPTION, {}, S.ACTIVE),
    ("restored from redemption", view(), S.REDEMPTION, {}, S.ACTIVE),
    ("restored from pending delete", view(), S.PENDING_DELETE, {}, S.ACTIVE),
    # Past expiry, the registry not renewing (a ccTLD; reseller REST without rgp).
    ("lapsed: grace", view(expires_at=PAST), S.ACTIVE, {"grace_days": 30}, S.GRACE),
    ("lapsed, TLD without grace", view(expires_at=PAST), S.ACTIVE, {"grace_days": 0}, S.EXPIRED),
    ("lapsed, grace unknown", view(expires_at=PAST), S.ACTIVE, {}, S.GRACE),
    ("lapsed, kept: grace", view(expires_at=PAST), S.GRACE, {}, S.GRACE),
    ("lapsed, kept: expired", view(expires_at=PAST), S.EXPIRED, {}, S.EXPIRED),
    ("lapsed, kept: redemption by dates", view(expires_at=PAST), S.REDEMPTION, {}, S.REDEMPTION),
    ("lapsed, kept: pending delete", view(expires_at=PAST), S.PENDING_DELETE, {}, S.PENDING_DELETE),
    ("lapsed and suspended", view(["serverHold"], expires_at=PAST), S.SUSPENDED, {}, S.SUSPENDED),
    ("lapsed outranks a hold", view(["clientHold"], expires_at=PAST), S.ACTIVE, {}, S.GRACE),
    # Deletion: redemption (rgp) and pending delete.
    ("redemption", view(["pendingDelete"], ["redemptionPeriod"]), S.ACTIVE, {}, S.REDEMPTION),
    ("redemption from grace", view(["pendingDelete"], ["redemptionPeriod"]), S.GRACE, {}, S.REDEMPTION),
    ("redemption, lapsed", view(["pendingDelete"], ["redemptionPeriod"], expires_at=PAST), S.EXPIRED, {}, S.REDEMPTION),
    ("redemption, held", view(["pendingDelete", "serverHold"], ["redemptionPeriod"]), S.SUSPENDED, {}, S.REDEMPTION),
    ("back from pending delete to redemption", view(["pendingDelete"], ["redemptionPeriod"]), S.PENDING_DELETE, {}, S.REDEMPTION),
    ("restore requested", view(["pendingDelete"], ["pendingRestore"]), S.REDEMPTION, {}, S.REDEMPTION),
    ("pending delete (rgp)", view(["pendingDelete"], ["pendingDelete"]), S.REDEMPTION, {}, S.PENDING_DELETE),
    ("pending delete (EPP only)", view(["pendingDelete"]), S.ACTIVE, {}, S.PENDING_DELETE),
    ("pending delete, lapsed", view(["pendingDelete"], expires_at=PAST), S.GRACE, {}, S.PENDING_DELETE),
    # Holds.
    ("server hold", view(["serverHold"]), S.ACTIVE, {}, S.SUSPENDED),
    ("client hold", view(["clientHold"]), S.ACTIVE, {}, S.SUSPENDED),
    ("held while suspended", view(["serverHold"]), S.SUSPENDED, {}, S.SUSPENDED),
    ("staff's suspension is staff's to lift", view(), S.SUSPENDED, {}, S.SUSPENDED),
    ("staff's suspension, registry never held", view(), S.SUSPENDED, {"previous": ["ok"]}, S.SUSPENDED),
    ("the registry lifted its hold", view(), S.SUSPENDED, {"previous": ["serverHold"]}, S.ACTIVE),
    # A registration's answer.
    ("registered", view(), S.PENDING_REGISTRATION, {}, S.ACTIVE),
    ("registered, add period", view(["inactive"], ["addPeriod"]), S.PENDING_REGISTRATION, {}, S.ACTIVE),
    ("create left pending", view(["pendingCreate"]), S.PENDING_REGISTRATION, {}, S.PENDING_REGISTRATION),
    ("registered on hold", view(["serverHold"], ["addPeriod"]), S.PENDING_REGISTRATION, {}, S.SUSPENDED),
    # A name we are gaining.
    ("transfer pending (1001)", view(["pendingTransfer"], transfer="pending", expires_at=None), S.PENDING_TRANSFER, {}, S.PENDING_TRANSFER),
    ("transfer pending (info)", view(["pendingTransfer"]), S.PENDING_TRANSFER, {}, S.PENDING_TRANSFER),
    ("transfer pending (query)", view([], transfer="pending", expires_at=None), S.PENDING_TRANSFER, {}, S.PENDING_TRANSFER),
    ("transfer approved by the losing registrar", view([], transfer="clientApproved", expires_at=None), S.PENDING_TRANSFER, {}, S.ACTIVE),
    ("transfer approved by the registry", view(["pendingTransfer"], transfer="serverApproved"), S.PENDING_TRANSFER, {}, S.ACTIVE),
    ("transfer done (info)", view(rgp=["transferPeriod"]), S.PENDING_TRANSFER, {}, S.ACTIVE),
    ("transfer rejected", view([], transfer="clientRejected", expires_at=None), S.PENDING_TRANSFER, {}, S.TRANSFER_FAILED),
    ("transfer cancelled", view([], transfer="clientCancelled", expires_at=None), S.PENDING_TRANSFER, {}, S.TRANSFER_FAILED),
    ("transfer cancelled by the registry", view([], transfer="serverCancelled", expires_at=None), S.PENDING_TRANSFER, {}, S.TRANSFER_FAILED),
    # Another registrar wants a name we hold.
    ("a request for our name", view(["pendingTransfer"], transfer="pending"), S.ACTIVE, {}, S.ACTIVE),
    ("a request for our name in auto-renew", view(["pendingTransfer"], ["autoRenewPeriod"]), S.GRACE, {}, S.ACTIVE),
    ("our name, transfer approved", view([], transfer="clientApproved", expires_at=None), S.ACTIVE, {}, S.TRANSFERRED_AWAY),
    ("our name, auto-approved", view([], transfer="serverApproved", expires_at=None), S.GRACE, {}, S.TRANSFERRED_AWAY),
    ("our suspended name, approved", view([], transfer="serverApproved", expires_at=None), S.SUSPENDED, {}, S.TRANSFERRED_AWAY),
    ("our name, request rejected", view(["ok"], transfer="clientRejected"), S.ACTIVE, {}, S.ACTIVE),
    ("our name, request cancelled", view(["ok"], transfer="clientCancelled"), S.ACTIVE, {}, S.ACTIVE),
    # Terminal statuses do not follow the registry (the name is not ours).
    ("deleted", view(), S.DELETED, {}, S.DELETED),
    ("transferred away", view(), S.TRANSFERRED_AWAY, {}, S.TRANSFERRED_AWAY),
    ("registration failed", view(), S.REGISTRATION_FAILED, {}, S.REGISTRATION_FAILED),
    ("transfer failed", view(), S.TRANSFER_FAILED, {}, S.TRANSFER_FAILED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("info", "current", "kwargs", "expected"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_the_registrys_view_maps_to_one_status(info, current, kwargs, expected):
    assert status_from_registry(info, current=current, now=NOW, **kwargs) == expected


@pytest.mark.parametrize(
    ("current", "expected"),
    sorted({(case[2], case[4]) for case in TABLE if case[2] != case[4]}),
)
def test_the_state_machine_reaches_every_status_the_mapping_gives(current, expected):
    """apply_registry_view can carry out each change the table asks for (at most two steps)."""
    steps = _path(current, expected)
    assert steps and steps[-1] == expected
    for before, after in zip([current, *steps], steps, strict=False):
        assert before in TRANSITIONS[after]


def test_every_status_is_covered_by_the_table():
    """Each status is met as the portal's current one, and each is the answer to some view."""
    assert {case[2] for case in TABLE} == set(S.values)
    assert {case[4] for case in TABLE} == set(S.values)


# --- what a production registry answers (Nomulus) -------------------------------------------------
def info_of(name: str, *, text: tuple[bytes, bytes] | None = None) -> DomainInfo:
    data = filled(name)
    if text is not None:
        data = data.replace(*text)
    return parse_domain_info(data).info


def transfer_of(name: str) -> DomainInfo:
    """A transfer answer as the EPP adapter records it (no expiry until the transfer is done)."""
    transfer = parse_domain_transfer(filled(name))
    statuses = ["pendingTransfer"] if transfer.pending else []
    return DomainInfo(name=transfer.name, expires_at=None, statuses=statuses, transfer=transfer)


REDEMPTION_TO = (b'"redemptionPeriod"', b'"pendingRestore"')
REDEMPTION_OVER = (b'"redemptionPeriod"', b'"pendingDelete"')
# (file, read as, current status, lapsed (past expiry), expected status)
NOMULUS = [
    ("domain/domain_info_response.xml", None, S.ACTIVE, False, S.ACTIVE),
    ("domain/domain_info_response.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain/domain_info_response.xml", None, S.ACTIVE, True, S.GRACE),
    ("domain/domain_info_response_autorenewperiod.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain/domain_info_response_autorenewperiod.xml", None, S.EXPIRED, False, S.ACTIVE),
    ("domain/domain_info_response_addperiod.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain/domain_info_response_stackedaddrenewperiod.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain/domain_info_response_renewperiod.xml", None, S.EXPIRED, False, S.ACTIVE),
    ("domain/domain_info_response_transferperiod.xml", None, S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain/domain_info_response_pendingdelete.xml", None, S.ACTIVE, False, S.PENDING_DELETE),
    ("domain/domain_info_response_pendingdelete.xml", None, S.REDEMPTION, True, S.PENDING_DELETE),
    ("domain/domain_info_response_redemptionperiod.xml", None, S.ACTIVE, False, S.REDEMPTION),
    ("domain/domain_info_response_redemptionperiod.xml", None, S.GRACE, True, S.REDEMPTION),
    ("domain_info_response_fakesite_pending_delete.xml", None, S.ACTIVE, False, S.REDEMPTION),
    ("domain_info_response_redemptionperiod_wildcard.xml", None, S.EXPIRED, False, S.REDEMPTION),
    ("domain_info_response_wildcard.xml", None, S.GRACE, True, S.REDEMPTION),
    ("domain_info_response_wildcard.xml", REDEMPTION_TO, S.REDEMPTION, True, S.REDEMPTION),
    ("domain_info_response_wildcard_after_redemption.xml", REDEMPTION_OVER, S.REDEMPTION, True, S.PENDING_DELETE),
    ("domain_info_response_fakesite_restored_ok.xml", None, S.REDEMPTION, False, S.ACTIVE),
    ("domain_info_response_fakesite_restored_ok.xml", None, S.PENDING_DELETE, False, S.ACTIVE),
    ("domain_info_response_fakesite_pending_transfer.xml", None, S.PENDING_TRANSFER, False, S.PENDING_TRANSFER),
    ("domain_info_response_fakesite_pending_transfer.xml", None, S.ACTIVE, False, S.ACTIVE),
    ("domain_info_response_fakesite_3_nameservers_pending_transfer.xml", None, S.PENDING_TRANSFER, False, S.PENDING_TRANSFER),
    ("domain_info_response_fakesite_pending_transfer_autorenew.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain_info_response_during_transfer_during_argp.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain_info_response_before_transfer_during_argp.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain_info_response_fakesite_3_nameservers_transfer_successful.xml", None, S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain_info_response_fakesite_transfer_complete.xml", None, S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain_info_response_after_transfer_during_argp.xml", None, S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain_info_response_fakesite_inactive.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain_info_response_fakesite_ok.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain_info_response_graceperiod.xml", None, S.GRACE, False, S.ACTIVE),
    ("domain_info_response_graceperiod_add_and_renew.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain_info_response_inactive_grace_period.xml", None, S.PENDING_REGISTRATION, False, S.ACTIVE),
    ("domain_info_response_inactive.xml", None, S.ACTIVE, True, S.GRACE),
    ("domain/domain_transfer_request_response.xml", "transfer", S.PENDING_TRANSFER, False, S.PENDING_TRANSFER),
    ("domain_transfer_response.xml", "transfer", S.PENDING_TRANSFER, False, S.PENDING_TRANSFER),
    ("domain/domain_transfer_query_response.xml", "transfer", S.PENDING_TRANSFER, False, S.PENDING_TRANSFER),
    ("domain/domain_transfer_query_response_client_approved.xml", "transfer", S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain/domain_transfer_query_response_server_approved.xml", "transfer", S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain_transfer_query_response_completed_fakesite.xml", "transfer", S.PENDING_TRANSFER, False, S.ACTIVE),
    ("domain/domain_transfer_query_response_client_rejected.xml", "transfer", S.PENDING_TRANSFER, False, S.TRANSFER_FAILED),
    ("domain/domain_transfer_query_response_client_cancelled.xml", "transfer", S.PENDING_TRANSFER, False, S.TRANSFER_FAILED),
    ("domain/domain_transfer_query_response_server_cancelled.xml", "transfer", S.PENDING_TRANSFER, False, S.TRANSFER_FAILED),
    ("domain/domain_transfer_cancel_response.xml", "transfer", S.PENDING_TRANSFER, False, S.TRANSFER_FAILED),
    # Another registrar's request for a name we hold, and our answers to it.
    ("domain/domain_transfer_query_response.xml", "transfer", S.ACTIVE, False, S.ACTIVE),
    ("domain/domain_transfer_approve_response.xml", "transfer", S.ACTIVE, False, S.TRANSFERRED_AWAY),
    ("domain/domain_transfer_approve_response_autorenew.xml", "transfer", S.GRACE, False, S.TRANSFERRED_AWAY),
    ("domain/domain_transfer_query_response_server_approved.xml", "transfer", S.ACTIVE, False, S.TRANSFERRED_AWAY),
    ("domain/domain_transfer_reject_response.xml", "transfer", S.ACTIVE, False, S.ACTIVE),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "read", "current", "lapsed", "expected"),
    NOMULUS,
    ids=[f"{n}-{c}{'-lapsed' if lapsed else ''}" for n, _, c, lapsed, _ in NOMULUS],
)
def test_nomulus_answers_map_as_the_registry_means_them(name, read, current, lapsed, expected):
    assert (FIXTURES / name).is_file(), name
    info = transfer_of(name) if read == "transfer" else info_of(name, text=read)
    if info.expires_at is None:
        now = NOW
    else:  # the files' dates are fixed (2002, 2005...): judge them as of a day before or after
        now = info.expires_at + (timedelta(days=1) if lapsed else -timedelta(days=1))
    assert status_from_registry(info, current=current, now=now, grace_days=30) == expected


def test_the_nomulus_files_say_what_the_table_reads_from_them():
    """The statuses the cases above rely on are really in the files (not only in our reading)."""
    assert info_of("domain_info_response_fakesite_pending_delete.xml").rgp_statuses == [
        "redemptionPeriod"
    ]
    pending = info_of("domain/domain_info_response_pendingdelete.xml")
    assert (pending.statuses, pending.rgp_statuses) == (["pendingDelete"], ["pendingDelete"])
    argp = info_of("domain_info_response_during_transfer_during_argp.xml")
    assert (argp.statuses, argp.rgp_statuses) == (["pendingTransfer"], ["autoRenewPeriod"])
    assert info_of("domain_info_response_graceperiod.xml").rgp_statuses == ["autoRenewPeriod"]
    assert transfer_of("domain/domain_transfer_reject_response.xml").transfer.status == (
        "clientRejected"
    )


# --- applying it -------------------------------------------------------------------------------
@pytest.fixture
def account(db):
    return RegistrarAccountFactory(name="Sandbox", settings={"balance": "100.00"})


@pytest.fixture
def tld(account):
    return TldFactory(name="com", registrar_account=account, grace_days=30)


@pytest.fixture
def customer(db):
    return CustomerFactory(user=UserFactory())


def history(domain) -> list[tuple[str, str, str]]:
    return [
        (c.from_status, c.to_status, c.reason)
        for c in domain.status_changes.order_by("created_at", "pk")
    ]


@pytest.mark.django_db
class TestApply:
    def test_a_change_goes_through_the_state_machine_with_a_history_row(self, tld):
        domain = DomainFactory(tld=tld, status=S.GRACE, expires_at=PAST)
        info = view(["ok"], ["autoRenewPeriod"], expires_at=FUTURE)
        applied = apply_registry_view(domain_id=domain.pk, info=info, actor=SYSTEM, reason="Sync")
        domain.refresh_from_db()
        assert applied.status == domain.status == S.ACTIVE
        assert domain.expires_at == FUTURE
        assert domain.epp_statuses == ["ok"]
        assert domain.outzone_at == FUTURE + timedelta(days=30)
        assert history(domain) == [(S.GRACE, S.ACTIVE, "Sync")]

    def test_the_same_view_again_changes_no_status_and_writes_no_history(self, tld):
        domain = DomainFactory(tld=tld, status=S.ACTIVE, expires_at=FUTURE)
        for _ in range(2):
            apply_registry_view(domain_id=domain.pk, info=view(), actor=SYSTEM, reason="Sync")
        assert history(domain) == []
        domain.refresh_from_db()
        assert domain.last_synced_at is not None

    def test_a_registration_answered_with_a_hold_is_registered_then_suspended(self, tld):
        domain = DomainFactory(tld=tld, status=S.PENDING_REGISTRATION, expires_at=None)
        info = view(["serverHold"], ["addPeriod"])
        apply_registry_view(domain_id=domain.pk, info=info, actor=SYSTEM, reason="Register")
        assert history(domain) == [
            (S.PENDING_REGISTRATION, S.ACTIVE, "Register"),
            (S.ACTIVE, S.SUSPENDED, "Register"),
        ]

    def test_a_status_the_machine_cannot_reach_is_left_and_the_fields_still_copied(self, tld):
        domain = DomainFactory(tld=tld, status=S.REDEMPTION, expires_at=PAST)
        info = view(["ok"], transfer="serverApproved")  # a name in redemption cannot move
        assert status_from_registry(info, current=S.REDEMPTION) == S.TRANSFERRED_AWAY
        apply_registry_view(domain_id=domain.pk, info=info, actor=SYSTEM, reason="Poll")
        domain.refresh_from_db()
        assert domain.status == S.REDEMPTION and history(domain) == []
        assert domain.epp_statuses == ["ok"] and domain.expires_at == FUTURE

    def test_a_name_becoming_ours_fires_domain_activated_once(self, tld):
        from domains import hooks

        activated = []
        domain = DomainFactory(tld=tld, status=S.PENDING_TRANSFER, expires_at=None)
        with hooks.domain_activated.replaced(lambda *, domain: activated.append(domain.pk)):
            pending = view(["pendingTransfer"], transfer="pending", expires_at=None)
            apply_registry_view(domain_id=domain.pk, info=pending, actor=SYSTEM, reason="Poll")
            assert activated == []
            done = view([], transfer="serverApproved")
            apply_registry_view(domain_id=domain.pk, info=done, actor=SYSTEM, reason="Poll")
            apply_registry_view(domain_id=domain.pk, info=view(), actor=SYSTEM, reason="Sync")
        assert activated == [domain.pk]
        assert history(domain) == [(S.PENDING_TRANSFER, S.ACTIVE, "Poll")]


# --- through the outbox: register, transfer, renew, sync ----------------------------------------
def drain():
    """Run every due operation, oldest first, as the worker would (new ones included)."""
    for _ in range(10):
        due = list(
            RegistrarOperation.objects.filter(status="pending")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not due:
            return
        for pk in due:
            outbox.run_operation(pk)


class StubAdapter:
    """Answers as a registry would; only the commands a test needs."""

    def __init__(self, **answers):
        self.answers = answers

    def __getattr__(self, command):
        if command not in self.answers:
            raise AttributeError(command)
        answer = self.answers[command]

        def call(*args, **kwargs):
            if isinstance(answer, Exception):
                raise answer
            return answer

        return call


@pytest.mark.django_db
class TestThroughTheOutbox:
    def test_a_transfer_answered_1001_stays_pending_transfer(self, tld, customer, monkeypatch):
        """The EPP adapter's answer to a transfer request the registry left pending (1001)."""
        domain = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="moving-in.com", auth_code="2fooBAR"
        )
        answer = transfer_of("domain/domain_transfer_request_response.xml")
        assert answer.transfer.pending and answer.transfer.status == "pending"
        monkeypatch.setattr(outbox, "adapter_for", lambda account: StubAdapter(transfer=answer))
        operation = RegistrarOperation.objects.get(domain=domain)
        assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == S.PENDING_TRANSFER
        assert domain.epp_statuses == ["pendingTransfer"]
        assert history(domain) == []
        # The registry completes it later: a sync (or the poll queue) makes it ours.
        done = replace(
            info_of("domain_info_response_fakesite_transfer_complete.xml"), expires_at=FUTURE
        )
        monkeypatch.setattr(outbox, "adapter_for", lambda account: StubAdapter(info=done))
        sync = domain_sync(actor=SYSTEM, domain=domain)
        assert outbox.run_operation(sync.pk).status == RegistrarOperation.Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == S.ACTIVE and domain.expires_at == done.expires_at
        assert history(domain) == [(S.PENDING_TRANSFER, S.ACTIVE, "Sync")]

    def test_a_refused_transfer_ends_transfer_failed_and_frees_the_name(
        self, tld, customer, monkeypatch
    ):
        from domains.registrars.base import AuthorizationError

        domain = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="not-yours.com", auth_code="wrong"
        )
        refusal = AuthorizationError("Authorization error", code=2202)
        monkeypatch.setattr(outbox, "adapter_for", lambda account: StubAdapter(transfer=refusal))
        operation = RegistrarOperation.objects.get(domain=domain)
        assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.FAILED
        domain.refresh_from_db()
        assert domain.status == S.TRANSFER_FAILED
        again = domain_transfer_in(
            actor=SYSTEM, customer=CustomerFactory(), name="not-yours.com", auth_code="right"
        )
        assert again.status == S.PENDING_TRANSFER

    def test_sync_brings_a_domain_in_grace_back_to_active_after_the_registry_renewed_it(
        self, tld, customer
    ):
        domain = domain_register(actor=SYSTEM, customer=customer, name="renewed-upstream.com")
        drain()
        domain.refresh_from_db()
        assert domain.status == S.ACTIVE
        # The portal's dates pass expiry: lifecycle_advance moves it to grace...
        Domain.objects.filter(pk=domain.pk).update(expires_at=PAST)
        from domains.lifecycle import lifecycle_advance

        assert lifecycle_advance(actor=SYSTEM) == {"active->grace": 1}
        # ...while the registry auto-renewed it.
        renewed = PAST.replace(year=PAST.year + 1)
        SandboxDomain.objects.filter(name="renewed-upstream.com").update(expires_at=renewed)
        domain.refresh_from_db()
        sync = domain_sync(actor=SYSTEM, domain=domain)
        drain()
        sync.refresh_from_db()
        assert sync.status == RegistrarOperation.Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == S.ACTIVE
        assert domain.expires_at == renewed
        assert history(domain)[-2:] == [
            (S.ACTIVE, S.GRACE, "lifecycle"),
            (S.GRACE, S.ACTIVE, "Sync"),
        ]

    def test_sync_moves_a_domain_the_registry_deleted_into_redemption(self, tld, customer):
        domain = domain_register(actor=SYSTEM, customer=customer, name="deleted-upstream.com")
        drain()
        SandboxDomain.objects.filter(name="deleted-upstream.com").update(statuses=["pendingDelete"])
        domain_sync(actor=SYSTEM, domain=domain)
        drain()
        domain.refresh_from_db()
        # The embedded sandbox reports no rgp: pendingDelete alone is pending delete.
        assert domain.status == S.PENDING_DELETE
        assert history(domain)[-1] == (S.ACTIVE, S.PENDING_DELETE, "Sync")

    def test_a_failed_registration_frees_the_name_for_anyone(self, tld, customer, account):
        account.settings = {"balance": "100.00", "reserved": ["wanted.com"]}
        account.save()
        first = domain_register(actor=SYSTEM, customer=customer, name="wanted.com")
        operation = RegistrarOperation.objects.get(domain=first)
        assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.FAILED
        first.refresh_from_db()
        assert first.status == S.REGISTRATION_FAILED
        account.settings = {"balance": "100.00"}
        account.save()
        someone_else = CustomerFactory(user=UserFactory())
        second = domain_register(actor=SYSTEM, customer=someone_else, name="wanted.com")
        assert (
            outbox.run_operation(RegistrarOperation.objects.get(domain=second).pk).status
            == RegistrarOperation.Status.SUCCEEDED
        )
        second.refresh_from_db()
        assert second.status == S.ACTIVE
        first.refresh_from_db()
        assert first.status == S.REGISTRATION_FAILED  # the old order stays as it ended
        # Retrying the old one now is refused with a reason (the name is someone else's).
        from django.core.exceptions import ValidationError

        from domains.services import operation_retry

        with pytest.raises(ValidationError, match="ordered again"):
            operation_retry(actor=SYSTEM, operation=operation)
        operation.refresh_from_db()
        assert operation.status == RegistrarOperation.Status.FAILED

    def test_retrying_a_failed_registration_resumes_it(self, tld, customer, account):
        from domains.services import operation_retry

        account.settings = {"balance": "100.00", "reserved": ["second-try.com"]}
        account.save()
        domain = domain_register(actor=SYSTEM, customer=customer, name="second-try.com")
        operation = RegistrarOperation.objects.get(domain=domain)
        outbox.run_operation(operation.pk)
        account.settings = {"balance": "100.00"}
        account.save()
        operation.refresh_from_db()
        operation_retry(actor=SYSTEM, operation=operation)
        domain.refresh_from_db()
        assert domain.status == S.PENDING_REGISTRATION
        assert outbox.run_operation(operation.pk).status == RegistrarOperation.Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == S.ACTIVE
        assert [(a, b) for a, b, _ in history(domain)] == [
            (S.PENDING_REGISTRATION, S.REGISTRATION_FAILED),
            (S.REGISTRATION_FAILED, S.PENDING_REGISTRATION),
            (S.PENDING_REGISTRATION, S.ACTIVE),
        ]

    def test_a_cancelled_registration_frees_the_name(self, tld, customer):
        from domains.services import operation_cancel

        domain = domain_register(actor=SYSTEM, customer=customer, name="never-mind.com")
        operation_cancel(actor=SYSTEM, operation=RegistrarOperation.objects.get(domain=domain))
        domain.refresh_from_db()
        assert domain.status == S.REGISTRATION_FAILED
        assert "cancelled" in history(domain)[-1][2]
        again = domain_register(actor=SYSTEM, customer=customer, name="never-mind.com")
        assert again.status == S.PENDING_REGISTRATION

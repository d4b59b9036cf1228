"""The EPP poll queue (RFC 5730 ``<poll>``): read each registrar account's queue, apply what each
message says, keep every message in a log staff can see, and acknowledge it only after what it
changed is committed.

``poll_account(account_id)`` (the ``registry_poll_account`` task, one per active EPP account,
fanned out by the ``registry-poll`` beat entry) reads the queue until it is empty or
``NAMEPORT_POLL_BATCH`` messages were read. A Redis lock per account (``ratelimit.exclusive``)
makes sure two beats or workers never poll one account at once, and each command goes through
the account's rate budget.
For each message, in order:

1. the registry's current view of the domain is read when the message needs it (outside any
   transaction: no row is locked while the registry answers);
2. in one transaction: the message is written to the log (``RegistryMessage``, unique per account
   and message id) and applied: transfers of names we are gaining or losing, transfers away,
   auto-renewals, pending-action results (``panData``), server holds and deletions go through
   ``lifecycle.apply_registry_view`` / ``domain_transition``, another registrar's request opens a
   ``TransferRequest`` for the customer (``domains.transfers``);
3. after the commit, the message is acknowledged (which deletes it at the registry) and
   ``acked_at`` set.

A message that was applied (or needed nothing) is never applied again: when its ack was lost and
the registry hands it out once more, the log row says so and it is only acknowledged. A message
Nameport cannot apply (an unknown name, a notice it does not understand, a change the state
machine refuses) is kept with status ``unapplied`` and the reason, shown to staff, and
acknowledged. An error inside the apply rolls it back and leaves the message unacknowledged at
the head of the queue: the run stops and the next one applies it; after ``MAX_APPLY_ATTEMPTS``
such errors it is kept as unapplied (with the error) and acknowledged, so one broken message
cannot stop the queue for good.

The reseller REST API (seed 002) has no poll queue: its periodic sync covers what the queue
carries (``domains.registrars.reseller_rest``).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import asdict

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from domains import hooks, ratelimit, transfers
from domains.lifecycle import (
    TERMINAL,
    TransitionError,
    allowed_from,
    apply_registry_view,
    domain_transition,
)
from domains.models import (
    RELEASED_STATUSES,
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
)
from domains.registrars import adapter_for
from domains.registrars.base import DomainInfo, PollMessage, RegistrarError, TransferInfo
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)
S = DomainStatus
Op = RegistrarOperation
M = RegistryMessage.Status

BATCH = settings.NAMEPORT_POLL_BATCH
LOCK_SECONDS = settings.NAMEPORT_POLL_LOCK_SECONDS
MAX_APPLY_ATTEMPTS = 3
_STATUSES_ADDED = re.compile(r"added the status\(es\)\s*\[([^\]]*)\]", re.IGNORECASE)
_STATUSES_REMOVED = re.compile(r"removed the status\(es\)\s*\[([^\]]*)\]", re.IGNORECASE)
_DELETED = re.compile(r"\bdomain\b.*\bdeleted\b|\bdeleted\b.*\bdomain\b", re.IGNORECASE)


class Unapplicable(Exception):
    """The message cannot be applied; ``reason`` says why (kept for staff, then acknowledged)."""

    def __init__(self, reason: str, domain: Domain | None = None):
        super().__init__(reason)
        self.reason = reason
        self.domain = domain


def polled_accounts() -> list[int]:
    """The accounts whose queue is read: active EPP accounts."""
    return list(
        RegistrarAccount.objects.filter(kind=RegistrarAccount.Kind.EPP, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _client_id(account: RegistrarAccount) -> str:
    try:
        data = json.loads(str(account.credentials or "") or "{}")
    except ValueError:
        return ""
    return str(data.get("client_id") or "") if isinstance(data, dict) else ""


def _data(message: PollMessage) -> dict:
    return json.loads(json.dumps(asdict(message), cls=DjangoJSONEncoder))


# --- reading the queue ----------------------------------------------------------------------------
def poll_account(account_id: int, *, limit: int | None = None) -> dict[str, int]:
    """Read and apply one account's queue (see the module docstring); how many messages ended in
    each status, ``read``, and ``busy`` when another poller holds the account."""
    if transaction.get_connection().in_atomic_block:
        # The ack must come after the commit of what the message changed.
        raise RuntimeError("poll_account runs outside any transaction")
    counts = {"read": 0, M.APPLIED: 0, M.UNAPPLIED: 0, M.IGNORED: 0, "failed": 0, "busy": 0}
    account = RegistrarAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None or account.kind != RegistrarAccount.Kind.EPP:
        return counts
    limit = BATCH if limit is None else limit
    with ratelimit.exclusive(f"poll:{account.pk}", ttl=LOCK_SECONDS) as mine:
        if not mine:
            counts["busy"] = 1
            return counts
        adapter = adapter_for(account)
        deadline = time.monotonic() + LOCK_SECONDS / 2
        while counts["read"] < limit and time.monotonic() < deadline:
            try:
                with ratelimit.budget(account):
                    message = adapter.poll()
            except RegistrarError as exc:
                logger.warning("poll of %s failed: %s", account.name, exc.message)
                break
            if message is None:
                break
            counts["read"] += 1
            row = _handle(account, adapter, message)
            if row is None:
                counts["failed"] += 1
                break  # left at the head of the queue, unacknowledged: the next run applies it
            try:
                with ratelimit.budget(account):
                    adapter.ack(message.id)
            except RegistrarError as exc:
                # Applied and logged; the registry hands it out again and it is only acked then.
                logger.warning("ack of %s #%s failed: %s", account.name, message.id, exc.message)
                counts[row.status] += 1
                break
            RegistryMessage.objects.filter(pk=row.pk).update(acked_at=timezone.now())
            counts[row.status] += 1
    return counts


def _handle(account: RegistrarAccount, adapter, message: PollMessage) -> RegistryMessage | None:
    """Log and apply one message; the committed log row, or None when applying it failed and the
    message must stay in the queue."""
    existing = RegistryMessage.objects.filter(account=account, message_id=message.id).first()
    if existing is not None and existing.status != M.UNAPPLIED:
        return existing  # applied (or nothing to do) before; its ack was lost
    attempt = existing.attempts + 1 if existing is not None else 1
    try:
        view = _registry_view(account, adapter, message)
        with transaction.atomic():
            status, domain, note = _apply_logged(account, message, view)
            return _log(account, message, status=status, domain=domain, note=note, attempt=attempt)
    except Exception as exc:  # anything: the change is rolled back, the message stays queued
        logger.exception("poll message %s #%s could not be applied", account.name, message.id)
        return _failed(account, message, exc, attempt)


def _log(account, message, *, status, domain, note, attempt) -> RegistryMessage:
    row, _ = RegistryMessage.objects.update_or_create(
        account=account,
        message_id=message.id,
        defaults={
            "queued_at": message.queued_at,
            "kind": message.kind,
            "name": message.name[:253],
            "domain": domain,
            "text": message.message,
            "data": _data(message),
            "status": status,
            "note": note,
            "attempts": attempt,
        },
    )
    return row


def _failed(account, message, exc: Exception, attempt: int) -> RegistryMessage | None:
    """Note a failed apply; after the last attempt the message is kept unapplied (and acked)."""
    error = exc.message if isinstance(exc, RegistrarError) else f"{type(exc).__name__}: {exc}"
    final = attempt >= MAX_APPLY_ATTEMPTS
    note = f"Applying it failed ({error[:300]}); attempt {attempt} of {MAX_APPLY_ATTEMPTS}." + (
        " Kept for staff and acknowledged." if final else " It stays queued at the registry."
    )
    with transaction.atomic():
        row = _log(account, message, status=M.UNAPPLIED, domain=None, note=note, attempt=attempt)
    return row if final else None


# --- what a message needs from the registry ------------------------------------------------------
def _registry_view(account, adapter, message: PollMessage) -> DomainInfo | None:
    """The registry's current view of the message's domain, when applying it needs one and the
    name is ours to read (None otherwise: the message's own data is used)."""
    if message.kind == "domain" and message.domain is not None:
        return message.domain
    wanted = message.kind in {"renewal", "pending_action"} or (
        message.kind == "transfer"
        and message.transfer is not None
        and message.transfer.approved
        and message.transfer.requested_by == _client_id(account)
    )
    if not wanted or not message.name:
        return None
    try:
        with ratelimit.budget(account):
            return adapter.info(message.name)
    except RegistrarError:
        return None  # not ours (any more), or not reachable: the message's data decides


# --- applying one message -------------------------------------------------------------------------
def _domain_for(account: RegistrarAccount, name: str) -> Domain | None:
    """The domain a message is about: held names of this account first, then released ones."""
    if not name:
        return None
    return (
        Domain.objects.filter(name_puny=name)
        .filter(
            Q(registrar_account=account)
            | Q(registrar_account__isnull=True, tld__registrar_account=account)
        )
        .annotate(
            released=Case(
                When(status__in=RELEASED_STATUSES, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            other_mode=Case(
                When(livemode=account.livemode, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .order_by("released", "other_mode", "-pk")
        .first()
    )


def _apply_logged(account, message: PollMessage, view: DomainInfo | None):
    """``(status, domain, note)`` for the log; raises for an error that must roll back."""
    domain = _domain_for(account, message.name)
    try:
        with transaction.atomic():  # a message not applied changes nothing
            return _apply(account, message, domain, view)
    except Unapplicable as exc:
        return M.UNAPPLIED, exc.domain or domain, exc.reason


def _apply(account, message: PollMessage, domain: Domain | None, view: DomainInfo | None):
    kind = message.kind
    if kind in {"host", "host_deleted", "contact_deleted"}:
        return M.IGNORED, None, "Nameport keeps no registry hosts or contacts to change for this."
    if kind == "notice":
        raise Unapplicable(
            "Nameport does not understand this message; read it and act by hand if needed.",
            domain,
        )
    if domain is None:
        raise Unapplicable(f"No domain named {message.name!r} is held through {account.name}.")
    if kind == "transfer":
        return _transfer(account, message, domain, view)
    if kind == "pending_action":
        return _pending_action(message, domain, view)
    if kind == "renewal":
        if domain.status in TERMINAL:
            return M.IGNORED, domain, "The name is no longer ours."
        info = view or DomainInfo(
            name=domain.name_puny,
            expires_at=message.expires_at,
            statuses=list(domain.epp_statuses or []),
        )
        _view(domain, info, "Auto-renewed by the registry")
        return M.APPLIED, domain, f"Auto-renewed: expires {_date(info.expires_at)}."
    if kind == "domain":
        _view(domain, view or message.domain, "Registry notice")
        return M.APPLIED, domain, "The registry's view of the domain was taken over."
    raise Unapplicable(f"Messages of kind {kind!r} are not applied.", domain)


def _date(moment) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "unknown"


def _view(domain: Domain, info: DomainInfo, reason: str) -> Domain:
    after = apply_registry_view(domain_id=domain.pk, info=info, actor=SYSTEM, reason=reason)
    domain.status = after.status
    return after


def _transfer(account, message: PollMessage, domain: Domain, view: DomainInfo | None):
    transfer: TransferInfo = message.transfer
    ours = _client_id(account)
    if transfer.requested_by and ours:
        gaining = transfer.requested_by == ours
    else:
        gaining = domain.status == S.PENDING_TRANSFER
    if gaining:
        if domain.status != S.PENDING_TRANSFER:
            return M.IGNORED, domain, f"Our transfer in is already recorded ({domain.status})."
        if transfer.pending:
            return M.IGNORED, domain, "Our transfer request is pending at the registry."
        after = _view(
            domain,
            transfers.incoming_view(domain.name_puny, transfer, view),
            f"Transfer in {transfer.status}",
        )
        return M.APPLIED, domain, f"Transfer in {transfer.status}: the domain is {after.status}."
    if domain.status in TERMINAL:
        return M.IGNORED, domain, f"Already recorded: the domain is {domain.status}."
    locked = Domain.objects.select_for_update().get(pk=domain.pk)
    request = transfers.outgoing_seen(domain=locked, transfer=transfer, source="poll")
    if transfer.pending:
        by = transfer.action_at
        return (
            M.APPLIED,
            domain,
            f"{transfer.requested_by or 'Another registrar'} asked for the domain; the customer "
            f"answers by {_date(by)}.",
        )
    if transfer.approved:
        after = _view(
            domain,
            transfers.incoming_view(domain.name_puny, transfer),
            f"Transfer away {transfer.status}",
        )
        return M.APPLIED, domain, f"Transferred away ({transfer.status}): {after.status}."
    state = request.status if request is not None else "no open request"
    return M.APPLIED, domain, f"Transfer away {transfer.status}: the domain stays ({state})."


def _pending_action(message: PollMessage, domain: Domain, view: DomainInfo | None):
    result = message.pending_action
    text = message.message or ""
    added = _STATUSES_ADDED.search(text)
    if added is not None or _STATUSES_REMOVED.search(text):
        # The registry's staff changed the statuses (serverHold...): take over its view.
        held = {s.strip() for s in (added.group(1) if added else "").split(",") if s.strip()}
        if view is None:
            statuses = [s for s in (domain.epp_statuses or []) if s != "ok"] + sorted(held)
            view = DomainInfo(name=domain.name_puny, expires_at=None, statuses=statuses)
        after = _view(domain, view, "Registry statuses changed")
        if held & {"serverHold", "clientHold"} and after.status != S.SUSPENDED:
            raise Unapplicable(
                f"The registry put {', '.join(sorted(held))} on the domain, but it is "
                f"{after.status} and cannot be suspended.",
                domain,
            )
        return M.APPLIED, domain, f"Registry statuses now: {', '.join(view.statuses) or 'ok'}."
    operation = _operation(result.cl_trid) if result is not None else None
    if operation is not None and operation.domain_id == domain.pk:
        return _pending_operation(operation, result.succeeded, domain, view)
    if _DELETED.search(text) and (result is None or result.succeeded):
        return _deleted(domain)
    if view is not None:
        _view(domain, view, "Pending action completed")
        return M.APPLIED, domain, "The registry's view of the domain was taken over."
    raise Unapplicable("A pending action's result for a transaction Nameport did not send.", domain)


def _operation(cl_trid: str) -> Op | None:
    try:
        key = uuid.UUID(cl_trid)
    except (ValueError, TypeError):
        return None
    return Op.objects.filter(idempotency_key=key).first()


def _pending_operation(operation: Op, succeeded: bool, domain: Domain, view: DomainInfo | None):
    """The registry finished a command it had answered 1001 (action pending)."""
    label = operation.get_kind_display()
    Op.objects.filter(pk=operation.pk).update(
        result={
            **(operation.result or {}),
            "pending_action": "succeeded" if succeeded else "failed",
        }
    )
    if succeeded:
        if view is not None:
            _view(domain, view, f"{label} completed by the registry")
        return M.APPLIED, domain, f"{label} completed by the registry."
    if operation.kind == Op.Kind.TRANSFER:
        refused = TransferInfo(name=domain.name_puny, status="serverCancelled")
        _view(domain, transfers.incoming_view(domain.name_puny, refused), "Transfer refused")
    elif operation.kind == Op.Kind.REGISTER and domain.status == S.PENDING_REGISTRATION:
        domain_transition(
            domain=domain, to=S.REGISTRATION_FAILED, actor=SYSTEM, reason="Registration refused"
        )
    stopped = Op.objects.filter(pk=operation.pk, status=Op.Status.SUCCEEDED).update(
        status=Op.Status.FAILED,
        last_error="The registry refused the action it had left pending.",
        updated_at=timezone.now(),
    )
    if stopped:
        operation.refresh_from_db()
        hooks.operation_stopped(operation=operation)
    return M.APPLIED, domain, f"{label} refused by the registry after it was left pending."


def _deleted(domain: Domain):
    if domain.status in TERMINAL:
        return M.IGNORED, domain, f"Already recorded: the domain is {domain.status}."
    steps = (
        [S.DELETED]
        if domain.status in allowed_from(S.DELETED)
        else [S.PENDING_DELETE, S.DELETED]
        if domain.status in allowed_from(S.PENDING_DELETE)
        else []
    )
    if not steps:
        raise Unapplicable(f"The registry deleted the domain, but it is {domain.status}.", domain)
    try:
        with transaction.atomic():
            for step in steps:
                domain_transition(
                    domain=domain, to=step, actor=SYSTEM, reason="Deleted by the registry"
                )
    except TransitionError as exc:
        raise Unapplicable(str(exc), domain) from None
    return M.APPLIED, domain, "Deleted by the registry."

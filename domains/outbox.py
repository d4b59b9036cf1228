"""The worker side of the outbox: claim operations, call the registry, record the outcome,
drain a backlog, sweep lost ones.

* Claiming is an update-if-unchanged (``pending -> running``), so two workers never run one row.
* Rows of one domain run in creation order.
* Transient errors retry with exponential backoff and full jitter, up to ``max_attempts``.
* Permanent errors stop at ``failed`` and open a support ticket (the customer sees it too),
  through ``domains.hooks`` (support registers the ticket; domains never imports it).
* A worker killed mid-call leaves the row ``running``; after the lease the sweep puts it back to
  ``pending`` and the retry carries the same idempotency key, so the registry applies it once.
  The claim counted the attempt: a row that has used its attempts that way (an operation that
  kills its worker every time) is stopped by the sweep as failed, with a ticket.
* An operation behind an unfinished one of its domain is parked (``dispatch.PARKED_AT``) until
  the one before it ends and wakes it (``dispatch.wake_next``), instead of polling.
* The costly kinds (register, transfer, renew, restore, privacy) are charged to the
  organisation's account with the platform in the claim's transaction (``hooks.operation_charge``,
  billing's ledger); one the account cannot pay waits in ``awaiting_funds``, unsent and without
  an attempt counted, as does one the registrar refuses for want of the platform's own funds
  (its charge refunded, staff told once per shortage). A top-up resumes them
  (``resume_awaiting_funds``). A charged operation that fails for good or is cancelled is
  refunded (``hooks.operation_refund``).
* What the registry says about a domain after a registration, a transfer, a renewal or a sync
  goes through ``lifecycle.apply_registry_view``: the status follows the registry's (with a
  history row), and a registration or transfer refused for good ends in a terminal status that
  frees the name.

This module never imports the actions (``domains.services``): what both need lives below it
(``domains.lifecycle``, ``domains.names``, ``domains.dispatch``, the models). The Celery tasks
over it are in ``domains.tasks``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, prefetch_related_objects
from django.utils import timezone

from domains import attempts, hooks, ratelimit, transfers
from domains.dispatch import PARKED_AT, enqueue, operation_enqueue, wake_next
from domains.lifecycle import (
    FLAG_FIELDS,
    FLAG_KINDS,
    PENDING,
    TERMINAL,
    add_years,
    apply_registry_view,
    order_ended,
    record_drift,
    registry_fields,
)
from domains.models import Domain, RegistrarAccount, RegistrarOperation
from domains.registrars import adapter_for
from domains.registrars.base import (
    AuthorizationError,
    ContactData,
    DomainInfo,
    DsData,
    FeeRefusedError,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    QuotedFee,
    RegistrarError,
)
from portal import outbox as core
from portal.audit import audit
from portal.outbox import Outcome
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)
Op = RegistrarOperation
Status = RegistrarOperation.Status

# How long a claimed operation is left to its worker before the sweep takes it back.
LEASE_SECONDS = settings.NAMEPORT_OUTBOX_LEASE_SECONDS
BACKOFF_BASE_SECONDS = core.BACKOFF_BASE_SECONDS

# "Plain" kinds: success means recording the operation and what the registry now says about the
# domain, nothing more, so a drain writes a whole group of them at once. The others (register,
# transfer, renew, sync, auth code) change more and are recorded one by one, as are failures.
BULK_KINDS = frozenset(
    {
        Op.Kind.NAMESERVERS,
        Op.Kind.LOCK,
        Op.Kind.PRIVACY,
        Op.Kind.AUTORENEW,
        Op.Kind.CONTACTS,
        Op.Kind.DNSSEC,
        Op.Kind.HOST_CREATE,
        Op.Kind.HOST_UPDATE,
        Op.Kind.HOST_DELETE,
    }
)
# An operation awaiting funds is unfinished too: those behind it on its domain stay parked.
UNFINISHED = (Status.PENDING, Status.RUNNING, Status.HELD, Status.AWAITING_FUNDS)
# The answers whose view of the domain decides its status (lifecycle.apply_registry_view).
VIEW_KINDS = frozenset(
    {Op.Kind.REGISTER, Op.Kind.TRANSFER, Op.Kind.RENEW, Op.Kind.SYNC, Op.Kind.RESTORE}
)


def _earlier_unfinished(operation: Op) -> tuple[int, str] | None:
    """The first unfinished operation of the same domain queued before this one, if any."""
    if operation.domain_id is None:
        return None
    return (
        Op.objects.filter(
            domain_id=operation.domain_id,
            pk__lt=operation.pk,
            status__in=UNFINISHED,
        )
        .order_by("pk")
        .values_list("pk", "status")
        .first()
    )


def _park(operation: Op) -> bool:
    """Park a pending operation behind the unfinished one before it; False if nothing holds it
    up (any more). Checked again after parking: the one before may have ended, and sent its wake,
    between the first check and the park."""
    blocker = _earlier_unfinished(operation)
    if blocker is None:
        return False
    pk, status = blocker
    now = timezone.now()
    Op.objects.filter(pk=operation.pk, status=Status.PENDING).update(
        next_attempt_at=PARKED_AT,
        last_error=f"Waiting for operation #{pk} ({Status(status).label.lower()}) on this "
        "domain to end.",
        updated_at=now,
    )
    if _earlier_unfinished(operation) is not None:
        return True
    Op.objects.filter(pk=operation.pk, status=Status.PENDING, next_attempt_at=PARKED_AT).update(
        next_attempt_at=now, last_error="", updated_at=now
    )
    return False


def run_operation(operation_id: int) -> Outcome:
    operation = (
        Op.objects.filter(pk=operation_id)
        .select_related("domain__tld", "registrar_account")
        .first()
    )
    if operation is None or operation.status != Status.PENDING:
        return Outcome("skipped")
    if operation.next_attempt_at > timezone.now():
        return Outcome("skipped")  # not due yet (a retry's backoff), or parked
    if _park(operation):
        return Outcome("parked")
    with transaction.atomic():
        if not core.claim(Op, operation_id):
            return Outcome("skipped")
        # The claim succeeded, so nothing else changed the row since we read it: mirror it.
        operation.status = Status.RUNNING
        operation.attempts += 1
        if not _charge([operation]):
            return Outcome(Status.AWAITING_FUNDS)
    result, error = _attempt(operation)
    outcome = _record(operation, result, error)
    attempts.record([(operation, result, error, outcome)])
    return outcome


# --- paying for it: the reseller's account with the platform -----------------------------------
# The kinds that may cost money (billing decides whether they do: only those its price list
# prices are charged); the others are never offered to the charge hook.
CHARGED_KINDS = frozenset(
    {Op.Kind.REGISTER, Op.Kind.TRANSFER, Op.Kind.RENEW, Op.Kind.RESTORE, Op.Kind.PRIVACY}
)
UNPAID_TEXT = (
    "Awaiting funds: the organisation's account with the platform cannot pay for it yet; a "
    "top-up resumes it."
)
UPSTREAM_UNPAID_TEXT = (
    "Awaiting funds: the registrar answered that the platform's account {account} has no funds "
    "for it ({message}); resumed when staff record the upstream top-up."
)


def _charge(operations: list[Op]) -> list[Op]:
    """Charge claimed operations (inside the claim's transaction); the ones paid for, or free.
    Those the account cannot pay go to ``awaiting_funds``: not sent, the claim's attempt not
    counted."""
    costly = [op for op in operations if op.kind in CHARGED_KINDS]
    if not costly:
        return operations
    unpaid = hooks.operation_charge(operations=costly) or set()
    if not unpaid:
        return operations
    now = timezone.now()
    Op.objects.filter(pk__in=unpaid, status=Status.RUNNING).update(
        status=Status.AWAITING_FUNDS,
        attempts=F("attempts") - 1,
        started_at=None,
        last_error=UNPAID_TEXT,
        updated_at=now,
    )
    for operation in operations:
        if operation.pk in unpaid:
            operation.status = Status.AWAITING_FUNDS
            operation.attempts -= 1
    return [op for op in operations if op.pk not in unpaid]


def resume_awaiting_funds(operations) -> list[int]:
    """Operations awaiting funds (a queryset of them) back in the queue, in creation order, after
    a top-up; their ids. Each is charged again when claimed: one the balance still cannot pay
    waits again. Call inside the top-up's transaction: they are sent after commit."""
    ids = list(
        operations.filter(status=Status.AWAITING_FUNDS).order_by("pk").values_list("pk", flat=True)
    )
    if not ids:
        return []
    now = timezone.now()
    # Due a microsecond apart, in creation order, so a drain claims them in that order too.
    core.update_rows(
        Op,
        [
            (pk, {"next_attempt_at": now + timedelta(microseconds=n), "updated_at": now})
            for n, pk in enumerate(ids)
        ],
    )
    resumed = list(
        Op.objects.filter(pk__in=ids, status=Status.AWAITING_FUNDS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Op.objects.filter(pk__in=resumed, status=Status.AWAITING_FUNDS).update(
        status=Status.PENDING, last_error="", updated_at=now
    )
    transaction.on_commit(lambda: enqueue(resumed))
    return resumed


def _await_upstream_funds(operation: Op, error: InsufficientFundsError) -> Outcome:
    """The registrar refused it for want of the platform's own funds: not a failure. It waits in
    ``awaiting_funds`` with its charge refunded (the platform did not spend it); the first one
    of a shortage tells staff (a staff-only ticket, and the customer's, through
    ``hooks.operation_stopped``); ``upstream_topped_up`` resumes them."""
    account = operation.registrar_account
    message = UPSTREAM_UNPAID_TEXT.format(account=account.name, message=error.message)
    with transaction.atomic():
        if not Op.objects.filter(pk=operation.pk, status=Status.RUNNING).update(
            status=Status.AWAITING_FUNDS,
            attempts=F("attempts") - 1,
            last_error=message[: core.ERROR_LENGTH],
            updated_at=timezone.now(),
        ):
            return Outcome("skipped")
        operation.refresh_from_db()
        hooks.operation_refund(operation=operation)
        locked = RegistrarAccount.objects.select_for_update().get(pk=account.pk)
        if locked.funds_short_since is None:
            locked.funds_short_since = timezone.now()
            locked.save(update_fields=["funds_short_since"])
            audit(
                actor=SYSTEM,
                action="registrar_account.funds_short",
                obj=locked,
                organisation=None,
                data={"operation": operation.pk, "message": error.message},
            )
            hooks.operation_stopped(operation=operation)
    return Outcome(Status.AWAITING_FUNDS)


def upstream_topped_up(*, actor, account) -> list[int]:
    """Staff recorded that the platform's account at the registrar has money again: clear the
    shortage and resume the operations of that account awaiting funds (ids)."""
    with transaction.atomic():
        locked = RegistrarAccount.objects.select_for_update().get(pk=account.pk)
        was = locked.funds_short_since
        locked.funds_short_since = None
        locked.save(update_fields=["funds_short_since"])
        resumed = resume_awaiting_funds(Op.objects.filter(registrar_account_id=locked.pk))
        audit(
            actor=actor,
            action="registrar_account.topped_up",
            obj=locked,
            organisation=None,
            data={"short_since": was.isoformat() if was else None, "resumed": len(resumed)},
        )
    return resumed


def _attempt(operation: Op, adapter=None, lease=None) -> tuple[object, Exception | None]:
    """Call the registry for a claimed operation: ``(result, None)`` or ``(None, error)``.
    Writes nothing, so the drain can run it in a calling thread and record results in bulk.
    Notes on the instance when the call started and ended, and its log lines, for the
    attempt's record (``domains.attempts``)."""
    operation._attempt_started = timezone.now()
    try:
        return _call(operation, adapter, lease), None
    except RegistrarError as exc:
        return None, exc
    except Exception as exc:  # an adapter bug or an unexpected reply: retry, bounded
        logger.exception("operation %s crashed", operation.pk)
        return None, exc
    finally:
        operation._attempt_finished = timezone.now()
        operation._attempt_lines = list(getattr(operation, "_log_lines", None) or [])


def _record(operation: Op, result, error: Exception | None) -> Outcome:
    """Write what one call did: success, a retry with backoff, a failure or a hold."""
    _write_log(operation)
    if _plain_success(operation, error):
        return Outcome(_succeed_many([(operation, result)])[0])
    if error is None:
        _succeed(operation, result)
        return Outcome(Status.SUCCEEDED)
    if isinstance(error, PriceChanged | FeeRefusedError):
        return _hold_for_price(operation, error)
    if isinstance(error, InsufficientFundsError) and operation.registrar_account is not None:
        return _await_upstream_funds(operation, error)
    if isinstance(error, PermanentError):
        return _fail(operation, error.message)
    if isinstance(error, OutcomeUnknown) or not isinstance(error, RegistrarError):
        _mark_in_doubt(operation)  # it may have been applied: the next attempt checks first
    if isinstance(error, RegistrarError):  # transient, or a kind the taxonomy does not name
        return _retry_or_fail(operation, error.message)
    return _retry_or_fail(operation, f"Unexpected error: {type(error).__name__}")


def _plain_success(operation: Op, error: Exception | None) -> bool:
    return error is None and operation.kind in BULK_KINDS and operation.domain_id is not None


def _call(operation: Op, adapter=None, lease: ratelimit.Lease | None = None) -> DomainInfo | dict:
    domain = operation.domain
    account = operation.registrar_account
    if account is None:
        raise PermanentError(
            f"No registrar account handles .{domain.tld.name}; route the TLD first."
        )
    adapter = adapter or adapter_for(account)
    with lease.call(account) if lease is not None else ratelimit.budget(account):
        if _in_doubt(operation):
            return _check_then_send(operation, adapter)
        return _dispatch(operation, adapter)


def _dispatch(operation: Op, adapter) -> DomainInfo | dict:
    domain = operation.domain
    key = str(operation.idempotency_key)
    payload = operation.payload
    kind = operation.kind
    name = domain.name_puny
    if kind == Op.Kind.REGISTER:
        quoted = _premium_price_guard(operation, adapter, name, payload)
        return adapter.register(
            name=name,
            years=payload.get("years", 1),
            nameservers=payload.get("nameservers", []),
            contacts=_contacts(domain),
            privacy=payload.get("privacy", False),
            idempotency_key=key,
            quoted_fee=quoted,
        )
    if kind == Op.Kind.RENEW:
        quoted = _premium_price_guard(operation, adapter, name, payload)
        return adapter.renew(
            name=name,
            years=payload["years"],
            current_expiry=_current_expiry(operation),
            idempotency_key=key,
            quoted_fee=quoted,
        )
    if kind == Op.Kind.RESTORE:
        return _restore(operation, adapter, name, key)
    if kind == Op.Kind.NAMESERVERS:
        return adapter.set_nameservers(
            name=name, nameservers=payload["nameservers"], idempotency_key=key
        )
    if kind == Op.Kind.LOCK:
        return adapter.set_lock(name=name, locked=payload["value"], idempotency_key=key)
    if kind == Op.Kind.PRIVACY:
        return adapter.set_privacy(name=name, enabled=payload["value"], idempotency_key=key)
    if kind == Op.Kind.AUTORENEW:
        return adapter.set_autorenew(name=name, enabled=payload["value"], idempotency_key=key)
    if kind == Op.Kind.SYNC:
        return transfers.with_transfer(adapter, name, adapter.info(name))
    if kind == Op.Kind.TRANSFER:
        quoted = _premium_price_guard(operation, adapter, name, payload)
        return adapter.transfer(
            name=name,
            auth_code=str(domain.auth_code),
            years=payload.get("years", 1),
            idempotency_key=key,
            quoted_fee=quoted,
        )
    if kind == Op.Kind.AUTH_CODE:
        return {"auth_code": adapter.auth_code(name)}
    if kind == Op.Kind.CONTACTS:
        return adapter.set_contacts(name=name, contacts=_contacts(domain), idempotency_key=key)
    if kind == Op.Kind.HOST_CREATE:
        return adapter.host_create(
            hostname=payload["hostname"],
            ipv4=payload["ipv4"],
            ipv6=payload["ipv6"],
            idempotency_key=key,
        )
    if kind == Op.Kind.HOST_UPDATE:
        return adapter.host_update(
            hostname=payload["hostname"],
            ipv4=payload["ipv4"],
            ipv6=payload["ipv6"],
            idempotency_key=key,
        )
    if kind == Op.Kind.HOST_DELETE:
        adapter.host_delete(hostname=payload["hostname"], idempotency_key=key)
        return {}
    if kind == Op.Kind.DNSSEC:
        records = [DsData(**ds) for ds in payload.get("ds", [])]
        return adapter.set_ds_records(name=name, records=records, idempotency_key=key)
    if kind in transfers.KINDS:
        return transfers.call(adapter, kind, name=name, idempotency_key=key)
    raise PermanentError(f"{operation.get_kind_display()} is not supported by this worker yet.")


# --- exactly once without the registry's help ---------------------------------------------------
# Registries do not recognise a repeated command (no real one replays idempotency keys), so a
# command whose answer was lost must not simply be sent again. These kinds record when they are
# queued what success looks like (``expect`` in the payload, written by domains.services). Once an
# attempt's outcome is unknown (OutcomeUnknown: a timeout, a connection lost after sending, a 5xx;
# an adapter crash; a worker lost mid-call, which the sweep finds) the operation is marked
# ``outcome_unknown`` for good, and every later attempt first asks the registry (``info``) and
# records success without sending when that state is there. A renewal still sends the
# ``cur_exp_date`` recorded when it was queued, so a registry refuses a duplicate (2306); a refusal
# of an operation in doubt is read as success when ``info`` then shows the expected state. A first
# attempt never pays for any of this.
CHECKED_KINDS = frozenset({Op.Kind.REGISTER, Op.Kind.RENEW, Op.Kind.TRANSFER})
IN_DOUBT = "outcome_unknown"  # payload key: an earlier attempt may have been applied


def _in_doubt(operation: Op) -> bool:
    return operation.kind in CHECKED_KINDS and bool(operation.payload.get(IN_DOUBT))


def _mark_in_doubt(operation: Op) -> None:
    """Record that an attempt of this operation may have been applied (kept for good: a later
    attempt that surely was not applied does not undo the doubt of an earlier one)."""
    if operation.kind not in CHECKED_KINDS or operation.payload.get(IN_DOUBT):
        return
    operation.payload = {**operation.payload, IN_DOUBT: True}
    Op.objects.filter(pk=operation.pk).update(payload=operation.payload)


def _mark_lost_in_doubt() -> None:
    """The sweep is about to take these rows back from a worker lost during the call (killed,
    its machine gone): it may have sent them."""
    cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS - 1)
    lost = Op.objects.filter(status=Status.RUNNING, started_at__lt=cutoff, kind__in=CHECKED_KINDS)
    for operation in lost.only("pk", "kind", "payload"):
        _mark_in_doubt(operation)


def _utc_day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None


def _current_expiry(operation: Op) -> date | None:
    """The current expiry a renewal sends: the one recorded when it was queued (rows queued
    before it was recorded: the portal's expiry, which a lost answer leaves unchanged)."""
    recorded = operation.payload.get("cur_exp_date")
    if recorded:
        return date.fromisoformat(recorded)
    return _utc_day(operation.domain.expires_at)


def _expected_expiry(operation: Op) -> date | None:
    """The expiry a renewal should produce."""
    recorded = (operation.payload.get("expect") or {}).get("expires_on")
    if recorded:
        return date.fromisoformat(recorded)
    current = _current_expiry(operation)
    return add_years(current, int(operation.payload["years"])) if current else None


def _check_then_send(operation: Op, adapter) -> DomainInfo | dict:
    """An attempt of an operation in doubt: ask the registry first and send only when what the
    operation was to do is not there; a refusal is read as success when it is there after all
    (the first command landed meanwhile, and the registry refused ours as a duplicate)."""
    info = _already_applied(operation, adapter)
    if info is not None:
        return info
    try:
        return _dispatch(operation, adapter)
    except PermanentError:
        info = _already_applied(operation, adapter)
        if info is None:
            raise
        return info


def _already_applied(operation: Op, adapter) -> DomainInfo | None:
    """What the registry now says about the domain, when it shows the operation's expected state
    (then the operation succeeded: recorded without sending again); None otherwise."""
    name = operation.domain.name_puny
    sponsor = getattr(adapter, "sponsor_id", "")
    try:
        info = adapter.info(name)
    except (AuthorizationError, NotFoundError):  # another registrar's, or no such name
        info = None
    if info is not None and _shows_expected_state(operation, info, sponsor):
        logger.info(
            "operation %s: the registry shows the %s of %s done; recorded, not sent again",
            operation.pk,
            operation.kind,
            name,
        )
        return info
    if operation.kind == Op.Kind.TRANSFER:
        return _transfer_pending_with_us(operation, adapter, sponsor)
    return None


def _shows_expected_state(operation: Op, info: DomainInfo, sponsor: str) -> bool:
    if sponsor and info.sponsor and info.sponsor != sponsor:
        return False  # another registrar's (a registry that answers info to anyone)
    expiry = _utc_day(info.expires_at)
    if operation.kind == Op.Kind.RENEW:
        return expiry is not None and expiry == _expected_expiry(operation)
    if operation.kind == Op.Kind.REGISTER:
        if "pendingCreate" in info.statuses:
            return True
        expires_from = (operation.payload.get("expect") or {}).get("expires_from")
        if expiry is None or not expires_from:
            return expiry is not None
        # A day either way for the clocks of the registry and the portal.
        latest = add_years(timezone.now(), int(operation.payload.get("years", 1))).astimezone(UTC)
        earliest = date.fromisoformat(expires_from) - timedelta(days=1)
        return earliest <= expiry <= latest.date() + timedelta(days=1)
    return True  # a transfer in: the name is ours


def _transfer_pending_with_us(operation: Op, adapter, sponsor: str) -> DomainInfo | None:
    """A transfer still pending at the registry with us as the gaining registrar (asked with a
    transfer query where the adapter has one: EPP)."""
    query = getattr(adapter, "transfer_query", None)
    if query is None:
        return None
    name = operation.domain.name_puny
    try:
        transfer = query(name)
    except RegistrarError:
        return None
    if not transfer.pending or (sponsor and transfer.requested_by != sponsor):
        return None
    return DomainInfo(name=name, expires_at=None, statuses=["pendingTransfer"], transfer=transfer)


# --- the premium-price guard ---------------------------------------------------------------------
# The costly kinds and the adapter action they are priced as.
PRICED_ACTIONS = {
    Op.Kind.REGISTER: "register",
    Op.Kind.RENEW: "renew",
    Op.Kind.TRANSFER: "transfer",
    Op.Kind.RESTORE: "restore",
}
LOG_LIMIT = 50  # lines kept in an operation's log (``result["log"]``)


class PriceChanged(RegistrarError):
    """The registry asks more than the price list said: hold the operation for staff.
    ``price`` is the registry's price (recorded, so that a retry by staff accepts it)."""

    def __init__(self, message: str, *, price: QuotedFee | None = None):
        super().__init__(message)
        self.price = price


def _premium_price_guard(operation: Op, adapter, name: str, payload: dict) -> QuotedFee | None:
    """Ask the registry's price just before a costly command (register, renew, transfer,
    restore); if it asks more than the cost the customer's price was quoted on (a premium name, a
    price rise), stop instead of paying it. Returns the fee the command agrees to, or None when
    the payload records no cost (no price list): the guard is off.

    The agreed fee goes to the adapter: an EPP registry that offers fee-1.0 gets it as
    ``<fee:fee>`` and itself refuses a higher price (FeeRefusedError: held for staff like a
    PriceChanged). It is the registry's own price just read when that is within the quote
    (registries such as Nomulus refuse a fee that differs from theirs), else the quote. Without
    fee-1.0 the price is the account's configured one: the guard checks that and says so in the
    operation's log."""
    action = PRICED_ACTIONS[operation.kind]
    accepted = QuotedFee.from_payload(payload.get("accepted_cost"))
    agreed = accepted or QuotedFee.from_payload(payload.get("expected_cost"))
    if agreed is None:
        return None
    years = 1 if action == "restore" else int(payload.get("years", 1))
    quote = adapter.price(name, action, years)
    if quote.price_configured:
        configured = (
            f" ({quote.price} {quote.currency})"
            if quote.price is not None
            else ", and none is configured: the price cannot be checked"
        )
        _log(
            operation,
            "The registry does not offer fee-1.0: the price is the configured one"
            f"{configured}, not the registry's; no fee is sent with the command.",
        )
    what = "accepted by staff" if accepted else "expected"
    if quote.price is None or quote.currency != agreed.currency:
        if not quote.price_configured:
            _log(
                operation,
                f"The registry quoted no {agreed.currency} price for the {action} of {name}; "
                f"the fee sent is the {agreed.amount} {agreed.currency} {what}.",
            )
        return agreed
    if quote.price > agreed.amount:
        kind = "premium price" if quote.premium else "price"
        raise PriceChanged(
            f"The registry's {kind} for {name} is {quote.price} {quote.currency}, more than the "
            f"{agreed.amount} {agreed.currency} {what}; held for staff. Retrying "
            "accepts the registry's price.",
            price=QuotedFee(amount=quote.price, currency=quote.currency),
        )
    if quote.price_configured:
        return agreed
    theirs = QuotedFee(amount=quote.price, currency=quote.currency)
    _log(
        operation,
        f"fee-1.0: the registry's price for the {action} of {name} is {theirs.amount} "
        f"{theirs.currency} ({quote.fee_class or 'no class'}), within the {agreed.amount} "
        f"{agreed.currency} {what}; sent as <fee:fee>.",
    )
    return theirs


def _restore(operation: Op, adapter, name: str, key: str) -> DomainInfo:
    """A restore from redemption (adapters that have one: EPP and the simulator)."""
    restore = getattr(adapter, "restore", None)
    if restore is None:
        raise PermanentError(
            f"{operation.registrar_account.get_kind_display()} accounts cannot restore a domain "
            "from redemption: the registry's API has no restore command."
        )
    payload = operation.payload
    quoted = _premium_price_guard(operation, adapter, name, payload)
    deleted_at = payload.get("deleted_at")
    return restore(
        name=name,
        idempotency_key=key,
        quoted_fee=quoted,
        reason=payload.get("reason", ""),
        deleted_at=datetime.fromisoformat(deleted_at) if deleted_at else None,
    )


def _log(operation: Op, message: str) -> None:
    """A line for the operation's log (``result["log"]``: staff read it in the operation
    history and the admin). Kept on the instance and written with the attempt's outcome
    (``_write_log``): the call itself writes nothing, so a drain's calling threads stay apart."""
    lines = getattr(operation, "_log_lines", None)
    if lines is None:
        lines = operation._log_lines = []
    lines.append(message)


def _write_log(operation: Op) -> None:
    lines = getattr(operation, "_log_lines", None)
    if not lines:
        return
    operation._log_lines = []
    now = timezone.now().isoformat()
    result = Op.objects.filter(pk=operation.pk).values_list("result", flat=True).first() or {}
    log = [
        *result.get("log", []),
        *({"at": now, "attempt": operation.attempts, "message": m} for m in lines),
    ]
    result = {**result, "log": log[-LOG_LIMIT:]}
    Op.objects.filter(pk=operation.pk).update(result=result)
    operation.result = result


def _hold_for_price(operation: Op, error: PriceChanged | FeeRefusedError) -> Outcome:
    """Held for staff over the price: the registry's price, when known, goes in the payload
    (``registry_cost``, platform-internal) so that staff's retry accepts that price."""
    with transaction.atomic():
        if error.price is not None:
            payload = {
                **operation.payload,
                "registry_cost": {
                    "amount": str(error.price.amount),
                    "currency": error.price.currency,
                },
            }
            if Op.objects.filter(pk=operation.pk, status=Status.RUNNING).update(payload=payload):
                operation.payload = payload
        return _hold(operation, error.message)


def _contacts(domain: Domain) -> list[ContactData]:
    return [
        ContactData(
            role=c.role,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            address_1=c.address_1,
            city=c.city,
            country=c.country,
            organization=c.organization,
            address_2=c.address_2,
            state=c.state,
            zip=c.zip,
            handle=c.handle,
        )
        for c in domain.contacts.all()
    ]


def _succeed(operation: Op, result) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = Op.objects.filter(pk=operation.pk, status=Status.RUNNING).update(
            status=Status.SUCCEEDED,
            finished_at=now,
            last_error="",
            upstream_reference=getattr(result, "reference", "")[:200],
            updated_at=now,
        )
        if not updated:
            return
        wake_next([operation.domain_id])
        if operation.kind in transfers.KINDS:
            transfers.record_answer(operation, result)
        elif isinstance(result, DomainInfo):
            _apply(operation, result)
            if operation.kind == Op.Kind.SYNC:
                transfers.sync_seen(domain_id=operation.domain_id, info=result)
        elif operation.kind == Op.Kind.AUTH_CODE and result.get("auth_code"):
            # Kept encrypted on the domain; never in the operation's result or logs.
            domain = Domain.objects.get(pk=operation.domain_id)
            domain.auth_code = result["auth_code"]
            domain.save(update_fields=["auth_code", "updated_at"])
        # Those that had stopped (failed, held) and were retried: support closes their tickets.
        hooks.operations_succeeded(operation_ids=[operation.pk])


def _apply(operation: Op, info: DomainInfo) -> None:
    """Record what the registry now says about the domain: for a registration, a transfer, a
    renewal or a sync its status follows the registry's (``apply_registry_view``); a domain that
    becomes ours gets the settings its create could not carry."""
    if operation.kind not in VIEW_KINDS:
        domain = operation.domain  # loaded with the operation; its status is not used here
        fields = registry_fields(domain, info, timezone.now())
        Domain.objects.filter(pk=domain.pk).update(**fields)
        return
    domain = (
        Domain.objects.select_for_update(of=("self",))
        .select_related("tld")
        .get(pk=operation.domain_id)
    )
    before = domain.status
    if operation.kind == Op.Kind.SYNC:
        record_drift(domain, info)
    domain = apply_registry_view(
        domain_id=domain.pk, info=info, actor=SYSTEM, reason=operation.get_kind_display()
    )
    if before in PENDING and domain.status not in PENDING | TERMINAL:
        _push_settings_the_create_did_not_carry(domain, info)


def _push_settings_the_create_did_not_carry(domain: Domain, info: DomainInfo) -> None:
    """Registries set lock, privacy and auto-renew with separate commands (EPP client statuses
    cannot be given at create): queue one for each that differs from what the portal holds."""
    for attribute, field in FLAG_FIELDS.items():
        theirs = getattr(info, attribute)
        ours = getattr(domain, field)
        if theirs is not None and theirs != ours:
            operation_enqueue(
                actor=SYSTEM, domain=domain, kind=FLAG_KINDS[attribute], payload={"value": ours}
            )


def _retry_or_fail(operation: Op, message: str) -> Outcome:
    final = core.gave_up(operation, message)
    return _fail(operation, final) if final else core.schedule_retry(Op, operation, message)


def _fail(operation: Op, message: str) -> Outcome:
    return _stop(operation, Status.FAILED, message)


def _hold(operation: Op, message: str) -> Outcome:
    """Stop for staff (not a failure: nothing is wrong with the request as such)."""
    return _stop(operation, Status.HELD, message)


def _stop(operation: Op, status: str, message: str) -> Outcome:
    """Failed or held: either way support opens a ticket that tells staff (and the customer)
    why. A registration or an incoming transfer that failed ends the domain in its terminal
    status (the name is free again); a failure lets the operations behind it run."""
    with transaction.atomic():
        if core.mark_finished(Op, operation, status, message):
            operation.refresh_from_db()
            if status == Status.FAILED:
                order_ended(operation=operation, actor=SYSTEM, reason=message)
                wake_next([operation.domain_id])
                hooks.operation_refund(operation=operation)
            hooks.operation_stopped(operation=operation)
    return Outcome(status)


def sweep() -> list[int]:
    """Ids to enqueue again (see ``portal.outbox.sweep_ids``), after stopping the lost ones that
    have no attempt left and waking the parked ones nothing holds up any more."""
    _mark_lost_in_doubt()
    _record_lost_attempts()
    _give_up_lost()
    ids = core.sweep_ids(
        Op,
        lease_seconds=LEASE_SECONDS,
        lost_note="Worker lost during the call; retried with the same idempotency key",
    )
    return ids + [pk for pk in _unpark_orphans() if pk not in set(ids)]


def _record_lost_attempts() -> None:
    """An attempt whose worker was lost (killed, its machine gone) is recorded too: the sweep
    is about to retry it, or to stop it when it has no attempt left (``_give_up_lost``)."""
    cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    lost = list(
        Op.objects.filter(status=Status.RUNNING, started_at__lt=cutoff).select_related(
            "domain", "registrar_account"
        )[:1000]
    )
    error = OutcomeUnknown("The worker was lost during the call; the registry may have applied it.")
    finished = []
    for operation in lost:
        operation._attempt_started = operation.started_at
        status = Status.FAILED if operation.attempts >= operation.max_attempts else Status.PENDING
        finished.append((operation, None, error, Outcome(status, retry_in=0.0)))
    attempts.record(finished)


def _give_up_lost() -> None:
    """A row left running past the lease has lost its worker; each claim counted an attempt.
    One that has used them all (an operation that kills its worker every time) stops as failed,
    with a ticket, instead of going round again."""
    cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    lost = Op.objects.filter(
        status=Status.RUNNING, started_at__lt=cutoff, attempts__gte=F("max_attempts")
    ).select_related("domain")
    for operation in lost:
        _stop(
            operation,
            Status.FAILED,
            f"The worker was lost during the call on each of {operation.attempts} attempts; "
            "stopped. The registry may have applied the last one: check before retrying.",
        )


def _unpark_orphans() -> list[int]:
    """Parked operations with nothing unfinished before them: due now (ids to send)."""
    earlier = Op.objects.filter(
        domain_id=OuterRef("domain_id"), pk__lt=OuterRef("pk"), status__in=UNFINISHED
    )
    orphans = list(
        Op.objects.filter(status=Status.PENDING, next_attempt_at=PARKED_AT)
        .exclude(Exists(earlier))
        .values_list("pk", flat=True)[:1000]
    )
    if orphans:
        now = timezone.now()
        Op.objects.filter(pk__in=orphans, status=Status.PENDING, next_attempt_at=PARKED_AT).update(
            next_attempt_at=now, last_error="", updated_at=now
        )
    return orphans


# --- draining many operations at once ---------------------------------------------------------
COLLECT_SECONDS = 0.025  # how long results gather before they are written together


def claim_due(limit: int) -> list[Op]:
    """Claim up to ``limit`` due operations at once, charge the costly ones in the same
    transaction, and load the ones to call (those the account cannot pay wait for funds)."""
    with transaction.atomic():
        ids = core.claim_due(Op, limit=limit, group_field="domain", blocking=UNFINISHED)
        if not ids:
            return []
        queryset = Op.objects.filter(pk__in=ids).select_related("domain__tld", "registrar_account")
        operations = _charge(list(queryset.order_by("pk")))
    if any(op.kind in {Op.Kind.REGISTER, Op.Kind.TRANSFER, Op.Kind.CONTACTS} for op in operations):
        prefetch_related_objects(
            [op for op in operations if op.domain_id is not None], "domain__contacts"
        )
    return operations


def record_many(finished: list[tuple[Op, object, Exception | None]]) -> list[str]:
    """Record a group of finished calls; the statuses they ended in.

    Plain successes (``BULK_KINDS``) take a few statements for the whole group; anything else
    goes through ``_record`` one by one. A row that is no longer ``running`` (cancelled by staff,
    taken back by the sweep) is left as it is, as ``_succeed`` does.
    """
    bulk = [(op, result) for op, result, error in finished if _plain_success(op, error)]
    bulk_ids = {op.pk for op, _ in bulk}
    outcomes = {
        op.pk: _record(op, result, error) for op, result, error in finished if op.pk not in bulk_ids
    }
    if bulk:
        for (op, _), status in zip(bulk, _succeed_many(bulk), strict=True):
            outcomes[op.pk] = Outcome(status)
    attempts.record([(op, result, error, outcomes[op.pk]) for op, result, error in finished])
    return [outcomes[op.pk].status for op, _, _ in finished]


def _succeed_many(pairs: list[tuple[Op, object]]) -> list[str]:
    """Record a group of plain successes; each one's status, in the order given ("skipped" for
    one that was no longer running)."""
    given = pairs
    now = timezone.now()
    with transaction.atomic():
        running = set(
            Op.objects.select_for_update()
            .filter(pk__in=[op.pk for op, _ in pairs], status=Status.RUNNING)
            .values_list("pk", flat=True)
        )
        pairs = [(op, result) for op, result in pairs if op.pk in running]
        core.update_rows(
            Op,
            [
                (
                    op.pk,
                    {
                        "status": Status.SUCCEEDED,
                        "finished_at": now,
                        "last_error": "",
                        "updated_at": now,
                        "upstream_reference": getattr(result, "reference", "")[:200],
                    },
                )
                for op, result in pairs
            ],
        )
        core.update_rows(
            Domain,
            [
                (op.domain_id, registry_fields(op.domain, result, now))
                for op, result in pairs
                if isinstance(result, DomainInfo)
            ],
        )
        if pairs:
            wake_next(op.domain_id for op, _ in pairs)
            hooks.operations_succeeded(operation_ids=[op.pk for op, _ in pairs])
    return [Status.SUCCEEDED if op.pk in running else "skipped" for op, _ in given]


def _next_due(within: float) -> float | None:
    """Seconds until the next pending operation comes due, if that is within ``within``."""
    now = timezone.now()
    upcoming = (
        Op.objects.filter(status=Status.PENDING, next_attempt_at__gt=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if upcoming is None:
        return None
    seconds = (upcoming - now).total_seconds()
    return seconds if seconds < within else None


def drain(*, max_seconds: float = 50.0, threads: int = 32) -> dict[str, int]:
    """Run every due operation, ``threads`` registry calls at a time, until none is due or time
    is up; return how many ended in each status.

    A pipeline: this thread claims due operations in groups (one statement, ``SKIP LOCKED``),
    ``threads`` calling threads talk to the registries, and this thread writes their results in
    groups as they come back. The database sees a few statements per group instead of several per
    operation, and a slow call holds up nothing but its own thread. Several drains (in other
    worker processes or machines) can run at once: claims never overlap. Operations left
    ``running`` by a drain that dies are put back by the sweep after the lease.
    """
    deadline = time.monotonic() + max_seconds
    todo: queue.Queue = queue.Queue()
    done: queue.Queue = queue.Queue()
    adapters: dict[int, object] = {}
    adapters_lock = threading.Lock()
    lease = ratelimit.Lease()

    def adapter(operation: Op):
        account = operation.registrar_account
        if account is None:
            return None
        with adapters_lock:
            if account.pk not in adapters:
                try:
                    adapters[account.pk] = adapter_for(account)
                except RegistrarError:
                    adapters[account.pk] = None  # _call makes one again and raises the reason
            return adapters[account.pk]

    def caller() -> None:
        try:
            while (operation := todo.get()) is not None:
                try:
                    result, error = _attempt(operation, adapter(operation), lease)
                except Exception as exc:  # never lose a result: the drain waits for each one
                    logger.exception("operation %s crashed", operation.pk)
                    result, error = None, exc
                done.put((operation, result, error))
        finally:
            connection.close()  # the calling thread ends with the drain

    callers = [
        threading.Thread(target=caller, name=f"outbox-{n}", daemon=True) for n in range(threads)
    ]
    for thread in callers:
        thread.start()
    capacity = 2 * threads  # as many ready as in flight, so no calling thread waits for a claim
    counts: dict[str, int] = {}
    in_flight = 0
    try:
        while True:
            room = capacity - in_flight
            if room > 0 and time.monotonic() < deadline:
                for operation in claim_due(room):
                    todo.put(operation)
                    in_flight += 1
            if in_flight == 0:
                # Nothing due: wait for a retry that comes due before the deadline, if any.
                wake = _next_due(deadline - time.monotonic())
                if wake is None:
                    break
                time.sleep(wake)
                continue
            finished = [done.get()]
            gather_until = time.monotonic() + COLLECT_SECONDS
            while len(finished) < in_flight:
                try:
                    finished.append(done.get(timeout=max(0.0, gather_until - time.monotonic())))
                except queue.Empty:
                    break
            in_flight -= len(finished)
            for status in record_many(finished):
                counts[status] = counts.get(status, 0) + 1
    finally:
        for _ in callers:
            todo.put(None)
        for thread in callers:
            thread.join()
        lease.release()  # the registry sessions the drain kept
    return counts

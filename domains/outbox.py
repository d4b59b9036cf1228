"""The worker side of the outbox: claim operations, call the registry, record the outcome,
drain a backlog, sweep lost ones.

* Claiming is an update-if-unchanged (``pending -> running``), so two workers never run one row.
* Rows of one domain run in creation order.
* Transient errors retry with exponential backoff and full jitter, up to ``max_attempts``.
* Permanent errors stop at ``failed`` and open a support ticket (the customer sees it too),
  through ``domains.hooks`` (support registers the ticket; domains never imports it).
* A worker killed mid-call leaves the row ``running``; after the lease the sweep puts it back to
  ``pending`` and the retry carries the same idempotency key, so the registry applies it once.

This module never imports the actions (``domains.services``): what both need lives below it
(``domains.lifecycle``, ``domains.names``, ``domains.dispatch``, the models). The Celery tasks
over it are in ``domains.tasks``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from domains import hooks, ratelimit
from domains.dispatch import operation_enqueue
from domains.lifecycle import (
    FLAG_FIELDS,
    FLAG_KINDS,
    domain_transition,
    lifecycle_dates,
    record_drift,
)
from domains.models import Domain, DomainStatus, RegistrarOperation
from domains.registrars import adapter_for
from domains.registrars.base import (
    ContactData,
    DomainInfo,
    DsData,
    PermanentError,
    RegistrarError,
)
from portal import outbox as core
from portal.outbox import Outcome
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)
Op = RegistrarOperation
Status = RegistrarOperation.Status

# How long a claimed operation is left to its worker before the sweep takes it back.
LEASE_SECONDS = settings.NAMEPORT_OUTBOX_LEASE_SECONDS
ORDER_WAIT_SECONDS = 2
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
UNFINISHED = (Status.PENDING, Status.RUNNING, Status.HELD)


def _earlier_unfinished(operation: Op) -> bool:
    if operation.domain_id is None:
        return False
    return Op.objects.filter(
        domain_id=operation.domain_id,
        pk__lt=operation.pk,
        status__in=UNFINISHED,
    ).exists()


def run_operation(operation_id: int) -> Outcome:
    operation = (
        Op.objects.filter(pk=operation_id)
        .select_related("domain__tld", "registrar_account")
        .first()
    )
    if operation is None or operation.status != Status.PENDING:
        return Outcome("skipped")
    if _earlier_unfinished(operation):
        Op.objects.filter(pk=operation_id, status=Status.PENDING).update(
            next_attempt_at=timezone.now() + timedelta(seconds=ORDER_WAIT_SECONDS)
        )
        return Outcome("waiting", retry_in=ORDER_WAIT_SECONDS)
    if not core.claim(Op, operation_id):
        return Outcome("skipped")
    # The claim succeeded, so nothing else changed the row since we read it: mirror the claim.
    operation.status = Status.RUNNING
    operation.attempts += 1
    return _record(operation, *_attempt(operation))


def _attempt(operation: Op, adapter=None, lease=None) -> tuple[object, Exception | None]:
    """Call the registry for a claimed operation: ``(result, None)`` or ``(None, error)``.
    Writes nothing, so the drain can run it in a calling thread and record results in bulk."""
    try:
        return _call(operation, adapter, lease), None
    except RegistrarError as exc:
        return None, exc
    except Exception as exc:  # an adapter bug or an unexpected reply: retry, bounded
        logger.exception("operation %s crashed", operation.pk)
        return None, exc


def _record(operation: Op, result, error: Exception | None) -> Outcome:
    """Write what one call did: success, a retry with backoff, a failure or a hold."""
    if _plain_success(operation, error):
        return Outcome(_succeed_many([(operation, result)])[0])
    if error is None:
        _succeed(operation, result)
        return Outcome(Status.SUCCEEDED)
    if isinstance(error, PriceChanged):
        return _hold(operation, error.message)
    if isinstance(error, PermanentError):
        return _fail(operation, error.message)
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
        return _dispatch(operation, adapter)


def _dispatch(operation: Op, adapter) -> DomainInfo | dict:
    domain = operation.domain
    key = str(operation.idempotency_key)
    payload = operation.payload
    kind = operation.kind
    name = domain.name_puny
    if kind == Op.Kind.REGISTER:
        _premium_price_guard(adapter, name, payload)
        return adapter.register(
            name=name,
            years=payload.get("years", 1),
            nameservers=payload.get("nameservers", []),
            contacts=_contacts(domain),
            privacy=payload.get("privacy", False),
            idempotency_key=key,
        )
    if kind == Op.Kind.RENEW:
        return adapter.renew(name=name, years=payload["years"], idempotency_key=key)
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
        return adapter.info(name)
    if kind == Op.Kind.TRANSFER:
        return adapter.transfer(
            name=name,
            auth_code=str(domain.auth_code),
            years=payload.get("years", 1),
            idempotency_key=key,
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
    raise PermanentError(f"{operation.get_kind_display()} is not supported by this worker yet.")


class PriceChanged(RegistrarError):
    """The registry asks more than the price list said: hold the operation for staff."""


def _premium_price_guard(adapter, name: str, payload: dict) -> None:
    """Ask the registry for the price just before registering; if it asks more than the price
    list said (a premium name, a price rise), stop instead of registering at a loss."""
    expected = payload.get("expected_cost")
    if not expected:
        return
    quote = adapter.price(name, "register", payload.get("years", 1))
    if quote.price is None or quote.currency != expected["currency"]:
        return
    if quote.price > Decimal(expected["amount"]):
        kind = "premium price" if quote.premium else "price"
        raise PriceChanged(
            f"The registry's {kind} for {name} is {quote.price} {quote.currency}, more than the "
            f"{expected['amount']} {expected['currency']} expected; held for staff. Retrying "
            "accepts the registry's price."
        )


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
        if isinstance(result, DomainInfo):
            _apply(operation, result)
        elif operation.kind == Op.Kind.AUTH_CODE and result.get("auth_code"):
            # Kept encrypted on the domain; never in the operation's result or logs.
            domain = Domain.objects.get(pk=operation.domain_id)
            domain.auth_code = result["auth_code"]
            domain.save(update_fields=["auth_code", "updated_at"])
        # Those that had stopped (failed, held) and were retried: support closes their tickets.
        hooks.operations_succeeded(operation_ids=[operation.pk])


def _apply(operation: Op, info: DomainInfo) -> None:
    """Record what the registry now says about the domain."""
    if operation.kind in {Op.Kind.REGISTER, Op.Kind.TRANSFER, Op.Kind.RENEW, Op.Kind.SYNC}:
        domain = Domain.objects.select_related("tld").get(pk=operation.domain_id)
    else:
        domain = operation.domain  # loaded with the operation; its status is not used here
    if operation.kind == Op.Kind.SYNC:
        record_drift(domain, info)
    Domain.objects.filter(pk=domain.pk).update(**_domain_fields(domain, info, timezone.now()))
    becomes_active = {
        Op.Kind.REGISTER: {DomainStatus.PENDING_REGISTRATION},
        Op.Kind.TRANSFER: {DomainStatus.PENDING_TRANSFER},
        Op.Kind.RENEW: {DomainStatus.EXPIRED, DomainStatus.GRACE, DomainStatus.REDEMPTION},
    }
    if domain.status in becomes_active.get(operation.kind, set()):
        domain_transition(
            domain=domain, to=DomainStatus.ACTIVE, actor=SYSTEM, reason=operation.get_kind_display()
        )
    if operation.kind in {Op.Kind.REGISTER, Op.Kind.TRANSFER}:
        _push_settings_the_create_did_not_carry(domain, info)
        # dns makes a zone from the template when the domain uses the platform's nameservers.
        hooks.domain_activated(domain=domain)


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
    why."""
    with transaction.atomic():
        if core.mark_finished(Op, operation, status, message):
            operation.refresh_from_db()
            hooks.operation_stopped(operation=operation)
    return Outcome(status)


def sweep() -> list[int]:
    """Ids to enqueue again (see ``portal.outbox.sweep_ids``)."""
    return core.sweep_ids(
        Op,
        lease_seconds=LEASE_SECONDS,
        lost_note="Worker lost during the call; retried with the same idempotency key",
    )


# --- draining many operations at once ---------------------------------------------------------
COLLECT_SECONDS = 0.025  # how long results gather before they are written together


def claim_due(limit: int) -> list[Op]:
    """Claim up to ``limit`` due operations at once and load them for calling."""
    ids = core.claim_due(Op, limit=limit, group_field="domain", blocking=UNFINISHED)
    if not ids:
        return []
    queryset = Op.objects.filter(pk__in=ids).select_related("domain__tld", "registrar_account")
    operations = list(queryset.order_by("pk"))
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
    statuses = [
        _record(op, result, error).status for op, result, error in finished if op.pk not in bulk_ids
    ]
    if bulk:
        statuses += _succeed_many(bulk)
    return statuses


def _succeed_many(pairs: list[tuple[Op, object]]) -> list[str]:
    now = timezone.now()
    with transaction.atomic():
        running = set(
            Op.objects.select_for_update()
            .filter(pk__in=[op.pk for op, _ in pairs], status=Status.RUNNING)
            .values_list("pk", flat=True)
        )
        skipped = len(pairs) - len(running)
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
                (op.domain_id, _domain_fields(op.domain, result, now))
                for op, result in pairs
                if isinstance(result, DomainInfo)
            ],
        )
        if pairs:
            hooks.operations_succeeded(operation_ids=[op.pk for op, _ in pairs])
    return [Status.SUCCEEDED] * len(pairs) + ["skipped"] * skipped


def _domain_fields(domain: Domain, info: DomainInfo, now) -> dict:
    """What the registry's answer changes on the domain row (no status change): only values
    that differ, so that an answer confirming what the portal holds rewrites no indexed column
    (on a million domains an index write per answer is most of what recording costs)."""
    theirs: dict = {"epp_statuses": info.statuses}
    if info.expires_at is not None:
        theirs["expires_at"] = info.expires_at
        theirs.update(lifecycle_dates(domain.tld, info.expires_at))
    if info.registered_at is not None and domain.registered_at is None:
        theirs["registered_at"] = info.registered_at
    if info.reference:
        theirs["registry_reference"] = info.reference
    fields = {name: value for name, value in theirs.items() if getattr(domain, name) != value}
    fields["last_synced_at"] = now
    return fields


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

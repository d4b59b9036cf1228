"""Running one outbox row: claim it, call the registry with its idempotency key, record the result.

* Claiming is an update-if-unchanged (``pending -> running``), so two workers never run one row.
* Rows of one domain run in creation order.
* Transient errors retry with exponential backoff and full jitter, up to ``max_attempts``.
* Permanent errors stop at ``failed`` and open a support ticket (the customer sees it too).
* A worker killed mid-call leaves the row ``running``; after the lease the sweep puts it back to
  ``pending`` and the retry carries the same idempotency key, so the registry applies it once.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from domains import ratelimit
from domains.models import Domain, DomainStatus, RegistrarOperation
from domains.registrars import adapter_for
from domains.registrars.base import (
    ContactData,
    DomainInfo,
    DsData,
    PermanentError,
    RegistrarError,
    TransientError,
)
from portal import outbox as core
from portal.outbox import Outcome
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)
Op = RegistrarOperation
Status = RegistrarOperation.Status

LEASE_SECONDS = 300
ORDER_WAIT_SECONDS = 2
BACKOFF_BASE_SECONDS = core.BACKOFF_BASE_SECONDS


def _earlier_unfinished(operation: Op) -> bool:
    if operation.domain_id is None:
        return False
    return Op.objects.filter(
        domain_id=operation.domain_id,
        pk__lt=operation.pk,
        status__in=[Status.PENDING, Status.RUNNING, Status.HELD],
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
    try:
        result = _call(operation)
    except PriceChanged as exc:
        return _hold(operation, exc.message)
    except TransientError as exc:
        return _retry_or_fail(operation, exc.message)
    except PermanentError as exc:
        return _fail(operation, exc.message)
    except RegistrarError as exc:
        return _retry_or_fail(operation, exc.message)
    except Exception as exc:  # an adapter bug or an unexpected reply: retry, bounded
        logger.exception("operation %s crashed", operation_id)
        return _retry_or_fail(operation, f"Unexpected error: {type(exc).__name__}")
    _succeed(operation, result)
    return Outcome(Status.SUCCEEDED)


def _call(operation: Op) -> DomainInfo | dict:
    domain = operation.domain
    account = operation.registrar_account
    if account is None:
        raise PermanentError(
            f"No registrar account handles .{domain.tld.name}; route the TLD first."
        )
    adapter = adapter_for(account)
    with ratelimit.budget(account):
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


def _apply(operation: Op, info: DomainInfo) -> None:
    """Record what the registry now says about the domain."""
    from domains.services import domain_transition, lifecycle_dates, record_drift

    if operation.kind in {Op.Kind.REGISTER, Op.Kind.TRANSFER, Op.Kind.RENEW, Op.Kind.SYNC}:
        domain = Domain.objects.select_related("tld").get(pk=operation.domain_id)
    else:
        domain = operation.domain  # loaded with the operation; its status is not used here
    if operation.kind == Op.Kind.SYNC:
        record_drift(domain, info)
    fields: dict = {"last_synced_at": timezone.now(), "epp_statuses": info.statuses}
    if info.expires_at is not None:
        fields["expires_at"] = info.expires_at
        fields.update(lifecycle_dates(domain.tld, info.expires_at))
    if info.registered_at is not None and domain.registered_at is None:
        fields["registered_at"] = info.registered_at
    if info.reference:
        fields["registry_reference"] = info.reference
    Domain.objects.filter(pk=domain.pk).update(**fields)
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
        from dns.services import zone_create_after_registration

        # A DNS zone from the template when the domain uses the platform's nameservers.
        zone_create_after_registration(domain=domain)


def _push_settings_the_create_did_not_carry(domain: Domain, info: DomainInfo) -> None:
    """Registries set lock, privacy and auto-renew with separate commands (EPP client statuses
    cannot be given at create): queue one for each that differs from what the portal holds."""
    from domains.services import FLAG_FIELDS, FLAG_KINDS, operation_enqueue

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
    """Failed or held: either way a ticket tells staff (and the customer) why."""
    from support.services import ticket_open_for_operation

    with transaction.atomic():
        if core.mark_finished(Op, operation, status, message):
            operation.refresh_from_db()
            ticket_open_for_operation(operation=operation)
    return Outcome(status)


def sweep() -> list[int]:
    """Ids to enqueue again (see ``portal.outbox.sweep_ids``)."""
    return core.sweep_ids(
        Op,
        lease_seconds=LEASE_SECONDS,
        lost_note="Worker lost during the call; retried with the same idempotency key",
    )


# --- draining many operations at once ---------------------------------------------------------
DRAIN_BATCH = 500
_drain_pool = None
_drain_pool_lock = threading.Lock()


def _pool(threads: int):
    """One thread pool per worker process for draining (registry calls are I/O-bound)."""
    from concurrent.futures import ThreadPoolExecutor

    global _drain_pool
    with _drain_pool_lock:
        if _drain_pool is None:
            _drain_pool = ThreadPoolExecutor(threads, thread_name_prefix="outbox")
        return _drain_pool


def _run_in_thread(operation_id: int) -> Outcome:
    from django.db import connection

    try:
        return run_operation(operation_id)
    finally:
        connection.close()  # back to the pool: this thread may serve another task next


def drain(
    *, max_seconds: float = 50.0, threads: int = 32, part: int = 0, parts: int = 1
) -> dict[str, int]:
    """Run every due operation, up to ``threads`` at a time, until none is due or time is up.

    One Celery message drains a whole backlog, so a burst of thousands of queued operations costs
    one message instead of thousands; retries come back through ``next_attempt_at``. With
    ``parts`` > 1, this call takes only the operations whose id is ``part`` modulo ``parts``, so
    several worker processes can share one backlog without stepping on each other.
    """
    import time
    from concurrent.futures import wait

    deadline = time.monotonic() + max_seconds
    pool = _pool(threads)
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        now = timezone.now()
        queryset = Op.objects.filter(status=Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )
        if parts > 1:
            queryset = queryset.alias(part=F("pk") % parts).filter(part=part)
        due = list(
            queryset.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:DRAIN_BATCH]
        )
        if not due:
            break
        futures = [pool.submit(_run_in_thread, pk) for pk in due]
        wait(futures)
        for future in futures:
            status = future.result().status
            counts[status] = counts.get(status, 0) + 1
        if counts.get(Status.SUCCEEDED, 0) == 0 and len(due) == counts.get("waiting", 0):
            break  # only waiting ones left: they come due again on their own
    return counts

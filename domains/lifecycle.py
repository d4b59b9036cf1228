"""The domain lifecycle: the state machine, its dates, and the registry's view of a domain.

* the state machine: ``TRANSITIONS`` (target status -> the statuses it may be reached from),
  ``domain_transition`` (a conditional update plus a ``DomainStatusChange`` history row);
* the dates: ``lifecycle_dates`` (when a domain leaves the zone and is deleted), ``add_years``,
  ``lifecycle_advance`` (the hourly set-based step along the dates);
* the registry's view: what the registry says about a domain and how it compares with the
  portal's (``record_drift``). The one mapping from what the registry says (EPP statuses, rgp
  states, pending actions, expiry) to Nameport's status belongs here too, beside
  ``domain_transition`` which applies it.

Both the actions (``domains.services``) and the worker side (``domains.outbox``) use this
module, and it imports neither: only what sits below it (the models, the name rules, the hooks,
and the registry adapters' protocol ``domains.registrars.base``, whose ``DomainInfo`` is what a
registry says about a domain).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from domains import hooks
from domains.models import (
    Domain,
    DomainDrift,
    DomainStatus,
    DomainStatusChange,
    RegistrarOperation,
    Tld,
)
from domains.registrars.base import DomainInfo
from portal.tenancy import Actor

logger = logging.getLogger(__name__)

# --- the state machine ----------------------------------------------------------------------------
S = DomainStatus

# The state machine: target status -> the statuses it may be reached from. Some edges are only
# taken when the registry says so (``apply_registry_view``): a deletion the registry undid
# (pending_delete -> active, -> redemption), a name it deleted or put in redemption earlier than
# the portal's dates (active -> redemption, grace/expired -> pending_delete).
TRANSITIONS: dict[str, set[str]] = {
    S.ACTIVE: {
        S.PENDING_REGISTRATION,
        S.PENDING_TRANSFER,
        S.EXPIRED,
        S.GRACE,
        S.REDEMPTION,
        S.PENDING_DELETE,
        S.SUSPENDED,
    },
    S.EXPIRED: {S.ACTIVE},
    S.GRACE: {S.ACTIVE},
    S.REDEMPTION: {S.ACTIVE, S.EXPIRED, S.GRACE, S.PENDING_DELETE, S.SUSPENDED},
    S.PENDING_DELETE: {S.REDEMPTION, S.ACTIVE, S.EXPIRED, S.GRACE, S.SUSPENDED},
    S.DELETED: {S.PENDING_DELETE, S.PENDING_REGISTRATION, S.PENDING_TRANSFER},
    S.PENDING_TRANSFER: {S.TRANSFER_FAILED},  # retried (order_resumed)
    S.TRANSFERRED_AWAY: {S.ACTIVE, S.EXPIRED, S.GRACE, S.SUSPENDED},
    S.SUSPENDED: {S.ACTIVE, S.EXPIRED, S.GRACE},
    S.PENDING_REGISTRATION: {S.REGISTRATION_FAILED},  # retried (order_resumed)
    # Terminal: the registry refused for good; the name is free for a new order.
    S.REGISTRATION_FAILED: {S.PENDING_REGISTRATION},
    S.TRANSFER_FAILED: {S.PENDING_TRANSFER},
}


def allowed_from(to: str) -> set[str]:
    return TRANSITIONS[to]


class TransitionError(Exception):
    """The domain was not in a status the transition may start from (someone else moved it)."""


def domain_transition(*, domain: Domain, to: str, actor: Actor, reason: str = "") -> Domain:
    """Move ``domain`` to ``to`` if its current status allows it; raise TransitionError if not.

    The row is locked first and its status read there, so the history row records the status the
    update really changed (not the caller's copy, which may be stale) and a concurrent
    transition waits for this one instead of interleaving with it."""
    with transaction.atomic():
        current = (
            Domain.objects.select_for_update()
            .filter(pk=domain.pk)
            .values_list("status", flat=True)
            .first()
        )
        updated = 0
        if current in allowed_from(to):
            updated = Domain.objects.filter(pk=domain.pk, status=current).update(
                status=to, updated_at=timezone.now()
            )
        if not updated:
            raise TransitionError(f"{domain.name} cannot go from {current} to {to}")
        DomainStatusChange.objects.create(
            domain=domain, from_status=current, to_status=to, reason=reason, actor=str(actor)
        )
    domain.status = to
    return domain


# --- the dates ------------------------------------------------------------------------------------
def lifecycle_dates(tld: Tld, expires_at: datetime) -> dict[str, datetime]:
    outzone_at = expires_at + timedelta(days=tld.grace_days)
    return {"outzone_at": outzone_at, "delete_at": outzone_at + timedelta(days=tld.redemption_days)}


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a year without one
        return moment.replace(year=moment.year + years, day=28)


def _lock_ids(queryset) -> list[int]:
    """Lock the rows of ``queryset`` and return their ids. A row another transaction holds (a
    renewal being recorded, a transition) is skipped: the next run sees what it committed. The
    WHERE is evaluated on the locked rows, so an UPDATE of exactly these ids changes them all and
    the history written for them is what the update did."""
    return list(
        queryset.select_for_update(of=("self",), skip_locked=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lifecycle_advance(*, now: datetime | None = None, actor: Actor) -> dict[str, int]:
    """Move every domain whose dates have passed one step along; one UPDATE per step, and a
    history row for each domain it moved (and only those)."""
    now = now or timezone.now()
    steps = [
        # (from, to, condition)
        (S.ACTIVE, S.GRACE, {"expires_at__lt": now, "tld__grace_days__gt": 0}),
        (S.ACTIVE, S.EXPIRED, {"expires_at__lt": now, "tld__grace_days": 0}),
        (S.GRACE, S.REDEMPTION, {"outzone_at__lt": now}),
        (S.EXPIRED, S.REDEMPTION, {"outzone_at__lt": now}),
        (S.REDEMPTION, S.PENDING_DELETE, {"delete_at__lt": now}),
    ]
    moved: dict[str, int] = {}
    with transaction.atomic():
        for from_status, to_status, condition in steps:
            ids = _lock_ids(Domain.objects.filter(status=from_status, **condition))
            if not ids:
                continue
            Domain.objects.filter(pk__in=ids, status=from_status).update(
                status=to_status, updated_at=now
            )
            DomainStatusChange.objects.bulk_create(
                DomainStatusChange(
                    domain_id=pk,
                    from_status=from_status,
                    to_status=to_status,
                    reason="lifecycle",
                    actor=str(actor),
                )
                for pk in ids
            )
            moved[f"{from_status}->{to_status}"] = len(ids)
        # Pending delete lasts tld.pending_delete_days past delete_at, then the name is released.
        ids = list(
            Domain.objects.filter(status=S.PENDING_DELETE, delete_at__lt=now)
            .select_for_update(of=("self",), skip_locked=True)
            .order_by("pk")
            .values_list("pk", "delete_at", "tld__pending_delete_days")
        )
        done = [pk for pk, delete_at, days in ids if delete_at + timedelta(days=days) < now]
        if done:
            Domain.objects.filter(pk__in=done, status=S.PENDING_DELETE).update(
                status=S.DELETED, updated_at=now
            )
            DomainStatusChange.objects.bulk_create(
                DomainStatusChange(
                    domain_id=pk,
                    from_status=S.PENDING_DELETE,
                    to_status=S.DELETED,
                    reason="lifecycle",
                    actor=str(actor),
                )
                for pk in done
            )
            moved["pending_delete->deleted"] = len(done)
    return moved


# --- the registry's view of a domain --------------------------------------------------------------
# The flags a registry reports (``DomainInfo`` attributes) -> the domain's field, and the operation
# that pushes the portal's value.
FLAG_FIELDS = {"locked": "registrar_lock", "privacy": "id_protection", "autorenew": "autorenew"}
FLAG_KINDS = {
    "locked": RegistrarOperation.Kind.LOCK,
    "privacy": RegistrarOperation.Kind.PRIVACY,
    "autorenew": RegistrarOperation.Kind.AUTORENEW,
}


def ds_payload(domain: Domain) -> list[dict]:
    """The DS records the portal holds for ``domain``, as an operation payload sends them."""
    return [
        {
            "key_tag": d.key_tag,
            "algorithm": d.algorithm,
            "digest_type": d.digest_type,
            "digest": d.digest,
        }
        for d in domain.ds_records.order_by("key_tag", "pk")
    ]


def record_drift(domain: Domain, info) -> list[DomainDrift]:
    """Compare the portal's view with the registry's ``DomainInfo``; expiry and EPP statuses are
    the registry's to decide and are taken over; the rest is recorded for staff."""
    portal = {
        "nameservers": list(
            domain.nameservers.order_by("position").values_list("hostname", flat=True)
        ),
        "locked": domain.registrar_lock,
        "privacy": domain.id_protection,
        "autorenew": domain.autorenew,
        "ds_records": ds_payload(domain),
    }
    registry = {
        "nameservers": list(info.nameservers),
        "locked": info.locked,
        "privacy": info.privacy,
        "autorenew": info.autorenew,
        "ds_records": sorted(
            (
                {
                    "key_tag": d.key_tag,
                    "algorithm": d.algorithm,
                    "digest_type": d.digest_type,
                    "digest": d.digest.upper(),
                }
                for d in info.ds_records
            ),
            key=lambda d: d["key_tag"],
        ),
    }
    drifts = []
    if (
        domain.expires_at
        and info.expires_at
        and abs(domain.expires_at - info.expires_at) > timedelta(hours=1)
    ):
        drifts.append(
            DomainDrift(
                domain=domain,
                field="expires_at",
                portal_value=domain.expires_at.isoformat(),
                registry_value=info.expires_at.isoformat(),
                resolution=DomainDrift.Resolution.ACCEPTED,
                resolved_by="sync",
                resolved_at=timezone.now(),
            )
        )
    for field, theirs in registry.items():
        if theirs is None:
            continue  # the registry does not report it
        ours = portal[field]
        if field == "nameservers":
            same = [h.lower().rstrip(".") for h in ours] == [h.lower().rstrip(".") for h in theirs]
        else:
            same = ours == theirs
        if same:
            continue
        DomainDrift.objects.filter(
            domain=domain, field=field, resolution=DomainDrift.Resolution.OPEN
        ).delete()
        drifts.append(
            DomainDrift(domain=domain, field=field, portal_value=ours, registry_value=theirs)
        )
    DomainDrift.objects.bulk_create(drifts)
    return drifts


# --- the registry's status: one mapping, applied in one place ------------------------------------
# The statuses in which the portal no longer follows the registry: the name is not ours (any more).
TERMINAL = frozenset({S.DELETED, S.TRANSFERRED_AWAY, S.REGISTRATION_FAILED, S.TRANSFER_FAILED})
# Lapsed: past expiry. How far along (grace or expired, then redemption, pending delete) the
# portal's dates decide (``lifecycle_advance``) unless the registry says (rgp, pendingDelete).
LAPSED = frozenset({S.EXPIRED, S.GRACE, S.REDEMPTION, S.PENDING_DELETE})
# Not (yet) a name we hold: the registry has not answered a registration or a transfer in.
PENDING = frozenset({S.PENDING_REGISTRATION, S.PENDING_TRANSFER})
HOLDS = frozenset({"clientHold", "serverHold"})  # RFC 5731: the name is not published in the zone
TRANSFER_REFUSED = frozenset({"clientRejected", "clientCancelled", "serverCancelled"})


def status_from_registry(
    info: DomainInfo,
    *,
    current: str,
    previous: Iterable[str] = (),
    grace_days: int | None = None,
    now: datetime | None = None,
) -> str:
    """The status the portal should hold, given what the registry says about a domain (``info``:
    its EPP statuses, rgp statuses, transfer state and expiry) and the portal's ``current`` status.

    ``previous`` are the EPP statuses the registry reported last time (``Domain.epp_statuses``):
    a suspension follows a registry hold only when there was one. ``grace_days`` is the TLD's
    (a domain past expiry enters grace, or expires at once when the TLD has none; None: grace).

    In order, the first rule that applies:

    1. ``current`` is terminal (deleted, transferred away, registration or transfer failed): kept.
    2. A name we are gaining (``current`` pending_transfer): a transfer rejected or cancelled ->
       transfer_failed; still pending (trStatus pending, or the EPP status pendingTransfer) ->
       pending_transfer; approved, or the name is ours: on to rule 5.
    3. A registration the registry left pending (pendingCreate): pending_registration.
    4. A name we hold: a transfer approved (another registrar's request: clientApproved,
       serverApproved) -> transferred_away. A pending request leaves the domain as it is.
    5. rgp redemptionPeriod or pendingRestore -> redemption; pendingDelete (EPP status or rgp)
       -> pending_delete.
    6. Past expiry: a lapsed ``current`` (expired, grace, redemption, pending delete) is kept,
       as is suspended; otherwise grace (expired when the TLD has no grace days).
    7. clientHold or serverHold -> suspended. Suspended without a hold: kept unless the hold
       that caused it was the registry's and is gone (``previous`` had one), since staff's own
       suspensions are theirs to lift.
    8. Otherwise (ok, inactive, addPeriod, autoRenewPeriod, renewPeriod, transferPeriod, the
       pending* of updates and renewals, prohibitions) -> active: a domain the portal had moved
       to grace is active again once the registry auto-renewed it.
    """
    if current in TERMINAL:
        return current
    statuses = set(info.statuses)
    rgp = set(info.rgp_statuses)
    transfer = info.transfer
    if current == S.PENDING_TRANSFER:
        if transfer is not None and transfer.status in TRANSFER_REFUSED:
            return S.TRANSFER_FAILED
        if (transfer is not None and transfer.pending) or (
            "pendingTransfer" in statuses and not (transfer is not None and transfer.approved)
        ):
            return S.PENDING_TRANSFER
    elif current == S.PENDING_REGISTRATION:
        if "pendingCreate" in statuses:
            return S.PENDING_REGISTRATION
    elif transfer is not None and transfer.approved:
        return S.TRANSFERRED_AWAY
    if rgp & {"redemptionPeriod", "pendingRestore"}:
        return S.REDEMPTION
    if "pendingDelete" in statuses or "pendingDelete" in rgp:
        return S.PENDING_DELETE
    now = now or timezone.now()
    if info.expires_at is not None and info.expires_at <= now:
        if current in LAPSED or current == S.SUSPENDED:
            return current
        return S.EXPIRED if grace_days == 0 else S.GRACE
    if statuses & HOLDS:
        return S.SUSPENDED
    if current == S.SUSPENDED and not (set(previous) & HOLDS):
        return S.SUSPENDED
    return S.ACTIVE


def registry_fields(domain: Domain, info: DomainInfo, now: datetime) -> dict:
    """What the registry's answer changes on the domain row besides its status: only values
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


def _path(current: str, target: str) -> list[str]:
    """The transitions from ``current`` to ``target``: one, or for a name that just became ours
    two through active (a registration the registry answered with a hold is registered, then
    suspended); [] if none."""
    if current in allowed_from(target):
        return [target]
    if current in PENDING and S.ACTIVE in allowed_from(target):
        return [S.ACTIVE, target]
    return []


def apply_registry_view(*, domain_id: int, info: DomainInfo, actor: Actor, reason: str) -> Domain:
    """Make the portal hold what the registry says about a domain, in one transaction.

    Locks the domain row, maps (``status_from_registry``), moves the status through
    ``domain_transition`` (a history row per step, ``reason`` on each) when it differs, and copies
    what the registry decides (expiry and the dates that follow from it, EPP statuses, creation
    date, reference; ``registry_fields``). A mapped status the state machine cannot reach from the
    current one is logged and left as it is. When a registration or an incoming transfer becomes a
    name we hold, ``hooks.domain_activated`` runs (dns makes its zone). Returns the domain, its
    fields as now stored; callers that queue follow-up operations compare its status with the
    one before (``PENDING``).
    """
    now = timezone.now()
    with transaction.atomic():
        domain = (
            Domain.objects.select_for_update(of=("self",)).select_related("tld").get(pk=domain_id)
        )
        before = domain.status
        target = status_from_registry(
            info,
            current=before,
            previous=domain.epp_statuses or (),
            grace_days=domain.tld.grace_days,
            now=now,
        )
        fields = registry_fields(domain, info, now)
        Domain.objects.filter(pk=domain.pk).update(**fields, updated_at=now)
        for name, value in fields.items():
            setattr(domain, name, value)
        if target != before:
            steps = _path(before, target)
            if not steps:
                logger.warning(
                    "%s: the registry's view maps to %s, which %s cannot reach; left as it is",
                    domain.name,
                    target,
                    before,
                )
            for step in steps:
                domain_transition(domain=domain, to=step, actor=actor, reason=reason)
        if before in PENDING and domain.status not in PENDING | TERMINAL:
            hooks.domain_activated(domain=domain)
    return domain


# The operations that make a name ours, and the terminal status of the domain when one fails.
ORDER_FAILED = {
    RegistrarOperation.Kind.REGISTER: (S.PENDING_REGISTRATION, S.REGISTRATION_FAILED),
    RegistrarOperation.Kind.TRANSFER: (S.PENDING_TRANSFER, S.TRANSFER_FAILED),
}


def order_ended(*, operation: RegistrarOperation, actor: Actor, reason: str) -> Domain | None:
    """A registration or an incoming transfer stopped for good (failed, or cancelled by staff)
    while its domain still waited for it: the domain ends in registration_failed or
    transfer_failed, which frees the name for a new order by anyone. Retrying the operation
    brings it back (``order_resumed``). Returns the domain if it moved."""
    if operation.kind not in ORDER_FAILED or operation.domain_id is None:
        return None
    waiting, failed = ORDER_FAILED[operation.kind]
    with transaction.atomic():
        domain = Domain.objects.select_for_update(of=("self",)).get(pk=operation.domain_id)
        if domain.status != waiting:
            return None
        return domain_transition(domain=domain, to=failed, actor=actor, reason=reason[:255])


def order_resumed(*, operation: RegistrarOperation, actor: Actor) -> Domain | None:
    """A failed or cancelled registration or transfer is retried: its domain waits for it again
    (raises ``django.db.IntegrityError`` when a newer order holds the name meanwhile)."""
    if operation.kind not in ORDER_FAILED or operation.domain_id is None:
        return None
    waiting, failed = ORDER_FAILED[operation.kind]
    with transaction.atomic():
        domain = Domain.objects.select_for_update(of=("self",)).get(pk=operation.domain_id)
        if domain.status != failed:
            return None
        return domain_transition(
            domain=domain, to=waiting, actor=actor, reason=f"{operation.get_kind_display()} retried"
        )

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

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from domains.models import (
    Domain,
    DomainDrift,
    DomainStatus,
    DomainStatusChange,
    RegistrarOperation,
    Tld,
)
from portal.tenancy import Actor

# --- the state machine ----------------------------------------------------------------------------
S = DomainStatus

# The state machine: target status -> the statuses it may be reached from.
TRANSITIONS: dict[str, set[str]] = {
    S.ACTIVE: {
        S.PENDING_REGISTRATION,
        S.PENDING_TRANSFER,
        S.EXPIRED,
        S.GRACE,
        S.REDEMPTION,
        S.SUSPENDED,
    },
    S.EXPIRED: {S.ACTIVE},
    S.GRACE: {S.ACTIVE},
    S.REDEMPTION: {S.EXPIRED, S.GRACE},
    S.PENDING_DELETE: {S.REDEMPTION, S.ACTIVE},
    S.DELETED: {S.PENDING_DELETE, S.PENDING_REGISTRATION, S.PENDING_TRANSFER},
    S.PENDING_TRANSFER: set(),
    S.TRANSFERRED_AWAY: {S.ACTIVE, S.EXPIRED, S.GRACE, S.SUSPENDED},
    S.SUSPENDED: {S.ACTIVE, S.EXPIRED, S.GRACE},
    S.PENDING_REGISTRATION: set(),
}


def allowed_from(to: str) -> set[str]:
    return TRANSITIONS[to]


class TransitionError(Exception):
    """The domain was not in a status the transition may start from (someone else moved it)."""


def domain_transition(*, domain: Domain, to: str, actor: Actor, reason: str = "") -> Domain:
    """Move ``domain`` to ``to`` if its current status allows it; raise TransitionError if not."""
    with transaction.atomic():
        updated = Domain.objects.filter(pk=domain.pk, status__in=allowed_from(to)).update(
            status=to, updated_at=timezone.now()
        )
        if not updated:
            current = Domain.objects.filter(pk=domain.pk).values_list("status", flat=True).first()
            raise TransitionError(f"{domain.name} cannot go from {current} to {to}")
        DomainStatusChange.objects.create(
            domain=domain, from_status=domain.status, to_status=to, reason=reason, actor=str(actor)
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


def lifecycle_advance(*, now: datetime | None = None, actor: Actor) -> dict[str, int]:
    """Move every domain whose dates have passed one step along; one UPDATE per step."""
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
            ids = list(
                Domain.objects.filter(status=from_status, **condition).values_list("pk", flat=True)
            )
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
            .annotate(released_at=F("delete_at"))
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

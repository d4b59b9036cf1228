"""Running one DNS push: claim it, send the zone's current rrsets to the backend, record the
outcome. The same rules as the registry outbox (``domains/outbox.py``):

* claiming is an update-if-unchanged (``pending -> running``), so two workers never run one row;
* pushes of one zone run in creation order;
* transient errors (server down, timeouts, 5xx) retry with exponential backoff and jitter, up to
  ``max_attempts``; permanent ones (422, bad API key) stop at ``failed`` and open a ticket;
* a worker killed mid-push leaves the row ``running``; after the lease the sweep puts it back.

A push carries only *which* rrsets changed; their contents are read from the database when the
push runs, so a retry always sends the zone as it is now (pushing twice is harmless).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dns import hooks
from dns.backends import backend_for
from dns.backends.base import (
    BackendError,
    PermanentBackendError,
    RRsets,
    TransientBackendError,
    ZoneMissing,
)
from dns.models import Record, Zone, ZonePush
from dns.rdata import mxe_helper, rrsets
from dns.zonefile import soa_content
from portal import outbox as core
from portal.outbox import Outcome

logger = logging.getLogger(__name__)
Status = ZonePush.Status
Kind = ZonePush.Kind

LEASE_SECONDS = 300
ORDER_WAIT_SECONDS = 2
MAX_ORDER_WAIT_SECONDS = 1800


def zone_rrsets(zone: Zone, records=None) -> RRsets:
    """Everything the zone serves, SOA included."""
    if records is None:
        from dns.selectors import zone_record_rows

        records = zone_record_rows(zone)
    out = rrsets(zone.name, records)
    out[(f"{zone.name}.", "SOA")] = (
        zone.default_ttl,
        [soa_content(zone.name, zone.serial, zone.default_ttl)],
    )
    return out


def _relative(zone_name: str, owner: str) -> str | None:
    apex = f"{zone_name}."
    if owner == apex:
        return "@"
    if owner.endswith("." + apex):
        return owner[: -len(apex) - 1]
    return None


def changed_rrsets(zone: Zone, pairs: list) -> RRsets:
    """The current contents of the rrsets named by ``pairs`` (empty contents: delete), plus the
    SOA with the zone's serial."""
    names: set[str] = set()
    for owner, _rtype in pairs:
        relative = _relative(zone.name, owner)
        if relative is None:
            continue
        names.add(relative)
        if relative.startswith("mxe-") and "." in relative:
            names.add(relative.split(".", 1)[1])  # the MXE record that owns a helper host
        elif relative.startswith("mxe-"):
            names.add("@")
    records = []
    if names:
        names_list = sorted(names)
        for start in range(0, len(names_list), 2000):
            records.extend(
                Record.objects.filter(
                    zone_id=zone.pk, name__in=names_list[start : start + 2000]
                ).values("name", "type", "ttl", "priority", "content")
            )
    current = zone_rrsets(zone, records)
    out: RRsets = {}
    for owner, rtype in pairs:
        out[(owner, rtype)] = current.get((owner, rtype), (0, []))
    soa = (f"{zone.name}.", "SOA")
    out[soa] = current[soa]
    return out


def _earlier_unfinished(push: ZonePush) -> float | None:
    """Seconds to wait for the earlier unfinished pushes of the zone, or None when there are
    none. Behind a running push: a short wait; behind one waiting for its retry: until that
    retry is due (so a push behind a backing-off one is not looked at every 2 s for hours)."""
    earlier = list(
        ZonePush.objects.filter(
            zone_name=push.zone_name,
            pk__lt=push.pk,
            status__in=[Status.PENDING, Status.RUNNING],
        ).values_list("status", "next_attempt_at")[:50]
    )
    if not earlier:
        return None
    now = timezone.now()
    wait = float(ORDER_WAIT_SECONDS)
    if all(status == Status.PENDING for status, _ in earlier):
        due = min(when for _, when in earlier)
        wait = max(wait, (due - now).total_seconds() + ORDER_WAIT_SECONDS)
    # Below the broker's visibility timeout (an hour), past which Redis would deliver it again.
    return min(wait, MAX_ORDER_WAIT_SECONDS)


def run_push(push_id: int) -> Outcome:
    push = ZonePush.objects.filter(pk=push_id).first()
    if push is None or push.status != Status.PENDING:
        return Outcome("skipped")
    wait = _earlier_unfinished(push)
    if wait is not None:
        ZonePush.objects.filter(pk=push_id, status=Status.PENDING).update(
            next_attempt_at=timezone.now() + timedelta(seconds=wait)
        )
        return Outcome("waiting", retry_in=wait)
    if not core.claim(ZonePush, push_id):
        return Outcome("skipped")
    push.status = Status.RUNNING
    push.attempts += 1
    try:
        _send(push)
    except SandboxRefused as exc:
        return _refuse_sandbox(push, exc.message)
    except TransientBackendError as exc:
        return _retry_or_fail(push, exc.message)
    except PermanentBackendError as exc:
        return _fail(push, exc.message)
    except BackendError as exc:
        return _retry_or_fail(push, exc.message)
    except Exception as exc:  # a bug or an unexpected answer: retry, bounded
        logger.exception("DNS push %s crashed", push_id)
        return _retry_or_fail(push, f"Unexpected error: {type(exc).__name__}")
    _succeed(push)
    return Outcome(Status.SUCCEEDED)


class SandboxRefused(PermanentBackendError):
    """A sandbox zone's push to a real backend (PowerDNS has one namespace for both modes)."""


def _send(push: ZonePush) -> None:
    zone = Zone.objects.filter(pk=push.zone_id).first() if push.zone_id else None
    if push.backend != Zone.Backend.DATABASE and (
        not push.livemode or (zone is not None and not zone.livemode)
    ):
        raise SandboxRefused("Sandbox zones are served from the database only; nothing was sent.")
    backend = backend_for(push.backend)
    if push.kind == Kind.DELETE:
        served = Zone.objects.filter(
            name=push.zone_name, livemode=True, enabled=True, backend=push.backend
        )
        if not served.exists():  # a zone of that name served again publishes itself
            backend.delete_zone(push.zone_name)
        return
    if zone is None or not zone.enabled:
        return  # deleted meanwhile (its delete push follows) or disabled: served nowhere
    if push.kind == Kind.CREATE:
        backend.create_zone(zone.name, zone_rrsets(zone))
        return
    if push.kind == Kind.SYNC:
        try:
            backend.replace_all(zone.name, zone_rrsets(zone))
        except ZoneMissing:
            backend.create_zone(zone.name, zone_rrsets(zone))
        return
    try:
        backend.patch_zone(zone.name, changed_rrsets(zone, push.rrsets))
    except ZoneMissing:
        backend.create_zone(zone.name, zone_rrsets(zone))


def _zone_status(zone_id: int | None) -> None:
    """Published when nothing is left to push, failed when a push failed and none followed."""
    if zone_id is None:
        return
    latest = ZonePush.objects.filter(zone_id=zone_id).order_by("-pk").values("status").first()
    unfinished = ZonePush.objects.filter(
        zone_id=zone_id, status__in=[Status.PENDING, Status.RUNNING]
    ).exists()
    if unfinished:
        status = Zone.PushStatus.PENDING
    elif latest and latest["status"] == Status.FAILED:
        status = Zone.PushStatus.FAILED
    else:
        status = Zone.PushStatus.PUBLISHED
    fields: dict = {"push_status": status}
    if status == Zone.PushStatus.PUBLISHED:
        fields["last_pushed_at"] = timezone.now()
    Zone.objects.filter(pk=zone_id).update(**fields)


def _succeed(push: ZonePush) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = ZonePush.objects.filter(pk=push.pk, status=Status.RUNNING).update(
            status=Status.SUCCEEDED, finished_at=now, last_error="", updated_at=now
        )
        if updated:
            _zone_status(push.zone_id)


def _refuse_sandbox(push: ZonePush, message: str) -> Outcome:
    """Failed without a ticket: nothing for staff to fix, the sandbox zone is served from the
    database (a check constraint keeps sandbox zones there)."""
    logger.warning("DNS push %s of sandbox zone %s refused", push.pk, push.zone_name)
    core.mark_finished(ZonePush, push, Status.FAILED, message)
    return Outcome(Status.FAILED)


def _retry_or_fail(push: ZonePush, message: str) -> Outcome:
    final = core.gave_up(push, message)
    return _fail(push, final) if final else core.schedule_retry(ZonePush, push, message)


def _fail(push: ZonePush, message: str) -> Outcome:
    with transaction.atomic():
        if core.mark_finished(ZonePush, push, Status.FAILED, message):
            _zone_status(push.zone_id)
            zone = Zone.objects.filter(pk=push.zone_id).first() if push.zone_id else None
            links = {"organisation_id": push.organisation_id}
            if zone is not None:
                links.update(customer_id=zone.customer_id, domain_id=zone.domain_id)
            hooks.system_ticket(  # support opens it
                subject=f"DNS zone {push.zone_name} could not be published",
                body=(
                    f"{push.get_kind_display()} of the DNS zone {push.zone_name} failed after "
                    f"{push.attempts} attempt(s):\n\n{message}\n\nThe zone's records are saved in "
                    "Nameport; our team will publish them again once the cause is fixed."
                ),
                **links,
            )
    return Outcome(Status.FAILED)


def sweep() -> list[int]:
    """Ids to enqueue again (see ``portal.outbox.sweep_ids``), after stopping the lost pushes
    that have no attempt left."""
    _give_up_lost()
    return core.sweep_ids(
        ZonePush, lease_seconds=LEASE_SECONDS, lost_note="Worker lost during the push; sent again"
    )


def _give_up_lost() -> None:
    """A push left running past the lease has lost its worker; each claim counted an attempt.
    One that has used them all (a push that kills its worker every time) fails, with a ticket,
    instead of going round again."""
    cutoff = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    lost = ZonePush.objects.filter(
        status=Status.RUNNING, started_at__lt=cutoff, attempts__gte=F("max_attempts")
    )
    for push in lost:
        _fail(
            push,
            f"The worker was lost during the push on each of {push.attempts} attempts; stopped.",
        )


__all__ = ["Outcome", "changed_rrsets", "mxe_helper", "run_push", "sweep", "zone_rrsets"]

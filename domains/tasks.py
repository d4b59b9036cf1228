"""Workers that push the outbox to the registries. Tasks take ids and stay thin."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from domains import outbox
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def registrar_operation_run(self, operation_id: int) -> str:
    outcome = outbox.run_operation(operation_id)
    if outcome.retry_in is not None:
        registrar_operation_run.apply_async((operation_id,), countdown=outcome.retry_in)
    return outcome.status


# Past this many due operations, the sweep sends one drain task instead of one message each.
DRAIN_THRESHOLD = 50


@shared_task(ignore_result=True)
def registrar_operations_sweep() -> int:
    """Re-enqueue due operations whose message was lost, and recover ones a dead worker held."""
    due = outbox.sweep()
    if len(due) > DRAIN_THRESHOLD:
        for _ in range(settings.NAMEPORT_OUTBOX_DRAINS):
            registrar_operations_drain.delay()
    else:
        for operation_id in due:
            registrar_operation_run.delay(operation_id)
    return len(due)


@shared_task(acks_late=True, ignore_result=True)
def registrar_operations_drain(max_seconds: float = 50.0) -> dict:
    """Drain the backlog of due operations: calling threads inside the task, claims and results
    written in groups. Several drains (one per worker process) share a backlog safely."""
    counts = outbox.drain(max_seconds=max_seconds, threads=settings.NAMEPORT_OUTBOX_THREADS)
    logger.info("outbox drain: %s", counts)
    return counts


@shared_task(ignore_result=True)
def domains_lifecycle_advance() -> dict:
    from domains.services import lifecycle_advance

    moved = lifecycle_advance(actor=SYSTEM)
    logger.info("lifecycle moved %s", moved)
    return moved


@shared_task(ignore_result=True)
def domains_sync_schedule() -> int:
    """Queue the next slice of periodic syncs (closest to expiry first)."""
    from domains.services import sync_schedule

    return sync_schedule()

"""Workers that push the outbox to the registries. Tasks take ids and stay thin."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


# Past this many operations at once, workers get drain tasks instead of one message each.
DRAIN_THRESHOLD = 50
_bursts = threading.local()


def send(operation_ids: list[int]) -> None:
    """Hand operations to the workers: one message each, or, for more than
    ``DRAIN_THRESHOLD``, drain tasks (one per ``NAMEPORT_OUTBOX_DRAINS``) that take them from
    the table in groups: a burst of thousands costs a few messages, not thousands."""
    if len(operation_ids) > DRAIN_THRESHOLD:
        for _ in range(settings.NAMEPORT_OUTBOX_DRAINS):
            registrar_operations_drain.delay()
    else:
        for operation_id in operation_ids:
            registrar_operation_run.delay(operation_id)


def enqueue(operation_ids: list[int]) -> None:
    """Called after commit for new operations: sent now, or with the open ``burst``."""
    held = getattr(_bursts, "ids", None)
    if held is None:
        send(operation_ids)
    else:
        held.extend(operation_ids)


@contextmanager
def burst() -> Iterator[None]:
    """Operations committed inside are sent together when it closes (bulk actions commit one
    domain at a time, then hand the whole lot over at once)."""
    if getattr(_bursts, "ids", None) is not None:
        yield  # already inside one
        return
    _bursts.ids = []
    try:
        yield
    finally:
        operation_ids, _bursts.ids = _bursts.ids, None
        if operation_ids:
            send(operation_ids)


@shared_task(ignore_result=True)
def registrar_operations_sweep() -> int:
    """Re-enqueue due operations whose message was lost, and recover ones a dead worker held."""
    due = outbox.sweep()
    send(due)
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

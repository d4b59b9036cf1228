"""The Celery tasks of domains: thin wrappers that take ids. The top of the worker side.

They run the worker side (``domains.outbox``), hand operations over through
``domains.dispatch`` (which sends ``registrar_operation_run`` and ``registrar_operations_drain``
by name) and start the periodic jobs of the beat schedule (the lifecycle step of
``domains.lifecycle``, the periodic syncs of ``domains.services``).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from domains import outbox, poll
from domains.dispatch import send
from domains.lifecycle import lifecycle_advance
from domains.services import sync_schedule, transfer_requests_default, transfers_follow
from portal.tenancy import SYSTEM

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def registrar_operation_run(self, operation_id: int) -> str:
    outcome = outbox.run_operation(operation_id)
    if outcome.retry_in is not None:
        registrar_operation_run.apply_async((operation_id,), countdown=outcome.retry_in)
    return outcome.status


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
    moved = lifecycle_advance(actor=SYSTEM)
    logger.info("lifecycle moved %s", moved)
    return moved


@shared_task(ignore_result=True)
def domains_sync_schedule() -> int:
    """Queue the next slice of periodic syncs (closest to expiry first)."""
    return sync_schedule()


@shared_task(ignore_result=True)
def registry_poll() -> int:
    """Beat: one ``registry_poll_account`` task per active EPP account (each reads its queue)."""
    accounts = poll.polled_accounts()
    for account_id in accounts:
        registry_poll_account.apply_async(
            (account_id,), expires=settings.NAMEPORT_POLL_SECONDS * 5 / 6
        )
    return len(accounts)


@shared_task(acks_late=True, ignore_result=True)
def registry_poll_account(account_id: int) -> dict:
    """Read, apply and acknowledge one account's EPP poll queue (never two at once)."""
    counts = poll.poll_account(account_id)
    if counts["read"] or counts["busy"]:
        logger.info("registry poll of account %s: %s", account_id, counts)
    return counts


@shared_task(ignore_result=True)
def registry_transfers() -> dict:
    """Beat: check our pending transfers in, and answer with the TLD's default the transfer
    requests whose registry window is about to end."""
    return {"followed": transfers_follow(), "defaulted": transfer_requests_default()}

"""Workers that publish zones through the DNS backend. Tasks take ids and stay thin."""

from __future__ import annotations

from celery import shared_task

from dns import outbox


@shared_task(bind=True, acks_late=True, ignore_result=True)
def dns_push_run(self, push_id: int) -> str:
    outcome = outbox.run_push(push_id)
    if outcome.retry_in is not None:
        dns_push_run.apply_async((push_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(ignore_result=True)
def dns_pushes_sweep() -> int:
    """Re-enqueue due pushes whose message was lost, and recover ones a dead worker held."""
    due = outbox.sweep()
    for push_id in due:
        dns_push_run.delay(push_id)
    return len(due)

"""Support e-mail, sent by Celery workers. Tasks take ids and stay thin."""

from __future__ import annotations

from celery import shared_task

from support import emails


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=6,
)
def ticket_notify(
    self, event: str, ticket_id: int, message_id: int | None = None, previous: str = ""
) -> int:
    return emails.send_ticket_notification(event, ticket_id, message_id, previous)


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=6,
)
def mail_refusal(self, to: str, subject: str, reason: str) -> int:
    emails.refusal(to=to, subject=subject, reason=reason).send()
    return 1

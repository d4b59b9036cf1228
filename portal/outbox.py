"""The mechanics every outbox shares (registry operations in ``domains.outbox``, DNS pushes in
``dns.outbox``): the rows are the queue, workers claim them by conditional update, transient
errors come back later with backoff, and a sweep recovers what a lost message or a dead worker
left behind. Each app keeps what is its own: what a row does, and what success or failure means.

The rows are models with ``status`` (pending/running/...), ``attempts``, ``max_attempts``,
``next_attempt_at``, ``last_error``, ``started_at``, ``finished_at`` and ``updated_at``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F, Model, Q
from django.utils import timezone

PENDING, RUNNING, FAILED = "pending", "running", "failed"
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600
LOST_MESSAGE_SECONDS = 60
ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [base*2^(n-1)/2, base*2^(n-1)]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(ceiling / 2, ceiling)


def claim(model: type[Model], pk: int) -> bool:
    """``pending -> running`` if the row is due and nobody else took it (one winner)."""
    now = timezone.now()
    return bool(
        model.objects.filter(pk=pk, status=PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=RUNNING, started_at=now, attempts=F("attempts") + 1, updated_at=now)
    )


def schedule_retry(model: type[Model], row, message: str) -> Outcome:
    """Back to ``pending`` for a later attempt, with backoff."""
    delay = backoff_seconds(row.attempts)
    now = timezone.now()
    model.objects.filter(pk=row.pk, status=RUNNING).update(
        status=PENDING,
        last_error=message[:ERROR_LENGTH],
        next_attempt_at=now + timedelta(seconds=delay),
        updated_at=now,
    )
    return Outcome(PENDING, retry_in=delay)


def mark_finished(model: type[Model], row, status: str, message: str) -> bool:
    """``running -> status`` (failed, held...); False if the row was not running any more."""
    now = timezone.now()
    fields = {"status": status, "last_error": message[:ERROR_LENGTH], "updated_at": now}
    if status == FAILED:
        fields["finished_at"] = now
    return bool(model.objects.filter(pk=row.pk, status=RUNNING).update(**fields))


def gave_up(row, message: str) -> str | None:
    """The failure message when the row has used its attempts, else None."""
    if row.attempts >= row.max_attempts:
        return f"{message} (gave up after {row.attempts} attempts)"
    return None


def sweep_ids(model: type[Model], *, lease_seconds: float, lost_note: str) -> list[int]:
    """Ids to enqueue again: rows a dead worker held past the lease (put back to pending, with
    ``lost_note``), and due rows whose message seems lost. Enqueueing a row twice is harmless:
    only one worker can claim it."""
    now = timezone.now()
    stale_ids = list(
        model.objects.filter(
            status=RUNNING, started_at__lt=now - timedelta(seconds=lease_seconds)
        ).values_list("pk", flat=True)
    )
    if stale_ids:
        model.objects.filter(pk__in=stale_ids, status=RUNNING).update(
            status=PENDING, next_attempt_at=now, updated_at=now, last_error=lost_note
        )
    lost_ids = list(
        model.objects.filter(
            status=PENDING, next_attempt_at__lte=now - timedelta(seconds=LOST_MESSAGE_SECONDS)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
    stale = set(stale_ids)
    return stale_ids + [pk for pk in lost_ids if pk not in stale]

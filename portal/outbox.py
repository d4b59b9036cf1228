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

from django.conf import settings
from django.db.models import F, Model
from django.utils import timezone

PENDING, RUNNING, FAILED = "pending", "running", "failed"
BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600
# A due row still pending this long after its time has lost its message (a dead worker had it).
LOST_MESSAGE_SECONDS = settings.NAMEPORT_OUTBOX_LOST_MESSAGE_SECONDS
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
        model.objects.filter(pk=pk, status=PENDING, next_attempt_at__lte=now).update(
            status=RUNNING, started_at=now, attempts=F("attempts") + 1, updated_at=now
        )
    )


def claim_due(
    model: type[Model], *, limit: int, group_field: str, blocking: tuple[str, ...]
) -> list[int]:
    """Claim up to ``limit`` due rows at once (``pending -> running``) and return their ids.

    One statement: the rows are picked in due order and locked with ``SKIP LOCKED`` (PostgreSQL),
    so several workers draining at once never take the same row and never wait for each other.
    A row whose group (``group_field``, e.g. its domain) has an earlier row in ``blocking``
    statuses is left for later, which keeps each group's rows in creation order.
    """
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    group = connection.ops.quote_name(model._meta.get_field(group_field).column)
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    marks = ", ".join(["%s"] * len(blocking))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The pick is a MATERIALIZED common table expression, run once: PostgreSQL may run a plain
    # ``IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` more than once in a join and then
    # update far more than ``n`` rows.
    # The earlier-row check compares ``e.status || ''``, which no index holds, so that it can only
    # be answered through the group's index (a few rows). Given ``e.status`` itself, a planner
    # without statistics for a freshly filled table (a new database's first burst, or one before
    # autoanalyze) ANDs in a scan of the status index, which returns every pending row: for each
    # candidate row, so a claim of 64 out of 10,000 took over a second instead of a millisecond.
    sql = (
        f"WITH due AS MATERIALIZED ("
        f"SELECT o.id FROM {table} o WHERE o.status = %s AND o.next_attempt_at <= %s "
        f"AND (o.{group} IS NULL OR NOT EXISTS (SELECT 1 FROM {table} e "
        f"WHERE e.{group} = o.{group} AND e.id < o.id AND (e.status || '') IN ({marks}))) "
        # Due order only (no tie-break), so the (status, next_attempt_at) index yields the rows
        # in order and the scan stops at the limit, however large the backlog.
        f"ORDER BY o.next_attempt_at LIMIT %s{lock}) "
        f"UPDATE {table} SET status = %s, started_at = %s, updated_at = %s, "
        f"attempts = attempts + 1 WHERE id IN (SELECT id FROM due) AND status = %s RETURNING id"
    )
    params = [PENDING, now, *blocking, limit, RUNNING, now, now, PENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def update_rows(model: type[Model], rows: list[tuple[int, dict]]) -> None:
    """Update many rows, each with its own values, in one round trip per set of fields.

    ``rows`` are ``(pk, {field: value})``. The statements go out with ``executemany`` (a pipeline on
    psycopg): far cheaper than an ORM ``bulk_update``'s CASE expressions, which cost more to
    build in Python than the database takes to run them.
    """
    from django.db import connection

    quote = connection.ops.quote_name
    groups: dict[tuple[str, ...], list[tuple[int, dict]]] = {}
    for pk, values in rows:
        groups.setdefault(tuple(values), []).append((pk, values))
    for names, members in groups.items():
        fields = [model._meta.get_field(name) for name in names]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = (
            f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
            f"WHERE {quote(model._meta.pk.column)} = %s"
        )
        params = [
            [field.get_db_prep_save(values[field.name], connection) for field in fields] + [pk]
            for pk, values in members
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


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

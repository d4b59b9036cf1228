"""Dispatch: handing committed outbox operations to the workers.

``operation_enqueue`` writes a ``RegistrarOperation`` row inside the caller's transaction and hands
its id over after commit (``transaction.on_commit``): one Celery message each, or, past
``DRAIN_THRESHOLD`` at once, drain tasks that take them from the table in groups. ``burst`` gathers
the operations committed inside it and sends them together. The actions (``domains.services``)
and the worker side (``domains.outbox``, which queues follow-up operations) both dispatch here.

The Celery tasks live in ``domains.tasks``, above this module and above the worker side they run,
so this module sends them by name through the Celery app's registry instead of importing them
(``DomainsConfig.ready`` imports ``domains.tasks`` so that every process has them registered).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from domains.models import OPERATION_PARKED_AT, Domain, RegistrarOperation
from portal.celery import app
from portal.tenancy import Actor

RUN_TASK = "domains.tasks.registrar_operation_run"
DRAIN_TASK = "domains.tasks.registrar_operations_drain"

# Past this many operations at once, workers get drain tasks instead of one message each.
DRAIN_THRESHOLD = 50
_bursts = threading.local()

# An operation that waits behind an unfinished one of its domain is parked: pending, but due at
# this far-off moment, with the reason in ``last_error``, so no worker and no sweep takes it up
# again and again. ``wake_next`` makes it due when the one before it ends.
PARKED_AT = OPERATION_PARKED_AT


def operation_enqueue(
    *, actor: Actor, domain: Domain, kind: str, payload: dict | None = None
) -> RegistrarOperation:
    """Write an outbox row (inside the caller's transaction) and enqueue it after commit."""
    operation = RegistrarOperation.objects.create(
        organisation_id=domain.organisation_id,
        domain=domain,
        registrar_account_id=domain.registrar_account_id or domain.tld.registrar_account_id,
        livemode=domain.livemode,
        kind=kind,
        payload=payload or {},
        created_by=actor.user,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(lambda: enqueue([operation.pk]))
    return operation


def send(operation_ids: list[int]) -> None:
    """Hand operations to the workers: one message each, or, for more than
    ``DRAIN_THRESHOLD``, drain tasks (one per ``NAMEPORT_OUTBOX_DRAINS``) that take them from
    the table in groups: a burst of thousands costs a few messages, not thousands."""
    if len(operation_ids) > DRAIN_THRESHOLD:
        drain = app.tasks[DRAIN_TASK]
        for _ in range(settings.NAMEPORT_OUTBOX_DRAINS):
            drain.delay()
    else:
        run = app.tasks[RUN_TASK]
        for operation_id in operation_ids:
            run.delay(operation_id)


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


def wake_next(domain_ids: Iterable[int | None]) -> None:
    """An operation of each of these domains ended (succeeded, failed, cancelled) or was put
    back in the queue (retried): after commit, the first parked operation of each becomes due and
    is sent. Every path that ends an operation calls this; the sweep wakes any parked operation
    that nothing holds up any more (a wake that came between its check and its park)."""
    ids = {pk for pk in domain_ids if pk is not None}
    if ids:
        transaction.on_commit(lambda: _wake(ids))


def _wake(domain_ids: set[int]) -> None:
    Op = RegistrarOperation
    parked = (
        Op.objects.filter(
            status=Op.Status.PENDING, next_attempt_at=PARKED_AT, domain_id__in=domain_ids
        )
        .order_by("pk")
        .values_list("pk", "domain_id")
    )
    first: dict[int, int] = {}
    for pk, domain_id in parked:
        first.setdefault(domain_id, pk)
    if not first:
        return
    now = timezone.now()
    woken = list(first.values())
    Op.objects.filter(pk__in=woken, status=Op.Status.PENDING, next_attempt_at=PARKED_AT).update(
        next_attempt_at=now, last_error="", updated_at=now
    )
    enqueue(woken)

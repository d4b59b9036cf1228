"""The outbox does not spin or loop (issue 10, section 4), attacked as it happens in production:
orders and changes come in through the native API, the worker runs the messages it is sent and
the beat runs the sweep, on a clock the test moves (the lease, the lost-message delay, minutes and
hours going by).

* An operation that kills its worker every time (here the registry call ends the process:
  ``SystemExit``, nothing after it runs, as with an out-of-memory kill) used to come back from the
  sweep for ever: each claim counted an attempt but nothing ever stopped it. It now ends failed at
  its attempt limit, with a ticket for staff, and its name is free again.
* Changes queued behind an operation held for staff used to reschedule themselves every 2 s, and
  the sweep sent them again as "lost" each minute, for as long as the hold lasted. They are now
  parked: each is looked at once, and nothing runs until the held one ends.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from domains import dispatch, outbox, tasks
from domains.models import Domain, DomainStatus, RegistrarOperation, SandboxDomain, Tld
from support.models import Ticket
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


def api(client, tenant, method, path, data=None):
    send = getattr(client, method)
    return send(
        path, data or {}, content_type="application/json", HTTP_ACCESS_TOKEN=tenant.live_key_raw
    )


class Worker:
    """The Celery worker and beat, by hand: messages sent now or with a countdown wait in
    ``queue`` until the test's clock reaches them; ``runs`` counts the messages each operation
    got (each one a claim attempt)."""

    def __init__(self, monkeypatch, capture):
        self.now = timezone.now()
        self.capture = capture
        self.queue: list[tuple[object, int]] = []
        self.runs: Counter[int] = Counter()
        monkeypatch.setattr(timezone, "now", lambda: self.now)
        monkeypatch.setattr(dispatch, "send", self.send)
        monkeypatch.setattr(tasks, "send", self.send)
        monkeypatch.setattr(tasks.registrar_operation_run, "apply_async", self.later)

    def send(self, operation_ids) -> None:
        self.queue += [(self.now, pk) for pk in operation_ids]

    def later(self, args, countdown=0, **options) -> None:
        self.queue.append((self.now + timedelta(seconds=countdown), args[0]))

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def work(self) -> None:
        """Run the messages that are due (a killed worker loses the rest of its call)."""
        due = [pk for when, pk in self.queue if when <= self.now]
        self.queue = [(when, pk) for when, pk in self.queue if when > self.now]
        for pk in due:
            self.runs[pk] += 1
            try:
                with self.capture(execute=True):
                    tasks.registrar_operation_run(pk)
            except SystemExit:
                pass  # the worker process died; its row stays running

    def beat(self) -> None:
        with self.capture(execute=True):
            tasks.registrar_operations_sweep()


@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox")
    Tld.objects.update_or_create(name="com", defaults={"registrar_account": account})
    return account


@pytest.fixture
def worker(monkeypatch, django_capture_on_commit_callbacks):
    return Worker(monkeypatch, django_capture_on_commit_callbacks)


class KillsItsWorker:
    """A registry whose every answer takes the worker down with it."""

    def __getattr__(self, command):
        def call(*args, **kwargs):
            raise SystemExit(f"worker killed during {command}")

        return call


def test_an_operation_that_kills_its_worker_every_time_fails_at_its_limit(
    client, world, registry, worker, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outbox, "adapter_for", lambda account: KillsItsWorker())
    body = {"customer": world.a.customer.pk, "name": "deadly.com", "years": 1}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(client, world.a, "post", "/api/v1/domains/", body)
    assert response.status_code == 202, response.content
    operation = RegistrarOperation.objects.get(pk=response.json()["operation"]["id"])
    limit = operation.max_attempts

    for _ in range(3 * limit):  # bounded: three times what it may take
        worker.work()
        worker.tick(outbox.LEASE_SECONDS + 1)  # the lease runs out on the dead worker
        worker.beat()
        operation.refresh_from_db()
        if operation.status == Status.FAILED:
            break

    assert operation.status == Status.FAILED, (operation.status, operation.attempts)
    assert operation.attempts == limit and worker.runs[operation.pk] == limit
    assert f"lost during the call on each of {limit} attempts" in operation.last_error
    assert Ticket.objects.filter(operation=operation, staff_only=True).count() == 1
    # Nothing is left to run it again.
    worker.tick(3600)
    worker.beat()
    worker.work()
    assert worker.runs[operation.pk] == limit and worker.queue == []
    domain = Domain.objects.get(pk=operation.domain_id)
    assert domain.status == DomainStatus.REGISTRATION_FAILED
    # The name is free for a new order.
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = api(
            client, world.b, "post", "/api/v1/domains/", {**body, "customer": world.b.customer.pk}
        )
    assert again.status_code == 202, again.content


def test_changes_behind_a_held_operation_do_not_spin(client, world, registry, worker):
    domain = world.a.domain
    Domain.objects.filter(pk=domain.pk).update(registrar_account=registry)
    SandboxDomain.objects.create(
        name=domain.name_puny,
        account=registry.name,
        registered_at=domain.registered_at,
        expires_at=domain.expires_at,
        auth_code="held-2fooBAR",
        locked=True,
    )
    held = RegistrarOperation.objects.create(
        domain=domain,
        organisation=domain.organisation,
        registrar_account=registry,
        livemode=domain.livemode,
        kind=RegistrarOperation.Kind.RENEW,
        payload={"years": 1},
        status=Status.HELD,
        last_error="The registry's price is above the price list: held for staff.",
    )
    changes = [
        ("lock", {"locked": False}),
        ("privacy", {"enabled": True}),
        ("autorenew", {"enabled": False}),
    ]
    queued = []
    for path, data in changes:
        with worker.capture(execute=True):
            response = api(client, world.a, "put", f"/api/v1/domains/{domain.pk}/{path}/", data)
        assert response.status_code == 202, response.content
        queued.append(response.json()["operation"]["id"])
    assert sorted(pk for _, pk in worker.queue) == sorted(queued)

    for _ in range(60):  # an hour of minutes while the hold lasts
        worker.work()
        worker.tick(60)
        worker.beat()

    assert {pk: worker.runs[pk] for pk in queued} == dict.fromkeys(queued, 1), (
        "each looked at once, then parked"
    )
    assert worker.queue == []
    rows = RegistrarOperation.objects.filter(pk__in=queued)
    assert {(op.status, op.attempts, op.next_attempt_at) for op in rows} == {
        (Status.PENDING, 0, dispatch.PARKED_AT)
    }
    # Staff settle the held one: the queue behind it runs, in order, each woken by the one before.
    with worker.capture(execute=True):
        response = api(client, world.a, "post", f"/api/v1/operations/{held.pk}/cancel/")
    assert response.status_code == 200, response.content
    for _ in range(len(queued)):
        worker.work()
    assert (
        list(
            RegistrarOperation.objects.filter(pk__in=queued)
            .order_by("pk")
            .values_list("status", flat=True)
        )
        == [Status.SUCCEEDED] * 3
    )
    assert {pk: worker.runs[pk] for pk in queued} == dict.fromkeys(queued, 2)
    row = SandboxDomain.objects.get(name=domain.name_puny)
    assert (row.locked, row.privacy, row.autorenew) == (False, True, False)

"""dns.tasks and the push outbox's rules: pushes are enqueued after commit, claimed once, run in
order per zone, retried with backoff, and recovered by the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dns import outbox, services, tasks
from dns.backends.base import TransientBackendError
from dns.models import ZonePush
from portal.tenancy import SYSTEM
from tests.dns.factories import held_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(settings):
    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    return held_zone("tasks.test")


class FakeBackend:
    def __init__(self, fail: Exception | None = None):
        self.calls: list[tuple] = []
        self.fail = fail

    def create_zone(self, zone, rrsets):
        self._call("create", zone, rrsets)

    def patch_zone(self, zone, rrsets):
        self._call("patch", zone, rrsets)

    def replace_all(self, zone, rrsets):
        self._call("replace", zone, rrsets)

    def delete_zone(self, zone):
        self._call("delete", zone, None)

    def _call(self, *call):
        if self.fail:
            raise self.fail
        self.calls.append(call)


@pytest.fixture
def backend(monkeypatch):
    fake = FakeBackend()
    monkeypatch.setattr(outbox, "backend_for", lambda name: fake)
    return fake


def test_a_change_enqueues_its_push_after_commit(
    zone, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(tasks.dns_push_run, "delay", sent.append)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_create(actor=SYSTEM, zone=zone, name="a", type="A", content="192.0.2.1")
    push = ZonePush.objects.filter(zone=zone).order_by("-pk").first()
    assert sent == [push.pk]


def test_pushes_of_a_zone_run_in_order(zone, backend):
    services.record_create(actor=SYSTEM, zone=zone, name="a", type="A", content="192.0.2.1")
    create, update = ZonePush.objects.filter(zone=zone).order_by("pk")
    assert outbox.run_push(update.pk) == outbox.Outcome("waiting", retry_in=2)
    assert outbox.run_push(create.pk).status == "succeeded"
    assert outbox.run_push(create.pk).status == "skipped"  # claimed once only
    ZonePush.objects.filter(pk=update.pk).update(next_attempt_at=timezone.now())  # 2 s later
    assert outbox.run_push(update.pk).status == "succeeded"
    assert [c[0] for c in backend.calls] == ["create", "patch"]
    patch = backend.calls[1][2]
    assert set(patch) == {("a.tasks.test.", "A"), ("tasks.test.", "SOA")}


def test_a_transient_failure_retries_with_backoff_then_gives_up(zone, monkeypatch):
    monkeypatch.setattr(
        outbox, "backend_for", lambda name: FakeBackend(TransientBackendError("down"))
    )
    push = ZonePush.objects.get(zone=zone)
    ZonePush.objects.filter(pk=push.pk).update(max_attempts=2)
    first = outbox.run_push(push.pk)
    assert first.status == "pending" and 2.5 <= first.retry_in <= 5
    ZonePush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
    assert outbox.run_push(push.pk).status == "failed"
    push.refresh_from_db()
    assert "gave up after 2 attempts" in push.last_error
    zone.refresh_from_db()
    assert zone.push_status == "failed"


def test_the_task_reschedules_a_retry(zone, monkeypatch):
    monkeypatch.setattr(outbox, "run_push", lambda pk: outbox.Outcome("pending", retry_in=7))
    scheduled = []
    monkeypatch.setattr(
        tasks.dns_push_run,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    assert tasks.dns_push_run.run(42) == "pending"
    assert scheduled == [((42,), 7)]


def test_the_sweep_recovers_a_push_a_dead_worker_held(zone, monkeypatch):
    push = ZonePush.objects.get(zone=zone)
    ZonePush.objects.filter(pk=push.pk).update(
        status="running", started_at=timezone.now() - timedelta(minutes=10)
    )
    sent = []
    monkeypatch.setattr(tasks.dns_push_run, "delay", sent.append)
    assert tasks.dns_pushes_sweep() == 1 and sent == [push.pk]
    push.refresh_from_db()
    assert push.status == "pending" and "Worker lost" in push.last_error


def test_a_push_behind_one_waiting_for_its_retry_waits_until_that_retry(zone, backend):
    services.record_create(actor=SYSTEM, zone=zone, name="a", type="A", content="192.0.2.1")
    create, update = ZonePush.objects.filter(zone=zone).order_by("pk")
    ZonePush.objects.filter(pk=create.pk).update(
        attempts=3, next_attempt_at=timezone.now() + timedelta(minutes=10)
    )

    outcome = outbox.run_push(update.pk)

    # Before: looked at again every 2 s for as long as the earlier push backed off.
    assert outcome.status == "waiting" and 600 <= outcome.retry_in <= 603
    update.refresh_from_db()
    assert update.next_attempt_at > timezone.now() + timedelta(minutes=9)
    assert backend.calls == []


def test_the_sweep_gives_up_a_push_that_loses_its_worker_every_time(zone, monkeypatch):
    from support.models import Ticket

    push = ZonePush.objects.get(zone=zone)
    ZonePush.objects.filter(pk=push.pk).update(
        status="running",
        attempts=push.max_attempts,
        started_at=timezone.now() - timedelta(minutes=10),
    )
    sent = []
    monkeypatch.setattr(tasks.dns_push_run, "delay", sent.append)

    assert tasks.dns_pushes_sweep() == 0 and sent == []

    push.refresh_from_db()
    assert push.status == "failed" and "worker was lost" in push.last_error
    zone.refresh_from_db()
    assert zone.push_status == "failed"
    assert Ticket.objects.filter(subject__contains="tasks.test", is_system=True).exists()

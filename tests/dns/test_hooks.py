"""dns reaches support only through dns.hooks: a push that fails for good is recorded whether
support opens its ticket, is absent, or is broken."""

import logging

import pytest
from django.utils import timezone

from dns import hooks, outbox
from dns.backends.base import PermanentBackendError
from dns.models import ZonePush
from support import services as support_services
from support.models import Ticket
from tests.dns.factories import held_zone

pytestmark = pytest.mark.django_db


class BrokenBackend:
    def create_zone(self, zone, rrsets):
        raise PermanentBackendError("zone refused")


@pytest.fixture
def push(settings, monkeypatch):
    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    monkeypatch.setattr(outbox, "backend_for", lambda name: BrokenBackend())
    zone = held_zone("hooks.test")
    push = ZonePush.objects.get(zone=zone)
    ZonePush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
    return push


def fail(**kwargs):
    raise RuntimeError("support is broken")


def test_support_fills_in_the_system_ticket_hook_at_start():
    assert hooks.system_ticket.implementation is support_services.ticket_open_system


def test_a_failed_push_opens_a_system_ticket(push):
    assert outbox.run_push(push.pk).status == "failed"
    ticket = Ticket.objects.get()
    assert ticket.is_system and "hooks.test could not be published" in ticket.subject


def test_without_support_a_failed_push_is_recorded_and_logged(push, caplog):
    caplog.set_level(logging.WARNING, logger="dns.hooks")
    with hooks.system_ticket.replaced(None):
        assert outbox.run_push(push.pk).status == "failed"
    push.refresh_from_db()
    assert push.status == "failed" and "zone refused" in push.last_error
    assert not Ticket.objects.exists()
    assert "not told: DNS zone hooks.test could not be published" in caplog.text


def test_a_failing_ticket_hook_does_not_undo_the_failed_push(push, caplog):
    caplog.set_level(logging.ERROR, logger="portal.hooks")
    with hooks.system_ticket.replaced(fail):
        assert outbox.run_push(push.pk).status == "failed"
    push.refresh_from_db()
    assert push.status == "failed"
    assert "hook dns.system_ticket failed" in caplog.text

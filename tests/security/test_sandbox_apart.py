"""Issue 9, section 2: sandbox is a world apart.

Sandbox zones stay in the database backend, whatever ``NAMEPORT_DNS_BACKEND`` or the request
says, and the push outbox refuses to send one to a real backend even when a row says so; a real
PowerDNS keeps serving the live zone of a name a sandbox zone shares. Zone templates are per
mode: a sandbox key's default template never shapes a live zone.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from dns import outbox
from dns.models import Zone, ZonePush, ZoneTemplate
from portal.tenancy import SESSION_LIVEMODE_KEY
from tests.dns.conftest import powerdns, use_powerdns  # noqa: F401 (fixtures)
from tests.dns.factories import held_zone
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
ZONES = "/api/v1/zones/"
TEMPLATES = "/api/v1/zone-templates/"
SANDBOX_DEFAULT = {"name": "x", "body": "@ 3600 IN A 203.0.113.66", "is_default": True}


def send(client, key: str, method: str, path: str, body=None):
    return getattr(client, method)(
        path, body or {}, content_type="application/json", HTTP_ACCESS_TOKEN=key
    )


class FakeBackend:
    def __init__(self):
        self.calls: list[tuple] = []

    def create_zone(self, zone, rrsets):
        self.calls.append(("create", zone))

    def patch_zone(self, zone, rrsets):
        self.calls.append(("patch", zone))

    def replace_all(self, zone, rrsets):
        self.calls.append(("replace", zone))

    def delete_zone(self, zone):
        self.calls.append(("delete", zone))


@pytest.fixture
def fake(settings, monkeypatch):
    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    backend = FakeBackend()
    monkeypatch.setattr(outbox, "backend_for", lambda name: backend)
    return backend


# --- sandbox zones stay in the database -----------------------------------------------------


def test_a_sandbox_zone_stays_in_the_database_and_is_never_pushed(client, world, fake):
    key = world.a.sandbox_key_raw
    name = world.a.sandbox_domain.name

    created = send(
        client, key, "post", ZONES, {"name": name, "customer": world.a.sandbox_customer.pk}
    )
    assert created.status_code == 201, created.json()
    zone_id = created.json()["id"]
    added = send(
        client,
        key,
        "post",
        f"{ZONES}{zone_id}/records/",
        {"name": "api", "type": "A", "content": "203.0.113.7"},
    )
    republished = send(client, key, "post", f"{ZONES}{zone_id}/publish/")
    deleted = send(client, key, "delete", f"{ZONES}{zone_id}/")

    assert created.json()["backend"] == "database"
    assert created.json()["push_status"] == "published"
    assert added.status_code == 201 and republished.status_code == 202
    assert deleted.status_code == 204
    assert ZonePush.objects.count() == 0
    assert fake.calls == []


def test_staff_asking_for_powerdns_get_the_database_for_a_sandbox_zone(client, world, fake):
    client.force_login(world.staff)

    response = client.post(
        ZONES,
        {
            "name": world.a.sandbox_domain.name,
            "customer": world.a.sandbox_customer.pk,
            "backend": "powerdns",
        },
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["backend"] == "database"
    assert ZonePush.objects.count() == 0


def test_a_sandbox_zone_row_cannot_say_powerdns(world):
    zone = held_zone(world.a.sandbox_domain.name, customer=world.a.sandbox_customer)

    with pytest.raises(IntegrityError), transaction.atomic():
        Zone.objects.filter(pk=zone.pk).update(backend="powerdns")


def test_the_outbox_refuses_a_sandbox_push_to_a_real_backend_whatever_the_row_says(world, fake):
    zone = held_zone(world.a.sandbox_domain.name, customer=world.a.sandbox_customer)
    forged = [
        # A push row that claims the zone is live and on PowerDNS.
        ZonePush.objects.create(
            zone=zone, zone_name=zone.name, backend="powerdns", livemode=True, kind="sync"
        ),
        # A delete row of a sandbox zone that is gone (no zone to look at).
        ZonePush.objects.create(
            zone=None, zone_name=zone.name, backend="powerdns", livemode=False, kind="delete"
        ),
    ]

    outcomes = [outbox.run_push(push.pk).status for push in forged]

    assert outcomes == ["failed", "failed"]
    assert fake.calls == []
    assert {p.last_error for p in ZonePush.objects.all()} == {
        "Sandbox zones are served from the database only; nothing was sent."
    }


def test_powerdns_keeps_serving_the_live_zone_a_sandbox_zone_shares_a_name_with(
    client,
    world,
    use_powerdns,  # noqa: F811
):
    """The issue's attack on a real PowerDNS: today the sandbox zone's create takes the 409 path
    and replaces the live zone, and deleting it deletes the live one."""
    name = "shared-name.com"
    live = held_zone(name, customer=world.a.customer)
    assert live.backend == "powerdns"
    for push in ZonePush.objects.filter(zone=live).order_by("pk"):
        ZonePush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
        assert outbox.run_push(push.pk).status == "succeeded"
    live_a = {str(rr.rdata) for rr in use_powerdns.answers(f"{name}.", "A")}
    assert live_a == {"127.0.0.1"}
    DomainFactory(customer=world.a.sandbox_customer, name=name)
    key = world.a.sandbox_key_raw

    created = send(
        client,
        key,
        "post",
        ZONES,
        {"name": name, "customer": world.a.sandbox_customer.pk, "empty": True},
    )
    zone_id = created.json()["id"]
    send(
        client,
        key,
        "post",
        f"{ZONES}{zone_id}/records/",
        {"name": "@", "type": "A", "content": "203.0.113.66"},
    )
    send(client, key, "delete", f"{ZONES}{zone_id}/")
    for push in ZonePush.objects.filter(status="pending").order_by("pk"):
        outbox.run_push(push.pk)

    assert {str(rr.rdata) for rr in use_powerdns.answers(f"{name}.", "A")} == live_a
    assert use_powerdns.answers(f"{name}.", "SOA")[0].rdata.times[0] == live.serial
    assert created.status_code == 201 and created.json()["backend"] == "database"


# --- templates are per mode -----------------------------------------------------------------


def live_zone_records(client, world, name: str) -> set[str]:
    DomainFactory(customer=world.a.customer, name=name)
    response = send(
        client, world.a.live_key_raw, "post", ZONES, {"name": name, "customer": world.a.customer.pk}
    )
    assert response.status_code == 201, response.json()
    return {r["content"] for r in response.json()["records"]}


def test_a_sandbox_keys_default_template_does_not_reach_live_zones(client, world):
    response = send(client, world.a.sandbox_key_raw, "post", TEMPLATES, SANDBOX_DEFAULT)

    assert response.status_code == 201, response.json()
    assert "203.0.113.66" not in live_zone_records(client, world, "next-live.com")
    assert response.json()["livemode"] is False
    # ...while sandbox zones do get it: the reseller can test templates in sandbox.
    sandbox = send(
        client,
        world.a.sandbox_key_raw,
        "post",
        ZONES,
        {"name": world.a.sandbox_domain.name, "customer": world.a.sandbox_customer.pk},
    )
    assert "203.0.113.66" in {r["content"] for r in sandbox.json()["records"]}


def test_a_sandbox_key_cannot_see_or_change_live_templates(client, world):
    live = send(
        client, world.a.live_key_raw, "post", TEMPLATES, {"name": "Live", "body": "@ A 192.0.2.80"}
    )
    assert live.status_code == 201
    path = f"{TEMPLATES}{live.json()['id']}/"
    key = world.a.sandbox_key_raw

    listed = send(client, key, "get", TEMPLATES)
    read = send(client, key, "get", path)
    changed = send(client, key, "patch", path, {"body": "@ A 203.0.113.66", "is_default": True})
    removed = send(client, key, "delete", path)
    as_live = send(client, key, "post", TEMPLATES, {**SANDBOX_DEFAULT, "livemode": True})

    assert listed.json()["results"] == []
    assert (read.status_code, changed.status_code, removed.status_code) == (404, 404, 404)
    assert as_live.status_code == 400 and "livemode" in as_live.json()["errors"]
    template = ZoneTemplate.objects.get(pk=live.json()["id"])
    assert template.body == "@ A 192.0.2.80" and not template.is_default
    assert ZoneTemplate.objects.filter(livemode=True).count() == 1


def test_a_member_in_sandbox_mode_makes_sandbox_templates(client, world):
    client.force_login(world.a.member)
    session = client.session
    session[SESSION_LIVEMODE_KEY] = False
    session.save()

    response = client.post(
        reverse("dns:template_create"),
        {"name": "Try", "body": "@ A 203.0.113.66", "is_default": "on"},
    )

    assert response.status_code == 303
    assert "203.0.113.66" not in live_zone_records(client, world, "after-try.com")
    assert ZoneTemplate.objects.get(name="Try").livemode is False


# --- tickets have a mode ----------------------------------------------------------------------


def test_a_sandbox_key_cannot_read_or_answer_the_organisations_live_tickets(client, world):
    """A ticket without a customer (the reseller asking the platform) used to show in both
    modes: a sandbox key could read, answer and close the organisation's live tickets."""
    from support.models import Message, Ticket
    from tests.support.factories import DepartmentFactory

    desk = DepartmentFactory(organisation=None, name="Platform", is_public=True)
    opened = send(
        client,
        world.a.live_key_raw,
        "post",
        "/api/v1/tickets/",
        {"department": desk.pk, "subject": "Invoice question", "body": "Live question."},
    )
    assert opened.status_code == 201, opened.content
    number = opened.json()["ticket_number"]
    path = f"/api/v1/tickets/{number}/"
    key = world.a.sandbox_key_raw

    listed = send(client, key, "get", "/api/v1/tickets/")
    read = send(client, key, "get", path)
    replied = send(client, key, "post", f"{path}replies/", {"body": "From the sandbox."})
    closed = send(client, key, "post", f"{path}close/")

    assert number not in [row["ticket_number"] for row in listed.json()["results"]]
    assert (read.status_code, replied.status_code, closed.status_code) == (404, 404, 404)
    ticket = Ticket.objects.get(ticket_number=number)
    assert ticket.livemode is True and ticket.status == Ticket.Status.OPEN
    assert Message.objects.filter(ticket=ticket).count() == 1
    # The sandbox key's own customer-less ticket is a sandbox one: the live key does not see it.
    sandbox = send(
        client,
        key,
        "post",
        "/api/v1/tickets/",
        {"department": desk.pk, "subject": "Test", "body": "Sandbox question."},
    )
    assert sandbox.status_code == 201, sandbox.content
    live_read = send(
        client, world.a.live_key_raw, "get", f"/api/v1/tickets/{sandbox.json()['ticket_number']}/"
    )
    assert live_read.status_code == 404
    assert Ticket.objects.get(ticket_number=sandbox.json()["ticket_number"]).livemode is False

"""A real PowerDNS serves exactly what the portal shows: after creation, an edit, a delete, a
rollback and an import; a PowerDNS that is down keeps the push queued and retried."""

from __future__ import annotations

from datetime import timedelta

import dnslib
import pytest
from django.utils import timezone

from dns import outbox, services
from dns.models import Zone, ZonePush
from dns.rdata import txt_strings
from dns.zonefile import export
from portal.tenancy import SYSTEM
from support.models import Ticket
from tests.dns.factories import held_zone

pytestmark = pytest.mark.django_db


def publish(zone: Zone) -> list[str]:
    """Run the zone's due pushes in order, as the worker would; the outcomes."""
    outcomes = []
    ZonePush.objects.filter(zone_name=zone.name, status="pending").update(
        next_attempt_at=timezone.now()
    )
    for push in ZonePush.objects.filter(zone_name=zone.name, status="pending").order_by("pk"):
        outcomes.append(outbox.run_push(push.pk).status)
    zone.refresh_from_db()
    return outcomes


def served(pdns, owner: str, rtype: str) -> list[str]:
    rows = pdns.answers(owner, rtype)
    if rtype == "TXT":
        return sorted(repr(tuple(rr.rdata.data)) for rr in rows)
    return sorted(str(rr.rdata) for rr in rows)


def shown(owner: str, rtype: str, contents: list[str]) -> list[str]:
    if rtype == "TXT":
        return sorted(repr(tuple(txt_strings(c))) for c in contents)
    return sorted(
        str(dnslib.RR.fromZone(f"{owner} 60 IN {rtype} {content}")[0].rdata) for content in contents
    )


def assert_served_as_shown(pdns, zone: Zone) -> None:
    """Every rrset of the zone as the portal holds it (SOA included) is what PowerDNS answers."""
    zone.refresh_from_db()
    expected = outbox.zone_rrsets(zone)
    for (owner, rtype), (ttl, contents) in expected.items():
        assert served(pdns, owner, rtype) == shown(owner, rtype, contents), (owner, rtype)
        assert {rr.ttl for rr in pdns.answers(owner, rtype)} == {ttl}, (owner, rtype)
    soa = pdns.answers(f"{zone.name}.", "SOA")[0]
    assert soa.rdata.times[0] == zone.serial


@pytest.fixture
def zone(use_powerdns):
    zone = held_zone("served.test")
    assert zone.backend == "powerdns" and zone.push_status == Zone.PushStatus.PENDING
    return zone


def add(zone, **fields):
    return services.record_create(actor=SYSTEM, zone=zone, **fields)


def test_a_new_zone_is_served_with_the_serial_the_portal_shows(zone, use_powerdns):
    assert publish(zone) == ["succeeded"]
    assert zone.push_status == Zone.PushStatus.PUBLISHED and zone.last_pushed_at
    assert served(use_powerdns, "www.served.test.", "CNAME") == ["served.test."]
    assert_served_as_shown(use_powerdns, zone)


def test_every_type_is_served_as_shown(zone, use_powerdns):
    publish(zone)
    add(zone, name="v6", type="AAAA", content="2001:db8::10")
    add(zone, name="_sip._tcp", type="SRV", priority=10, content="5 5060 sip.served.test.")
    add(zone, name="@", type="CAA", content='0 issue "letsencrypt.org"')
    add(zone, name="dkim._domainkey", type="TXT", content="k" * 300 + " é")
    add(zone, name="sub", type="NS", content="ns1.elsewhere.example.")
    add(zone, name="sub", type="DS", content="12345 13 2 " + "ab" * 32)
    add(zone, name="ptr", type="PTR", content="host.example.net.")
    add(zone, name="shop", type="URL", content="https://shop.example.net/")
    add(zone, name="frame", type="FRAME", content="https://frame.example.net/")
    add(zone, name="@", type="MXE", priority=20, content="192.0.2.44")
    assert set(publish(zone)) == {"succeeded"}
    assert_served_as_shown(use_powerdns, zone)
    # The forwarding types are served as the portal's own addresses, MXE as an MX and a helper.
    assert served(use_powerdns, "shop.served.test.", "A") == ["127.0.0.1"]
    assert "20 mxe-192-0-2-44.served.test." in served(use_powerdns, "served.test.", "MX")
    assert served(use_powerdns, "mxe-192-0-2-44.served.test.", "A") == ["192.0.2.44"]
    txt = use_powerdns.answers("dkim._domainkey.served.test.", "TXT")[0].rdata.data
    assert [len(s) for s in txt] == [255, 48]


def test_an_edit_a_delete_and_a_rollback_reach_the_server(zone, use_powerdns):
    publish(zone)
    api = add(zone, name="api", type="A", content="192.0.2.5")
    publish(zone)
    assert served(use_powerdns, "api.served.test.", "A") == ["192.0.2.5"]
    after_add = zone.changes.order_by("-pk").first()

    services.record_update(actor=SYSTEM, record=api, content="192.0.2.6", ttl=120)
    assert publish(zone) == ["succeeded"]
    assert served(use_powerdns, "api.served.test.", "A") == ["192.0.2.6"]
    assert use_powerdns.answers("api.served.test.", "A")[0].ttl == 120

    services.record_delete(actor=SYSTEM, record=api)
    publish(zone)
    reply = use_powerdns.query("api.served.test.", "A")
    assert reply.rr == [] and reply.header.rcode == dnslib.RCODE.NXDOMAIN
    assert_served_as_shown(use_powerdns, zone)

    services.zone_rollback(actor=SYSTEM, zone=zone, change=after_add)
    publish(zone)
    assert served(use_powerdns, "api.served.test.", "A") == ["192.0.2.5"]
    assert_served_as_shown(use_powerdns, zone)


def test_only_the_changed_rrsets_are_sent(zone, use_powerdns, monkeypatch):
    publish(zone)
    sent = []
    from dns.backends.powerdns import PowerDnsBackend

    original = PowerDnsBackend.patch_zone

    def spy(self, name, rrsets):
        sent.append(sorted(rrsets))
        return original(self, name, rrsets)

    monkeypatch.setattr(PowerDnsBackend, "patch_zone", spy)
    add(zone, name="one", type="A", content="192.0.2.1")
    publish(zone)
    assert sent == [[("one.served.test.", "A"), ("served.test.", "SOA")]]


def test_an_import_is_served_whole(zone, use_powerdns):
    publish(zone)
    text = export(zone, zone.records.order_by("name", "type", "pk"))
    text += 'extra 300 IN A 192.0.2.77\nmail 600 IN TXT "two" "strings"\n'
    plan = services.zone_import(
        actor=SYSTEM, zone=zone, text=text.replace("A\t127.0.0.1", "A\t192.0.2.1")
    )
    assert plan.applied and not plan.errors
    publish(zone)
    assert served(use_powerdns, "extra.served.test.", "A") == ["192.0.2.77"]
    assert_served_as_shown(use_powerdns, zone)


def test_a_powerdns_that_is_down_keeps_the_push_queued_and_retries(zone, use_powerdns, settings):
    publish(zone)
    settings.POWERDNS_API_URL = "http://127.0.0.1:9"  # nothing listens there
    add(zone, name="later", type="A", content="192.0.2.9")
    push = ZonePush.objects.filter(zone=zone).order_by("-pk").first()
    outcome = outbox.run_push(push.pk)
    assert outcome.status == "pending" and outcome.retry_in > 0
    push.refresh_from_db()
    zone.refresh_from_db()
    assert push.status == "pending" and push.attempts == 1
    assert "unreachable" in push.last_error
    assert zone.push_status == Zone.PushStatus.PENDING  # the editor says "not yet published"
    assert use_powerdns.answers("later.served.test.", "A") == []
    # The sweep finds it again once due; PowerDNS is back.
    ZonePush.objects.filter(pk=push.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert push.pk in outbox.sweep()
    settings.POWERDNS_API_URL = use_powerdns.api_url
    assert outbox.run_push(push.pk).status == "succeeded"
    zone.refresh_from_db()
    assert zone.push_status == Zone.PushStatus.PUBLISHED
    assert served(use_powerdns, "later.served.test.", "A") == ["192.0.2.9"]


def test_a_refused_push_fails_and_opens_a_ticket(zone, use_powerdns, settings):
    publish(zone)
    settings.POWERDNS_API_KEY = "wrong"
    add(zone, name="refused", type="A", content="192.0.2.10")
    assert publish(zone) == ["failed"]
    assert zone.push_status == Zone.PushStatus.FAILED
    ticket = Ticket.objects.get(subject__contains="served.test")
    assert ticket.customer_id == zone.customer_id
    assert "401" in ticket.messages.get().body
    # Publishing again (after the key is fixed) sends the whole zone.
    settings.POWERDNS_API_KEY = use_powerdns.api_key
    services.zone_republish(actor=SYSTEM, zone=zone)
    assert publish(zone) == ["succeeded"]
    assert zone.push_status == Zone.PushStatus.PUBLISHED
    assert_served_as_shown(use_powerdns, zone)


def test_a_deleted_zone_is_removed_from_the_server(zone, use_powerdns):
    publish(zone)
    name = zone.name
    services.zone_delete(actor=SYSTEM, zone=zone)
    push = ZonePush.objects.get(zone_name=name, kind="delete")
    assert outbox.run_push(push.pk).status == "succeeded"
    assert use_powerdns.query(f"{name}.", "SOA").header.rcode == dnslib.RCODE.REFUSED


def test_a_zone_the_server_lost_is_created_again(zone, use_powerdns):
    publish(zone)
    import httpx

    httpx.delete(
        f"{use_powerdns.api_url}/api/v1/servers/localhost/zones/served.test.",
        headers={"X-API-Key": use_powerdns.api_key},
    )
    add(zone, name="again", type="A", content="192.0.2.11")
    assert publish(zone) == ["succeeded"]
    assert_served_as_shown(use_powerdns, zone)

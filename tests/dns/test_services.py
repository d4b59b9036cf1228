"""dns.services: records validated before they are stored, serials, history and rollback, import,
templates, forwarding, e-mail forwarding and DNSSEC keys."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dns import services
from dns.models import EmailForward, Zone, ZoneChange, ZonePush, ZoneTemplate
from dns.rdata import RecordInvalid
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import CustomerFactory
from tests.dns.factories import held_zone
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone():
    return held_zone("example.com")


def records(zone) -> set[tuple]:
    return set(zone.records.values_list("name", "type", "ttl", "priority", "content"))


def add(zone, **fields):
    fields.setdefault("name", "www")
    fields.setdefault("type", "A")
    fields.setdefault("content", "192.0.2.1")
    return services.record_create(actor=SYSTEM, zone=zone, **fields)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- zone creation ---------------------------------------------------------------------------


def test_a_new_zone_gets_the_default_template_and_platform_nameservers(zone, settings):
    assert records(zone) == {
        ("@", "NS", 3600, None, "ns1.nameport.test."),
        ("@", "NS", 3600, None, "ns2.nameport.test."),
        ("@", "A", 3600, None, "127.0.0.1"),
        ("www", "CNAME", 3600, None, "example.com."),
        ("@", "MX", 3600, 10, "mail.example.com."),
        ("mail", "A", 3600, None, "127.0.0.1"),
        ("@", "TXT", 3600, None, '"v=spf1 mx -all"'),
    }
    assert str(zone.serial).endswith("01")
    change = zone.changes.get()
    assert change.action == ZoneChange.Action.CREATE
    assert len(change.after) == 7
    assert zone.push_status == Zone.PushStatus.PUBLISHED
    assert AuditEntry.objects.filter(action="dns.zone.create").exists()


def test_a_reseller_template_wins_over_the_platform_one():
    customer = CustomerFactory()
    ZoneTemplate.objects.create(name="Platform", body="@ A 192.0.2.1", is_default=True)
    ZoneTemplate.objects.create(
        organisation=customer.organisation, name="Ours", body="@ A 192.0.2.2", is_default=True
    )
    zone = held_zone("ours.com", customer=customer)
    assert zone.records.get(type="A").content == "192.0.2.2"
    other = held_zone("theirs.com")
    assert other.records.get(type="A").content == "192.0.2.1"


def test_zone_names_are_checked_and_unique(zone):
    with pytest.raises(ValidationError) as excinfo:
        services.zone_create(actor=SYSTEM, customer=zone.customer, name="Example.COM.")
    assert "exists already" in errors_of(excinfo)["name"][0]
    with pytest.raises(ValidationError) as excinfo:
        services.zone_create(actor=SYSTEM, customer=zone.customer, name="bad_name.com")
    assert "Not a valid domain name" in errors_of(excinfo)["name"][0]
    idn = held_zone("bücher.de", customer=zone.customer)
    assert idn.name == "xn--bcher-kva.de"


def test_a_registered_domain_on_our_nameservers_gets_a_zone():
    domain = DomainFactory(name="fresh.com")
    domain.nameservers.create(position=1, hostname="ns1.nameport.test")
    domain.nameservers.create(position=2, hostname="NS2.nameport.test.")
    zone = services.zone_create_after_registration(domain=domain)
    assert zone is not None and zone.domain == domain and zone.records.count() == 7
    assert services.zone_create_after_registration(domain=domain) == zone


def test_a_domain_elsewhere_gets_no_zone():
    domain = DomainFactory(name="elsewhere.com")
    domain.nameservers.create(position=1, hostname="ns1.other-dns.net")
    assert services.zone_create_after_registration(domain=domain) is None
    assert not Zone.objects.filter(name="elsewhere.com").exists()


def test_a_transferred_in_domain_elsewhere_still_takes_its_name_back():
    """The name is the registrant's whatever name servers it uses: another customer's zone of it
    is disabled. A zone under a more specific domain held by someone else stays (``moved.com``
    is also sold as a second-level suffix here, and ``shop.moved.com`` is a domain under it)."""
    from domains.models import DomainStatus
    from tests.dns.factories import ZoneFactory
    from tests.domains.factories import TldFactory

    TldFactory(name="moved.com")
    earlier = DomainFactory(name="moved.com")
    old = ZoneFactory(domain=earlier)
    kept = held_zone("shop.moved.com")
    earlier.status = DomainStatus.TRANSFERRED_AWAY
    earlier.save(update_fields=["status"])
    domain = DomainFactory(name="moved.com")
    domain.nameservers.create(position=1, hostname="ns1.other-dns.net")

    assert services.zone_create_after_registration(domain=domain) is None

    old.refresh_from_db()
    kept.refresh_from_db()
    assert not old.enabled and kept.enabled
    assert ZoneChange.objects.filter(zone=old, action=ZoneChange.Action.DISABLE).count() == 1


def test_the_registrants_own_zone_is_kept_and_tied_to_the_new_registration():
    from domains.models import DomainStatus

    earlier = DomainFactory(name="again.com")
    zone = held_zone("again.com", customer=earlier.customer)
    earlier.status = DomainStatus.DELETED
    earlier.save(update_fields=["status"])
    domain = DomainFactory(name="again.com", customer=earlier.customer)
    domain.nameservers.create(position=1, hostname="ns1.nameport.test")

    assert services.zone_create_after_registration(domain=domain) == zone
    zone.refresh_from_db()
    assert zone.enabled and zone.domain == domain


def test_the_platform_name_servers_follow_the_setting(settings):
    from dns.ownership import is_reserved

    settings.NAMEPORT_DEFAULT_NAMESERVERS = ["ns1.dns.example.net", "ns2.dns.example.net"]
    assert is_reserved("example.net") and is_reserved("shop.example.net")
    assert not is_reserved("nameport.test") and not is_reserved("example.org")


def test_a_disabled_zone_is_read_only_and_served_nowhere(zone):
    services.forwarding_set(actor=SYSTEM, zone=zone, target="https://new-home.example.org/")
    services.zone_disable(actor=SYSTEM, zone=zone, reason="Kept for the test.")
    with pytest.raises(PermissionDenied, match=r"disabled and kept read only: Kept for the test\."):
        add(zone, name="late")
    with pytest.raises(PermissionDenied):
        services.zone_set_default_ttl(actor=SYSTEM, zone=zone, default_ttl=600)
    from dns.middleware import forwarding_record

    assert forwarding_record("example.com") is None


def test_templates_are_per_mode():
    customer = CustomerFactory()
    sandbox = CustomerFactory(organisation=customer.organisation, livemode=False)
    ZoneTemplate.objects.create(name="Platform", body="@ A 192.0.2.1", is_default=True)
    ZoneTemplate.objects.create(
        name="Platform try", body="@ A 192.0.2.9", is_default=True, livemode=False
    )
    ZoneTemplate.objects.create(
        organisation=customer.organisation,
        name="Try",
        body="@ A 192.0.2.2",
        is_default=True,
        livemode=False,
    )
    live = held_zone("live-mode.com", customer=customer)
    try_it = held_zone("sandbox-mode.com", customer=sandbox)
    assert live.records.get(type="A").content == "192.0.2.1"
    assert try_it.records.get(type="A").content == "192.0.2.2"
    with pytest.raises(ValidationError, match="your own templates"):
        held_zone(
            "chosen.com",
            customer=customer,
            template=ZoneTemplate.objects.get(name="Try"),
        )


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"content": "192.0.2.300"}, "content", "not an IPv4 address"),
        ({"content": "01.2.3.4"}, "content", "not an IPv4 address"),
        ({"type": "AAAA", "content": "2001:db8::g"}, "content", "not an IPv6 address"),
        ({"name": "www.other.org."}, "name", "outside the zone"),
        ({"name": "bad name"}, "name", "may only hold"),
        ({"name": "a..b"}, "name", "empty label"),
        ({"ttl": 10}, "ttl", "between 60 and 604800"),
        ({"ttl": "soon"}, "ttl", "whole number"),
        ({"type": "MX", "content": "192.0.2.1", "priority": 10}, "content", "host name"),
        ({"type": "MX", "content": "mail"}, "priority", "need a priority"),
        ({"type": "NS", "name": "sub", "content": "192.0.2.1"}, "content", "not an address"),
        ({"type": "CNAME", "name": "@", "content": "x.org."}, "name", "apex cannot be a CNAME"),
        ({"type": "SRV", "name": "sip", "content": "5 5060 sip", "priority": 1}, "name", "_"),
        (
            {"type": "SRV", "name": "_sip._tcp", "content": "5 99999 sip", "priority": 1},
            "content",
            "port",
        ),
        ({"type": "CAA", "name": "@", "content": "0 issue letsencrypt..org"}, "content", "CA"),
        ({"type": "CAA", "name": "@", "content": '0 bogus "x"'}, "content", "Unknown CAA tag"),
        ({"type": "DS", "name": "sub", "content": "1 13 2 abcd"}, "content", "64 hex digits"),
        ({"type": "DS", "name": "@", "content": "1 13 2 " + "a" * 64}, "name", "delegated"),
        ({"type": "URL", "content": "javascript:alert(1)"}, "content", "http"),
        ({"type": "FRAME", "content": "https://user:pw@x.org/"}, "content", "password"),
        ({"type": "TXT", "content": '"' + "x" * 256 + '"'}, "content", "at most 255"),
        ({"type": "BOGUS"}, "type", "Choose a record type"),
    ],
)
def test_bad_records_are_refused_with_the_reason_next_to_the_field(zone, fields, field, reason):
    before = records(zone)
    with pytest.raises(RecordInvalid) as excinfo:
        add(zone, **fields)
    assert reason in " ".join(errors_of(excinfo)[field])
    assert records(zone) == before


def test_names_and_targets_are_normalised(zone):
    add(zone, name="Shop.Example.com", content="192.0.2.7")
    add(zone, name="bücher", content="192.0.2.8")
    add(zone, name="*", type="AAAA", content="2001:DB8:0:0::1")
    add(zone, name="@", type="MX", content="20 backup-mx.example.net.")
    add(zone, name="_sip._tcp", type="SRV", content="5 5060 sip", priority=10)
    add(zone, name="@", type="CAA", content="0 ISSUE letsencrypt.org")
    assert {
        ("shop", "A", 3600, None, "192.0.2.7"),
        ("xn--bcher-kva", "A", 3600, None, "192.0.2.8"),
        ("*", "AAAA", 3600, None, "2001:db8::1"),
        ("@", "MX", 3600, 20, "backup-mx.example.net."),
        ("_sip._tcp", "SRV", 3600, 10, "5 5060 sip.example.com."),
        ("@", "CAA", 3600, None, '0 issue "letsencrypt.org"'),
    } <= records(zone)


def test_long_txt_is_split_into_255_byte_strings(zone):
    record = add(zone, name="dkim._domainkey", type="TXT", content="k" * 600)
    assert record.content == '"' + "k" * 255 + '" "' + "k" * 255 + '" "' + "k" * 90 + '"'
    quoted = add(zone, name="q", type="TXT", content='"say \\"hi\\"" "two"')
    assert quoted.content == '"say \\"hi\\"" "two"'
    utf8 = add(zone, name="u", type="TXT", content="héllo")
    assert utf8.content == '"h\\195\\169llo"'


def test_cname_sits_alone(zone):
    with pytest.raises(RecordInvalid) as excinfo:
        add(zone, name="mail", type="CNAME", content="elsewhere.net.")
    assert "already has A" in errors_of(excinfo)["type"][0]
    with pytest.raises(RecordInvalid) as excinfo:
        add(zone, name="www", type="A", content="192.0.2.1")
    assert "is a CNAME" in errors_of(excinfo)["type"][0]


def test_duplicates_are_refused(zone):
    with pytest.raises(RecordInvalid) as excinfo:
        add(zone, name="mail", content="127.0.0.1")
    assert errors_of(excinfo)["content"] == ["This record already exists."]


def test_forwarding_cannot_sit_beside_addresses(zone):
    with pytest.raises(RecordInvalid) as excinfo:
        add(zone, name="mail", type="URL", content="https://example.org/")
    assert "already has A" in errors_of(excinfo)["type"][0]


def test_a_contact_without_dns_privilege_cannot_change_records(world):
    actor = actor_for_user(world.a.contact_user)
    world.a.contact.privileges = {"domains": {str(world.a.domain.pk): ["basic"]}}
    world.a.contact.save()
    actor = actor_for_user(world.a.contact_user)
    with pytest.raises(PermissionDenied):
        services.record_create(
            actor=actor, zone=world.a.zone, name="x", type="A", content="192.0.2.1"
        )


# --- serial, history, rollback ---------------------------------------------------------------


def test_serial_follows_the_date_and_always_increases():
    today = date(2026, 11, 23)
    assert services.next_serial(2020010105, today) == 2026112301
    assert services.next_serial(2026112301, today) == 2026112302
    assert services.next_serial(2026112399, today) == 2026112400
    assert services.next_serial(2030010101, today) == 2030010102


def test_every_change_bumps_the_serial_and_is_kept_with_before_and_after(zone):
    first = zone.serial
    record = add(zone, name="api", content="192.0.2.5")
    services.record_update(actor=SYSTEM, record=record, content="192.0.2.6", ttl=300)
    services.record_delete(actor=SYSTEM, record=record)
    zone.refresh_from_db()
    assert zone.serial == first + 3
    changes = list(zone.changes.order_by("pk").values_list("action", "serial", "before", "after"))
    assert [c[0] for c in changes] == [
        "zone.create",
        "record.create",
        "record.update",
        "record.delete",
    ]
    update = changes[2]
    assert update[2] == [
        {"name": "api", "type": "A", "ttl": 3600, "priority": None, "content": "192.0.2.5"}
    ]
    assert update[3] == [
        {"name": "api", "type": "A", "ttl": 300, "priority": None, "content": "192.0.2.6"}
    ]


def test_a_ttl_change_applies_to_the_whole_rrset(zone):
    second = add(zone, name="mail", content="192.0.2.99", ttl=600)
    assert second.ttl == 600
    assert set(zone.records.filter(name="mail").values_list("ttl", flat=True)) == {600}


def test_rollback_restores_the_records_of_an_earlier_serial(zone):
    start = records(zone)
    created = zone.changes.get()
    record = add(zone, name="api", content="192.0.2.5")
    services.record_update(actor=SYSTEM, record=record, content="192.0.2.6")
    services.record_delete(actor=SYSTEM, record=zone.records.get(name="mail"))
    www = zone.records.get(name="www")
    services.record_update(actor=SYSTEM, record=www, ttl=120)
    middle = zone.changes.order_by("pk")[1]  # right after "api" was added
    services.zone_rollback(actor=SYSTEM, zone=zone, change=middle)
    assert records(zone) == start | {("api", "A", 3600, None, "192.0.2.5")}
    services.zone_rollback(actor=SYSTEM, zone=zone, change=created)
    assert records(zone) == start
    with pytest.raises(ValidationError, match="already as it was"):
        services.zone_rollback(actor=SYSTEM, zone=zone, change=zone.changes.order_by("-pk").first())
    # The rollback is itself a change that can be undone.
    rollback = zone.changes.order_by("-pk").first()
    assert rollback.action == ZoneChange.Action.ROLLBACK
    services.zone_rollback(actor=SYSTEM, zone=zone, change=zone.changes.order_by("-pk")[1])
    assert ("api", "A", 3600, None, "192.0.2.5") in records(zone)


def test_the_last_apex_ns_cannot_go(zone):
    services.record_delete(actor=SYSTEM, record=zone.records.filter(type="NS").first())
    with pytest.raises(ValidationError, match="at least one NS"):
        services.record_delete(actor=SYSTEM, record=zone.records.get(type="NS"))


# --- import ----------------------------------------------------------------------------------

ZONE_FILE = """\
$ORIGIN example.com.
$TTL 1h
@   IN SOA ns1.nameport.test. hostmaster.example.com. ( 2020010101 ; serial
        3600 600 86400 300 )
@       NS  ns1.nameport.test.
        NS  ns2.nameport.test.
www 300 IN A 192.0.2.1 ; the web
@ MX 10 mail
mail IN 600 A 192.0.2.2
dkim._domainkey TXT ( "v=DKIM1; k=rsa; "
   "p=MIGf" )
$ORIGIN sub.example.com.
x A 192.0.2.9
"""


def test_an_import_replaces_the_records_with_the_file(zone):
    plan = services.zone_import(actor=SYSTEM, zone=zone, text=ZONE_FILE)
    assert plan.applied and plan.errors == []
    assert records(zone) == {
        ("@", "NS", 3600, None, "ns1.nameport.test."),
        ("@", "NS", 3600, None, "ns2.nameport.test."),
        ("www", "A", 300, None, "192.0.2.1"),
        ("@", "MX", 3600, 10, "mail.example.com."),
        ("mail", "A", 600, None, "192.0.2.2"),
        ("dkim._domainkey", "TXT", 3600, None, '"v=DKIM1; k=rsa; " "p=MIGf"'),
        ("x.sub", "A", 3600, None, "192.0.2.9"),
    }
    assert zone.changes.first().action == ZoneChange.Action.IMPORT


def test_a_bad_file_imports_nothing_and_reports_every_bad_line(zone):
    before = records(zone)
    serial = zone.serial
    text = (
        ZONE_FILE
        + "bad A 300.1.1.1\noutside.org. A 192.0.2.1\nwww.example.com. CNAME x\n$INCLUDE other\n"
    )
    plan = services.zone_import(actor=SYSTEM, zone=zone, text=text)
    assert not plan.applied
    assert [(e.line, e.text) for e in plan.errors] == [
        (14, "bad A 300.1.1.1"),
        (15, "outside.org. A 192.0.2.1"),
        (16, "www.example.com. CNAME x"),
        (17, "$INCLUDE other"),
    ]
    assert "not an IPv4 address" in plan.errors[0].message
    assert "outside the zone" in plan.errors[1].message
    assert "CNAME cannot sit beside" in plan.errors[2].message
    assert records(zone) == before
    zone.refresh_from_db()
    assert zone.serial == serial
    good = services.zone_import(actor=SYSTEM, zone=zone, text=text, good_lines_only=True)
    assert good.applied and len(good.errors) == 4
    assert ("x.sub", "A", 3600, None, "192.0.2.9") in records(zone)


def test_a_merge_adds_and_a_preview_changes_nothing(zone):
    before = records(zone)
    preview = services.zone_import(
        actor=SYSTEM,
        zone=zone,
        text="new A 192.0.2.50\nmail A 127.0.0.1\n",
        mode="merge",
        dry_run=True,
    )
    assert [c.name for c in preview.create] == ["new"] and preview.unchanged == 1
    assert records(zone) == before
    services.zone_import(
        actor=SYSTEM, zone=zone, text="new A 192.0.2.50\nmail A 127.0.0.1\n", mode="merge"
    )
    assert records(zone) == before | {("new", "A", 3600, None, "192.0.2.50")}


def test_export_then_import_round_trips(zone):
    from dns.zonefile import export

    add(zone, name="dkim._domainkey", type="TXT", content="k" * 300)
    add(zone, name="_sip._tcp", type="SRV", content="5 5060 sip", priority=10)
    add(zone, name="shop", type="URL", content="https://shop.example.net/a;b")
    add(zone, name="@", type="MXE", content="192.0.2.44", priority=20)
    add(zone, name="@", type="CAA", content='0 issue "letsencrypt.org"')
    before = records(zone)
    text = export(zone, zone.records.order_by("name", "type", "pk"))
    assert services.import_plan(zone, text).has_changes is False
    sandbox = CustomerFactory(organisation=zone.organisation, livemode=False)
    copy = held_zone("example.com", customer=sandbox, empty=True)
    plan = services.zone_import(actor=SYSTEM, zone=copy, text=text)
    assert plan.errors == [], plan.errors
    assert records(copy) == before


# --- forwarding, e-mail forwarding, DNSSEC ---------------------------------------------------


def test_forwarding_replaces_the_addresses_of_the_name(zone):
    services.forwarding_set(actor=SYSTEM, zone=zone, target="https://new-home.example.org/")
    apex = set(zone.records.filter(name="@").values_list("type", flat=True))
    assert "A" not in apex and "URL" in apex
    services.forwarding_set(
        actor=SYSTEM, zone=zone, kind="FRAME", target="https://new-home.example.org/"
    )
    assert zone.records.get(name="@", type__in=["URL", "FRAME"]).type == "FRAME"
    assert services.forwarding_clear(actor=SYSTEM, zone=zone) == 1


def test_email_forwards_are_checked(zone):
    services.email_forward_add(actor=SYSTEM, zone=zone, source="info", destination="me@x.org")
    with pytest.raises(ValidationError) as excinfo:
        services.email_forward_add(actor=SYSTEM, zone=zone, source="in fo", destination="nope")
    assert set(errors_of(excinfo)) == {"source", "destination"}
    with pytest.raises(ValidationError, match="exists already"):
        services.email_forward_add(actor=SYSTEM, zone=zone, source="info", destination="me@x.org")
    assert EmailForward.objects.filter(zone=zone).count() == 1


RFC6605_KSK = (
    "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="
)


def test_a_dnssec_key_gets_its_tag_and_ds_digest(zone):
    # RFC 6605 section 6.1: example.net. 3600 IN DNSKEY 257 3 13 (this key), tag 55648.
    other = held_zone("example.net", customer=zone.customer, empty=True)
    key = services.dnssec_key_add(
        actor=SYSTEM, zone=other, flags=257, algorithm=13, public_key=RFC6605_KSK
    )
    assert key.key_tag == 55648
    assert key.digest == "B4C8C1FE2E7477127B27115656AD6256F424625BF5C1E2770CE6D6E37DF61D17"
    with pytest.raises(ValidationError) as excinfo:
        services.dnssec_key_add(actor=SYSTEM, zone=other, flags=1, algorithm=99, public_key="%")
    assert set(errors_of(excinfo)) == {"flags", "algorithm", "public_key"}


# --- the push outbox row ---------------------------------------------------------------------


def test_a_powerdns_zone_queues_pushes_of_the_changed_rrsets_only():
    zone = held_zone("pushed.com", backend="powerdns")
    assert zone.push_status == Zone.PushStatus.PENDING
    assert ZonePush.objects.get(zone=zone).kind == ZonePush.Kind.CREATE
    record = add(zone, name="@", type="MXE", content="192.0.2.44", priority=20)
    push = ZonePush.objects.filter(zone=zone).order_by("-pk").first()
    assert push.kind == ZonePush.Kind.UPDATE
    assert push.rrsets == [["mxe-192-0-2-44.pushed.com.", "A"], ["pushed.com.", "MX"]]
    services.record_delete(actor=SYSTEM, record=record)
    assert ZonePush.objects.filter(zone=zone).count() == 3


def test_a_large_import_is_stored_whole(zone):
    """Past 500 records the rows go in bulk statements (COPY on PostgreSQL)."""
    lines = [f"h{i} 300 IN A 10.0.{i // 256}.{i % 256}" for i in range(1200)]
    lines.append('t IN TXT "quote \\" inside" "and é"')
    plan = services.zone_import(actor=SYSTEM, zone=zone, text="\n".join(lines), mode="merge")
    assert plan.applied and len(plan.create) == 1201
    assert zone.records.filter(name__startswith="h", type="A", ttl=300).count() == 1200
    txt = zone.records.get(name="t")
    assert txt.content == '"quote \\" inside" "and \\195\\169"'
    assert txt.created_at is not None and txt.updated_at is not None

"""Issue 9, section 1: a zone only for a name you hold.

Each attack of the issue through the real entry points (the native API with an ``access-token``
header, the browser form, the admin site): refused with one message whatever the name, and
nothing created. Then the pre-claim: a zone made for a name by one customer, the name registered
by another through the registry outbox; the registrant gets its own zone, the other is disabled
(kept, read only), staff get a ticket, and forwarding and pushes use the registrant's zone only.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from dns import outbox
from dns.models import Record, Zone, ZoneChange, ZonePush
from dns.ownership import OWNERSHIP_MESSAGE
from domains import outbox as registry_outbox
from domains.models import DomainStatus, RegistrarOperation
from domains.services import domain_register
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from support.models import Ticket
from support.selectors import visible_tickets
from tests.domains.factories import DomainFactory, TldFactory

pytestmark = pytest.mark.django_db
ZONES = "/api/v1/zones/"


def post_zone(client, key: str, body: dict):
    return client.post(ZONES, body, content_type="application/json", HTTP_ACCESS_TOKEN=key)


def snapshot() -> tuple:
    return (
        sorted(Zone.objects.values_list("name", "livemode", "customer_id", "domain_id")),
        Record.objects.count(),
        ZoneChange.objects.count(),
        ZonePush.objects.count(),
        AuditEntry.objects.filter(action__startswith="dns.").count(),
    )


def attack_names(world) -> list[str]:
    """Every name of the issue's list a tenant (B) must not get a zone for."""
    return [
        f"promo.{world.a.domain.name}",  # a sub-zone of another tenant's domain
        world.a.domain.name,  # another tenant's domain (its zone exists)
        "com.ng",  # a public suffix the platform sells
        "com",  # a TLD
        "co.uk",  # a public suffix the platform does not sell
        "nameport.test",  # the platform's name-server domain
        "ns1.nameport.test",  # a platform name server
        "www.nameport.test",
        "nobody-holds-this.com",  # a name nobody has registered
    ]


def test_a_tenant_gets_no_zone_for_a_name_it_does_not_hold(client, world):
    TldFactory(name="com.ng")
    before = snapshot()
    answers = {}
    for name in attack_names(world):
        response = post_zone(
            client,
            world.b.live_key_raw,
            {"name": name, "customer": world.b.customer.pk, "empty": True},
        )
        answers[name] = (response.status_code, response.json())

    expected = {
        "message": f"name: {OWNERSHIP_MESSAGE}",
        "errors": {"name": [OWNERSHIP_MESSAGE]},
    }
    assert answers == {name: (400, expected) for name in attack_names(world)}
    assert snapshot() == before


def test_a_tld_of_the_tld_table_is_refused_even_off_the_public_suffix_list(client, world):
    """``co.test`` is not on the Public Suffix List; the platform sells names under it."""
    TldFactory(name="co.test")
    DomainFactory(customer=world.b.customer, name="bravo.co.test")
    before = snapshot()

    response = post_zone(
        client, world.b.live_key_raw, {"name": "co.test", "customer": world.b.customer.pk}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [OWNERSHIP_MESSAGE]}
    assert snapshot() == before


def test_the_holder_of_a_domain_still_gets_its_zone_and_sub_zones(client, world):
    """The refusals above are not a refusal of everything."""
    sub = f"promo.{world.b.domain.name}"

    response = post_zone(
        client, world.b.live_key_raw, {"name": sub, "customer": world.b.customer.pk}
    )

    assert response.status_code == 201, response.json()
    zone = Zone.objects.get(name=sub)
    assert zone.customer == world.b.customer and zone.domain == world.b.domain
    again = post_zone(client, world.b.live_key_raw, {"name": sub, "customer": world.b.customer.pk})
    assert again.json()["errors"] == {"name": [f"A zone for {sub} exists already."]}


def test_a_sandbox_key_gets_no_zone_for_a_live_domain(client, world):
    """The mode of the domain counts: a live domain is not held in sandbox mode."""
    before = snapshot()

    response = post_zone(
        client,
        world.a.sandbox_key_raw,
        {"name": f"shop.{world.a.domain.name}", "customer": world.a.sandbox_customer.pk},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [OWNERSHIP_MESSAGE]}
    assert snapshot() == before


def test_a_customer_gets_no_zone_under_another_tenants_domain(client, world):
    client.force_login(world.b.customer_user)
    before = snapshot()

    response = client.post(
        ZONES, {"name": f"promo.{world.a.domain.name}"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [OWNERSHIP_MESSAGE]}
    assert snapshot() == before


def test_staff_follow_the_same_rule(client, world):
    """Staff may pick any customer, but the zone must be a domain that customer holds."""
    client.force_login(world.staff)
    before = snapshot()
    answers = []
    for name in ("nobody-holds-this.com", "nameport.test", f"promo.{world.a.domain.name}"):
        response = client.post(
            ZONES,
            {"name": name, "customer": world.b.customer.pk},
            content_type="application/json",
        )
        answers.append((response.status_code, response.json()["errors"].get("name")))

    assert answers == [(400, [OWNERSHIP_MESSAGE])] * 2 + [(400, None)]
    assert snapshot() == before


@pytest.mark.parametrize("index", range(9))
def test_the_browser_form_refuses_the_same_names(client, world, index):
    TldFactory(name="com.ng")
    name = attack_names(world)[index]
    client.force_login(world.b.member)
    before = snapshot()

    response = client.post(
        reverse("dns:zone_create"), {"name": name, "customer": world.b.customer.pk}
    )

    assert response.status_code == 422
    assert OWNERSHIP_MESSAGE in response.content.decode()
    assert "exists already" not in response.content.decode()
    assert snapshot() == before


def test_the_admin_site_has_no_zone_create_form(client, world):
    client.force_login(world.staff)
    before = snapshot()
    add = reverse("admin:dns_zone_add")

    page = client.get(add)
    sent = client.post(
        add,
        {
            "organisation": world.b.organisation.pk,
            "customer": world.b.customer.pk,
            "name": f"promo.{world.a.domain.name}",
            "livemode": "on",
            "serial": 1,
            "default_ttl": 3600,
            "backend": "database",
            "push_status": "published",
        },
    )

    assert page.status_code == 403 and sent.status_code == 403
    assert snapshot() == before


def test_the_admin_change_form_cannot_move_a_zone_to_another_name(client, world):
    client.force_login(world.staff)
    zone = world.b.zone
    change = reverse("admin:dns_zone_change", args=[zone.pk])

    response = client.post(
        change,
        {
            "organisation": world.b.organisation.pk,
            "customer": world.b.customer.pk,
            "domain": "",
            "name": f"promo.{world.a.domain.name}",
            "livemode": "on",
            "serial": zone.serial,
            "default_ttl": 600,
            "backend": "database",
            "push_status": "published",
        },
    )

    assert response.status_code == 302  # saved: what staff may change there, changed
    zone.refresh_from_db()
    assert zone.default_ttl == 600
    assert (zone.name, zone.domain) == (world.b.domain.name, world.b.domain)


# --- the pre-claim ---------------------------------------------------------------------------


class FakeBackend:
    """What a real backend would be sent, by zone name."""

    def __init__(self):
        self.calls: list[tuple] = []

    def create_zone(self, zone, rrsets):
        self.calls.append(("create", zone, rrsets))

    def patch_zone(self, zone, rrsets):
        self.calls.append(("patch", zone, rrsets))

    def replace_all(self, zone, rrsets):
        self.calls.append(("replace", zone, rrsets))

    def delete_zone(self, zone):
        self.calls.append(("delete", zone, None))


def run_pushes() -> None:
    for push_id in (
        ZonePush.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    ):
        outbox.run_push(push_id)


def contents(calls) -> set[str]:
    return {c for _k, _z, rrsets in calls if rrsets for _ttl, cs in rrsets.values() for c in cs}


def test_a_pre_claimed_name_goes_to_the_customer_who_registers_it(
    client, world, settings, monkeypatch
):
    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    fake = FakeBackend()
    monkeypatch.setattr(outbox, "backend_for", lambda name: fake)
    name = "fresh-name.com"
    # B held the name once: it made the zone, a sub-zone and a forwarding, and they were
    # published. Then B's domain was deleted; the zones stayed.
    b_domain = DomainFactory(customer=world.b.customer, name=name)
    b_zone_id = post_zone(
        client, world.b.live_key_raw, {"name": name, "customer": world.b.customer.pk}
    ).json()["id"]
    b_sub_id = post_zone(
        client, world.b.live_key_raw, {"name": f"promo.{name}", "customer": world.b.customer.pk}
    ).json()["id"]
    client.put(
        f"{ZONES}{b_zone_id}/forwarding/",
        {"name": "@", "type": "URL", "target": "https://squatter.example/"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.b.live_key_raw,
    )
    run_pushes()
    fake.calls.clear()
    b_domain.status = DomainStatus.DELETED
    b_domain.save(update_fields=["status"])
    assert client.get("/", HTTP_HOST=name)["Location"] == "https://squatter.example/"

    # A registers the name on the platform's name servers; the worker records the success.
    account = world.a.domain.tld.registrar_account
    account.settings = {"balance": "100.00"}
    account.save()
    a_domain = domain_register(actor=SYSTEM, customer=world.a.customer, name=name)
    operation = RegistrarOperation.objects.get(domain=a_domain)
    assert registry_outbox.run_operation(operation.pk).status == "succeeded"

    a_zone = Zone.objects.filter(name=name, customer=world.a.customer).first()
    assert a_zone is not None, "the registrant was given the squatter's zone"
    assert a_zone.enabled and a_zone.domain == a_domain
    b_zone, b_sub = Zone.objects.get(pk=b_zone_id), Zone.objects.get(pk=b_sub_id)
    assert not b_zone.enabled and not b_sub.enabled
    assert b_zone.disabled_at is not None and "held by another customer" in b_zone.disabled_reason
    assert b_zone.changes.filter(action=ZoneChange.Action.DISABLE).exists()
    assert AuditEntry.objects.filter(action="dns.zone.disable").count() == 2
    # Staff are told; neither tenant reads the other's names in that ticket.
    ticket = Ticket.objects.get(is_system=True, subject__contains=name)
    assert ticket.staff_only and ticket.organisation_id is None and ticket.customer_id is None
    for tenant in (world.a, world.b):
        assert not visible_tickets(actor_for_user(tenant.member)).filter(pk=ticket.pk).exists()

    # Forwarding now answers from A's zone only; B's forwarding is gone with its zone.
    assert client.get("/", HTTP_HOST=name).status_code != 301
    # What the backend is sent: B's sub-zone removed, the name published with A's records.
    run_pushes()
    sent = {(kind, zone) for kind, zone, _r in fake.calls}
    assert sent == {("delete", f"promo.{name}"), ("create", name)}
    assert "https://squatter.example/" not in str(contents(fake.calls))
    assert ZonePush.objects.filter(status="failed").count() == 0

    # B sees its disabled zone, read only, with the reason; changing it is refused.
    zone_url = f"{ZONES}{b_zone_id}/"
    seen = client.get(zone_url, HTTP_ACCESS_TOKEN=world.b.live_key_raw).json()
    assert seen["enabled"] is False and seen["disabled_reason"] == b_zone.disabled_reason
    refused = client.post(
        f"{zone_url}records/",
        {"name": "www", "type": "A", "content": "203.0.113.9"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.b.live_key_raw,
    )
    assert refused.status_code == 403 and "disabled" in refused.json()["message"]
    deleted = client.delete(zone_url, HTTP_ACCESS_TOKEN=world.b.live_key_raw)
    assert deleted.status_code == 403 and Zone.objects.filter(pk=b_zone_id).exists()
    client.force_login(world.b.member)
    page = client.get(reverse("dns:zone_detail", args=[b_zone_id])).content.decode()
    assert "data-zone-disabled-reason" in page and 'data-action="delete-zone"' not in page


def test_a_pre_claimed_name_goes_to_the_customer_who_transfers_it_in(
    client, world, settings, monkeypatch
):
    """The same pre-claim for a transfer in: B made the zone while it held the name, the name
    left B (another registrar holds it now), and A transfers it in through the worker."""
    from datetime import timedelta

    from django.utils import timezone

    from domains.models import SandboxDomain
    from domains.services import domain_transfer_in

    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    monkeypatch.setattr(outbox, "backend_for", lambda name: FakeBackend())
    name = "moving-in.com"
    b_domain = DomainFactory(customer=world.b.customer, name=name)
    b_zone_id = post_zone(
        client, world.b.live_key_raw, {"name": name, "customer": world.b.customer.pk}
    ).json()["id"]
    client.put(
        f"{ZONES}{b_zone_id}/forwarding/",
        {"name": "@", "type": "URL", "target": "https://squatter.example/"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.b.live_key_raw,
    )
    b_domain.status = DomainStatus.TRANSFERRED_AWAY
    b_domain.save(update_fields=["status"])
    assert client.get("/", HTTP_HOST=name)["Location"] == "https://squatter.example/"
    now = timezone.now().replace(microsecond=0)
    SandboxDomain.objects.create(
        name=name,
        account="Other registrar",
        registered_at=now - timedelta(days=100),
        expires_at=now + timedelta(days=265),
        statuses=["ok"],
        auth_code="Their-auth-1",
    )
    account = world.a.domain.tld.registrar_account
    account.settings = {"balance": "100.00"}
    account.save()

    a_domain = domain_transfer_in(
        actor=SYSTEM, customer=world.a.customer, name=name, auth_code="Their-auth-1"
    )
    operation = RegistrarOperation.objects.get(domain=a_domain)
    assert registry_outbox.run_operation(operation.pk).status == "succeeded"

    a_domain.refresh_from_db()
    assert a_domain.status == DomainStatus.ACTIVE
    b_zone = Zone.objects.get(pk=b_zone_id)
    assert not b_zone.enabled and "held by another customer" in b_zone.disabled_reason
    assert (
        Zone.objects.filter(name=name, enabled=True).exclude(customer=world.a.customer).count() == 0
    )
    ticket = Ticket.objects.get(is_system=True, subject__contains=name)
    assert ticket.staff_only and ticket.customer_id is None
    # B's forwarding no longer answers for a name A holds now.
    assert client.get("/", HTTP_HOST=name).status_code != 301


def test_the_registrant_replaces_a_zone_made_before_the_rule(client, world):
    """A zone of another customer made before zones needed a held domain (no domain at all):
    when the holder creates its zone, that one is disabled, and the holder is not told that a
    zone of that name exists elsewhere."""
    from tests.dns.factories import ZoneFactory

    name = "made-before.com"
    old = ZoneFactory(
        domain=None,
        customer=world.b.customer,
        organisation=world.b.organisation,
        livemode=True,
        name=name,
    )
    DomainFactory(customer=world.a.customer, name=name)

    response = post_zone(
        client, world.a.live_key_raw, {"name": name, "customer": world.a.customer.pk}
    )

    assert response.status_code == 201, response.json()
    old.refresh_from_db()
    assert not old.enabled
    assert Ticket.objects.filter(is_system=True, subject__contains=name).count() == 1

"""/api/v1/zones/ and /api/v1/zones/{id}/records/: the caller's zones and their records."""

from __future__ import annotations

import pytest

from dns.models import Record
from tests.api_helpers import INTRUDERS, get_as, ids
from tests.dns.factories import RecordFactory, ZoneFactory
from tests.domains.factories import DomainFactory


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user", "live_key", "bearer"])
def test_each_actor_of_the_owner_lists_its_zones(client, world, who):
    response = get_as(client, world.a, who, "/api/v1/zones/")
    assert ids(response) == [world.a.zone.pk]
    assert "records" not in response.json()["results"][0]


def test_a_sandbox_key_sees_no_live_zone(client, world):
    response = get_as(client, world.a, "sandbox_key", "/api/v1/zones/")
    assert ids(response) == []


@pytest.mark.parametrize("who", INTRUDERS)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/zones/{zone}/",
        "/api/v1/zones/{zone}/records/",
        "/api/v1/zones/{zone}/records/{record}/",
    ],
)
def test_another_tenant_gets_404_for_the_zone_and_its_records(client, world, who, url):
    url = url.format(zone=world.a.zone.pk, record=world.a.record.pk)
    response = get_as(client, world.b, who, url)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert world.a.record.content not in response.content.decode()


def test_a_record_is_not_reachable_through_another_zone(client, world):
    """Own zone, other tenant's record id: still 404."""
    url = f"/api/v1/zones/{world.b.zone.pk}/records/{world.a.record.pk}/"
    response = get_as(client, world.b, "member", url)
    assert response.status_code == 404


def test_the_detail_nests_the_records(client, world):
    zone = world.a.zone
    mx = RecordFactory(zone=zone, name="@", type=Record.Type.MX, priority=10, content="mx.a.test.")
    response = get_as(client, world.a, "live_key", f"/api/v1/zones/{zone.pk}/")
    body = response.json()
    assert body["name"] == "alpha-site.com"
    assert body["serial"] == 2026112301
    assert body["domain"] == world.a.domain.pk
    assert [r["id"] for r in body["records"]] == [mx.pk, world.a.record.pk]
    assert body["records"][0] == {
        "id": mx.pk,
        "zone": zone.pk,
        "name": "@",
        "type": "MX",
        "ttl": 3600,
        "priority": 10,
        "content": "mx.a.test.",
        "created_at": body["records"][0]["created_at"],
    }


def test_the_records_endpoint_lists_and_filters(client, world):
    zone = world.a.zone
    txt = RecordFactory(zone=zone, name="@", type=Record.Type.TXT, content='"v=spf1 -all"')
    url = f"/api/v1/zones/{zone.pk}/records/"
    assert sorted(ids(get_as(client, world.a, "member", url))) == sorted(
        [world.a.record.pk, txt.pk]
    )
    assert ids(get_as(client, world.a, "member", url, {"type": "TXT"})) == [txt.pk]
    assert ids(get_as(client, world.a, "member", url, {"name": "ww"})) == [world.a.record.pk]
    bad = get_as(client, world.a, "member", url, {"type": "BOGUS"})
    assert bad.status_code == 400
    assert "type" in bad.json()["errors"]


def test_the_zone_filter_matches_by_name(client, world):
    other = ZoneFactory(domain=DomainFactory(customer=world.a.customer, name="other-zone.com"))
    response = get_as(client, world.a, "live_key", "/api/v1/zones/", {"q": "other"})
    assert ids(response) == [other.pk]


def test_a_contact_without_dns_privilege_sees_no_zone(client, world):
    contact = world.a.contact
    contact.privileges = {"domains": {str(world.a.domain.pk): ["basic"]}}
    contact.save()
    response = get_as(client, world.a, "contact_user", "/api/v1/zones/")
    assert ids(response) == []
    detail = get_as(client, world.a, "contact_user", f"/api/v1/zones/{world.a.zone.pk}/records/")
    assert detail.status_code == 404


def test_lists_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for n in range(10):
        zone = ZoneFactory(domain=DomainFactory(customer=world.a.customer, name=f"z{n}.com"))
        RecordFactory(zone=zone)
    for _ in range(10):
        RecordFactory(zone=world.a.zone, name="host")
    headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    client.get("/api/v1/zones/", **headers)  # stamps the key's last use
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/zones/", **headers).json()["count"] == 11
    with django_assert_max_num_queries(5):
        detail = client.get(f"/api/v1/zones/{world.a.zone.pk}/", **headers)
        assert len(detail.json()["records"]) == 11
    with django_assert_max_num_queries(5):
        records = client.get(f"/api/v1/zones/{world.a.zone.pk}/records/", **headers)
        assert records.json()["count"] == 11

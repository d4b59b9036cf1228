"""Zone list and zone page (records)."""

import re

import pytest
from django.urls import reverse

from dns.models import Record, Zone
from tests.customers.factories import ContactFactory, UserFactory
from tests.dns.factories import RecordFactory, ZoneFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def test_member_lists_its_zones(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("dns:zone_list"))
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert rows(response) == [world.a.zone.pk]
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results(client, world):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("dns:zone_list"), {"q": "alpha"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-table="zones"' in html
    assert rows(response) == [world.a.zone.pk]


def test_filters_by_name_and_publishing_state(client, world):
    failed = ZoneFactory(domain__customer=world.a.customer, push_status=Zone.PushStatus.FAILED)
    client.force_login(world.a.member)
    url = reverse("dns:zone_list")
    assert rows(client.get(url, {"push_status": "failed"})) == [failed.pk]
    assert rows(client.get(url, {"q": "alpha-site"})) == [world.a.zone.pk]
    assert "Nothing matches these filters." in client.get(url, {"q": "zzz"}).content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    for url in [reverse("dns:zone_list"), reverse("dns:zone_detail", args=[world.a.zone.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_other_tenant_gets_404(client, world, who):
    client.force_login(getattr(world.b, who))
    assert client.get(reverse("dns:zone_detail", args=[world.a.zone.pk])).status_code == 404
    assert world.a.zone.pk not in rows(client.get(reverse("dns:zone_list")))


def test_contact_without_dns_privilege_sees_no_zone(client, world):
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="nodns@alpha.test"),
        privileges={"domains": {str(world.a.domain.pk): ["basic"]}},
    )
    client.force_login(contact.user)
    assert rows(client.get(reverse("dns:zone_list"))) == []
    assert client.get(reverse("dns:zone_detail", args=[world.a.zone.pk])).status_code == 404


def test_zone_page_lists_its_records(client, world):
    mx = RecordFactory(
        zone=world.a.zone, name="@", type=Record.Type.MX, priority=10, content="mx.example.net"
    )
    client.force_login(world.a.customer_user)
    response = client.get(reverse("dns:zone_detail", args=[world.a.zone.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "mx.example.net" in html
    assert "192.0.2.10" in html
    assert set(rows(response)) == {world.a.record.pk, mx.pk}


def test_zone_page_filters_records_with_htmx(client, world):
    mx = RecordFactory(zone=world.a.zone, type=Record.Type.MX, priority=10, content="mx.test")
    client.force_login(world.a.member)
    response = client.get(
        reverse("dns:zone_detail", args=[world.a.zone.pk]),
        {"type": "MX"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html
    assert rows(response) == [mx.pk]


def test_empty_zone_says_so(client, world):
    empty = ZoneFactory(domain__customer=world.a.customer)
    client.force_login(world.a.member)
    html = client.get(reverse("dns:zone_detail", args=[empty.pk])).content.decode()
    assert "This zone has no records yet." in html


def test_query_counts(client, world, django_assert_max_num_queries):
    for _ in range(30):
        ZoneFactory(domain__customer=world.a.customer)
    for i in range(30):
        RecordFactory(zone=world.a.zone, name=f"host{i}")
    client.force_login(world.a.member)
    with django_assert_max_num_queries(6):
        assert len(rows(client.get(reverse("dns:zone_list")))) == 31
    with django_assert_max_num_queries(8):
        response = client.get(reverse("dns:zone_detail", args=[world.a.zone.pk]))
    assert len(rows(response)) == 31

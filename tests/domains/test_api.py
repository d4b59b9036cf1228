"""/api/v1/domains/: the caller's domains, never another tenant's, never an auth code."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.utils import timezone

from domains.filtersets import DomainFilterSet
from domains.models import DomainStatus, Nameserver
from domains.selectors import visible_domains
from portal.tenancy import actor_for_user
from tests.api_helpers import INTRUDERS, ids
from tests.domains.factories import DomainFactory


def get_as(client, tenant, who: str, url: str, data=None, *, login: bool = True):
    """GET ``url`` as one of ``tenant``'s actors: a session user, or an API key by header."""
    if who == "bearer":
        client.logout()
        return client.get(url, data, HTTP_AUTHORIZATION=f"Bearer {tenant.live_key_raw}")
    if who.endswith("_key"):
        client.logout()
        return client.get(url, data, HTTP_ACCESS_TOKEN=getattr(tenant, f"{who}_raw"))
    if login:
        client.logout()
        client.force_login(getattr(tenant, who))
    return client.get(url, data)


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user", "live_key", "bearer"])
def test_each_actor_of_the_owner_lists_its_live_domains(client, world, who):
    response = get_as(client, world.a, who, "/api/v1/domains/")
    assert ids(response) == [world.a.domain.pk]


@pytest.mark.parametrize("who", INTRUDERS)
def test_another_tenant_gets_404_for_the_domain(client, world, who):
    response = get_as(client, world.b, who, f"/api/v1/domains/{world.a.domain.pk}/")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert world.a.domain.name not in response.content.decode()


def test_the_detail_shows_the_domain_and_its_nameservers_in_order(client, world):
    domain = world.a.domain
    Nameserver.objects.create(domain=domain, position=2, hostname="ns2.example.net")
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.example.net")
    response = get_as(client, world.a, "live_key", f"/api/v1/domains/{domain.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "alpha-site.com"
    assert body["name_puny"] == "alpha-site.com"
    assert body["uuid"] == str(domain.uuid)
    assert body["tld"] == "com"
    assert body["customer"] == world.a.customer.pk
    assert body["status"] == "active"
    assert body["livemode"] is True
    assert body["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert body["registrar_lock"] is True
    assert body["period"] == 1


def test_the_auth_code_is_never_shown(client, world):
    domain = world.a.domain
    domain.auth_code = "Secret-EPP-Code-42"
    domain.save()
    client.force_login(world.staff)
    for url in ("/api/v1/domains/", f"/api/v1/domains/{domain.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Secret-EPP-Code-42" not in response.content.decode()
        assert "auth_code" not in response.content.decode()


def test_an_idn_domain_shows_both_forms(client, world):
    idn = DomainFactory(customer=world.a.customer, name="bücher.com", name_puny="xn--bcher-kva.com")
    response = get_as(client, world.a, "member", f"/api/v1/domains/{idn.pk}/")
    assert response.json()["name"] == "bücher.com"
    assert response.json()["name_puny"] == "xn--bcher-kva.com"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "active"},
        {"status": "expired"},
        {"status": ["expired", "redemption"]},
        {"q": "alpha"},
        {"q": "bücher"},
        {"tld": "net"},
        {"autorenew": "false"},
        {"expiring_within": "30"},
    ],
)
def test_a_filter_gives_the_same_ids_as_the_list_page_filterset(client, world, params):
    DomainFactory(customer=world.a.customer, name="expired-one.com", status=DomainStatus.EXPIRED)
    DomainFactory(customer=world.a.customer, name="bücher.com", name_puny="xn--bcher-kva.com")
    DomainFactory(customer=world.a.customer, name="alpha-two.net", tld__name="net")
    DomainFactory(customer=world.a.customer, name="manual.com", autorenew=False)
    DomainFactory(
        customer=world.a.customer,
        name="soon.com",
        expires_at=timezone.now() + timedelta(days=10),
    )
    response = get_as(client, world.a, "member", "/api/v1/domains/", params)
    query = QueryDict(urlencode(params, doseq=True))
    page = DomainFilterSet(query, queryset=visible_domains(actor_for_user(world.a.member)))
    assert page.is_valid()
    expected = list(page.qs.values_list("pk", flat=True))
    assert ids(response) == expected
    assert expected  # every filter above matches something, so the test is not vacuous


def test_status_filter_hides_other_statuses(client, world):
    expired = DomainFactory(customer=world.a.customer, status=DomainStatus.EXPIRED)
    response = get_as(client, world.a, "live_key", "/api/v1/domains/", {"status": "expired"})
    assert ids(response) == [expired.pk]


def test_ordering_by_expiry(client, world):
    later = DomainFactory(customer=world.a.customer, name="aaa-later.com")
    later.expires_at = world.a.domain.expires_at.replace(year=world.a.domain.expires_at.year + 2)
    later.save()
    response = get_as(client, world.a, "live_key", "/api/v1/domains/", {"ordering": "-expires_at"})
    assert ids(response) == [later.pk, world.a.domain.pk]


@pytest.mark.parametrize("who", ["member", "live_key"])
def test_the_list_runs_a_fixed_number_of_queries(client, world, who, django_assert_max_num_queries):
    for n in range(12):
        domain = DomainFactory(customer=world.a.customer, name=f"many-{n}.com")
        Nameserver.objects.create(domain=domain, position=1, hostname="ns1.example.net")
        Nameserver.objects.create(domain=domain, position=2, hostname="ns2.example.net")
    get_as(client, world.a, who, "/api/v1/domains/")  # signs in; stamps the key's last use
    headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw} if who == "live_key" else {}
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/domains/", **headers)
    assert len(response.json()["results"]) == 13
    assert response.json()["results"][1]["nameservers"] == ["ns1.example.net", "ns2.example.net"]

"""Domain list and page, and the registry operations list."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import DnssecDs, DomainStatus, DomainStatusChange, HostRecord, Nameserver
from domains.models import RegistrarOperation as Op
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import (
    DomainContactFactory,
    DomainFactory,
    RegistrarOperationFactory,
)

pytestmark = pytest.mark.django_db

OTHER_TENANT = ["member", "customer_user", "contact_user"]


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


# --- list -----------------------------------------------------------------------------------


def test_list_shows_the_members_domains(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("domains:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert rows(response) == [world.a.domain.pk]
    assert "bravo-site.com" not in html
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("domains:list"), {"q": "alpha"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-table="domains"' in html
    assert "HX-Request" in response["Vary"]


def test_boosted_htmx_request_gets_the_whole_page(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("domains:list"), HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert "<html" in response.content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    for url in [reverse("domains:list"), reverse("domains:detail", args=[world.a.domain.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", OTHER_TENANT)
def test_other_tenant_does_not_list_them(client, world, who):
    client.force_login(getattr(world.b, who))
    response = client.get(reverse("domains:list"))
    assert world.a.domain.pk not in rows(response)
    assert "alpha-site.com" not in response.content.decode()


def test_customer_sees_only_its_own_domains(client, world):
    other = DomainFactory(customer=CustomerFactory(organisation=world.a.organisation))
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:list"))
    assert rows(response) == [world.a.domain.pk]
    assert client.get(reverse("domains:detail", args=[other.pk])).status_code == 404


def test_contact_sees_only_the_domains_it_was_given(client, world):
    second = DomainFactory(customer=world.a.customer)
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="one-domain@alpha.test"),
        privileges={"domains": {str(second.pk): ["basic"]}},
    )
    client.force_login(contact.user)
    assert rows(client.get(reverse("domains:list"))) == [second.pk]
    assert client.get(reverse("domains:detail", args=[world.a.domain.pk])).status_code == 404
    assert client.get(reverse("domains:detail", args=[second.pk])).status_code == 200


def test_staff_lists_every_tenant(client, world):
    client.force_login(world.staff)
    found = set(rows(client.get(reverse("domains:list"))))
    assert {world.a.domain.pk, world.b.domain.pk, world.a.sandbox_domain.pk} <= found


def test_search_status_and_expiry_filters(client, world):
    soon = DomainFactory(
        customer=world.a.customer,
        name="renew-me.com",
        expires_at=timezone.now() + timedelta(days=5),
    )
    expired = DomainFactory(customer=world.a.customer, status=DomainStatus.EXPIRED)
    client.force_login(world.a.member)
    url = reverse("domains:list")
    assert rows(client.get(url, {"q": "renew"})) == [soon.pk]
    assert rows(client.get(url, {"status": "expired"})) == [expired.pk]
    assert rows(client.get(url, {"status": "active", "expiring_within": 30})) == [soon.pk]
    assert rows(client.get(url, {"customer": world.a.customer.pk, "q": "nothing-like-it"})) == []


def test_empty_results_say_so(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:list"), {"q": "zzz-nothing"}).content.decode()
    assert "Nothing matches these filters." in html


def test_a_reseller_without_domains_gets_a_friendly_empty_state(client, world):
    from tests.customers.factories import MembershipFactory

    newcomer = MembershipFactory(user=UserFactory(email="new@reseller.test")).user
    client.force_login(newcomer)
    html = client.get(reverse("domains:list")).content.decode()
    assert "No domains yet." in html


def test_sorting_by_name_both_ways(client, world):
    b = DomainFactory(customer=world.a.customer, name="bbb.com")
    a = DomainFactory(customer=world.a.customer, name="aaa.com")
    client.force_login(world.a.member)
    ascending = rows(client.get(reverse("domains:list"), {"sort": "name"}))
    assert ascending[:2] == [a.pk, world.a.domain.pk]
    descending = rows(client.get(reverse("domains:list"), {"sort": "-name"}))
    assert descending[0] == b.pk
    assert descending[-1] == a.pk


def test_fifty_per_page(client, world):
    for _ in range(54):
        DomainFactory(customer=world.a.customer)
    client.force_login(world.a.member)
    first = client.get(reverse("domains:list"))
    assert len(rows(first)) == 50
    assert "of 55" in first.content.decode()
    second = client.get(reverse("domains:list"), {"page": 2})
    assert len(rows(second)) == 5
    assert not set(rows(first)) & set(rows(second))


@pytest.mark.parametrize("who", ["staff", "member", "customer_user"])
def test_list_query_count_does_not_grow_with_rows(
    client, world, who, django_assert_max_num_queries
):
    for _ in range(40):
        DomainFactory(customer=world.a.customer)
    client.force_login(world.staff if who == "staff" else getattr(world.a, who))
    with django_assert_max_num_queries(7):
        response = client.get(reverse("domains:list"))
    assert len(rows(response)) > 40


# --- detail ---------------------------------------------------------------------------------


def test_detail_shows_everything_about_the_domain_but_the_auth_code(client, world):
    domain = world.a.domain
    domain.auth_code = "Sup3r-Secret-Auth"
    domain.save()
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.example.net")
    Nameserver.objects.create(domain=domain, position=2, hostname="ns2.example.net")
    DomainContactFactory(domain=domain, first_name="Regina", last_name="Strant")
    HostRecord.objects.create(domain=domain, hostname="ns1.alpha-site.com", ipv4=["192.0.2.53"])
    DnssecDs.objects.create(domain=domain, key_tag=12345, algorithm=13, digest_type=2, digest="AB")
    RegistrarOperationFactory(domain=domain, kind=Op.Kind.NAMESERVERS, status=Op.Status.SUCCEEDED)
    DomainStatusChange.objects.create(
        domain=domain, from_status="pending_registration", to_status="active", reason="registered"
    )
    client.force_login(world.a.member)
    url = reverse("domains:detail", args=[domain.pk])
    expected = {
        "overview": ["alpha-site.com", "ns1.example.net", "Regina Strant", "registered"],
        "nameservers": ["ns1.example.net", "ns2.example.net"],
        "contacts": ["Regina", "Strant"],
        "hosts": ["ns1.alpha-site.com", "192.0.2.53"],
        "dnssec": ["12345"],
        "auth-code": ["locked against transfers"],
    }
    for tab, texts in expected.items():
        response = client.get(url, {"tab": tab})
        assert response.status_code == 200
        html = response.content.decode()
        # The operation history is on every tab.
        assert "Nameservers" in html and "Succeeded" in html
        for text in texts:
            assert text in html, (tab, text)
        assert "Sup3r-Secret-Auth" not in html


def test_customer_sees_a_plain_message_for_a_failed_operation(client, world):
    RegistrarOperationFactory(
        domain=world.a.domain, status=Op.Status.FAILED, last_error="2201 Authorization error"
    )
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:detail", args=[world.a.domain.pk])).content.decode()
    assert "The registry refused this change" in html
    assert "2201" not in html


@pytest.mark.parametrize("who", OTHER_TENANT)
def test_other_tenant_gets_404_on_the_domain(client, world, who):
    client.force_login(getattr(world.b, who))
    assert client.get(reverse("domains:detail", args=[world.a.domain.pk])).status_code == 404


def test_detail_query_count(client, world, django_assert_max_num_queries):
    for position in range(1, 5):
        Nameserver.objects.create(
            domain=world.a.domain, position=position, hostname=f"ns{position}.example.net"
        )
    for _ in range(5):
        RegistrarOperationFactory(domain=world.a.domain)
    client.force_login(world.a.member)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("domains:detail", args=[world.a.domain.pk])).status_code == 200


# --- operations -----------------------------------------------------------------------------


def test_operations_list_filters_failed_ones(client, world):
    failed = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
    RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.SUCCEEDED)
    RegistrarOperationFactory(domain=world.b.domain, status=Op.Status.FAILED)
    client.force_login(world.a.member)
    response = client.get(reverse("domains:operation_list"), {"status": "failed"})
    assert response.status_code == 200
    assert rows(response) == [failed.pk]
    fragment = client.get(
        reverse("domains:operation_list"), {"status": "failed"}, HTTP_HX_REQUEST="true"
    )
    assert "<html" not in fragment.content.decode()
    assert rows(fragment) == [failed.pk]


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_do_not_get_the_operations_list(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(reverse("domains:operation_list")).status_code == 404


def test_operations_list_query_count(client, world, django_assert_max_num_queries):
    for _ in range(30):
        RegistrarOperationFactory(domain=world.a.domain)
    client.force_login(world.staff)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("domains:operation_list"))
    assert len(rows(response)) == 30


# --- every page, every role -------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "member", "customer_user", "contact_user"])
def test_every_domain_page_renders_for_every_role(client, world, who):
    client.force_login(world.staff if who == "staff" else getattr(world.a, who))
    pages = [
        reverse("domains:list"),
        reverse("domains:search"),
        reverse("domains:search") + "?q=alpha-site",
        reverse("domains:register") + "?name=fresh.com",
        reverse("domains:transfer"),
        reverse("domains:detail", args=[world.a.domain.pk]),
        reverse("domains:operations", args=[world.a.domain.pk]),
    ]
    if who in {"staff", "member"}:
        pages.append(reverse("domains:operation_list"))
    if who == "staff":
        pages += [reverse("domains:account_list"), reverse("domains:tld_list")]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url

"""The domain list's CSV export and bulk actions."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone

from domains.models import Domain, DomainStatus, Tld
from domains.models import RegistrarOperation as Op
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def export(client, **params) -> list[dict]:
    response = client.get(reverse("domains:export"), params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


# --- CSV export -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "renew"},
        {"status": "expired"},
        {"status": "active", "expiring_within": "30"},
        {"tld": "ng"},
        {"autorenew": "false", "sort": "-name"},
    ],
)
def test_the_export_has_the_same_rows_as_the_filtered_list(client, world, params):
    ng = Tld.objects.create(name="ng", registrar_account=world.a.domain.tld.registrar_account)
    DomainFactory(
        customer=world.a.customer,
        name="renew-me.com",
        expires_at=timezone.now() + timedelta(days=5),
        autorenew=False,
    )
    DomainFactory(customer=world.a.customer, status=DomainStatus.EXPIRED)
    DomainFactory(customer=world.a.customer, name="naija.ng", tld=ng)
    DomainFactory(customer=CustomerFactory(organisation=world.a.organisation), name="zz.com")
    client.force_login(world.a.member)
    listed = rows(client.get(reverse("domains:list"), params))
    exported = [int(row["id"]) for row in export(client, **params)]
    assert listed and exported == listed
    assert world.b.domain.pk not in exported


def test_the_export_is_scoped_like_the_list(client, world):
    client.force_login(world.a.customer_user)
    lines = export(client)
    assert [line["domain"] for line in lines] == ["alpha-site.com"]
    assert set(lines[0]) >= {"domain", "domain_ascii", "status", "expires_at", "customer_email"}
    assert "reseller" not in lines[0]
    client.force_login(world.staff)
    staff_lines = export(client)
    assert {line["domain"] for line in staff_lines} >= {"alpha-site.com", "bravo-site.com"}
    assert staff_lines[0]["reseller"]


def test_export_keeps_spreadsheet_formulas_as_text(client, world):
    world.a.customer.company = "=HYPERLINK(1)"
    world.a.customer.save()
    client.force_login(world.a.member)
    [line] = export(client)
    assert line["customer_company"] == "'=HYPERLINK(1)"


def test_the_list_links_to_the_export_with_its_filters(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:list"), {"q": "alpha"}, **HX).content.decode()
    assert "/domains/export.csv?q=alpha" in html


def test_the_export_query_count_does_not_grow_with_rows(
    client, world, django_assert_max_num_queries
):
    for _ in range(30):
        DomainFactory(customer=world.a.customer)
    client.force_login(world.a.member)
    with django_assert_max_num_queries(6):
        assert len(export(client)) == 31


# --- bulk actions ---------------------------------------------------------------------------------
def bulk(client, ids, action, **extra):
    data = {"ids": [str(i) for i in ids], "action": action, **extra}
    return client.post(reverse("domains:bulk"), data, **HX)


def test_the_list_has_a_checkbox_per_row_for_the_bulk_form(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:list")).content.decode()
    assert f'name="ids" value="{world.a.domain.pk}" form="bulk-form"' in html
    assert 'id="bulk-form"' in html


def test_bulk_unlock_reports_each_domain(client, world):
    second = DomainFactory(customer=world.a.customer, name="second.com")
    pending = DomainFactory(
        customer=world.a.customer, name="pending.com", status=DomainStatus.PENDING_REGISTRATION
    )
    client.force_login(world.a.member)
    response = bulk(client, [world.a.domain.pk, second.pk, pending.pk], "unlock")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "2 queued, 1 refused" in html
    assert f'data-bulk-result="{pending.pk}" data-ok="0"' in html
    assert "pending registration; it cannot be changed now" in html
    assert set(Domain.objects.filter(registrar_lock=False).values_list("pk", flat=True)) == {
        world.a.domain.pk,
        second.pk,
    }
    assert Op.objects.filter(kind=Op.Kind.LOCK).count() == 2
    assert "np-toast" in response["HX-Trigger"]


def test_bulk_never_touches_another_tenants_domains(client, world):
    client.force_login(world.a.member)
    html = bulk(client, [world.a.domain.pk, world.b.domain.pk], "unlock").content.decode()
    assert "1 queued, 1 not found" in html
    assert "bravo-site.com" not in html
    world.b.domain.refresh_from_db()
    assert world.b.domain.registrar_lock is True
    assert not Op.objects.filter(domain=world.b.domain).exists()


def test_bulk_renew_queues_one_renewal_per_domain(client, world):
    second = DomainFactory(customer=world.a.customer)
    client.force_login(world.a.customer_user)
    bulk(client, [world.a.domain.pk, second.pk], "renew", years="3")
    renewals = Op.objects.filter(kind=Op.Kind.RENEW)
    assert sorted(op.domain_id for op in renewals) == sorted([world.a.domain.pk, second.pk])
    assert [op.payload["years"] for op in renewals] == [3, 3]


def test_bulk_auto_renew_off_and_nameservers(client, world):
    client.force_login(world.a.member)
    bulk(client, [world.a.domain.pk], "autorenew_off")
    world.a.domain.refresh_from_db()
    assert world.a.domain.autorenew is False
    bulk(client, [world.a.domain.pk], "nameservers", nameservers="ns1.x.net ns2.x.net")
    assert list(world.a.domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.x.net",
        "ns2.x.net",
    ]


def test_bulk_nameservers_that_are_invalid_are_refused_for_every_domain(client, world):
    second = DomainFactory(customer=world.a.customer)
    client.force_login(world.a.member)
    html = bulk(
        client, [world.a.domain.pk, second.pk], "nameservers", nameservers="ns1@sedoparking.com"
    ).content.decode()
    assert "0 queued, 2 refused" in html
    assert not Op.objects.exists()


def test_a_contact_is_refused_where_it_lacks_the_privilege(client, world):
    second = DomainFactory(customer=world.a.customer, name="second.com")
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="partial@alpha.test"),
        privileges={"domains": {str(world.a.domain.pk): ["reglock"], str(second.pk): ["basic"]}},
    )
    client.force_login(contact.user)
    html = bulk(client, [world.a.domain.pk, second.pk], "unlock").content.decode()
    assert "1 queued, 1 refused" in html
    assert "privilege" in html.replace("&#x27;", "'")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "unlock"}, "Select at least one domain."),
        ({"ids": ["1"], "action": ""}, "This field is required."),
        ({"ids": ["1"], "action": "renew"}, "Choose how many years to renew for."),
        ({"ids": ["1"], "action": "nameservers"}, "Give the nameservers, one per line."),
        ({"ids": ["x"], "action": "lock"}, "Select domains from the list."),
    ],
)
def test_an_incomplete_bulk_request_is_refused(client, world, data, message):
    client.force_login(world.a.member)
    response = client.post(reverse("domains:bulk"), data, **HX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Op.objects.exists()


def test_a_bulk_action_without_htmx_renders_a_report_page(client, world):
    client.force_login(world.a.member)
    response = client.post(
        reverse("domains:bulk"), {"ids": [world.a.domain.pk], "action": "unlock"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "1 queued" in html


def test_bulk_refuses_get(client, world):
    client.force_login(world.a.member)
    assert client.get(reverse("domains:bulk")).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_a_bulk_action_hands_its_operations_to_the_workers_together(client, monkeypatch):
    """Each domain commits on its own, but a big selection reaches the workers as drain tasks
    (a few messages), a small one as one message per operation."""
    from domains import dispatch, tasks

    sent = {"drains": 0, "runs": []}
    monkeypatch.setattr(
        tasks.registrar_operations_drain,
        "delay",
        lambda **kw: sent.__setitem__("drains", sent["drains"] + 1),
    )
    monkeypatch.setattr(tasks.registrar_operation_run, "delay", sent["runs"].append)
    monkeypatch.setattr(dispatch, "DRAIN_THRESHOLD", 3)
    customer = CustomerFactory()
    domains = [DomainFactory(customer=customer) for _ in range(5)]
    member = UserFactory()
    customer.organisation.memberships.create(user=member, role="admin")
    client.force_login(member)

    bulk(client, [d.pk for d in domains], "unlock")
    assert sent == {"drains": 1, "runs": []}
    assert Op.objects.filter(kind=Op.Kind.LOCK, status=Op.Status.PENDING).count() == 5

    bulk(client, [domains[0].pk, domains[1].pk], "autorenew_off")
    assert sent["drains"] == 1
    assert sorted(sent["runs"]) == sorted(
        Op.objects.filter(kind=Op.Kind.AUTORENEW).values_list("pk", flat=True)
    )

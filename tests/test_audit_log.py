"""The audit log page (issue 12): every change by a person or a key, who, when, what and from
where; staff see the platform, a reseller's owner or admin its organisation only."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portal.audit import Origin, audit, origin
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_api_key
from tests.customers.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def rows(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())}


def entry(organisation, action="domain.renew", **fields) -> AuditEntry:
    fields.setdefault("actor", "someone")
    return AuditEntry.objects.create(organisation=organisation, action=action, **fields)


def test_a_change_made_in_the_browser_records_the_address_and_channel(client, world):
    client.force_login(world.staff)
    client.post(
        reverse("domains:tld_create"),
        {
            "page": "tld",
            "name": "audited",
            "grace_days": 30,
            "redemption_days": 30,
            "pending_delete_days": 5,
            "min_years": 1,
            "max_years": 10,
            "transfer_default": "approve",
        },
        REMOTE_ADDR="198.51.100.7",
    )
    row = AuditEntry.objects.get(action="tld.create")
    assert (row.ip_address, row.origin, row.actor) == (
        "198.51.100.7",
        "web",
        "staff:staff@nameport.test",
    )


def test_outside_a_request_the_origin_is_the_system():
    row = audit(actor=SYSTEM, action="test.system")
    assert (row.ip_address, row.origin) == (None, "system")
    with origin(Origin(ip_address="2001:db8::1", channel="api")):
        row = audit(actor=SYSTEM, action="test.api")
    assert (row.ip_address, row.origin) == ("2001:db8::1", "api")


def test_staff_see_every_organisation(client, world):
    mine, theirs = entry(world.a.organisation), entry(world.b.organisation)
    platform = entry(None, action="tld.update")
    client.force_login(world.staff)
    response = client.get(reverse("audit_log"))
    assert response.status_code == 200
    assert {mine.pk, theirs.pk, platform.pk} <= rows(response)


def test_an_owner_sees_only_its_organisation(client, world):
    mine, theirs = entry(world.a.organisation), entry(world.b.organisation)
    platform = entry(None)
    client.force_login(world.a.member)
    found = rows(client.get(reverse("audit_log")))
    assert mine.pk in found
    assert theirs.pk not in found and platform.pk not in found
    # Asking for the other organisation's entry by its object id finds nothing either.
    response = client.get(reverse("audit_log"), {"object_id": theirs.object_id or "x"})
    assert theirs.pk not in rows(response)


@pytest.mark.parametrize("role", ["billing", "support", "read_only"])
def test_other_roles_get_404(client, world, role):
    user = UserFactory(email=f"{role}@alpha.test")
    MembershipFactory(organisation=world.a.organisation, user=user, role=role)
    client.force_login(user)
    assert client.get(reverse("audit_log")).status_code == 404


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_get_404(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(reverse("audit_log")).status_code == 404


def test_filters_by_who_action_object_dates_and_address(client, world):
    org = world.a.organisation
    key_actor = actor_for_api_key(world.a.live_key)
    by_key = audit(actor=key_actor, action="domain.renew", obj=world.a.domain)
    by_person = entry(
        org,
        action="customer.update",
        object_type="customers.customer",
        object_id=str(world.a.customer.pk),
        actor="reseller:member@alpha.test",
        ip_address="203.0.113.9",
        origin="web",
    )
    client.force_login(world.staff)
    url = reverse("audit_log")
    assert rows(client.get(url, {"who": "api-key:"})) == {by_key.pk}
    assert rows(client.get(url, {"action": "customer.update"})) == {by_person.pk}
    found = rows(client.get(url, {"object_type": "domains.domain", "object_id": world.a.domain.pk}))
    assert found == {by_key.pk}
    assert rows(client.get(url, {"ip": "203.0.113"})) == {by_person.pk}
    today = by_key.created_at.date().isoformat()
    assert {by_key.pk, by_person.pk} <= rows(client.get(url, {"since": today, "until": today}))
    assert rows(client.get(url, {"until": "2000-01-01"})) == set()
    page = client.get(url).content.decode()
    assert 'type="date"' in page and "203.0.113.9" in page


def test_bad_filters_are_form_errors_not_500(client, world):
    client.force_login(world.staff)
    response = client.get(reverse("audit_log"), {"since": "not-a-date", "action": "nope"})
    assert response.status_code == 200


def test_it_paginates_and_the_fragment_has_no_shell(client, world):
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(organisation=world.a.organisation, actor="x", action="bulk.row")
            for _ in range(60)
        ]
    )
    client.force_login(world.a.member)
    first = rows(client.get(reverse("audit_log")))
    second = rows(client.get(reverse("audit_log"), {"page": 2}))
    assert first and second and not first & second
    fragment = client.get(reverse("audit_log"), **HX).content.decode()
    assert "<html" not in fragment


def test_the_staff_menu_lists_every_tool(client, world):
    client.force_login(world.staff)
    html = client.get(reverse("dashboard")).content.decode()
    for name in [
        "domains:operation_list",
        "domains:account_list",
        "domains:tld_list",
        "domains:registry_message_list",
        "audit_log",
        "billing:account_list",
        "billing:price_list",
        "admin:index",
    ]:
        assert f'href="{reverse(name)}"' in html, name
    client.force_login(world.a.member)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-nav="staff"' not in html
    assert f'href="{reverse("domains:tld_list")}"' not in html
    assert f'href="{reverse("audit_log")}"' in html  # an owner reads its organisation's log

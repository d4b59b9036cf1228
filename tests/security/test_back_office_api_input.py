"""Bad input on the back-office endpoints of the native API (contacts, keys, team, organisation
settings): ids past the bigint range, wrong types, nested junk in privileges. Each is a 4xx with
a message, never a 500, and nothing is written."""

from __future__ import annotations

import pytest

from customers.models import ApiKey, Contact, Invitation
from portal.models import AuditEntry

pytestmark = pytest.mark.django_db

HUGE = 2**63


def send(client, user, method, url, body):
    client.force_login(user)
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.mark.parametrize(
    "body",
    [
        {"customer": HUGE},
        {"customer": -1},
        {"customer": "1; drop table"},
        {"customer": None},
        {"privileges": {"domains": {"1": {"nested": ["renew"]}}}},
        {"privileges": {"billing": [["payinvoice"]]}},
        {"privileges": ["billing"]},
        {"email": ["a@b.test"]},
    ],
)
def test_a_bad_contact_is_a_4xx_and_writes_nothing(client, world, body):
    base = {
        "customer": world.a.customer.pk,
        "email": "bad@example.test",
        "first_name": "Bad",
        "last_name": "Input",
    }
    response = send(client, world.a.member, "post", "/api/v1/contacts/", {**base, **body})
    assert 400 <= response.status_code < 500, response.content
    assert "message" in response.json()
    assert not Contact.objects.filter(email="bad@example.test").exists()
    assert not AuditEntry.objects.filter(action="contact.create").exists()


@pytest.mark.parametrize("value", [str(HUGE), "0", "-3", "1.5", "\uff11"])
def test_a_bad_customer_filter_is_a_400(client, world, value):
    client.force_login(world.a.member)
    response = client.get("/api/v1/contacts/", {"customer": value})
    assert response.status_code == 400
    assert "message" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/contacts/{HUGE}/",
        f"/api/v1/api-keys/{HUGE}/",
        f"/api/v1/team-members/{HUGE}/",
        f"/api/v1/team-invitations/{HUGE}/",
    ],
)
def test_an_id_past_the_bigint_range_is_not_found(client, world, url):
    client.force_login(world.a.member)
    assert client.get(url).status_code in (400, 404)


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/v1/api-keys/", {"name": ["x"], "mode": "live"}),
        ("/api/v1/api-keys/", {"name": "x" * 101, "mode": "live"}),
        ("/api/v1/team-invitations/", {"email": "not-an-address", "role": "admin"}),
        ("/api/v1/team-invitations/", {"email": "x@alpha.test", "role": {"owner": 1}}),
    ],
)
def test_bad_key_and_invitation_input_is_a_400(client, world, url, body):
    keys, invitations = ApiKey.objects.count(), Invitation.objects.count()
    response = send(client, world.a.member, "post", url, body)
    assert response.status_code == 400
    assert "message" in response.json()
    assert (ApiKey.objects.count(), Invitation.objects.count()) == (keys, invitations)


@pytest.mark.parametrize(
    "body",
    [
        {"default_nameservers": "ns1.example.net"},
        {"default_nameservers": [{"host": "ns1"}, "ns2.example.net"]},
        {"reminder_days": [True, 7]},
        {"reminder_days": [HUGE]},
        {"renewal_invoice_days": "soon"},
        {"accent_colour": "#12345g"},
        {"name": ""},
    ],
)
def test_bad_settings_are_a_400(client, world, body):
    response = send(client, world.a.member, "patch", "/api/v1/organisation/", body)
    assert response.status_code == 400, response.content
    assert not AuditEntry.objects.filter(action="organisation.settings").exists()


def test_nameservers_are_stored_as_the_form_stores_them(client, world):
    response = send(
        client,
        world.a.member,
        "patch",
        "/api/v1/organisation/",
        {"default_nameservers": [" NS1.Alpha.test. ", "ns2.alpha.test"]},
    )
    assert response.status_code == 200, response.content
    world.a.organisation.refresh_from_db()
    assert world.a.organisation.default_nameservers == ["ns1.alpha.test", "ns2.alpha.test"]

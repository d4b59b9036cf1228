"""/api/v1/contacts/: a reseller (key or session) adds, changes, removes and invites its
customers' contacts with seed 003's privileges; the rules are customers.contacts'."""

from __future__ import annotations

import pytest

from customers.models import Contact
from portal.models import AuditEntry
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def send(client, tenant, who, method, url, body=None):
    client.logout()
    headers = {}
    if who.endswith("_key"):
        headers["HTTP_ACCESS_TOKEN"] = getattr(tenant, f"{who}_raw")
    else:
        client.force_login(getattr(tenant, who))
    return getattr(client, method)(url, body or {}, content_type="application/json", **headers)


def body(tenant, **extra):
    return {
        "customer": tenant.customer.pk,
        "email": "Ngozi@Example.test",
        "first_name": "Ngozi",
        "last_name": "Eze",
        "phone": "+234.8011112222",
        "privileges": {"billing": ["payinvoice"], "support": ["newticket", "tickets"]},
        **extra,
    }


@pytest.mark.parametrize("who", ["member", "live_key"])
def test_a_reseller_adds_a_contact_with_privileges(client, world, who):
    response = send(client, world.a, who, "post", URL, body(world.a))
    assert response.status_code == 201, response.content
    data = response.json()
    contact = Contact.objects.get(pk=data["id"])
    assert contact.customer == world.a.customer
    assert contact.email == "ngozi@example.test"
    assert data["privileges"] == {"billing": ["payinvoice"], "support": ["newticket", "tickets"]}
    assert data["has_login"] is False
    assert AuditEntry.objects.filter(action="contact.create", object_id=str(contact.pk)).exists()


def test_invite_mails_a_link_and_gives_a_login(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, world.a, "member", "post", URL, body(world.a, invite=True))
    assert response.status_code == 201, response.content
    assert response.json()["has_login"] is True
    [mail] = [m for m in mailoutbox if m.to == ["ngozi@example.test"]]
    assert "/customers/invitation/" in mail.body
    # The link is a secret: it is not in the API answer.
    assert "/customers/invitation/" not in response.content.decode()


def test_per_domain_privileges_name_only_the_customers_domains(client, world):
    own = world.a.domain
    foreign = world.b.domain
    good = body(world.a, privileges={"domains": {str(own.pk): ["renew", "nameservers"]}})
    assert send(client, world.a, "member", "post", URL, good).status_code == 201
    bad = body(
        world.a,
        email="other@example.test",
        privileges={"domains": {str(foreign.pk): ["renew"]}},
    )
    response = send(client, world.a, "member", "post", URL, bad)
    assert response.status_code == 400
    assert "this customer's own domains" in response.json()["message"]
    assert not Contact.objects.filter(email="other@example.test").exists()


def test_a_domain_of_another_customer_of_the_same_reseller_is_refused(client, world):
    neighbour_domain = DomainFactory(customer=world.a.sandbox_customer, name="neighbour.com")
    bad = body(world.a, privileges={"domains": {str(neighbour_domain.pk): ["renew"]}})
    assert send(client, world.a, "member", "post", URL, bad).status_code == 400


@pytest.mark.parametrize(
    "privileges, text",
    [
        ({"billing": ["steal"]}, "billing"),
        ({"billing": "payinvoice"}, "billing"),
        ({"nonsense": []}, "nonsense"),
    ],
)
def test_a_bad_privilege_is_a_clear_error(client, world, privileges, text):
    response = send(client, world.a, "member", "post", URL, body(world.a, privileges=privileges))
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not Contact.objects.filter(email="ngozi@example.test").exists()


def test_a_duplicate_address_is_refused(client, world):
    duplicate = body(world.a, email=world.a.contact.email)
    response = send(client, world.a, "member", "post", URL, duplicate)
    assert response.status_code == 400
    assert "already has a contact" in response.json()["message"]


def test_another_resellers_customer_is_refused(client, world):
    response = send(client, world.b, "member", "post", URL, body(world.a))
    assert response.status_code == 400
    assert response.json()["message"] == "customer: No such customer."
    assert not Contact.objects.filter(email="ngozi@example.test").exists()


def test_a_sandbox_key_cannot_add_to_a_live_customer(client, world):
    response = send(client, world.a, "sandbox_key", "post", URL, body(world.a))
    assert response.status_code == 400
    assert not Contact.objects.filter(email="ngozi@example.test").exists()


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_and_contacts_cannot_add_contacts_here(client, world, who):
    response = send(client, world.a, who, "post", URL, body(world.a))
    assert response.status_code == 404
    assert not Contact.objects.filter(email="ngozi@example.test").exists()


def test_a_read_only_member_is_refused(client, world):
    from customers.models import Membership

    Membership.objects.filter(user=world.a.member).update(role=Membership.Role.READ_ONLY)
    response = send(client, world.a, "member", "post", URL, body(world.a))
    assert response.status_code == 403
    assert "Read-only" in response.json()["message"]


def test_patch_changes_privileges_and_delete_removes(client, world):
    url = f"{URL}{world.a.contact.pk}/"
    response = send(
        client, world.a, "member", "patch", url, {"privileges": {"billing": ["orders"]}}
    )
    assert response.status_code == 200, response.content
    world.a.contact.refresh_from_db()
    assert world.a.contact.privileges == {"billing": ["orders"]}
    moved = send(client, world.a, "member", "patch", url, {"customer": world.b.customer.pk})
    assert moved.status_code == 400
    assert send(client, world.a, "member", "delete", url).status_code == 204
    assert not Contact.objects.filter(pk=world.a.contact.pk).exists()
    world.a.contact_user.refresh_from_db()
    assert world.a.contact_user.is_active is False


def test_the_list_filters_by_customer(client, world):
    response = send(client, world.a, "member", "get", f"{URL}?customer={world.a.customer.pk}")
    assert [row["id"] for row in response.json()["results"]] == [world.a.contact.pk]
    assert send(client, world.a, "member", "get", f"{URL}?customer=abc").status_code == 400


def test_the_privilege_catalogue(client, world):
    data = send(client, world.a, "member", "get", f"{URL}privileges/").json()
    assert "payinvoice" in data["billing"] and "eppcode" in data["domains"]

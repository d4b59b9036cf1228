"""Contacts on a customer account: added, edited and removed by the reseller with seed 003's
privileges chosen in a form, and invited by e-mail to set a password (one use, expires)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from customers import contacts
from customers.models import Contact
from portal.models import AuditEntry
from portal.tenancy import ActorKind, actor_for_user
from tests.customers.factories import ContactFactory
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-42"


def contact_form(**changes):
    data = {
        "first_name": "Ngozi",
        "last_name": "Okafor",
        "email": "ngozi@example.test",
        "phone": "+234.8033334444",
        "type": "Private",
        "billing": ["payinvoice", "balance"],
        "support": ["newticket", "tickets"],
        "send_invitation": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def invitation_link() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/customers/invitation/\S+/)", body).group(1)


def test_a_reseller_adds_a_contact_with_privileges_and_invites_it(
    client, world, django_capture_on_commit_callbacks
):
    customer = world.a.customer
    second = DomainFactory(customer=customer, name="second-alpha.com")
    client.force_login(world.a.member)
    url = reverse("customers:contact_create", kwargs={"pk": customer.pk})
    page = client.get(url).content.decode()
    assert second.name in page and world.b.domain.name not in page  # only its own domains
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            contact_form(domains=[str(second.pk)], domain_privileges=["basic", "nameservers"]),
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(email="ngozi@example.test")
    assert contact.privileges == {
        "billing": ["payinvoice", "balance"],
        "support": ["newticket", "tickets"],
        "domains": {str(second.pk): ["basic", "nameservers"]},
    }
    assert contact.has_privilege("domains", "nameservers", second.pk)
    assert not contact.has_privilege("domains", "nameservers", world.a.domain.pk)
    assert contact.user is not None and not contact.user.has_usable_password()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ngozi@example.test"]
    assert "/customers/invitation/" in mail.outbox[0].body


def test_a_domain_of_another_customer_is_refused(client, world):
    client.force_login(world.a.member)
    url = reverse("customers:contact_create", kwargs={"pk": world.a.customer.pk})
    response = client.post(
        url, contact_form(domains=[str(world.b.domain.pk)], domain_privileges=["basic"])
    )
    assert response.status_code == 400
    assert not Contact.objects.filter(email="ngozi@example.test").exists()


def test_the_service_refuses_a_domain_outside_the_allowed_list(world):
    with pytest.raises(contacts.ValidationError):
        contacts.contact_create(
            actor=actor_for_user(world.a.member),
            customer=world.a.customer,
            values={"first_name": "A", "last_name": "B", "email": "ab@example.test"},
            privileges={"domains": {str(world.b.domain.pk): ["basic"]}},
            allowed_domain_ids=[world.a.domain.pk],
        )


def test_domain_privileges_without_domains_is_a_form_error(client, world):
    client.force_login(world.a.member)
    url = reverse("customers:contact_create", kwargs={"pk": world.a.customer.pk})
    response = client.post(url, contact_form(domain_privileges=["renew"]))
    assert response.status_code == 400
    assert "Choose the domains" in response.content.decode()


def test_a_duplicate_contact_email_is_a_form_error(client, world):
    client.force_login(world.a.member)
    url = reverse("customers:contact_create", kwargs={"pk": world.a.customer.pk})
    response = client.post(url, contact_form(email=world.a.contact.email, send_invitation=None))
    assert response.status_code == 400
    assert "already has a contact" in response.content.decode()


def test_an_address_that_already_signs_in_elsewhere_is_not_invited(client, world):
    client.force_login(world.a.member)
    url = reverse("customers:contact_create", kwargs={"pk": world.a.customer.pk})
    response = client.post(url, contact_form(email=world.b.member.email))
    assert response.status_code == 400
    assert "already signs in" in response.content.decode()
    assert not Contact.objects.filter(email=world.b.member.email).exists()
    assert mail.outbox == []


def test_editing_changes_the_privileges(client, world):
    contact = world.a.contact
    client.force_login(world.a.member)
    url = reverse("customers:contact_edit", kwargs={"pk": contact.pk})
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        contact_form(email=contact.email, billing=["orders"], support=None, domains_full="on"),
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.privileges == {"billing": ["orders"], "domains": {"full": 1}}
    assert AuditEntry.objects.filter(action="contact.update", object_id=str(contact.pk)).exists()


def test_removing_a_contact_stops_its_sign_in(client, world):
    contact = world.a.contact
    client.force_login(world.a.contact_user)
    assert client.get(reverse("dashboard")).status_code == 200
    client.force_login(world.a.member)
    response = client.post(reverse("customers:contact_delete", kwargs={"pk": contact.pk}))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    world.a.contact_user.refresh_from_db()
    assert not world.a.contact_user.is_active
    assert actor_for_user(world.a.contact_user).kind == ActorKind.ANONYMOUS


def test_the_invitation_link_sets_a_password_once(
    client, world, django_capture_on_commit_callbacks
):
    contact = ContactFactory(customer=world.a.customer, email="invitee@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        contacts.contact_invite(
            actor=actor_for_user(world.a.member), contact=contact, base_url="http://testserver/"
        )
    link = invitation_link()
    page = client.get(link)
    assert page.status_code == 200 and "invitee@example.test" in page.content.decode()
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    contact.refresh_from_db()
    assert contact.user.check_password(NEW_PASSWORD)
    assert client.get(reverse("dashboard")).status_code == 200  # signed in
    client.logout()
    again = client.post(
        link, {"new_password1": "x-other-pass-99", "new_password2": "x-other-pass-99"}
    )
    assert again.status_code == 404
    contact.user.refresh_from_db()
    assert contact.user.check_password(NEW_PASSWORD)


def test_an_expired_invitation_link_does_not_work(
    client, world, settings, django_capture_on_commit_callbacks
):
    contact = ContactFactory(customer=world.a.customer, email="late@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        contacts.contact_invite(
            actor=actor_for_user(world.a.member), contact=contact, base_url="http://testserver/"
        )
    link = invitation_link()
    settings.PASSWORD_RESET_TIMEOUT = 60
    original = contacts.invitation_tokens._now
    contacts.invitation_tokens._now = lambda: original() + timedelta(hours=1)
    try:
        response = client.get(link)
    finally:
        contacts.invitation_tokens._now = original
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def test_a_password_reset_token_is_not_an_invitation(client, world):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = world.a.contact_user
    url = reverse(
        "customers:contact_invitation",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("uid", ["garbage", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_a_broken_link_answers_404(client, world, uid):
    url = reverse("customers:contact_invitation", kwargs={"uidb64": uid, "token": "abc-def"})
    assert client.get(url).status_code == 404


def test_another_organisation_cannot_touch_the_contacts(client, world):
    client.force_login(world.b.member)
    contact = world.a.contact
    for name in ("contact_edit", "contact_delete", "contact_invite"):
        response = client.post(reverse(f"customers:{name}", kwargs={"pk": contact.pk}))
        assert response.status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert mail.outbox == []

"""Registrant API tokens: the customer's account page (create, shown once, list, revoke), who
else may manage them, and ``manage.py issue_registrant_token``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Membership, RegistrantToken
from customers.registrant_tokens import token_authenticate, token_create, token_revoke
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_api_key, actor_for_user
from tests.customers.factories import CustomerFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

DOMAINS = "/api/v1/registrant/domains"


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_customer_creates_sees_once_lists_and_revokes_a_token(client, world):
    a = world.a
    client.force_login(a.customer_user)
    page = client.get(reverse("account:page")).content.decode()
    assert "Registrant API tokens" in page and "No tokens yet." in page

    response = client.post(reverse("account:registrant_token_create"), {"name": "Monitor"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["raw_token"]
    assert raw.startswith("np_reg_") and raw in response.content.decode()
    assert "Copy it now" in response.content.decode()
    token = RegistrantToken.objects.get(name="Monitor")
    assert token.customer == a.customer and token.created_by == a.customer_user
    assert token.token_hash != raw and raw not in token.prefix + token.token_hash
    entry = AuditEntry.objects.get(action="registrant_token.create", object_id=str(token.pk))
    assert raw not in str(entry.data) and token.prefix in str(entry.data)

    # The token works at once, and the list shows its prefix and when it was used, never it.
    assert client.get(DOMAINS, **bearer(raw)).status_code == 200
    listing = client.get(reverse("account:page")).content.decode()
    assert token.prefix in listing and raw not in listing and "Monitor" in listing
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert "Never" not in listing.split(token.prefix, 1)[1].split("</tr>", 1)[0]

    confirm = client.get(reverse("account:registrant_token_revoke", args=[token.pk]))
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # asking is not revoking
    assert client.get(DOMAINS, **bearer(raw)).status_code == 200
    revoked = client.post(reverse("account:registrant_token_revoke", args=[token.pk]))
    assert revoked.status_code == 302 and revoked["Location"] == reverse("account:page")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="registrant_token.revoke").count() == 1

    # Refused at once, with the document's error body.
    refused = client.get(DOMAINS, **bearer(raw))
    assert refused.status_code == 401
    assert refused.json() == {"errors": ["Invalid or revoked registrant token"]}
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert "Revoked" in client.get(reverse("account:page")).content.decode()


def test_a_token_needs_a_name(client, world):
    client.force_login(world.a.customer_user)
    response = client.post(reverse("account:registrant_token_create"), {"name": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert "np_reg_" not in response.content.decode()
    assert not RegistrantToken.objects.exists()


def test_members_contacts_and_staff_see_no_token_section_of_their_own(client, world):
    for user in (world.a.member, world.a.contact_user, world.staff):
        client.force_login(user)
        page = client.get(reverse("account:page")).content.decode()
        assert "Registrant API tokens" not in page, user
        response = client.post(reverse("account:registrant_token_create"), {"name": "x"})
        assert response.status_code == 403, user
    assert not RegistrantToken.objects.exists()


def test_a_contact_may_not_revoke_its_customers_token(client, world):
    token, _ = token_create(actor=SYSTEM, customer=world.a.customer, name="t")
    client.force_login(world.a.contact_user)
    url = reverse("account:registrant_token_revoke", args=[token.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_another_customers_or_organisations_token_is_not_found(client, world):
    neighbour = CustomerFactory(organisation=world.a.organisation)
    theirs, _ = token_create(actor=SYSTEM, customer=neighbour, name="theirs")
    foreign, _ = token_create(actor=SYSTEM, customer=world.b.customer, name="foreign")
    client.force_login(world.a.customer_user)
    for token in (theirs, foreign):
        url = reverse("account:registrant_token_revoke", args=[token.pk])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert "theirs" not in client.get(reverse("account:page")).content.decode()
    assert not RegistrantToken.objects.filter(revoked_at__isnull=False).exists()


def test_owners_and_admins_manage_their_customers_tokens_other_roles_may_not(world):
    customer = world.a.customer
    admin = actor_for_user(
        MembershipFactory(organisation=world.a.organisation, role=Membership.Role.ADMIN).user
    )
    token, _ = token_create(actor=admin, customer=customer, name="by the reseller")
    for role in (Membership.Role.READ_ONLY, Membership.Role.BILLING, Membership.Role.SUPPORT):
        who = actor_for_user(MembershipFactory(organisation=world.a.organisation, role=role).user)
        with pytest.raises(PermissionDenied):
            token_create(actor=who, customer=customer, name="no")
        with pytest.raises(PermissionDenied):
            token_revoke(actor=who, token=token)
    outsider = actor_for_user(world.b.member)
    with pytest.raises(PermissionDenied):
        token_create(actor=outsider, customer=customer, name="no")
    with pytest.raises(PermissionDenied):
        token_create(actor=actor_for_api_key(world.a.live_key), customer=customer, name="no")
    assert token_revoke(actor=admin, token=token).revoked_at is not None
    assert RegistrantToken.objects.count() == 1


def test_an_archived_customers_tokens_stop_working_and_it_gets_no_new_ones(world):
    customer = world.a.customer
    token, raw = token_create(actor=SYSTEM, customer=customer, name="t")
    assert token_authenticate(raw) == token
    customer.archived_at = timezone.now()
    customer.save(update_fields=["archived_at"])
    assert token_authenticate(raw) is None
    with pytest.raises(ValidationError):
        token_create(actor=SYSTEM, customer=customer, name="u")


def test_an_api_key_or_a_near_miss_is_no_token(world):
    _, raw = token_create(actor=SYSTEM, customer=world.a.customer, name="t")
    for wrong in (
        world.a.live_key_raw,
        raw[:-1],
        raw + "x",
        raw.replace("np_reg_", "np_live_"),
        "np_reg_",
        "np_reg__",
        "",
    ):
        assert token_authenticate(wrong) is None, wrong


def test_last_used_is_written_at_most_once_a_minute(world, django_assert_num_queries):
    token, raw = token_create(actor=SYSTEM, customer=world.a.customer, name="t")
    with django_assert_num_queries(2):  # read, and mark the first use
        token_authenticate(raw)
    with django_assert_num_queries(1):  # a second later: read only
        token_authenticate(raw)
    RegistrantToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    with django_assert_num_queries(2):
        token_authenticate(raw)


# --- manage.py issue_registrant_token ----------------------------------------------------------
def issue(*args) -> list[str]:
    out = StringIO()
    call_command("issue_registrant_token", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_command_prints_a_working_token_alone_on_the_last_line(client, world):
    lines = issue(world.a.customer.email)
    raw = lines[-1]
    assert raw.startswith("np_reg_") and " " not in raw
    assert any(world.a.organisation.name in line for line in lines[:-1])
    token = token_authenticate(raw)
    assert token is not None and token.customer == world.a.customer
    body = client.get(DOMAINS, **bearer(raw)).json()
    assert [d["name"] for d in body] == [world.a.domain.name]


def test_the_command_finds_the_customer_by_its_users_address_too(world):
    raw = issue(world.a.customer_user.email)[-1]
    assert token_authenticate(raw).customer == world.a.customer


def test_the_command_chooses_by_organisation_and_sandbox(world):
    email = world.a.customer.email
    other = OrganisationFactory(slug="other-reseller", name="Other Reseller")
    elsewhere = CustomerFactory(organisation=other, email=email)
    sandbox = CustomerFactory(organisation=world.a.organisation, email=email, livemode=False)

    with pytest.raises(CommandError, match="More than one live customer account"):
        issue(email)
    assert token_authenticate(issue(email, "--organisation", "other-reseller")[-1]).customer == (
        elsewhere
    )
    by_id = issue(email, "--organisation", str(world.a.organisation.pk))[-1]
    assert token_authenticate(by_id).customer == world.a.customer
    by_name = issue(email, "--organisation", "Other Reseller")[-1]
    assert token_authenticate(by_name).customer == elsewhere
    sandboxed = issue(email, "--sandbox", "--organisation", world.a.organisation.slug)[-1]
    assert token_authenticate(sandboxed).customer == sandbox
    assert token_authenticate(issue(email, "--sandbox")[-1]).customer == sandbox


def test_the_command_refuses_no_match_clearly(world):
    before = RegistrantToken.objects.count()
    with pytest.raises(CommandError, match="No customer account"):
        issue("nobody@example.test")
    with pytest.raises(CommandError, match="No sandbox customer account"):
        issue(world.a.customer.email, "--sandbox")
    with pytest.raises(CommandError, match="at organisation 'bravo'"):
        issue(world.a.customer.email, "--organisation", "bravo")
    assert RegistrantToken.objects.count() == before


def test_the_reseller_signed_in_as_the_customer_manages_its_tokens_under_its_own_name(
    client, world
):
    a = world.a
    client.force_login(a.member)
    client.post(reverse("customers:impersonate", kwargs={"pk": a.customer.pk}), {"confirm": "1"})
    assert "Registrant API tokens" in client.get(reverse("account:page")).content.decode()
    raw = client.post(reverse("account:registrant_token_create"), {"name": "for them"}).context[
        "raw_token"
    ]
    token = token_authenticate(raw)
    assert token.customer == a.customer and token.created_by == a.member
    entry = AuditEntry.objects.get(action="registrant_token.create")
    assert entry.user == a.member and entry.data["impersonating_customer"] == a.customer.pk


def test_an_owner_revokes_its_customers_token_and_returns_to_the_customer(client, world):
    token, raw = token_create(actor=SYSTEM, customer=world.a.customer, name="leaked")
    client.force_login(world.a.member)
    url = reverse("account:registrant_token_revoke", args=[token.pk])
    assert "leaked" in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == reverse("customers:detail", kwargs={"pk": world.a.customer.pk})
    assert token_authenticate(raw) is None

"""The role table (customers/roles.py) and its enforcement for every change a member makes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Membership
from customers.roles import Right, may, refusal, require, right_for_path
from portal.tenancy import ANONYMOUS, SYSTEM, Actor, ActorKind, actor_for_api_key
from tests.customers.factories import MembershipFactory, UserFactory

Role = Membership.Role


def member(role: str) -> Actor:
    return Actor(kind=ActorKind.RESELLER, membership_role=role)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, set(Right)),
        (Role.ADMIN, set(Right)),
        (Role.BILLING, {Right.BILLING}),
        (Role.SUPPORT, {Right.SUPPORT}),
        (Role.READ_ONLY, set()),
    ],
)
def test_each_role_has_exactly_its_rights(role, allowed):
    assert {right for right in Right if may(member(role), right)} == allowed


def test_an_unknown_role_may_change_nothing():
    assert not any(may(member("member"), right) for right in Right)


def test_staff_may_everything_and_a_key_may_not_manage_people_or_keys(world):
    assert all(may(SYSTEM, right) for right in Right)
    key = actor_for_api_key(world.a.live_key)
    assert may(key, Right.DOMAINS) and may(key, Right.BILLING)
    assert not may(key, Right.TEAM) and not may(key, Right.API_KEYS)
    assert not may(ANONYMOUS, Right.DOMAINS)


def test_the_refusal_names_the_role_and_what_it_may_not_do():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied) as refused:
        require(member(Role.READ_ONLY), Right.DOMAINS)
    assert str(refused.value) == refusal(member(Role.READ_ONLY), Right.DOMAINS)
    assert "Read-only" in str(refused.value) and "domains" in str(refused.value)


@pytest.mark.parametrize(
    ("path", "right"),
    [
        ("/domains/12/renew/", Right.DOMAINS),
        ("/dns/zones/3/records/", Right.DOMAINS),
        ("/billing/invoices/4/pay/", Right.BILLING),
        ("/support/tickets/T-1/reply/", Right.SUPPORT),
        ("/customers/new/", Right.CUSTOMERS),
        ("/team/invite/", Right.TEAM),
        ("/team/api-keys/new/", Right.API_KEYS),
        ("/team/security/", Right.SETTINGS),
        ("/api/v1/domains/1/", Right.DOMAINS),
        ("/api/v1/tickets/", Right.SUPPORT),
        ("/api/v1/invoices/1/", Right.BILLING),
        ("/settings/", Right.SETTINGS),
        ("/api/v1/something-new/", Right.SETTINGS),
        ("/account/password/", None),
        ("/accounts/logout/", None),
        ("/mode/", None),
        ("/team/join/abc/", None),
    ],
)
def test_every_change_url_needs_its_right(path, right):
    assert right_for_path(path) == right


def _as(client, world, role: str):
    user = UserFactory(email=f"{role}@alpha.test")
    MembershipFactory(organisation=world.a.organisation, user=user, role=role)
    client.force_login(user)
    return user


def test_a_billing_member_may_not_change_a_domain_but_may_read_it(client, world):
    _as(client, world, Role.BILLING)
    domain = world.a.domain
    before = domain.autorenew
    assert client.get(reverse("domains:detail", args=[domain.pk])).status_code == 200
    response = client.post(
        reverse("domains:autorenew", args=[domain.pk]), {"value": "0" if before else "1"}
    )
    assert response.status_code == 403
    assert "Billing" in response.content.decode()
    domain.refresh_from_db()
    assert domain.autorenew == before


def test_a_support_member_may_answer_a_ticket(client, world):
    _as(client, world, Role.SUPPORT)
    ticket = world.a.ticket
    response = client.post(
        reverse("support:ticket_reply", args=[ticket.ticket_number]), {"body": "On it."}
    )
    assert response.status_code != 403
    assert ticket.messages.filter(body="On it.").exists()


def test_a_read_only_member_is_refused_in_the_api_too(client, world):
    _as(client, world, Role.READ_ONLY)
    url = f"/api/v1/domains/{world.a.domain.pk}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"auto_renew": False}, content_type="application/json")
    assert response.status_code == 403
    assert "Read-only" in response.json()["message"]


def test_an_api_key_is_not_held_to_the_session_members_role(client, world):
    """A request that carries a key acts as the key, whoever's browser sends it."""
    _as(client, world, Role.READ_ONLY)
    response = client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 200


def test_an_htmx_action_refused_by_the_role_says_why_in_a_toast(client, world):
    import json

    _as(client, world, Role.SUPPORT)
    response = client.post(
        reverse("domains:lock", args=[world.a.domain.pk]), {"value": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    toast = json.loads(response["HX-Trigger"])["np-toast"]
    assert "Support" in toast["message"] and toast["level"] == "danger"

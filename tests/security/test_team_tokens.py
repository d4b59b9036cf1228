"""Attacks on team and access (issue 12, part 2): replayed invitation links and recovery codes,
another organisation's keys and members, and a read-only member trying to change things."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers import account, team
from customers.models import ApiKey, Invitation, Membership, RecoveryCode
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import MembershipFactory, UserFactory

Role = Membership.Role


def invite(world, email="join@example.test", role=Role.SUPPORT):
    actor = actor_for_user(world.a.member)
    return team.invitation_create(
        actor=actor,
        organisation=world.a.organisation,
        email=email,
        role=role,
        site_url="http://testserver",
    )


def read_only(client, world):
    user = UserFactory(email="ro@alpha.test")
    MembershipFactory(organisation=world.a.organisation, user=user, role=Role.READ_ONLY)
    client.force_login(user)
    return user


def test_an_invitation_token_works_once(world, client):
    _invitation, token = invite(world)
    team.invitation_accept(token=token, password="first-pass-phrase", first_name="A", last_name="B")
    with pytest.raises(ValidationError):
        team.invitation_accept(
            token=token, password="second-pass-phrase", first_name="C", last_name="D"
        )
    assert client.get(reverse("team:join", args=[token])).status_code == 404
    # Someone else signed in cannot spend it either.
    intruder = UserFactory(email="intruder@example.test")
    client.force_login(intruder)
    client.post(reverse("team:join", args=[token]))
    assert not Membership.objects.filter(user=intruder).exists()
    assert (
        Membership.objects.filter(
            organisation=world.a.organisation, user__email="join@example.test"
        ).count()
        == 1
    )


def test_an_expired_or_guessed_token_is_refused(world, client):
    invitation, token = invite(world)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("team:join", args=[token]))
    assert response.status_code == 404
    assert "not valid any more" in response.content.decode()
    assert client.get(reverse("team:join", args=[token[:-1] + "x"])).status_code == 404
    assert client.get(reverse("team:join", args=[invitation.token_hash])).status_code == 404


def test_a_stored_invitation_hash_is_not_the_token(world):
    invitation, token = invite(world)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64


def test_a_recovery_code_cannot_be_replayed(world):
    user = world.a.member
    codes = account.recovery_codes_generate(actor=SYSTEM, user=user)
    assert account.recovery_code_use(actor=SYSTEM, user=user, code=codes[3])
    assert not account.recovery_code_use(actor=SYSTEM, user=user, code=codes[3])
    # Another user's code is not this user's (the hash is keyed per user).
    other = world.b.member
    assert not account.recovery_code_use(actor=SYSTEM, user=other, code=codes[4])
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1


def test_an_admin_of_one_organisation_cannot_revoke_anothers_key(world, client):
    admin = UserFactory(email="admin@alpha.test")
    MembershipFactory(organisation=world.a.organisation, user=admin, role=Role.ADMIN)
    client.force_login(admin)
    victim = world.b.live_key
    assert client.get(reverse("team:api_key_revoke", args=[victim.pk])).status_code == 404
    assert client.post(reverse("team:api_key_revoke", args=[victim.pk])).status_code == 404
    victim.refresh_from_db()
    assert victim.revoked_at is None
    client.logout()
    assert client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=world.b.live_key_raw).status_code == 200


def test_an_api_key_cannot_issue_keys_or_touch_the_team(world):
    from django.core.exceptions import PermissionDenied

    from customers.services import api_key_issue
    from portal.tenancy import actor_for_api_key

    key_actor = actor_for_api_key(world.a.live_key)
    with pytest.raises(PermissionDenied):
        api_key_issue(actor=key_actor, organisation=world.a.organisation, livemode=True)
    with pytest.raises(PermissionDenied):
        team.invitation_create(
            actor=key_actor,
            organisation=world.a.organisation,
            email="k@example.test",
            role=Role.ADMIN,
            site_url="http://testserver",
        )
    assert ApiKey.objects.filter(organisation=world.a.organisation).count() == 2


def test_a_read_only_member_cannot_change_a_domain(world, client):
    read_only(client, world)
    domain = world.a.domain
    before = (domain.autorenew, domain.status)
    for name in ("autorenew", "lock", "renew", "nameservers"):
        response = client.post(reverse(f"domains:{name}", args=[domain.pk]), {"value": "0"})
        assert response.status_code == 403, name
        assert "Read-only" in response.content.decode()
    domain.refresh_from_db()
    assert (domain.autorenew, domain.status) == before
    api = client.post(
        f"/api/v1/domains/{domain.pk}/renew/", {"years": 1}, content_type="application/json"
    )
    assert api.status_code == 403


def test_a_read_only_member_cannot_change_a_ticket(world, client):
    read_only(client, world)
    ticket = world.a.ticket
    count = ticket.messages.count()
    reply = client.post(reverse("support:ticket_reply", args=[ticket.ticket_number]), {"body": "x"})
    assert reply.status_code == 403
    close = client.post(reverse("support:ticket_close", args=[ticket.ticket_number]))
    assert close.status_code == 403
    ticket.refresh_from_db()
    assert ticket.messages.count() == count and ticket.status == world.a.ticket.status


def test_a_read_only_member_cannot_change_a_setting_or_its_own_role(world, client):
    user = read_only(client, world)
    organisation = world.a.organisation
    response = client.post(reverse("team:two_factor_policy"), {"require_2fa_members": "on"})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert not organisation.require_2fa_members
    own = user.memberships.get()
    assert (
        client.post(reverse("team:member_role", args=[own.pk]), {"role": "owner"}).status_code
        == 403
    )
    own.refresh_from_db()
    assert own.role == Role.READ_ONLY
    assert (
        client.post(reverse("team:api_key_create"), {"name": "x", "mode": "live"}).status_code
        == 403
    )


def test_a_read_only_member_may_still_look_and_change_its_own_account(world, client):
    read_only(client, world)
    assert client.get(reverse("domains:detail", args=[world.a.domain.pk])).status_code == 200
    assert (
        client.get(
            reverse("support:ticket_detail", args=[world.a.ticket.ticket_number])
        ).status_code
        == 200
    )
    assert client.post(reverse("account:sessions_end")).status_code == 302
    assert client.post(reverse("set_mode"), {"livemode": "0"}).status_code == 302

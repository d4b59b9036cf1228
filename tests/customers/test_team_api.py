"""/api/v1/api-keys/, /api/v1/team-members/, /api/v1/team-invitations/: a reseller's owner or
admin, signed in, issues and revokes keys and invites, re-roles and removes members through the
native API; keys and narrower roles are refused, another organisation's rows are 404."""

from __future__ import annotations

import pytest

from customers.models import ApiKey, Invitation, Membership
from tests.customers.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def send(client, tenant, who, method, url, body=None, **headers):
    client.logout()
    if who.endswith("_key"):
        headers["HTTP_ACCESS_TOKEN"] = getattr(tenant, f"{who}_raw")
    else:
        client.force_login(getattr(tenant, who))
    return getattr(client, method)(url, body or {}, content_type="application/json", **headers)


def test_an_owner_issues_a_key_shown_once_that_works_then_revokes_it(client, world):
    response = send(
        client, world.a, "member", "post", "/api/v1/api-keys/", {"name": "CI", "mode": "live"}
    )
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    raw = data["key"]
    assert raw.startswith("np_live_") and data["prefix"] == raw[: len(data["prefix"])]
    key = ApiKey.objects.get(pk=data["id"])
    assert key.key_hash != raw and raw not in str(vars(key))

    client.logout()
    assert client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=raw).status_code == 200
    listed = send(client, world.a, "member", "get", f"/api/v1/api-keys/{key.pk}/").json()
    assert "key" not in listed and listed["use_count"] == 1 and listed["mode"] == "live"

    revoked = send(client, world.a, "member", "post", f"/api/v1/api-keys/{key.pk}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    client.logout()
    assert client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=raw).status_code == 401


def test_a_key_cannot_issue_or_revoke_keys(client, world):
    before = ApiKey.objects.count()
    response = send(
        client, world.a, "live_key", "post", "/api/v1/api-keys/", {"name": "x", "mode": "live"}
    )
    assert response.status_code == 403
    assert ApiKey.objects.count() == before
    url = f"/api/v1/api-keys/{world.a.live_key.pk}/revoke/"
    assert send(client, world.a, "live_key", "post", url).status_code == 403
    world.a.live_key.refresh_from_db()
    assert world.a.live_key.revoked_at is None


def test_a_key_lists_only_the_keys_of_its_mode(client, world):
    rows = send(client, world.a, "sandbox_key", "get", "/api/v1/api-keys/").json()["results"]
    assert [row["id"] for row in rows] == [world.a.sandbox_key.pk]


@pytest.mark.parametrize("body, field", [({"name": "x", "mode": "prod"}, "mode"), ({}, "name")])
def test_bad_key_input_is_a_clear_error(client, world, body, field):
    before = ApiKey.objects.count()
    response = send(client, world.a, "member", "post", "/api/v1/api-keys/", body)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert ApiKey.objects.count() == before


def test_an_owner_invites_a_member_by_email(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            client,
            world.a,
            "member",
            "post",
            "/api/v1/team-invitations/",
            {"email": "new@alpha.test", "role": "support"},
        )
    assert response.status_code == 201, response.content
    assert response.json()["state"] == "open"
    [mail] = [m for m in mailoutbox if m.to == ["new@alpha.test"]]
    assert "/team/join/" in mail.body and "/team/join/" not in response.content.decode()
    invitation = Invitation.objects.get(pk=response.json()["id"])
    revoked = send(
        client, world.a, "member", "post", f"/api/v1/team-invitations/{invitation.pk}/revoke/"
    )
    assert revoked.json()["state"] == "revoked"


def test_an_admin_cannot_invite_an_owner(client, world):
    Membership.objects.filter(user=world.a.member).update(role=Membership.Role.ADMIN)
    response = send(
        client,
        world.a,
        "member",
        "post",
        "/api/v1/team-invitations/",
        {"email": "boss@alpha.test", "role": "owner"},
    )
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="boss@alpha.test").exists()


@pytest.mark.parametrize("role", ["billing", "support", "read_only"])
def test_narrower_roles_cannot_manage_the_team_or_keys(client, world, role):
    Membership.objects.filter(user=world.a.member).update(role=role)
    invite = send(
        client,
        world.a,
        "member",
        "post",
        "/api/v1/team-invitations/",
        {"email": "x@alpha.test", "role": "support"},
    )
    assert invite.status_code == 403 and "may not" in invite.json()["message"]
    key = send(
        client, world.a, "member", "post", "/api/v1/api-keys/", {"name": "x", "mode": "live"}
    )
    assert key.status_code == 403
    assert not Invitation.objects.filter(email="x@alpha.test").exists()


def test_an_owner_changes_a_role_and_removes_a_member(client, world):
    other = MembershipFactory(
        organisation=world.a.organisation,
        user=UserFactory(email="helper@alpha.test"),
        role=Membership.Role.READ_ONLY,
    )
    url = f"/api/v1/team-members/{other.pk}/"
    response = send(client, world.a, "member", "patch", url, {"role": "billing"})
    assert response.status_code == 200 and response.json()["role"] == "billing"
    assert send(client, world.a, "member", "patch", url, {"role": "god"}).status_code == 400
    assert send(client, world.a, "member", "delete", url).status_code == 204
    assert not Membership.objects.filter(pk=other.pk).exists()


def test_the_last_owner_cannot_be_removed(client, world):
    me = Membership.objects.get(user=world.a.member)
    response = send(client, world.a, "member", "delete", f"/api/v1/team-members/{me.pk}/")
    assert response.status_code in (400, 403)
    assert Membership.objects.filter(pk=me.pk).exists()


def test_another_organisations_team_is_not_found(client, world):
    theirs = Membership.objects.get(user=world.b.member)
    url = f"/api/v1/team-members/{theirs.pk}/"
    assert send(client, world.a, "member", "patch", url, {"role": "read_only"}).status_code == 404
    assert send(client, world.a, "member", "delete", url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Membership.Role.OWNER
    emails = [
        row["email"]
        for row in send(client, world.a, "member", "get", "/api/v1/team-members/").json()["results"]
    ]
    assert world.b.member.email not in emails and world.a.member.email in emails

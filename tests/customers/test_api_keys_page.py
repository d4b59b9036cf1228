"""The API keys page: create (shown once), list, revoke; every use counted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import ApiKey, Membership
from portal.models import AuditEntry
from tests.customers.factories import MembershipFactory, UserFactory


def create(client, name="WHMCS", mode="sandbox"):
    return client.post(reverse("team:api_key_create"), {"name": name, "mode": mode})


def test_a_new_key_is_shown_once_then_only_its_prefix(client, world):
    client.force_login(world.a.member)
    response = create(client, mode="live")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["raw_key"]
    assert raw.startswith("np_live_") and raw in response.content.decode()
    key = ApiKey.objects.get(name="WHMCS")
    assert key.livemode and key.created_by == world.a.member
    assert key.key_hash != raw
    entry = AuditEntry.objects.get(action="api_key.issue", object_id=str(key.pk))
    assert raw not in str(entry.data)

    listing = client.get(reverse("team:api_keys")).content.decode()
    assert key.prefix in listing and raw not in listing
    assert "member@alpha.test" in listing  # created by
    assert world.b.live_key.prefix not in listing


def test_a_name_is_required(client, world):
    client.force_login(world.a.member)
    response = create(client, name="")
    assert response.status_code == 400
    assert not ApiKey.objects.filter(created_by=world.a.member).exists()


def test_every_use_is_counted_and_a_revoked_key_is_refused_at_once(client, world):
    client.force_login(world.a.member)
    raw = create(client, mode="live").context["raw_key"]
    key = ApiKey.objects.get(name="WHMCS")
    client.logout()
    for _ in range(3):
        assert client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=raw).status_code == 200
    key.refresh_from_db()
    assert key.use_count == 3 and key.last_used_at is not None

    client.force_login(world.a.member)
    page = client.get(reverse("team:api_keys")).content.decode()
    assert "data-use-count>3<" in page
    confirm = client.get(reverse("team:api_key_revoke", args=[key.pk]))
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # asking is not revoking
    assert client.post(reverse("team:api_key_revoke", args=[key.pk])).status_code == 302
    client.logout()
    refused = client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=raw)
    assert refused.status_code == 401
    key.refresh_from_db()
    assert key.use_count == 3  # a refused request is not a use
    assert AuditEntry.objects.filter(action="api_key.revoke", object_id=str(key.pk)).exists()


@pytest.mark.parametrize("role", ["read_only", "billing", "support"])
def test_narrow_roles_may_not_create_or_revoke_keys(client, world, role):
    user = UserFactory(email=f"{role}@alpha.test")
    MembershipFactory(organisation=world.a.organisation, user=user, role=role)
    client.force_login(user)
    assert client.get(reverse("team:api_keys")).status_code == 200
    assert create(client).status_code == 403
    key = world.a.live_key
    assert client.post(reverse("team:api_key_revoke", args=[key.pk])).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_key_list_query_count_is_flat(client, world, django_assert_max_num_queries):
    client.force_login(world.a.member)
    for n in range(5):
        create(client, name=f"k{n}")
    with django_assert_max_num_queries(10):
        client.get(reverse("team:api_keys"))


def test_the_issue_api_key_command_still_uses_the_service(world):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("issue_api_key", world.a.organisation.slug, "--name", "cli", stdout=out)
    assert ApiKey.objects.filter(name="cli", organisation=world.a.organisation).exists()
    assert Membership.objects.filter(organisation=world.a.organisation).exists()

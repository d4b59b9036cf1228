"""The team page: members, roles, invitations by e-mail, removal, the two-factor policy."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.models import Invitation, Membership
from portal.models import AuditEntry
from tests.customers.factories import PASSWORD, CustomerFactory, MembershipFactory, UserFactory

Role = Membership.Role


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    """The test client, with what each request leaves for after its commit (mail, sign-outs)
    run when the request is over, as a real commit would."""

    def wrap(send):
        def run(*args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return send(*args, **kwargs)

        return run

    client.post = wrap(client.post)
    client.get = wrap(client.get)
    return client


def add_member(world, role, email=None):
    user = UserFactory(email=email or f"{role}@alpha.test")
    return MembershipFactory(organisation=world.a.organisation, user=user, role=role)


def owner_membership(world):
    return world.a.member.memberships.get()


def invite_link(mail) -> str:
    return re.search(r"http://testserver(/team/join/[^/\s]+/)", mail.body).group(1)


def test_the_team_page_lists_the_members_with_their_roles(client, world):
    add_member(world, Role.SUPPORT)
    add_member(world, Role.BILLING, "bill@bravo-not.test")
    client.force_login(world.a.member)
    response = client.get(reverse("team:page"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "member@alpha.test" in html and "support@alpha.test" in html
    assert "member@bravo.test" not in html


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_do_not_have_a_team_page(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(reverse("team:page")).status_code == 404
    assert client.get(reverse("team:api_keys")).status_code == 404


def test_an_invitation_is_mailed_with_a_link_that_makes_an_account(client, world, mailoutbox):
    client.force_login(world.a.member)
    response = client.post(reverse("team:invite"), {"email": "New@Example.test", "role": "support"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new@example.test")
    assert invitation.role == "support" and invitation.organisation == world.a.organisation
    assert AuditEntry.objects.filter(action="team.invite", object_id=str(invitation.pk)).exists()
    [mail] = mailoutbox
    assert mail.to == ["new@example.test"] and "Alpha" in mail.subject
    link = invite_link(mail)
    assert invitation.token_hash not in mail.body  # only the raw token travels

    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "Support" in page.content.decode()
    weak = client.post(
        link, {"first_name": "N", "last_name": "E", "password1": "x", "password2": "x"}
    )
    assert weak.status_code == 400
    assert not Membership.objects.filter(user__email="new@example.test").exists()
    joined = client.post(
        link,
        {
            "first_name": "Nia",
            "last_name": "Eze",
            "password1": "a-long-new-passphrase",
            "password2": "a-long-new-passphrase",
        },
    )
    assert joined.status_code == 302
    membership = Membership.objects.get(user__email="new@example.test")
    assert membership.role == "support" and membership.organisation == world.a.organisation
    assert client.get(reverse("team:page")).status_code == 200  # signed in as the new member
    assert client.get(link).status_code == 404  # used


def test_an_existing_account_signs_in_and_accepts(client, world, mailoutbox):
    client.force_login(world.a.member)
    UserFactory(email="known@example.test")
    client.post(reverse("team:invite"), {"email": "known@example.test", "role": "billing"})
    link = invite_link(mailoutbox[0])
    client.logout()
    page = client.get(link)
    assert "Sign in to accept" in page.content.decode()
    assert client.post(link).status_code == 400
    client.post(reverse("login"), {"username": "known@example.test", "password": PASSWORD})
    assert client.post(link).status_code == 302
    assert Membership.objects.get(user__email="known@example.test").role == "billing"


def test_an_invitation_for_someone_elses_address_is_not_accepted_by_the_signed_in_user(
    client, world, mailoutbox
):
    client.force_login(world.a.member)
    client.post(reverse("team:invite"), {"email": "third@example.test", "role": "admin"})
    link = invite_link(mailoutbox[0])
    stranger = UserFactory(email="stranger@example.test")
    client.force_login(stranger)
    page = client.get(link)
    assert "you are signed in as stranger@example.test" in page.content.decode()
    client.post(link)
    assert not Membership.objects.filter(user=stranger).exists()


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("member@alpha.test", "already a member"),
        ("member@bravo.test", "another organisation"),
        ("customer@alpha.test", "customer"),
        ("staff@nameport.test", "staff"),
    ],
)
def test_addresses_of_other_accounts_cannot_be_invited(client, world, email, error):
    client.force_login(world.a.member)
    response = client.post(reverse("team:invite"), {"email": email, "role": "support"})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Invitation.objects.exists()


def test_a_new_invitation_of_the_same_address_withdraws_the_old_one(client, world, mailoutbox):
    client.force_login(world.a.member)
    client.post(reverse("team:invite"), {"email": "twice@example.test", "role": "support"})
    client.post(reverse("team:invite"), {"email": "twice@example.test", "role": "billing"})
    first, second = (invite_link(mail) for mail in mailoutbox)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_an_invitation_can_be_withdrawn(client, world, mailoutbox):
    client.force_login(world.a.member)
    client.post(reverse("team:invite"), {"email": "gone@example.test", "role": "support"})
    invitation = Invitation.objects.get()
    assert client.get(reverse("team:invitation_revoke", args=[invitation.pk])).status_code == 405
    client.post(reverse("team:invitation_revoke", args=[invitation.pk]))
    assert client.get(invite_link(mailoutbox[0])).status_code == 404


def test_an_owner_changes_a_role_and_it_is_audited(client, world):
    support = add_member(world, Role.SUPPORT)
    client.force_login(world.a.member)
    response = client.post(reverse("team:member_role", args=[support.pk]), {"role": "billing"})
    assert response.status_code == 302
    support.refresh_from_db()
    assert support.role == "billing"
    entry = AuditEntry.objects.get(action="team.role_change")
    assert entry.data == {"email": "support@alpha.test", "from": "support", "to": "billing"}


def test_a_bad_role_is_a_form_error(client, world):
    support = add_member(world, Role.SUPPORT)
    client.force_login(world.a.member)
    response = client.post(reverse("team:member_role", args=[support.pk]), {"role": "god"})
    assert response.status_code == 400
    support.refresh_from_db()
    assert support.role == "support"


def test_an_admin_cannot_make_or_unmake_owners(client, world):
    admin = add_member(world, Role.ADMIN)
    support = add_member(world, Role.SUPPORT)
    client.force_login(admin.user)
    assert (
        client.post(reverse("team:member_role", args=[support.pk]), {"role": "owner"}).status_code
        == 403
    )
    owner = owner_membership(world)
    assert (
        client.post(reverse("team:member_role", args=[owner.pk]), {"role": "admin"}).status_code
        == 403
    )
    assert client.post(reverse("team:member_remove", args=[owner.pk])).status_code == 403
    assert (
        client.post(reverse("team:invite"), {"email": "x@y.test", "role": "owner"}).status_code
        == 403
    )
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_the_last_owner_can_neither_step_down_nor_leave(client, world):
    owner = owner_membership(world)
    client.force_login(world.a.member)
    demoted = client.post(reverse("team:member_role", args=[owner.pk]), {"role": "admin"})
    assert demoted.status_code == 400
    assert "at least one owner" in demoted.content.decode()
    left = client.post(reverse("team:member_remove", args=[owner.pk]))
    assert left.status_code == 400
    owner.refresh_from_db()
    assert owner.role == "owner"

    second = add_member(world, Role.OWNER, "owner2@alpha.test")
    assert (
        client.post(reverse("team:member_role", args=[owner.pk]), {"role": "admin"}).status_code
        == 302
    )
    client.force_login(second.user)
    refused = client.post(reverse("team:member_remove", args=[second.pk]))
    assert refused.status_code == 400


def test_removing_a_member_asks_first_then_signs_them_out(client, world):
    support = add_member(world, Role.SUPPORT)
    from django.test import Client

    theirs = Client()
    theirs.force_login(support.user)
    assert theirs.get(reverse("team:page")).status_code == 200

    client.force_login(world.a.member)
    confirm = client.get(reverse("team:member_remove", args=[support.pk]))
    assert confirm.status_code == 200 and "support@alpha.test" in confirm.content.decode()
    assert Membership.objects.filter(pk=support.pk).exists()
    assert client.post(reverse("team:member_remove", args=[support.pk])).status_code == 302
    assert not Membership.objects.filter(pk=support.pk).exists()
    assert AuditEntry.objects.filter(action="team.remove").exists()
    assert theirs.get(reverse("team:page")).status_code == 302  # signed out: to the login page


def test_another_organisations_member_gets_404(client, world):
    victim = add_member(world, Role.SUPPORT)
    client.force_login(world.b.member)
    assert (
        client.post(reverse("team:member_role", args=[victim.pk]), {"role": "admin"}).status_code
        == 404
    )
    assert client.post(reverse("team:member_remove", args=[victim.pk])).status_code == 404
    victim.refresh_from_db()
    assert victim.role == "support"


@pytest.mark.parametrize("role", [Role.READ_ONLY, Role.BILLING, Role.SUPPORT])
def test_narrow_roles_see_the_team_but_change_nothing(client, world, role):
    narrow = add_member(world, role)
    client.force_login(narrow.user)
    page = client.get(reverse("team:page"))
    assert page.status_code == 200
    assert "Send the invitation" not in page.content.decode()
    refused = client.post(reverse("team:invite"), {"email": "z@z.test", "role": "admin"})
    assert refused.status_code == 403
    assert "may not manage the team" in refused.content.decode()
    assert not Invitation.objects.exists()


def test_the_two_factor_policy_is_saved_by_an_admin_only(client, world):
    organisation = world.a.organisation
    read_only = add_member(world, Role.READ_ONLY)
    client.force_login(read_only.user)
    assert (
        client.post(reverse("team:two_factor_policy"), {"require_2fa_members": "on"}).status_code
        == 403
    )
    client.force_login(world.a.member)
    client.post(reverse("team:two_factor_policy"), {"require_2fa_customers": "on"})
    organisation.refresh_from_db()
    assert (organisation.require_2fa_members, organisation.require_2fa_customers) == (False, True)
    assert AuditEntry.objects.filter(action="organisation.two_factor").count() == 1


def test_the_team_page_query_count_does_not_grow_with_members(
    client, world, django_assert_max_num_queries
):
    for n in range(6):
        add_member(world, Role.SUPPORT, f"s{n}@alpha.test")
    CustomerFactory(organisation=world.a.organisation)
    client.force_login(world.a.member)
    client.get(reverse("team:page"))
    with django_assert_max_num_queries(14):
        client.get(reverse("team:page"))

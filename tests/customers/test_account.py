"""One's own account: password, e-mail, two-factor sign-in with recovery codes, sessions."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import RecoveryCode, User, UserSession
from portal.models import AuditEntry
from tests.customers.factories import PASSWORD


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    def wrap(send):
        def run(*args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return send(*args, **kwargs)

        return run

    client.post = wrap(client.post)
    return client


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def sign_in(client, email, password=PASSWORD, agent="TestBrowser/1.0"):
    response = client.post(
        reverse("login"), {"username": email, "password": password}, HTTP_USER_AGENT=agent
    )
    assert response.status_code == 302, response.content[:300]
    return response


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def turn_on_two_factor(client) -> list[str]:
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user__email=client.user_email, confirmed=False)
    response = client.post(reverse("otp_setup"), {"token": code_of(device)})
    assert response.status_code == 200
    # The code just used is spent; the next sign-in is as if in the next 30-second window.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    return response.context["codes"]


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_every_user_has_an_account_page(client, world, who):
    client.force_login(getattr(world.a, who))
    response = client.get(reverse("account:page"))
    assert response.status_code == 200
    assert "Signed-in sessions" in response.content.decode()


def test_a_password_change_needs_the_current_password(client, world):
    user = world.a.customer_user
    sign_in(client, user.email)
    wrong = client.post(
        reverse("account:password"),
        {
            "old_password": "nope",
            "new_password1": "new-pass-phrase-1",
            "new_password2": "new-pass-phrase-1",
        },
    )
    assert wrong.status_code == 400
    assert "current password is not correct" in wrong.content.decode()
    weak = client.post(
        reverse("account:password"),
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert weak.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_password_change_keeps_this_session_and_ends_the_others(client, world):
    user = world.a.member
    other = Client()
    sign_in(other, user.email, agent="Phone/2")
    sign_in(client, user.email)
    client.get(reverse("account:page"))
    response = client.post(
        reverse("account:password"),
        {
            "old_password": PASSWORD,
            "new_password1": "new-pass-phrase-1",
            "new_password2": "new-pass-phrase-1",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("new-pass-phrase-1")
    assert client.get(reverse("account:page")).status_code == 200
    assert other.get(reverse("account:page")).status_code == 302
    assert AuditEntry.objects.filter(action="account.password_change", user=user).exists()


def test_an_email_change_needs_the_password_and_a_free_address(client, world, mailoutbox):
    user = world.a.member
    client.force_login(user)
    taken = client.post(
        reverse("account:email"), {"email": "customer@alpha.test", "current_password": PASSWORD}
    )
    assert taken.status_code == 400 and "Another account" in taken.content.decode()
    wrong = client.post(
        reverse("account:email"), {"email": "new@alpha.test", "current_password": "x"}
    )
    assert wrong.status_code == 400
    done = client.post(
        reverse("account:email"), {"email": "New@Alpha.test", "current_password": PASSWORD}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.email == "new@alpha.test"
    [notice] = mailoutbox
    assert notice.to == ["member@alpha.test"] and "new@alpha.test" in notice.body
    client.logout()
    sign_in(client, "new@alpha.test")


def test_two_factor_is_optional_then_asked_at_every_sign_in(client, world):
    user = world.a.member
    client.user_email = user.email
    sign_in(client, user.email)
    assert client.get(reverse("dashboard")).status_code == 200  # optional: not asked yet
    codes = turn_on_two_factor(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)  # kept hashed
    client.post(reverse("logout"))

    sign_in(client, user.email)
    assert client.get(reverse("dashboard")).url.startswith(reverse("otp"))
    assert client.get("/api/v1/domains/").status_code == 403
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    response = client.post(
        reverse("otp"), {"otp_device": device.persistent_id, "otp_token": code_of(device)}
    )
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_recovery_code_signs_in_once(client, world):
    user = world.a.customer_user
    client.user_email = user.email
    sign_in(client, user.email)
    codes = turn_on_two_factor(client)
    client.post(reverse("logout"))

    sign_in(client, user.email)
    used = client.post(reverse("otp"), {"recovery_code": codes[0].upper()})
    assert used.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("logout"))

    sign_in(client, user.email)
    again = client.post(reverse("otp"), {"recovery_code": codes[0]})
    assert again.status_code == 200
    assert "not valid, or was used already" in again.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    assert client.post(reverse("otp"), {"recovery_code": codes[1]}).status_code == 302
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 8


def test_new_recovery_codes_replace_the_old_ones(client, world):
    user = world.a.member
    client.user_email = user.email
    sign_in(client, user.email)
    old = turn_on_two_factor(client)
    response = client.post(reverse("account:recovery_codes"))
    new = response.context["codes"]
    assert response["Cache-Control"] == "no-store"
    client.post(reverse("logout"))
    sign_in(client, user.email)
    assert client.post(reverse("otp"), {"recovery_code": old[0]}).status_code == 200
    assert client.post(reverse("otp"), {"recovery_code": new[0]}).status_code == 302


def test_two_factor_can_be_turned_off_with_the_password_unless_required(client, world):
    user = world.a.member
    client.user_email = user.email
    sign_in(client, user.email)
    turn_on_two_factor(client)
    organisation = world.a.organisation
    organisation.require_2fa_members = True
    organisation.save()
    refused = client.post(reverse("account:two_factor_disable"), {"current_password": PASSWORD})
    assert refused.status_code == 400 and "required" in refused.content.decode()
    organisation.require_2fa_members = False
    organisation.save()
    assert (
        client.post(reverse("account:two_factor_disable"), {"current_password": "x"}).status_code
        == 400
    )
    off = client.post(reverse("account:two_factor_disable"), {"current_password": PASSWORD})
    assert off.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("setting", "who", "asked"),
    [
        ("require_2fa_members", "member", True),
        ("require_2fa_members", "customer_user", False),
        ("require_2fa_customers", "customer_user", True),
        ("require_2fa_customers", "contact_user", True),
        ("require_2fa_customers", "member", False),
    ],
)
def test_an_organisation_can_require_two_factor(client, world, setting, who, asked):
    organisation = world.a.organisation
    setattr(organisation, setting, True)
    organisation.save()
    client.force_login(getattr(world.a, who))
    response = client.get(reverse("dashboard"))
    if asked:
        assert response.status_code == 302 and response.url.startswith(reverse("otp"))
        assert client.get(response.url).url.startswith(reverse("otp_setup"))
    else:
        assert response.status_code == 200
    # Another organisation's policy binds nobody here.
    client.force_login(getattr(world.b, who))
    assert client.get(reverse("dashboard")).status_code == 200


def test_sessions_are_listed_and_signed_out_everywhere_else(client, world):
    user = world.a.member
    phone, tablet = Client(), Client()
    sign_in(phone, user.email, agent="Phone/2")
    sign_in(tablet, user.email, agent="Tablet/3")
    sign_in(client, user.email, agent="Laptop/1")
    for each in (phone, tablet, client):
        each.get(reverse("dashboard"), HTTP_USER_AGENT="x")
    page = client.get(reverse("account:page")).content.decode()
    assert "Phone/2" in page and "Tablet/3" in page and "Laptop/1" in page
    assert len(re.findall(r"data-session[ >]", page)) == 3
    assert "this session" in page

    response = client.post(reverse("account:sessions_end"))
    assert response.status_code == 302
    assert phone.get(reverse("dashboard")).status_code == 302
    assert tablet.get(reverse("dashboard")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == [
        "Laptop/1"
    ]
    assert AuditEntry.objects.get(action="account.sessions_end_others").data == {"ended": 2}


def test_a_session_is_written_at_most_once_a_minute(client, world, django_assert_num_queries):
    user = world.a.member
    sign_in(client, user.email)
    row = UserSession.objects.get(user=user)
    seen = row.last_seen_at
    client.get(reverse("account:page"))
    row.refresh_from_db()
    assert row.last_seen_at == seen
    session = client.session
    key, _, at = session["_np_seen"].partition("@")
    session["_np_seen"] = f"{key}@{int(at) - 61}"
    session.save()
    client.get(reverse("account:page"))
    row.refresh_from_db()
    assert row.last_seen_at > seen
    assert User.objects.filter(pk=user.pk).exists()


def test_signing_in_writes_the_session_down_so_the_first_pages_cost_nothing_extra(
    client, world, django_assert_max_num_queries
):
    user = world.a.member
    client.force_login(user)
    assert UserSession.objects.filter(user=user, session_key=client.session.session_key).exists()
    from customers.account import has_no_device, session_touch

    session = client.session
    assert session.get("_np_seen")  # loaded here, outside the count
    with django_assert_max_num_queries(0):
        assert has_no_device(user, session)
        assert not session_touch(user=user, session=session, user_agent="x", ip_address=None)

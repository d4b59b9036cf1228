"""The page shell: dashboards, navigation, sign-in pages, the mode switch, TOTP and error pages."""

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing.models import Invoice
from domains.models import RegistrarOperation
from portal import views
from portal.tenancy import SESSION_LIVEMODE_KEY
from support.models import Ticket
from tests.billing.factories import InvoiceFactory
from tests.customers.factories import PASSWORD, ContactFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarOperationFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


def stat(response, name: str) -> int:
    """The number shown on the dashboard tile ``data-stat=name``."""
    html = response.content.decode()
    match = re.search(rf'data-stat="{name}".*?data-count>([\d,]+)<', html, re.S)
    assert match, f"no {name} tile on the dashboard"
    return int(match.group(1).replace(",", ""))


def nav_keys(response) -> list[str]:
    return re.findall(r'data-nav="([a-z-]+)"', response.content.decode())


# --- Dashboard ------------------------------------------------------------------------------


def test_dashboard_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["staff", "member", "customer_user", "contact_user"])
def test_each_role_gets_its_dashboard(client, world, who):
    user = world.staff if who == "staff" else getattr(world.a, who)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    kind = {"staff": "staff", "member": "reseller"}.get(who, who.split("_")[0])
    assert f'data-dashboard="{kind}"' in response.content.decode()
    assert "Dashboard" in response.content.decode()


def _make_trouble(tenant):
    """One of each thing the dashboard counts, for ``tenant``."""
    DomainFactory(
        customer=tenant.customer,
        expires_at=timezone.now() + timedelta(days=10),
        name=f"soon-{tenant.organisation.slug}.com",
    )
    InvoiceFactory(customer=tenant.customer, status=Invoice.Status.UNPAID)
    TicketFactory(customer=tenant.customer, status=Ticket.Status.OPEN)
    RegistrarOperationFactory(domain=tenant.domain, status=RegistrarOperation.Status.FAILED)


def test_reseller_dashboard_counts_follow_the_data(client, world):
    client.force_login(world.a.member)
    before = client.get("/")
    counts = {n: stat(before, n) for n in ["domains", "expiring", "unpaid", "tickets", "failed"]}
    assert counts == {"domains": 1, "expiring": 0, "unpaid": 1, "tickets": 1, "failed": 0}
    assert stat(before, "customers") == 1
    assert "Nothing expires soon." in before.content.decode()

    _make_trouble(world.a)
    _make_trouble(world.b)  # the other reseller's trouble is not counted
    after = client.get("/")
    assert stat(after, "domains") == 2
    assert stat(after, "expiring") == 1
    assert stat(after, "unpaid") == 2
    assert stat(after, "tickets") == 2
    assert stat(after, "failed") == 1
    assert "soon-alpha.com" in after.content.decode()
    assert "soon-bravo.com" not in after.content.decode()


def test_staff_dashboard_counts_every_tenant(client, world):
    client.force_login(world.staff)
    before = client.get("/")
    assert stat(before, "customers") == 4  # two live customers, two sandbox customers
    assert stat(before, "failed") == 0
    _make_trouble(world.a)
    _make_trouble(world.b)
    after = client.get("/")
    assert stat(after, "expiring") == 2
    assert stat(after, "unpaid") == stat(before, "unpaid") + 2
    assert stat(after, "tickets") == stat(before, "tickets") + 2
    assert stat(after, "failed") == 2


def test_customer_dashboard_counts_only_its_account(client, world):
    client.force_login(world.a.customer_user)
    before = client.get("/")
    assert stat(before, "unpaid") == 1
    _make_trouble(world.a)
    _make_trouble(world.b)
    after = client.get("/")
    assert stat(after, "expiring") == 1
    assert stat(after, "unpaid") == 2
    assert stat(after, "tickets") == 2
    html = after.content.decode()
    assert 'data-stat="failed"' not in html
    assert 'data-stat="customers"' not in html


def test_dashboard_tiles_link_to_the_filtered_lists(client, world):
    client.force_login(world.a.member)
    html = client.get("/").content.decode()
    assert 'href="/billing/invoices/?status=Unpaid"' in html
    assert 'href="/domains/operations/?status=failed"' in html
    assert "/domains/?status=active&amp;expiring_within=30" in html


# --- Navigation -----------------------------------------------------------------------------


def test_staff_navigation(client, world):
    client.force_login(world.staff)
    keys = nav_keys(client.get("/"))
    for key in ["dashboard", "customers", "domains", "dns", "invoices", "tickets", "admin"]:
        assert key in keys
    assert "mode-sandbox" not in keys


def test_reseller_navigation_has_the_mode_switch(client, world):
    client.force_login(world.a.member)
    keys = nav_keys(client.get("/"))
    for key in ["dashboard", "customers", "domains", "dns", "invoices", "tickets", "mode-sandbox"]:
        assert key in keys
    assert "admin" not in keys


def test_customer_navigation_has_no_reseller_sections(client, world):
    client.force_login(world.a.customer_user)
    keys = nav_keys(client.get("/"))
    assert {"dashboard", "domains", "dns", "invoices", "tickets"} <= set(keys)
    assert "customers" not in keys
    assert "admin" not in keys


def _contact(tenant, email, privileges):
    return ContactFactory(
        customer=tenant.customer, user=UserFactory(email=email), privileges=privileges
    ).user


def test_contact_navigation_hides_sections_without_privileges(client, world):
    client.force_login(
        _contact(world.a, "helpdesk@alpha.test", {"support": ["tickets"], "domains": {"full": 1}})
    )
    keys = nav_keys(client.get("/"))
    assert {"domains", "dns", "tickets"} <= set(keys)
    assert "invoices" not in keys
    assert "customers" not in keys

    client.force_login(_contact(world.a, "payer@alpha.test", {"billing": ["payinvoice"]}))
    keys = nav_keys(client.get("/"))
    assert "invoices" in keys
    assert "tickets" not in keys
    assert "dns" not in keys


def test_contact_dashboard_leaves_out_what_it_may_not_see(client, world):
    client.force_login(_contact(world.a, "dnsonly@alpha.test", {"domains": {"full": 1}}))
    html = client.get("/").content.decode()
    assert 'data-stat="domains"' in html
    assert 'data-stat="unpaid"' not in html
    assert 'data-stat="tickets"' not in html


def test_signed_in_user_sees_email_and_a_logout_form(client, world):
    client.force_login(world.a.member)
    html = client.get("/").content.decode()
    assert "member@alpha.test" in html
    assert re.search(r'<form method="post" action="/accounts/logout/"', html)
    assert 'data-nav="logout"' in html


def test_pages_load_scripts_from_this_site_only(client, world):
    client.force_login(world.a.member)
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts, "no scripts at all"
    for tag in scripts:
        src = re.search(r'src="([^"]+)"', tag)
        assert src, f"inline script: {tag}"
        assert src.group(1).startswith("/static/")
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "hx-on" not in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_flash_messages_are_shown(client, world):
    client.force_login(world.a.member)
    response = client.post(reverse("set_mode"), {"livemode": "0"}, follow=True)
    assert "Sandbox mode: you see and change sandbox data only" in response.content.decode()


# --- Sandbox / live mode --------------------------------------------------------------------


def test_mode_switch_changes_what_a_reseller_member_sees(client, world):
    client.force_login(world.a.member)
    live = client.get(reverse("domains:list")).content.decode()
    assert "alpha-site.com" in live
    assert "alpha-sandbox.com" not in live
    assert "SANDBOX" not in live

    response = client.post(reverse("set_mode"), {"livemode": "0"})
    assert response.status_code == 302
    assert client.session[SESSION_LIVEMODE_KEY] is False
    sandbox = client.get(reverse("domains:list")).content.decode()
    assert "alpha-sandbox.com" in sandbox
    assert "alpha-site.com" not in sandbox
    assert "SANDBOX" in sandbox
    detail = client.get(reverse("domains:detail", args=[world.a.domain.pk]))
    assert detail.status_code == 404

    client.post(reverse("set_mode"), {"livemode": "1"})
    assert client.session[SESSION_LIVEMODE_KEY] is True
    assert "alpha-site.com" in client.get(reverse("domains:list")).content.decode()


def test_mode_switch_refuses_get(client, world):
    client.force_login(world.a.member)
    assert client.get(reverse("set_mode")).status_code == 405


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_mode_switch_is_for_reseller_members_only(client, world, who):
    client.force_login(getattr(world.a, who))
    response = client.post(reverse("set_mode"), {"livemode": "0"})
    assert response.status_code == 404
    assert SESSION_LIVEMODE_KEY not in client.session


def test_staff_cannot_use_the_mode_switch(client, world):
    client.force_login(world.staff)
    assert client.post(reverse("set_mode"), {"livemode": "0"}).status_code == 404


# --- Sign in, sign out, lock-out, password reset ----------------------------------------------


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'type="email"' in html
    assert 'name="password"' in html
    assert "data-nav" not in html


def test_login_with_email_and_password(client, world):
    response = client.post(
        reverse("login"), {"username": "member@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    assert client.get("/").status_code == 200


def test_wrong_password_shows_an_error(client, world):
    response = client.post(reverse("login"), {"username": "member@alpha.test", "password": "no"})
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()
    assert client.get("/").status_code == 302


def test_logout_needs_post(client, world):
    client.force_login(world.a.member)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get("/").status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get("/").status_code == 302


def test_five_bad_logins_lock_the_account_out(client, world):
    bad = {"username": "member@alpha.test", "password": "wrong-password"}
    for _ in range(4):
        assert client.post(reverse("login"), bad).status_code == 200
    locked = client.post(reverse("login"), bad)
    assert locked.status_code in {403, 429}
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # Even the right password is refused while locked out.
    right = client.post(reverse("login"), {"username": "member@alpha.test", "password": PASSWORD})
    assert right.status_code in {403, 429}
    assert "Too many failed sign-in attempts" in right.content.decode()
    assert client.get("/").status_code == 302


def test_lock_out_cannot_be_dodged_by_changing_the_case(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "member@alpha.test", "password": "nope"})
    response = client.post(
        reverse("login"), {"username": "Member@Alpha.TEST", "password": PASSWORD}
    )
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_other_users_are_not_locked_out_by_someone_elses_failures(client, world):
    for _ in range(5):
        client.post(reverse("login"), {"username": "member@alpha.test", "password": "nope"})
    response = client.post(
        reverse("login"), {"username": "member@bravo.test", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_password_reset_sends_a_working_link(client, world, mailoutbox):
    page = client.get(reverse("password_reset"))
    assert page.status_code == 200
    response = client.post(reverse("password_reset"), {"email": "member@alpha.test"})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["member@alpha.test"]
    assert "Reset your Nameport password" in message.subject
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    assert done.status_code == 302
    assert done.url == reverse("password_reset_complete")
    world.a.member.refresh_from_db()
    assert world.a.member.check_password("a-brand-new-secret-42")


def test_password_reset_for_an_unknown_address_sends_nothing(client, world, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.test"})
    assert response.status_code == 302
    assert mailoutbox == []


# --- TOTP for staff -------------------------------------------------------------------------


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def otp_required(settings):
    settings.STAFF_OTP_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code does not delay the next try here


def test_staff_without_a_device_is_sent_to_set_one_up(client, world, otp_required):
    client.force_login(world.staff)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("otp"))
    response = client.get(response.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("otp_setup"))

    page = client.get(response.url)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=world.staff)
    assert not device.confirmed
    html = page.content.decode()
    assert "otpauth://totp/" in html
    assert "http" not in html.split("otpauth://")[1].split("<")[0]  # no external QR service

    wrong = client.post(
        reverse("otp_setup"), {"token": "000000" if _code(device) != "000000" else "1"}
    )
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()

    device.refresh_from_db()
    confirmed = client.post(reverse("otp_setup"), {"token": _code(device), "next": "/domains/"})
    # The first device turns two-factor on and shows the recovery codes once, then goes on.
    assert confirmed.status_code == 200
    assert confirmed.context["codes"] and len(confirmed.context["codes"]) == 10
    assert 'href="/domains/"' in confirmed.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200


def test_staff_with_a_device_must_enter_a_code(client, world, otp_required):
    device = TOTPDevice.objects.create(user=world.staff, name="phone", confirmed=True)
    client.force_login(world.staff)
    assert client.get("/domains/").status_code == 302
    page = client.get(reverse("otp"))
    assert page.status_code == 200
    assert 'name="otp_token"' in page.content.decode()
    # Setting up another device is not a way around the code.
    assert client.get(reverse("otp_setup")).url.startswith(reverse("otp"))

    bad = client.post(reverse("otp"), {"otp_device": device.persistent_id, "otp_token": "12345678"})
    assert bad.status_code == 200
    assert client.get("/domains/").status_code == 302

    good = client.post(
        reverse("otp"),
        {"otp_device": device.persistent_id, "otp_token": _code(device), "next": "/domains/"},
    )
    assert good.status_code == 302
    assert good.url == "/domains/"
    assert client.get("/domains/").status_code == 200


def test_otp_is_not_asked_when_not_required(client, world, settings):
    settings.STAFF_OTP_REQUIRED = False
    client.force_login(world.staff)
    assert client.get("/").status_code == 200


# --- Error pages ----------------------------------------------------------------------------


def test_unknown_page_is_a_friendly_404(client, world):
    client.force_login(world.a.member)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_unknown_api_path_answers_json_404(client):
    for path in ["/api/no-such-thing/", "/api/v1/no-such-thing/"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json() == {"message": "Not found."}


def test_server_error_page_needs_no_request_context_or_database(django_assert_num_queries):
    request = RequestFactory().get("/domains/")
    with django_assert_num_queries(0):
        response = views.server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_server_error_under_api_is_json():
    response = views.server_error(RequestFactory().get("/api/v1/domains/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.content == b'{"message": "Server error."}'


def test_permission_denied_page(client, world):
    client.force_login(world.a.member)
    request = RequestFactory().get("/somewhere/")
    request.user = world.a.member
    request.actor = None
    response = views.permission_denied(request)
    assert response.status_code == 403
    assert "not allowed" in response.content.decode()

"""The organisation's settings page (/settings/) and the brand its customers see: validation,
who may change it, the brand on customers' pages and e-mails, the default nameservers and
reminder days, and the custom host name staff map to an organisation."""

from __future__ import annotations

from email.header import decode_header, make_header
from io import BytesIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from billing.services import send_invoice_issued
from customers.models import Membership, Organisation
from customers.org_settings import organisation_set_custom_host, organisation_update_settings
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from support.emails import send_ticket_notification
from tests.billing import test_renewals as renewals
from tests.customers.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
# The renewal sweep's fixtures and helpers (tests/billing/test_renewals.py).
com = renewals.com
eager_tasks = renewals.eager_tasks
domain_of, renewal_invoices, sweep = renewals.domain_of, renewals.renewal_invoices, renewals.sweep
Role = Membership.Role
URL = "/settings/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(size=(8, 8), colour=(200, 30, 30), image_format="PNG", name="logo.png"):
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def form_data(organisation, **changes) -> dict:
    data = {
        "name": organisation.name,
        "legal_name": "",
        "address": "",
        "tax_number": "",
        "invoice_email": "",
        "default_currency": "USD",
        "default_nameservers": "",
        "renewal_invoice_days": "14",
        "reminder_days": "30, 14, 7, 1",
        "support_email": "",
        "portal_name": "",
        "accent_colour": "",
    }
    data.update(changes)
    return data


def branded(organisation, **extra) -> Organisation:
    organisation, _ = organisation_update_settings(
        actor=SYSTEM,
        organisation=organisation,
        values={"portal_name": "Acme Domains", "accent_colour": "#aa3300", **extra},
        logo=png(),
    )
    return organisation


def add_member(world, role):
    return MembershipFactory(
        organisation=world.a.organisation, user=UserFactory(email=f"{role}@alpha.test"), role=role
    ).user


# --- the page and its validation ------------------------------------------------------------


def test_an_owner_saves_every_setting_and_it_is_audited(client, world):
    client.force_login(world.a.member)
    response = client.post(
        URL,
        {
            **form_data(
                world.a.organisation,
                name="Alpha Hosting",
                legal_name="Alpha Hosting Ltd",
                address="1 Marina Road\nLagos",
                tax_number="NG-123",
                invoice_email="accounts@alpha.test",
                default_currency="EUR",
                default_nameservers="NS1.Alpha.test\nns2.alpha.test.",
                renewal_invoice_days="21",
                reminder_days="7,30 1",
                support_email="help@alpha.test",
                portal_name="Alpha Portal",
                accent_colour="#AA3300",
            ),
            "logo": png(),
        },
    )
    assert response.status_code == 302, response.content.decode()
    organisation = Organisation.objects.get(pk=world.a.organisation.pk)
    assert organisation.name == "Alpha Hosting"
    assert organisation.default_currency == "EUR"
    assert organisation.default_nameservers == ["ns1.alpha.test", "ns2.alpha.test"]
    assert organisation.reminder_days == [30, 7, 1]
    assert organisation.renewal_invoice_days == 21
    assert organisation.accent_colour == "#aa3300"
    assert organisation.support_email == "help@alpha.test"
    assert organisation.logo.name.startswith(f"brand/{organisation.pk}/")
    entry = AuditEntry.objects.get(action="organisation.settings", object_id=str(organisation.pk))
    assert {"name", "default_currency", "logo", "reminder_days"} <= set(entry.data["changed"])
    assert entry.user == world.a.member

    page = client.get(URL).content.decode()
    assert "Alpha Portal" in page and "ns1.alpha.test" in page and "30, 7, 1" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("accent_colour", "red", "#rrggbb"),
        ("accent_colour", "#12345g", "#rrggbb"),
        ("accent_colour", "#fff", "#rrggbb"),
        ("default_currency", "XYZ", "Select a valid choice"),
        ("reminder_days", "30, soon", "whole days"),
        ("reminder_days", "0", "whole days"),
        ("default_nameservers", "ns1.alpha.test", "2 to 13"),
        ("default_nameservers", "ns1.alpha.test\nnot a host", "Not a host name"),
        ("renewal_invoice_days", "0", "greater than or equal to 1"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(client, world, field, value, message):
    client.force_login(world.a.member)
    response = client.post(URL, form_data(world.a.organisation, name="Changed", **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    organisation = Organisation.objects.get(pk=world.a.organisation.pk)
    assert organisation.name != "Changed"
    assert not AuditEntry.objects.filter(action="organisation.settings").exists()


def test_a_currency_the_platform_does_not_support_is_refused_by_the_service(world, settings):
    settings.NAMEPORT_CURRENCIES = ("USD", "EUR")
    with pytest.raises(ValidationError) as refused:
        organisation_update_settings(
            actor=SYSTEM, organisation=world.a.organisation, values={"default_currency": "NGN"}
        )
    assert "default_currency" in refused.value.message_dict


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"not an image at all", "image/png"), "valid image"),
        (
            SimpleUploadedFile(
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "image/svg+xml",
            ),
            "valid image",
        ),
        ("big", "too large"),
        ("tiff", "PNG, JPEG, GIF or WebP"),
    ],
)
def test_a_logo_must_be_a_small_raster_image(client, world, settings, upload, message):
    settings.NAMEPORT_LOGO_MAX_BYTES = 2048
    if upload == "big":
        upload = png(size=(400, 400), colour=(1, 2, 3), image_format="BMP", name="logo.bmp")
    elif upload == "tiff":
        upload = png(image_format="TIFF", name="logo.tiff")
    client.force_login(world.a.member)
    response = client.post(URL, {**form_data(world.a.organisation), "logo": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Organisation.objects.get(pk=world.a.organisation.pk).logo


def test_the_service_checks_the_logo_too(world):
    with pytest.raises(ValidationError) as refused:
        organisation_update_settings(
            actor=SYSTEM,
            organisation=world.a.organisation,
            values={},
            logo=SimpleUploadedFile("logo.png", b"GIF89a broken", "image/gif"),
        )
    assert "logo" in refused.value.message_dict


@pytest.mark.parametrize("role", [Role.BILLING, Role.SUPPORT, Role.READ_ONLY])
def test_narrow_roles_read_the_settings_but_may_not_change_them(client, world, role):
    user = add_member(world, role)
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "may not change the organisation&#x27;s settings" in html
    assert 'data-action="save-settings"' not in html

    response = client.post(URL, form_data(world.a.organisation, portal_name="Hijacked"))
    assert response.status_code == 403
    assert Organisation.objects.get(pk=world.a.organisation.pk).portal_name == ""

    with pytest.raises(PermissionDenied):
        organisation_update_settings(
            actor=actor_for_user(user),
            organisation=world.a.organisation,
            values={"portal_name": "Hijacked"},
        )
    assert not AuditEntry.objects.filter(action="organisation.settings").exists()


def test_an_admin_may_change_the_settings(client, world):
    client.force_login(add_member(world, Role.ADMIN))
    response = client.post(URL, form_data(world.a.organisation, portal_name="Alpha Portal"))
    assert response.status_code == 302
    assert Organisation.objects.get(pk=world.a.organisation.pk).portal_name == "Alpha Portal"


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_have_no_settings_page(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(URL).status_code == 404
    assert client.post(URL, form_data(world.a.organisation, portal_name="X")).status_code == 404


def test_the_settings_link_is_in_a_resellers_navigation(client, world):
    client.force_login(world.a.member)
    assert 'data-nav="settings"' in client.get(reverse("dashboard")).content.decode()
    client.force_login(world.a.customer_user)
    assert 'data-nav="settings"' not in client.get(reverse("dashboard")).content.decode()


# --- the brand on customers' pages and e-mails ----------------------------------------------


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_and_contacts_see_their_resellers_brand(client, world, who):
    branded(world.a.organisation)
    client.force_login(getattr(world.a, who))
    html = client.get(reverse("dashboard")).content.decode()
    assert "<title>Dashboard · Acme Domains</title>" in html
    assert "<span data-brand-name>Acme Domains</span>" in html
    assert "--np-brand: #aa3300" in html
    assert "data-brand-logo" in html
    assert "Nameport" not in html

    logo = client.get(reverse("brand:logo"))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG")


def test_the_team_and_staff_keep_seeing_nameport(client, world):
    branded(world.a.organisation)
    for user in (world.a.member, world.staff):
        client.force_login(user)
        html = client.get(reverse("dashboard")).content.decode()
        assert "<span data-brand-name>Nameport</span>" in html
        assert "Acme Domains" not in html and "--np-brand:" not in html


def test_another_resellers_customer_sees_its_own_brand(client, world):
    branded(world.a.organisation)
    client.force_login(world.b.customer_user)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Acme Domains" not in html and "<span data-brand-name>Nameport</span>" in html
    assert client.get(reverse("brand:logo")).status_code == 404


def test_the_invoice_e_mail_carries_the_brand(world):
    branded(world.a.organisation)
    assert send_invoice_issued(world.a.invoice.pk) == 1
    [message] = mail.outbox
    assert message.from_email.startswith("Acme Domains <")
    assert "in your account at Acme Domains" in message.body
    assert "Nameport" not in message.body


def test_ticket_e_mails_to_the_customer_come_from_the_support_address(world):
    branded(world.a.organisation, support_email="help@alpha.test")
    ticket = world.a.ticket
    assert send_ticket_notification("status", ticket.pk, previous="Open") == 1
    [message] = mail.outbox
    assert message.to == [world.a.customer.email]
    sender = str(make_header(decode_header(message.from_email)))
    assert sender == f"{ticket.department.name} · Acme Domains <help@alpha.test>"
    assert "View it in Acme Domains" in message.body
    assert "Nameport" not in message.body
    # Answers still reach the ticket: the Reply-To stays its signed address.
    assert message.reply_to[0].startswith("support+")


def test_ticket_e_mails_without_a_brand_are_nameports(world):
    assert send_ticket_notification("status", world.a.ticket.pk, previous="Open") == 1
    [message] = mail.outbox
    assert "View it in Nameport" in message.body


# --- what the other settings drive ----------------------------------------------------------


def test_a_registration_without_nameservers_gets_the_default_ones(world, com):
    from domains.services import domain_register

    organisation_update_settings(
        actor=SYSTEM,
        organisation=world.a.organisation,
        values={"default_nameservers": ["ns1.alpha-dns.test", "ns2.alpha-dns.test"]},
    )
    customer = world.a.customer
    customer.refresh_from_db()
    domain = domain_register(actor=SYSTEM, customer=customer, name="fresh-alpha.com")
    hosts = list(domain.nameservers.order_by("position").values_list("hostname", flat=True))
    assert hosts == ["ns1.alpha-dns.test", "ns2.alpha-dns.test"]
    given = domain_register(
        actor=SYSTEM,
        customer=customer,
        name="given-alpha.com",
        nameservers=["ns1.given.test", "ns2.given.test"],
    )
    assert list(given.nameservers.values_list("hostname", flat=True)) == [
        "ns1.given.test",
        "ns2.given.test",
    ]


def test_reminders_follow_the_organisations_reminder_days(com, django_capture_on_commit_callbacks):
    from tests.customers.factories import OrganisationFactory

    org = OrganisationFactory(renewal_invoice_days=40, reminder_days=[20, 3])
    domain = domain_of(org, com, 40)
    sweep()
    assert len(renewal_invoices(domain)) == 1
    mail.outbox.clear()
    sent = []
    for day in range(0, 41):
        with django_capture_on_commit_callbacks(execute=True):
            sweep(days_later=day)
        sent.extend(m.subject for m in mail.outbox)
        mail.outbox.clear()
    assert len(sent) == 2, sent
    assert "in 20 days" in sent[0] and "in 3 days" in sent[1]


def test_no_reminder_days_sends_no_reminders(com, django_capture_on_commit_callbacks):
    from tests.customers.factories import OrganisationFactory

    org = OrganisationFactory(renewal_invoice_days=40, reminder_days=[])
    domain_of(org, com, 40)
    sweep()
    mail.outbox.clear()
    for day in range(0, 41):
        with django_capture_on_commit_callbacks(execute=True):
            sweep(days_later=day)
    assert mail.outbox == []


# --- the custom host name -------------------------------------------------------------------


def test_a_mapped_host_shows_the_brand_on_the_sign_in_page(client, world):
    branded(world.a.organisation)
    organisation_set_custom_host(
        actor=actor_for_user(world.staff),
        organisation=world.a.organisation,
        host="Portal.Alpha-Hosting.test.",
    )
    assert Organisation.objects.get(pk=world.a.organisation.pk).custom_host == (
        "portal.alpha-hosting.test"
    )
    html = client.get("/accounts/login/", HTTP_HOST="portal.alpha-hosting.test").content.decode()
    assert "Sign in to Acme Domains" in html and "--np-brand: #aa3300" in html
    logo = client.get(reverse("brand:logo"), HTTP_HOST="portal.alpha-hosting.test")
    assert logo.status_code == 200
    # The portal's own host keeps Nameport's sign-in page.
    assert "Sign in to Nameport" in client.get("/accounts/login/").content.decode()
    assert AuditEntry.objects.filter(action="organisation.custom_host").exists()


def test_a_customer_signs_in_on_the_mapped_host(client, world):
    from tests.customers.factories import PASSWORD

    branded(world.a.organisation)
    Organisation.objects.filter(pk=world.a.organisation.pk).update(
        custom_host="portal.alpha-hosting.test"
    )
    client.get("/accounts/login/", HTTP_HOST="portal.alpha-hosting.test")
    response = client.post(
        "/accounts/login/",
        {"username": world.a.customer_user.email, "password": PASSWORD},
        HTTP_HOST="portal.alpha-hosting.test",
    )
    assert response.status_code == 302
    html = client.get(reverse("dashboard"), HTTP_HOST="portal.alpha-hosting.test").content
    assert b"<span data-brand-name>Acme Domains</span>" in html


def test_an_unmapped_unknown_host_is_still_refused(client, world, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    assert client.get("/accounts/login/", HTTP_HOST="evil.example.test").status_code == 400


def test_a_host_name_belongs_to_one_organisation(world):
    staff = actor_for_user(world.staff)
    organisation_set_custom_host(actor=staff, organisation=world.a.organisation, host="p.a.test")
    with pytest.raises(ValidationError) as refused:
        organisation_set_custom_host(
            actor=staff, organisation=world.b.organisation, host="P.A.test"
        )
    assert "another organisation" in str(refused.value)
    assert Organisation.objects.get(pk=world.b.organisation.pk).custom_host is None


def test_only_staff_map_host_names(world):
    with pytest.raises(PermissionDenied):
        organisation_set_custom_host(
            actor=actor_for_user(world.a.member),
            organisation=world.a.organisation,
            host="portal.alpha.test",
        )


def test_a_taken_host_is_refused_by_the_model_as_in_the_admin_form(world):
    Organisation.objects.filter(pk=world.b.organisation.pk).update(custom_host="p.b.test")
    organisation = Organisation.objects.get(pk=world.a.organisation.pk)
    organisation.custom_host = "P.B.test"
    with pytest.raises(ValidationError) as refused:
        organisation.full_clean()
    assert "another organisation" in str(refused.value)


def admin_organisation_form(organisation, **changes) -> dict:
    data = {
        "slug": organisation.slug,
        "name": organisation.name,
        "default_currency": organisation.default_currency,
        "is_active": "on",
        "renewal_invoice_days": "14",
        "default_nameservers": "[]",
        "reminder_days": "[30, 14, 7, 1]",
        "custom_host": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_staff_map_a_host_in_the_admin_and_a_taken_one_is_refused(client, world):
    client.force_login(world.staff)
    alpha = reverse("admin:customers_organisation_change", args=[world.a.organisation.pk])
    response = client.post(
        alpha, admin_organisation_form(world.a.organisation, custom_host="Portal.Alpha.test")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Organisation.objects.get(pk=world.a.organisation.pk).custom_host == "portal.alpha.test"
    entry = AuditEntry.objects.filter(action="admin.customers.organisation.change").latest("pk")
    assert "custom_host" in entry.data["changed"]

    bravo = reverse("admin:customers_organisation_change", args=[world.b.organisation.pk])
    response = client.post(
        bravo, admin_organisation_form(world.b.organisation, custom_host="portal.alpha.test")
    )
    assert response.status_code == 200
    assert "already belongs to another organisation" in response.content.decode()
    assert Organisation.objects.get(pk=world.b.organisation.pk).custom_host is None


def test_a_contacts_invitation_comes_under_the_brand(world, django_capture_on_commit_callbacks):
    from customers.contacts import contact_invite

    branded(world.a.organisation)
    contact = world.a.contact
    contact.user = None
    contact.save(update_fields=["user"])
    with django_capture_on_commit_callbacks(execute=True):
        contact_invite(
            actor=actor_for_user(world.a.member), contact=contact, base_url="http://testserver"
        )
    [message] = mail.outbox
    assert message.from_email.startswith("Acme Domains <")

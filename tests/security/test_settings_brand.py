"""Settings and brand across tenants: one reseller cannot change another's settings, one host
name cannot show another organisation's brand, and what a reseller types into its brand cannot
reach another page as markup."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from customers.models import Organisation
from customers.org_settings import organisation_update_settings
from portal.tenancy import SYSTEM, actor_for_user

pytestmark = pytest.mark.django_db
HOST_A = "portal.alpha-hosting.test"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png():
    buffer = BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def alpha_brand(world):
    organisation_update_settings(
        actor=SYSTEM,
        organisation=world.a.organisation,
        values={"portal_name": "Alpha Portal", "accent_colour": "#aa3300"},
        logo=png(),
    )
    Organisation.objects.filter(pk=world.a.organisation.pk).update(custom_host=HOST_A)


def settings_form(name: str, **extra) -> dict:
    return {
        "name": name,
        "default_currency": "USD",
        "renewal_invoice_days": "14",
        "reminder_days": "30,14,7,1",
        **extra,
    }


def test_a_reseller_cannot_change_another_resellers_settings(client, world):
    client.force_login(world.b.member)
    # Naming the other organisation in the form changes nothing there: the page edits its own.
    response = client.post(
        "/settings/",
        settings_form(
            "Bravo renamed",
            organisation=world.a.organisation.pk,
            pk=world.a.organisation.pk,
            portal_name="Bravo brand",
        ),
    )
    assert response.status_code == 302
    alpha = Organisation.objects.get(pk=world.a.organisation.pk)
    bravo = Organisation.objects.get(pk=world.b.organisation.pk)
    assert (alpha.name, alpha.portal_name) == ("Alpha", "")
    assert (bravo.name, bravo.portal_name) == ("Bravo renamed", "Bravo brand")

    with pytest.raises(PermissionDenied):
        organisation_update_settings(
            actor=actor_for_user(world.b.member),
            organisation=world.a.organisation,
            values={"portal_name": "Taken over"},
        )
    assert Organisation.objects.get(pk=world.a.organisation.pk).portal_name == ""


def test_a_settings_page_shows_only_its_own_organisation(client, world, alpha_brand):
    client.force_login(world.b.member)
    html = client.get("/settings/").content.decode()
    assert "Alpha Portal" not in html and HOST_A not in html and "data-current-logo" not in html
    assert client.get(reverse("brand:logo")).status_code == 404


def test_another_organisations_customer_on_the_host_sees_its_own_brand(client, world, alpha_brand):
    client.force_login(world.b.customer_user)
    html = client.get(reverse("dashboard"), HTTP_HOST=HOST_A).content.decode()
    assert "Alpha Portal" not in html and "#aa3300" not in html
    # Nor can it fetch the host's logo: its own brand has none.
    assert client.get(reverse("brand:logo"), HTTP_HOST=HOST_A).status_code == 404


def test_a_host_shows_only_the_brand_it_is_mapped_to(client, world, alpha_brand):
    organisation_update_settings(
        actor=SYSTEM, organisation=world.b.organisation, values={"portal_name": "Bravo Portal"}
    )
    Organisation.objects.filter(pk=world.b.organisation.pk).update(custom_host="portal.bravo.test")
    alpha = client.get("/accounts/login/", HTTP_HOST=HOST_A).content.decode()
    bravo = client.get("/accounts/login/", HTTP_HOST="portal.bravo.test").content.decode()
    assert "Alpha Portal" in alpha and "Bravo Portal" not in alpha
    assert "Bravo Portal" in bravo and "Alpha Portal" not in bravo
    assert client.get(reverse("brand:logo"), HTTP_HOST="portal.bravo.test").status_code == 404


def test_an_inactive_organisations_host_is_not_served(client, world, alpha_brand, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    Organisation.objects.filter(pk=world.a.organisation.pk).update(is_active=False)
    assert client.get("/accounts/login/", HTTP_HOST=HOST_A).status_code == 400


@pytest.mark.parametrize(
    "host",
    [f"{HOST_A}@evil.test", f"evil.test#{HOST_A}", f"x.{HOST_A}", f"{HOST_A}.evil.test"],
)
def test_a_host_that_only_looks_like_a_mapped_one_is_refused(client, world, alpha_brand, host):
    from django.test import override_settings

    with override_settings(ALLOWED_HOSTS=["testserver"]):
        assert client.get("/accounts/login/", HTTP_HOST=host).status_code == 400


def test_a_forwarded_host_header_is_not_trusted(client, world, alpha_brand):
    html = client.get("/accounts/login/", HTTP_X_FORWARDED_HOST=HOST_A).content.decode()
    assert "Sign in to Nameport" in html


@pytest.mark.parametrize(
    "colour", ["#fff;}</style><script>alert(1)</script>", "red;background:url(x)", "#aa330"]
)
def test_an_accent_colour_cannot_carry_css_or_markup(client, world, colour):
    client.force_login(world.a.member)
    response = client.post("/settings/", settings_form("Alpha", accent_colour=colour))
    assert response.status_code == 400
    assert Organisation.objects.get(pk=world.a.organisation.pk).accent_colour == ""


def test_a_portal_name_is_escaped_on_the_customers_pages(client, world):
    client.force_login(world.a.member)
    response = client.post(
        "/settings/", settings_form("Alpha", portal_name="<script>alert(1)</script>")
    )
    assert response.status_code == 302
    client.force_login(world.a.customer_user)
    html = client.get(reverse("dashboard")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_logo_is_served_as_an_image_only(client, world, alpha_brand):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("brand:logo"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'"


def huge_png() -> bytes:
    """A PNG whose header claims 60000 x 60000 pixels (a decompression bomb), a few bytes long."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_logo_is_refused_without_a_500(client, world):
    client.force_login(world.a.member)
    bomb = SimpleUploadedFile("logo.png", huge_png(), content_type="image/png")
    response = client.post("/settings/", {**settings_form("Alpha"), "logo": bomb})
    assert response.status_code == 400
    assert not Organisation.objects.get(pk=world.a.organisation.pk).logo
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        organisation_update_settings(
            actor=SYSTEM,
            organisation=world.a.organisation,
            values={},
            logo=SimpleUploadedFile("logo.png", huge_png(), content_type="image/png"),
        )


def test_a_form_posted_on_a_mapped_host_passes_the_csrf_origin_check(world, alpha_brand):
    from django.test import Client

    from tests.customers.factories import PASSWORD

    browser = Client(enforce_csrf_checks=True)
    browser.get("/accounts/login/", HTTP_HOST=HOST_A)
    token = browser.cookies["csrftoken"].value
    form = {
        "username": world.a.customer_user.email,
        "password": PASSWORD,
        "csrfmiddlewaretoken": token,
    }
    signed_in = browser.post(
        "/accounts/login/", form, HTTP_HOST=HOST_A, HTTP_ORIGIN=f"http://{HOST_A}"
    )
    assert signed_in.status_code == 302
    # The same form claiming to come from another site is refused.
    browser.logout()
    browser.get("/accounts/login/", HTTP_HOST=HOST_A)
    form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"].value
    forged = browser.post(
        "/accounts/login/", form, HTTP_HOST=HOST_A, HTTP_ORIGIN="http://evil.example.test"
    )
    assert forged.status_code == 403

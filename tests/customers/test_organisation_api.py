"""/api/v1/organisation/: the caller's settings and brand; owners and admins change them with
PATCH, keys and narrower roles read only; the brand reaches the customers' pages."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from customers.models import Membership
from portal.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/organisation/"


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "#1f4e79").save(buffer, "PNG")
    return buffer.getvalue()


def test_a_member_and_a_key_read_their_own_settings(client, world):
    client.force_login(world.a.member)
    data = client.get(URL).json()
    assert data["id"] == world.a.organisation.pk and data["name"] == world.a.organisation.name
    client.logout()
    data = client.get(URL, HTTP_ACCESS_TOKEN=world.b.live_key_raw).json()
    assert data["id"] == world.b.organisation.pk


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_have_no_organisation_settings(client, world, who):
    client.force_login(getattr(world.a, who))
    assert client.get(URL).status_code == 404


def test_an_owner_sets_the_brand_and_the_customer_sees_it(client, world):
    client.force_login(world.a.member)
    response = client.patch(
        URL,
        {
            "portal_name": "Alpha Domains",
            "accent_colour": "#AA3366",
            "reminder_days": [7, 30, 1],
            "default_nameservers": ["NS1.Alpha.test.", "ns2.alpha.test"],
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["portal_name"] == "Alpha Domains" and data["accent_colour"] == "#aa3366"
    assert data["reminder_days"] == [30, 7, 1]
    assert data["default_nameservers"] == ["ns1.alpha.test", "ns2.alpha.test"]
    entry = AuditEntry.objects.get(action="organisation.settings")
    assert entry.user == world.a.member and "portal_name" in entry.data["changed"]

    client.logout()
    client.force_login(world.a.customer_user)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Alpha Domains" in html and "#aa3366" in html


def test_a_logo_is_uploaded_with_multipart(client, world):
    client.force_login(world.a.member)
    upload = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    response = client.generic(
        "PATCH",
        URL,
        data=encode_multipart(BOUNDARY, {"logo": upload}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 200, response.content
    assert response.json()["has_logo"] is True


@pytest.mark.parametrize(
    "body, field",
    [
        ({"accent_colour": "red"}, "accent_colour"),
        ({"default_currency": "XYZ"}, "default_currency"),
        ({"reminder_days": [0]}, "reminder_days"),
        ({"reminder_days": "30"}, "reminder_days"),
        ({"default_nameservers": ["only-one.example"]}, "default_nameservers"),
        ({"default_nameservers": ["not a host", "ns2.example.net"]}, "default_nameservers"),
        ({"renewal_invoice_days": 500}, "renewal_invoice_days"),
        ({"support_email": "nope"}, "support_email"),
    ],
)
def test_bad_settings_are_clear_errors_and_change_nothing(client, world, body, field):
    client.force_login(world.a.member)
    response = client.patch(URL, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not AuditEntry.objects.filter(action="organisation.settings").exists()


def test_a_non_image_logo_is_refused(client, world):
    client.force_login(world.a.member)
    upload = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = client.generic(
        "PATCH",
        URL,
        data=encode_multipart(BOUNDARY, {"logo": upload}),
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 400
    world.a.organisation.refresh_from_db()
    assert not world.a.organisation.logo


@pytest.mark.parametrize("role", ["billing", "support", "read_only"])
def test_narrower_roles_cannot_change_settings(client, world, role):
    Membership.objects.filter(user=world.a.member).update(role=role)
    client.force_login(world.a.member)
    response = client.patch(URL, {"portal_name": "Mine"}, content_type="application/json")
    assert response.status_code == 403
    world.a.organisation.refresh_from_db()
    assert world.a.organisation.portal_name == ""


def test_a_key_cannot_change_settings(client, world):
    response = client.patch(
        URL,
        {"portal_name": "Mine"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert response.status_code == 403
    world.a.organisation.refresh_from_db()
    assert world.a.organisation.portal_name == ""


def test_an_unknown_field_is_ignored_and_no_other_tenant_is_reachable(client, world):
    client.force_login(world.a.member)
    response = client.patch(
        URL, {"id": world.b.organisation.pk, "name": "Renamed"}, content_type="application/json"
    )
    assert response.status_code == 200
    world.a.organisation.refresh_from_db()
    world.b.organisation.refresh_from_db()
    assert world.a.organisation.name == "Renamed" and world.b.organisation.name != "Renamed"

"""The portal answers HTTP for forwarded names: a redirect for URL, a frame page for FRAME; never
for other hosts, sandbox zones or unsafe targets."""

from __future__ import annotations

import pytest

from dns import services
from dns.models import Record
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.dns.factories import held_zone

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone():
    return held_zone("forwarded.test")


def test_a_url_record_answers_with_a_redirect(client, zone):
    services.forwarding_set(actor=SYSTEM, zone=zone, target="https://new.example.org/home")
    response = client.get("/any/path?x=1", HTTP_HOST="forwarded.test")
    assert response.status_code == 301
    assert response["Location"] == "https://new.example.org/home"


def test_a_frame_record_answers_with_a_page_that_frames_the_target(client, zone):
    services.record_create(
        actor=SYSTEM,
        zone=zone,
        name="shop",
        type="FRAME",
        content="https://shop.example.org/?a=1&b=2",
    )
    response = client.get("/", HTTP_HOST="Shop.Forwarded.Test:80")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<iframe src="https://shop.example.org/?a=1&amp;b=2"' in page
    assert "frame-src http: https:" in response["Content-Security-Policy"]
    assert "<script" not in page


def test_other_hosts_reach_the_portal(client, zone):
    services.forwarding_set(actor=SYSTEM, zone=zone, target="https://new.example.org/")
    assert client.get("/healthz").status_code == 200  # testserver: the portal
    other = client.get("/accounts/login/", HTTP_HOST="unknown.forwarded.test")
    assert other.status_code != 301


def test_sandbox_zones_are_not_served(client):
    customer = CustomerFactory(livemode=False)
    zone = held_zone("sandbox.test", customer=customer)
    services.forwarding_set(actor=SYSTEM, zone=zone, target="https://new.example.org/")
    assert client.get("/", HTTP_HOST="sandbox.test").status_code != 301


def test_an_unsafe_target_that_got_in_by_hand_is_not_followed(client, zone):
    Record.objects.create(zone=zone, name="evil", type="URL", content="javascript:alert(1)")
    response = client.get("/", HTTP_HOST="evil.forwarded.test")
    assert response.status_code != 301
    assert "javascript" not in response.get("Location", "")

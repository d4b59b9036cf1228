"""Each demo role signs in, sees its own dashboard and follows its navigation."""

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ROLE_NAV = {
    "staff@example.com": ["domains", "customers", "dns", "invoices", "tickets"],
    "reseller@example.com": ["domains", "customers", "dns", "invoices", "tickets"],
    "customer@example.com": ["domains", "dns", "invoices", "tickets"],
}


@pytest.mark.parametrize("email", list(ROLE_NAV))
def test_each_role_signs_in_and_follows_its_navigation(page, demo, email):
    sign_in(page, email)
    assert urlparse(page.url).path == "/"
    dashboard = page.locator("main")
    assert "dashboard" in dashboard.inner_text().lower()
    assert page.locator("[data-nav]").count() > 0
    for section in ROLE_NAV[email]:
        page.click(f"[data-nav={section}]")
        page.wait_for_load_state("networkidle")
        assert page.locator("main").is_visible()
        assert "Not found" not in page.title()
        assert "error" not in page.title().lower()
    assert page.requests_elsewhere == []


def test_customer_does_not_get_reseller_sections(page, demo):
    sign_in(page, "customer@example.com")
    assert page.locator("[data-nav=customers]").count() == 0
    page.goto("/customers/")
    assert "not found" in page.locator("body").inner_text().lower()


def test_wrong_password_shows_an_error_and_stays_signed_out(page, demo):
    sign_in(page, "customer@example.com", password="wrong-password")
    assert "/accounts/login/" in page.url
    assert page.locator("[data-nav]").count() == 0

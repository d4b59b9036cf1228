"""A reseller sets its brand on the settings page (a wrong colour is a form error first), and
its customer's pages then show the portal name, the logo and the accent colour; the reseller
keeps seeing Nameport."""

from io import BytesIO

import pytest
from PIL import Image

from customers.models import Organisation
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def logo_file(tmp_path):
    buffer = BytesIO()
    Image.new("RGB", (40, 20), (170, 51, 0)).save(buffer, format="PNG")
    path = tmp_path / "acme-logo.png"
    path.write_bytes(buffer.getvalue())
    return path


def test_reseller_sets_its_brand_and_its_customer_sees_it(
    page, browser, live_server, demo, tmp_path
):
    sign_in(page, "reseller@example.com")
    page.click("[data-nav=settings]")
    page.wait_for_load_state("networkidle")
    form = page.locator("form[data-settings-form]")
    assert form.locator("select[name=default_currency] option").count() >= 2

    # A colour that is not #rrggbb: a form error, nothing saved.
    form.locator("input[name=portal_name]").fill("Acme Domains")
    form.locator("input[name=accent_colour]").fill("orange")
    page.click("[data-action=save-settings]")
    page.wait_for_load_state("networkidle")
    assert "#rrggbb" in page.locator("[data-error-for=accent_colour]").inner_text()
    assert Organisation.objects.get(slug="demo-reseller").portal_name == ""

    form = page.locator("form[data-settings-form]")
    form.locator("input[name=accent_colour]").fill("#aa3300")
    form.locator("input[name=logo]").set_input_files(str(logo_file(tmp_path)))
    page.click("[data-action=save-settings]")
    page.wait_for_load_state("networkidle")
    assert "Settings saved." in page.locator(".np-messages").inner_text()
    assert page.locator("[data-current-logo]").evaluate("img => img.naturalWidth") == 40
    # The team keeps seeing Nameport.
    assert page.locator("[data-brand-name]").inner_text() == "Nameport"

    customer_context = browser.new_context(base_url=live_server.url)
    customer = customer_context.new_page()
    try:
        sign_in(customer, "customer@example.com")
        customer.wait_for_selector("[data-brand-name]")
        assert customer.locator("[data-brand-name]").inner_text() == "Acme Domains"
        assert customer.title().endswith("· Acme Domains")
        logo = customer.locator("img[data-brand-logo]")
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 40
        background = customer.locator("nav.np-navbar").evaluate(
            "nav => getComputedStyle(nav).backgroundColor"
        )
        assert background == "rgb(170, 51, 0)"
        assert "Nameport" not in customer.locator("footer").inner_text()
    finally:
        customer_context.close()

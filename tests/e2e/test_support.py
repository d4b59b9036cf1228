"""A customer opens a ticket with an attachment, staff answer it from the reply box (HTMX, no
page reload), the customer sees the answer."""

import pytest

from support.models import Ticket
from tests.e2e.conftest import sign_in
from tests.support.tenancy_urls import PNG

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_customer_opens_staff_answers_customer_reads(page, browser, live_server, demo):
    # The customer opens a ticket with a screenshot.
    sign_in(page, "customer@example.com")
    page.click("[data-nav=tickets]")
    page.click("[data-action=new-ticket]")
    page.select_option("select[name=department]", label="Support")
    page.fill("input[name=subject]", "Website shows an error")
    page.fill("textarea[name=body]", "Since this morning the site shows error 502.")
    page.set_input_files(
        "input[name=attachments]",
        files=[{"name": "error.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("form[data-form=new-ticket] button[type=submit]")
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(subject="Website shows an error")
    assert f"/support/tickets/{ticket.ticket_number}/" in page.url
    assert page.locator("[data-attachment] img").count() == 1
    preview_loaded = page.eval_on_selector("[data-attachment] img", "img => img.naturalWidth")
    assert preview_loaded == 1, "the image preview is served to its owner"

    # Staff answer from the reply box; the conversation updates without a page reload.
    staff_context = browser.new_context(base_url=live_server.url)
    staff = staff_context.new_page()
    sign_in(staff, "staff@example.com")
    staff.goto(f"/support/tickets/{ticket.ticket_number}/")
    staff.evaluate("window.npNoReload = true")
    staff.fill("form[data-reply-form] textarea[name=body]", "We restarted the proxy; try now.")
    staff.click("[data-action=send-reply]")
    staff.locator("#conversation", has_text="We restarted the proxy").wait_for()
    assert staff.evaluate("window.npNoReload") is True, "no page reload"
    assert staff.locator("#ticket-status").inner_text() == "Answered"
    assert staff.locator("form[data-reply-form] textarea[name=body]").input_value() == ""
    staff_context.close()

    # The customer sees the answer.
    page.goto("/support/tickets/")
    assert page.locator(f"[data-row='{ticket.pk}'][data-unread]").count() == 1
    page.goto(f"/support/tickets/{ticket.ticket_number}/")
    assert "We restarted the proxy; try now." in page.locator("#conversation").inner_text()
    assert page.requests_elsewhere == []

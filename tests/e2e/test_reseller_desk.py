"""The reseller's help desk in the browser: its customer opens a ticket, which lands in the
reseller's own department; a member of the reseller's support team finds it in its queue,
fills the reply box from a canned reply (HTMX, no page reload) and sends it; the customer sees
the answer and none of the team's internal notes."""

import pytest

from support.models import DEFAULT_DEPARTMENT, Ticket
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_reseller_member_answers_with_a_canned_reply(page, browser, live_server, demo):
    # Ada, a customer of the demo reseller, opens a ticket: only the reseller's departments.
    sign_in(page, "customer@example.com")
    page.goto("/support/tickets/new/")
    offered = page.locator("select[name=department] option").all_inner_texts()
    assert DEFAULT_DEPARTMENT in offered and "Technical support" not in offered
    page.select_option("select[name=department]", label=DEFAULT_DEPARTMENT)
    page.fill("input[name=subject]", "Renewal of ada-bakery.com")
    page.fill("textarea[name=body]", "Will ada-bakery.com renew by itself?")
    page.click("form[data-form=new-ticket] button[type=submit]")
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(subject="Renewal of ada-bakery.com")
    assert ticket.department.organisation.slug == "demo-reseller"

    # The reseller's support member finds it in the queue and answers from a canned reply.
    team_context = browser.new_context(base_url=live_server.url)
    team = team_context.new_page()
    sign_in(team, "support@demo-reseller.example.com")
    team.goto("/support/tickets/")
    assert team.locator("h1", has_text="Support queue").count() == 1
    team.click(f"[data-row='{ticket.pk}'] a >> nth=0")
    team.wait_for_url(f"**/support/tickets/{ticket.ticket_number}/")
    team.evaluate("window.npNoReload = true")
    team.select_option(f"#canned-{ticket.ticket_number}", label="We are on it")
    box = team.locator("form[data-reply-form] textarea[name=body]")
    team.wait_for_function(
        "() => document.querySelector('form[data-reply-form] textarea[name=body]')"
        ".value.startsWith('Thank you for writing.')"
    )
    box.fill(box.input_value() + " It renews 14 days before expiry.")
    team.click("[data-action=send-reply]")
    team.locator("#conversation", has_text="It renews 14 days before expiry.").wait_for()
    assert team.evaluate("window.npNoReload") is True, "no page reload"
    assert team.locator("#ticket-status").inner_text() == "Answered"
    # An internal note for the team.
    team.fill("form[data-reply-form] textarea[name=body]", "Check her card expiry too.")
    team.check("form[data-reply-form] input[name=internal]")
    team.click("[data-action=send-reply]")
    team.locator("#conversation", has_text="Check her card expiry too.").wait_for()
    team_context.close()

    # Ada sees the answer, not the note.
    page.goto("/support/tickets/")
    assert page.locator(f"[data-row='{ticket.pk}'][data-unread]").count() == 1
    page.goto(f"/support/tickets/{ticket.ticket_number}/")
    conversation = page.locator("#conversation").inner_text()
    assert "Thank you for writing." in conversation
    assert "It renews 14 days before expiry." in conversation
    assert "Check her card expiry too." not in conversation
    assert page.requests_elsewhere == []

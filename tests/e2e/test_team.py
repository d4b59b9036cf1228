"""A reseller issues an API key (shown once), uses it, revokes it, and invites a team member
who follows the e-mailed link, makes an account and lands on the team page."""

import re

import pytest

from customers.models import ApiKey, Membership
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_reseller_issues_and_revokes_a_key_and_invites_a_member(
    page, browser, live_server, demo, mailoutbox
):
    sign_in(page, "reseller@example.com")
    page.click("[data-nav=team]")
    page.click("[data-nav=api-keys]")

    # Issue a live key: the whole key is on this page only.
    page.fill("form[data-key-form] input[name=name]", "Billing system")
    page.select_option("form[data-key-form] select[name=mode]", "live")
    page.click("[data-action=create-key]")
    page.wait_for_load_state("networkidle")
    raw = page.locator("[data-raw-key]").inner_text().strip()
    assert raw.startswith("np_live_")
    key = ApiKey.objects.get(name="Billing system")
    assert key.livemode

    answer = page.request.get("/api/v1/domains/", headers={"access-token": raw})
    assert answer.status == 200
    page.click("[data-action=done]")
    page.wait_for_load_state("networkidle")
    row = page.locator(f"[data-key='{key.prefix}']")
    assert raw not in page.content()
    assert row.locator("[data-use-count]").inner_text() == "1"

    # Revoke it after confirming: the next request with it is refused.
    row.locator("[data-action=revoke]").click()
    page.wait_for_load_state("networkidle")
    page.click("[data-action=confirm-revoke]")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"[data-key='{key.prefix}'] [data-revoked]").count() == 1
    refused = page.request.get("/api/v1/domains/", headers={"access-token": raw})
    assert refused.status == 401

    # Invite a billing member; read the link from the e-mail.
    page.click("[data-nav=team]")
    page.fill("form[data-invite-form] input[name=email]", "accounts@demo-reseller.example.com")
    page.select_option("form[data-invite-form] select[name=role]", "billing")
    page.click("[data-action=invite]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-invitation='accounts@demo-reseller.example.com']").count() == 1
    [mail] = [m for m in mailoutbox if m.to == ["accounts@demo-reseller.example.com"]]
    link = re.search(r"https?://\S+/team/join/\S+/", mail.body).group(0)

    newcomer_context = browser.new_context(base_url=live_server.url)
    newcomer = newcomer_context.new_page()
    newcomer.goto(link)
    newcomer.fill("input[name=first_name]", "Bisi")
    newcomer.fill("input[name=last_name]", "Ade")
    newcomer.fill("input[name=password1]", "a-long-team-passphrase")
    newcomer.fill("input[name=password2]", "a-long-team-passphrase")
    newcomer.click("[data-action=accept]")
    newcomer.wait_for_load_state("networkidle")
    assert newcomer.url.endswith("/team/")
    assert newcomer.locator("[data-member='accounts@demo-reseller.example.com']").count() == 1
    # A billing member sees the team but is offered no invitation form.
    assert newcomer.locator("form[data-invite-form]").count() == 0
    membership = Membership.objects.get(user__email="accounts@demo-reseller.example.com")
    assert membership.role == "billing"
    newcomer.goto(link)
    assert "not valid any more" in newcomer.content()
    newcomer_context.close()
    assert page.requests_elsewhere == []

"""A reseller changes a markup on its price list and sees the search price change."""

import pytest
from playwright.sync_api import expect

from billing.models import MarkupRule, Price
from billing.pricing import PriceList
from customers.models import Organisation
from domains.models import Tld
from portal.tenancy import actor_for_user
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

RESELLER = "reseller@example.com"


def search_price(page, name: str) -> str:
    page.goto("/domains/")
    page.click("[data-action=search]")
    page.fill("input[name=q]", name.split(".")[0])
    page.click("form[data-search-form] button[type=submit]")
    row = page.locator(f"tr[data-name='{name}']")
    expect(row).to_have_attribute("data-state", "available", timeout=15_000)
    return row.locator("[data-price]").inner_text()


def test_a_reseller_changes_a_markup_and_the_search_price_follows(page, demo):
    demo_org = Organisation.objects.get(slug="demo-reseller")
    com = Tld.objects.get(name="com")
    # The demo sets its own .com prices; without them its markup rules price .com.
    Price.objects.filter(organisation=demo_org, tld=com).delete()
    reseller = demo_org.memberships.get(user__email=RESELLER).user
    sign_in(page, RESELLER)
    before = search_price(page, "e2e-markup-test.com")

    page.goto("/billing/prices/")
    expect(page.locator("[data-table=rules]")).to_contain_text("No rules yet")
    form = page.locator("form[data-form=rule]")
    form.locator("select[name=rule-tld]").select_option("com")
    form.locator("select[name=rule-action]").select_option("register")
    form.locator("input[name=rule-percent]").fill("100")
    form.locator("select[name=rule-rounding]").select_option("whole")
    form.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("Saved")
    assert MarkupRule.objects.filter(organisation=demo_org, tld=com, percent=100).exists()

    expected = PriceList(actor_for_user(reseller), [com]).price(com)
    row = page.locator("[data-table=preview] tr[data-row='.com']")
    expect(row.locator("[data-sell]")).to_contain_text(str(expected.price))
    after = search_price(page, "e2e-markup-test.com")
    assert after != before
    assert str(expected.price) in after
    assert page.requests_elsewhere == []

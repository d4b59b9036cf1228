"""The price list editor (/billing/prices/) and the order summary's term price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import ExchangeRate, MarkupRule, Price

pytestmark = pytest.mark.django_db
URL = "/billing/prices/"


@pytest.fixture
def com(world):
    tld = world.a.domain.tld
    Price.objects.create(tld=tld, action="register", currency="USD", cost="8.00", sell="10.00")
    return tld


def test_a_reseller_saves_a_rule_and_the_preview_shows_the_new_price_and_margin(client, world, com):
    client.force_login(world.a.member)
    page = client.get(URL)
    assert page.status_code == 200
    assert "No rules yet" in page.content.decode()

    saved = client.post(
        URL,
        {"form": "rule", "rule-percent": "30", "rule-rounding": "whole", "rule-fixed": "0"},
    )
    assert saved.status_code == 302
    html = client.get(saved["Location"]).content.decode()
    assert "13.00 USD" in html and "3.00 USD" in html  # 10.00 + 30% = 13.00; margin 3.00
    assert MarkupRule.objects.get(organisation=world.a.organisation).percent == Decimal("30")


def test_an_own_price_below_cost_is_shown_as_such_and_not_saved(client, world, com):
    client.force_login(world.a.member)
    response = client.post(
        URL,
        {
            "form": "price",
            "price-tld": com.name,
            "price-action": "register",
            "price-years": "1",
            "price-currency": "USD",
            "price-sell": "9.50",
        },
    )
    assert response.status_code == 422
    assert "below what you pay for it (10.00 USD)" in response.content.decode()
    assert not Price.objects.filter(organisation=world.a.organisation).exists()


def test_bad_form_input_is_422_with_errors(client, world, com):
    client.force_login(world.a.member)
    response = client.post(URL, {"form": "rule", "rule-percent": "-3", "rule-rounding": "x"})
    assert response.status_code == 422
    assert not MarkupRule.objects.exists()
    assert client.post(URL, {"form": "nonsense"}).status_code == 404


def test_customers_do_not_reach_the_price_list(client, world):
    client.force_login(world.a.customer_user)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"form": "rule", "rule-percent": "5"}).status_code == 404
    assert not MarkupRule.objects.exists()


def test_in_sandbox_mode_the_page_reads_but_does_not_save(client, world, com):
    client.force_login(world.a.member)
    session = client.session
    from portal.tenancy import SESSION_LIVEMODE_KEY

    session[SESSION_LIVEMODE_KEY] = False
    session.save()
    page = client.get(URL)
    assert page.status_code == 200 and "switch to live" in page.content.decode()
    refused = client.post(URL, {"form": "rule", "rule-percent": "5", "rule-rounding": "none"})
    assert refused.status_code == 422
    assert not MarkupRule.objects.exists()


def test_a_reseller_deletes_its_rule_another_cannot(client, world, com):
    rule = MarkupRule.objects.create(organisation=world.a.organisation, percent="5")
    client.force_login(world.b.member)
    assert client.post(reverse("billing:markup_rule_delete", args=[rule.pk])).status_code == 404
    client.force_login(world.a.member)
    assert client.post(reverse("billing:markup_rule_delete", args=[rule.pk])).status_code == 302
    assert not MarkupRule.objects.exists()


def test_staff_save_an_exchange_rate_resellers_cannot(client, world):
    today = str(timezone.now().date())
    body = {
        "form": "rate",
        "rate-base": "USD",
        "rate-quote": "NGN",
        "rate-rate": "1550",
        "rate-valid_from": today,
    }
    client.force_login(world.a.member)
    assert client.post(URL, body).status_code == 422
    assert not ExchangeRate.objects.exists()
    client.force_login(world.staff)
    assert client.post(URL, body).status_code == 302
    assert ExchangeRate.objects.get().rate == Decimal("1550")


def test_the_order_summary_prices_the_whole_term_from_the_one_function(client, world, com):
    # A 3-year row cheaper than 3 x the 1-year price: the summary shows the row, not 3 x 10.00.
    Price.objects.create(
        tld=com, action="register", years=3, currency="USD", cost="21.00", sell="27.00"
    )
    client.force_login(world.a.customer_user)
    page = client.get(reverse("domains:register"), {"name": f"term-test.{com.name}", "years": 3})
    html = page.content.decode()
    assert "27.00 USD" in html and "for 3 years" in html
    assert "30.00 USD" not in html


def test_staff_edit_the_platform_price_list_resellers_cannot(client, world, com):
    body = {
        "form": "platform",
        "platform-tld": com.name,
        "platform-action": "renew",
        "platform-years": "2",
        "platform-currency": "NGN",
        "platform-cost": "24000",
        "platform-sell": "26000",
    }
    client.force_login(world.a.member)
    assert client.post(URL, body).status_code == 422
    assert not Price.objects.filter(action="renew").exists()
    client.force_login(world.staff)
    assert client.post(URL, body).status_code == 302
    row = Price.objects.get(action="renew", organisation__isnull=True)
    assert (row.years, row.currency, row.sell) == (2, "NGN", Decimal("26000.00"))
    below = {**body, "platform-sell": "1"}
    response = client.post(URL, below)
    assert response.status_code == 422 and "below the registry" in response.content.decode()

"""The price-setting API: markup rules, own prices, the preview and exchange rates."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import ExchangeRate, MarkupRule, Price
from domains.models import Tld

pytestmark = pytest.mark.django_db


@pytest.fixture
def com(world):
    tld = world.a.domain.tld
    Price.objects.create(tld=tld, action="register", currency="USD", cost="8.00", sell="10.00")
    return tld


def api(client, method, url, key, body=None):
    send = getattr(client, method)
    if body is None:
        return send(url, HTTP_ACCESS_TOKEN=key)
    return send(url, body, content_type="application/json", HTTP_ACCESS_TOKEN=key)


def test_a_reseller_sets_a_rule_and_the_preview_shows_price_and_margin(client, world, com):
    key = world.a.live_key_raw
    created = api(client, "post", "/api/v1/markup-rules/", key, {"percent": "20", "rounding": "99"})
    assert created.status_code == 201, created.content
    assert created.json()["organisation"] == world.a.organisation.pk

    preview = api(client, "get", "/api/v1/reseller-prices/preview/?action=register", key)
    assert preview.status_code == 200
    row = next(r for r in preview.json() if r["tld"] == com.name)
    assert (row["cost"], row["price"], row["margin"], row["below_cost"]) == (
        "10.00",
        "12.99",
        "2.99",
        False,
    )

    rule_id = created.json()["id"]
    changed = api(client, "patch", f"/api/v1/markup-rules/{rule_id}/", key, {"percent": "50"})
    assert changed.status_code == 200 and changed.json()["percent"] == "50.00"
    assert changed.json()["rounding"] == "99", "what the PATCH left out is kept"
    assert api(client, "delete", f"/api/v1/markup-rules/{rule_id}/", key).status_code == 204
    assert not MarkupRule.objects.exists()


def test_an_own_price_below_cost_is_a_400_with_the_reason(client, world, com):
    body = {"tld": com.name, "action": "register", "years": 1, "currency": "USD", "sell": "9.00"}
    refused = api(client, "post", "/api/v1/reseller-prices/", world.a.live_key_raw, body)
    assert refused.status_code == 400
    assert "below what you pay for it (10.00 USD)" in refused.json()["message"]
    assert not Price.objects.filter(organisation__isnull=False).exists()

    body["sell"] = "11.00"
    saved = api(client, "post", "/api/v1/reseller-prices/", world.a.live_key_raw, body)
    assert saved.status_code == 201 and saved.json()["cost"] == "10.00"


@pytest.mark.parametrize(
    "body",
    [
        {"percent": "-1"},
        {"percent": "x"},
        {"rounding": "sideways"},
        {"fixed": "1", "fixed_currency": "ZZZ"},
        {"premium_factor": "0.2"},
        {"tld": "no-such-tld"},
    ],
)
def test_bad_rules_are_400_and_change_nothing(client, world, body):
    response = api(client, "post", "/api/v1/markup-rules/", world.a.live_key_raw, body)
    assert response.status_code == 400 and response.json()["message"]
    assert not MarkupRule.objects.exists()


def test_customers_and_sandbox_keys_do_not_reach_price_set_up(client, world, com):
    client.force_login(world.a.customer_user)
    assert client.get("/api/v1/markup-rules/").status_code == 404
    response = client.post(
        "/api/v1/markup-rules/", {"percent": "1"}, content_type="application/json"
    )
    assert response.status_code == 404
    client.logout()
    sandbox = world.a.sandbox_key_raw
    assert api(client, "post", "/api/v1/markup-rules/", sandbox, {"percent": "1"}).status_code in {
        403,
        404,
    }
    assert not MarkupRule.objects.exists()


def test_staff_write_exchange_rates_resellers_read_them(client, world):
    client.force_login(world.staff)
    body = {
        "base": "USD",
        "quote": "NGN",
        "rate": "1500.5",
        "valid_from": str(timezone.now().date()),
    }
    created = client.post("/api/v1/exchange-rates/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert ExchangeRate.objects.get().rate == Decimal("1500.5")
    client.logout()

    listed = api(client, "get", "/api/v1/exchange-rates/", world.a.live_key_raw)
    assert listed.status_code == 200 and listed.json()["results"][0]["quote"] == "NGN"
    refused = api(client, "post", "/api/v1/exchange-rates/", world.a.live_key_raw, body)
    assert refused.status_code == 403
    assert ExchangeRate.objects.count() == 1


def test_another_resellers_rules_are_not_listed(client, world, com):
    MarkupRule.objects.create(organisation=world.b.organisation, percent="7")
    listed = api(client, "get", "/api/v1/markup-rules/", world.a.live_key_raw)
    assert listed.status_code == 200 and listed.json()["results"] == []
    assert Tld.objects.exists()


def test_posting_a_rule_for_the_same_tld_and_action_replaces_it(client, world, com):
    key = world.a.live_key_raw
    body = {"tld": com.name, "action": "register", "percent": "10"}
    first = api(client, "post", "/api/v1/markup-rules/", key, body)
    second = api(client, "post", "/api/v1/markup-rules/", key, {**body, "percent": "15"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert MarkupRule.objects.get().percent == Decimal("15.00")


def test_id_protection_has_its_own_rule_and_preview(client, world, com):
    Price.objects.create(tld=com, action="privacy", currency="USD", cost="2.00", sell="3.00")
    key = world.a.live_key_raw
    body = {"action": "privacy", "percent": "0", "fixed": "2.00"}
    created = api(client, "post", "/api/v1/markup-rules/", key, body)
    assert created.status_code == 201, created.content
    preview = api(client, "get", "/api/v1/reseller-prices/preview/?action=privacy", key)
    row = next(r for r in preview.json() if r["tld"] == com.name)
    assert (row["cost"], row["price"]) == ("3.00", "5.00")
    refused = api(client, "get", "/api/v1/reseller-prices/preview/?action=parking", key)
    assert refused.status_code == 400 and "privacy" in refused.content.decode()

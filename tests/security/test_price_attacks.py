"""Prices, quotes and promotion codes against hostile input: every attempt refused with a clear
message and nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import MarkupRule, Price, PromotionCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def com(world):
    tld = world.a.domain.tld
    for action in ("register", "renew"):
        Price.objects.create(tld=tld, action=action, currency="USD", cost="8.00", sell="10.00")
    return tld


def post(client, url, body, key):
    return client.post(url, body, content_type="application/json", HTTP_ACCESS_TOKEN=key)


def test_a_reseller_cannot_sell_below_what_it_pays(client, world, com):
    body = {"tld": com.name, "action": "register", "currency": "USD", "sell": "0.01"}
    response = post(client, "/api/v1/reseller-prices/", body, world.a.live_key_raw)
    assert response.status_code == 400 and "below what you pay" in response.json()["message"]
    assert not Price.objects.filter(organisation__isnull=False).exists()


def test_a_sandbox_key_cannot_change_live_prices(client, world, com):
    response = post(client, "/api/v1/markup-rules/", {"percent": "900"}, world.a.sandbox_key_raw)
    assert response.status_code == 404
    assert not MarkupRule.objects.exists()


def test_a_reseller_cannot_touch_another_resellers_rule(client, world, com):
    rule = MarkupRule.objects.create(organisation=world.b.organisation, percent="5")
    url = f"/api/v1/markup-rules/{rule.pk}/"
    key = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    assert client.get(url, **key).status_code == 404
    assert (
        client.patch(url, {"percent": "0"}, content_type="application/json", **key).status_code
        == 404
    )
    assert client.delete(url, **key).status_code == 404
    assert MarkupRule.objects.get(pk=rule.pk).percent == Decimal("5.00")


def test_a_reseller_cannot_write_exchange_rates(client, world):
    body = {"base": "USD", "quote": "NGN", "rate": "0.0001", "valid_from": "2026-01-01"}
    assert post(client, "/api/v1/exchange-rates/", body, world.a.live_key_raw).status_code == 403


def test_another_resellers_or_an_expired_promotion_code_gives_no_discount(client, world, com):
    PromotionCode.objects.create(organisation=world.b.organisation, code="FREE", value=100)
    PromotionCode.objects.create(
        organisation=world.a.organisation,
        code="OLD",
        value=100,
        valid_to=timezone.now() - timedelta(days=1),
    )
    client.force_login(world.a.customer_user)
    for code, reason in (("FREE", "not valid"), ("OLD", "expired")):
        body = {
            "check_registry": False,
            "promo_code": code,
            "items": [{"action": "register", "name": "steal.com"}],
        }
        response = client.post("/api/v1/quotes/", body, content_type="application/json")
        assert response.status_code == 400 and reason in response.json()["message"]


def test_a_quote_cannot_read_another_tenants_domain(client, world, com):
    client.force_login(world.a.customer_user)
    body = {
        "check_registry": False,
        "items": [{"action": "renew", "domain_id": world.b.domain.pk}],
    }
    response = client.post("/api/v1/quotes/", body, content_type="application/json")
    assert response.status_code == 200
    item = response.json()["items"][0]
    assert item["valid"] is False and item["error"] == ["No such domain in your account."]
    assert world.b.domain.name not in response.content.decode()

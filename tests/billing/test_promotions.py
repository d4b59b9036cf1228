"""Promotion codes: checked with a clear reason, applied to the items they cover in a quote,
redeemed once per order within their limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing import promotions
from billing.models import Price, PromotionCode
from billing.quotes import quote
from portal.tenancy import actor_for_user
from tests.domains.factories import TldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(world):
    com = world.a.domain.tld
    net = TldFactory(name="net")
    for tld, sell in ((com, "10.00"), (net, "20.00")):
        for action in ("register", "renew", "transfer"):
            Price.objects.create(tld=tld, action=action, currency="USD", cost="5.00", sell=sell)
    return {"com": com, "net": net}


def save(world, **kwargs):
    kwargs.setdefault("kind", "percent")
    kwargs.setdefault("value", "25")
    return promotions.promotion_save(actor=actor_for_user(world.a.member), **kwargs)


def cart(world, code, names=("a-promo.com", "b-promo.net")):
    return quote(
        actor=actor_for_user(world.a.customer_user),
        customer=world.a.customer,
        items=[{"type": "domain", "action": "register", "name": n} for n in names],
        check_registry=False,
        promo_code=code,
    )


def test_a_percent_code_limited_to_a_tld_discounts_only_that_item(world, priced):
    save(world, code="launch25", tlds=[priced["net"]])
    result = cart(world, " Launch25 ")
    summary = result["summary"]
    assert summary["discount"] == Decimal("5.00")  # 25% of the .net 20.00 only
    assert summary["subtotal"] == Decimal("30.00") and summary["total"] == Decimal("25.00")
    assert result["items"][0]["coupon"] == {}
    assert result["items"][1]["coupon"]["code"] == "LAUNCH25"


def test_a_fixed_code_is_taken_once_per_cart_never_more_than_it_costs(world, priced):
    save(world, code="TENOFF", kind="fixed", value="25.00", currency="USD")
    summary = cart(world, "TENOFF")["summary"]
    assert summary["discount"] == Decimal("25.00") and summary["total"] == Decimal("5.00")
    save(world, code="BIG", kind="fixed", value="500.00", currency="USD")
    assert cart(world, "BIG")["summary"]["total"] == Decimal("0.00")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({}, "not valid"),
        ({"valid_to": -1}, "expired on"),
        ({"valid_from": 1}, "starts on"),
        ({"used_up": True}, "used up"),
        ({"other_tld": True}, "does not apply to anything"),
        ({"other_reseller": True}, "not valid"),
    ],
)
def test_a_code_that_cannot_be_used_says_why(world, priced, setup, message):
    now = timezone.now()
    if setup:
        promo = PromotionCode.objects.create(
            organisation=world.b.organisation
            if setup.get("other_reseller")
            else world.a.organisation,
            code="SAVE",
            value=Decimal("10"),
            valid_to=now + timedelta(days=setup["valid_to"]) if "valid_to" in setup else None,
            valid_from=now + timedelta(days=setup["valid_from"]) if "valid_from" in setup else None,
            max_uses=1 if setup.get("used_up") else None,
            uses=1 if setup.get("used_up") else 0,
        )
        if setup.get("other_tld"):
            promo.tlds.set([TldFactory(name="org")])
    with pytest.raises(ValidationError) as refused:
        cart(world, "SAVE")
    assert message in str(refused.value)


def test_redeeming_counts_a_use_and_refuses_past_the_limit(world, priced):
    promo = save(world, code="ONCE", max_uses=1)
    promotions.promotion_redeem(promo)
    with pytest.raises(ValidationError, match="used up"):
        promotions.promotion_redeem(promo)
    assert PromotionCode.objects.get(pk=promo.pk).uses == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": "bad code!"},
        {"code": "X", "value": "0"},
        {"code": "X", "value": "101"},
        {"code": "X", "kind": "fixed", "value": "5"},
        {"code": "X", "kind": "nope"},
        {"code": "X", "actions": ["steal"]},
        {"code": "X", "max_uses": 0},
    ],
)
def test_bad_codes_are_refused(world, kwargs):
    with pytest.raises(ValidationError):
        save(world, **kwargs)
    assert not PromotionCode.objects.exists()


def test_customers_cannot_make_codes(world):
    with pytest.raises(PermissionDenied):
        promotions.promotion_save(
            actor=actor_for_user(world.a.customer_user), code="MINE", kind="percent", value="50"
        )


def test_the_quote_api_takes_a_code_and_answers_400_with_the_reason(client, world, priced):
    save(world, code="API10", value="10")
    client.force_login(world.a.customer_user)
    body = {"check_registry": False, "items": [{"action": "register", "name": "api-promo.com"}]}
    ok = client.post(
        "/api/v1/quotes/", {**body, "promo_code": "API10"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["summary"]["discount"] == "1.00"
    bad = client.post(
        "/api/v1/quotes/", {**body, "promo_code": "NOPE"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "not valid" in bad.json()["message"]


def test_the_api_makes_and_lists_a_resellers_codes(client, world, priced):
    key = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    body = {"code": "spring", "kind": "percent", "value": "15", "tlds": ["net"], "max_uses": 3}
    created = client.post("/api/v1/promotion-codes/", body, content_type="application/json", **key)
    assert created.status_code == 201, created.content
    assert created.json()["code"] == "SPRING" and created.json()["tlds"] == ["net"]
    bad = client.post(
        "/api/v1/promotion-codes/",
        {**body, "value": "150"},
        content_type="application/json",
        **key,
    )
    assert bad.status_code == 400 and "at most 100" in bad.json()["message"]
    other = client.get("/api/v1/promotion-codes/", HTTP_ACCESS_TOKEN=world.b.live_key_raw).json()
    assert other["results"] == []

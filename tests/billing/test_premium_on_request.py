"""Premium names "on request": a reseller's markup rule may price premium names at the
registry's price times a factor or on request. On request, search, availability and the API
show "Price on request" and no number, and a quote, cart or order line for the name is refused
with a message to contact the reseller, never priced from the registry's wholesale price.

The registry is asked in threads, so the rows they read are committed: transactional tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import orders, prices
from billing.models import MarkupRule, Order, Price
from billing.pricing import PriceList
from billing.quotes import quote
from domains.availability import check_names
from domains.models import RegistrarAccount
from portal.tenancy import actor_for_api_key, actor_for_user

pytestmark = pytest.mark.django_db(transaction=True)
CASH = "cash.com"  # the sandbox registry quotes 2500.00 for it


@pytest.fixture
def com(world):
    tld = world.a.domain.tld
    RegistrarAccount.objects.filter(pk=tld.registrar_account_id).update(
        settings={"premium": {CASH: "2500.00"}}
    )
    for action in ("register", "renew"):
        Price.objects.create(tld=tld, action=action, currency="USD", cost="8.00", sell="10.00")
    return tld


def on_request(world, **rule):
    return prices.markup_rule_save(
        actor=actor_for_api_key(world.a.live_key),
        percent="20",
        premium_on_request=True,
        **rule,
    )


def test_without_on_request_a_premium_name_has_its_price(world, com):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="20")
    [result] = check_names(actor_for_user(world.a.customer_user), [CASH])
    # 2500.00 x the platform's 10/8, + 20 %: the customer's price, never the registry's quote.
    assert (result.premium, result.on_request, result.price) == (True, False, Decimal("3750.00"))


def test_on_request_shows_no_number_anywhere_a_price_is_seen(world, com):
    on_request(world)
    for user in (world.a.customer_user, world.a.contact_user, world.a.member):
        [result] = check_names(actor_for_user(user), [CASH, "plain-name.com"])[:1]
        assert (result.premium, result.on_request) == (True, True)
        assert (result.price, result.cost) == (None, None)
    standard = check_names(actor_for_user(world.a.customer_user), ["plain-name.com"])[0]
    assert (standard.on_request, standard.price) == (False, Decimal("12.00")), (
        "standard names keep their price"
    )
    other = check_names(actor_for_user(world.b.customer_user), [CASH])[0]
    assert other.on_request is False and other.price == Decimal("3125.00"), (
        "another reseller's rule never applies"
    )
    # The one price function says so too, and gives no price.
    priced = PriceList(actor_for_user(world.a.customer_user), [com]).price(
        com, registry_quote=(Decimal("2500.00"), "USD")
    )
    assert (priced.price, priced.on_request, priced.premium) == (None, True, True)


def test_the_search_page_shows_price_on_request(client, world, com):
    on_request(world)
    client.force_login(world.a.customer_user)
    html = client.get("/domains/search/check/", {"name": CASH}).content.decode()
    assert "Price on request" in html
    assert "2500" not in html and "3750" not in html and "3125" not in html
    assert 'data-action="register"' not in html, "nothing to register at a price it has not got"


def test_the_availability_api_answers_on_request_with_a_null_price(client, world, com):
    on_request(world)
    response = client.post(
        "/api/v1/domains/availability/",
        {"names": [CASH]},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert (row["premium"], row["on_request"], row["price"], row["cost"]) == (
        True,
        True,
        None,
        None,
    )


def test_a_quote_line_for_it_is_refused_with_a_message_to_contact_the_reseller(world, com):
    on_request(world)
    items = [
        {"type": "domain", "action": "register", "name": CASH},
        {"type": "domain", "action": "register", "name": "plain-name.com"},
    ]
    for user in (world.a.customer_user, world.a.member):
        result = quote(actor=actor_for_user(user), customer=world.a.customer, items=items)
        cash, plain = result["items"]
        assert cash["valid"] is False
        assert cash["error"] == [
            f"{CASH} is a premium name priced on request: contact Alpha for its price."
        ]
        assert cash["domains"][CASH]["price"] is None
        assert plain["valid"] is True
        assert result["summary"]["subtotal"] == Decimal("12.00"), "only the plain name is priced"


def test_an_order_with_it_is_refused_and_nothing_is_written(world, com):
    on_request(world)
    with pytest.raises(ValidationError) as refused:
        orders.order_place(
            actor=actor_for_user(world.a.customer_user),
            customer=world.a.customer,
            items=[{"type": "domain", "action": "register", "name": CASH}],
            idempotency_key="premium-on-request",
        )
    assert "priced on request: contact Alpha" in " ".join(refused.value.messages)
    assert not Order.objects.exists()


def test_the_quote_api_gives_the_items_error(client, world, com):
    on_request(world)
    client.force_login(world.a.customer_user)
    response = client.post(
        "/api/v1/quotes/",
        {"items": [{"type": "domain", "action": "register", "name": CASH}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    [item] = response.json()["items"]
    assert item["valid"] is False and "contact Alpha" in item["error"][0]


def test_a_tld_rule_on_request_leaves_other_tlds_and_a_factor_rule_priced(world, com):
    on_request(world, tld=com)
    net_rule = prices.markup_rule_save(
        actor=actor_for_api_key(world.a.live_key), percent="0", premium_factor="2"
    )
    assert net_rule.tld is None and not net_rule.premium_on_request
    customer = actor_for_user(world.a.customer_user)
    assert PriceList(customer, [com]).premium_on_request(com)
    [cash] = check_names(customer, [CASH])
    assert cash.on_request
    # Back to a factor for .com: priced again, at the registry's price times the factor.
    prices.markup_rule_save(
        actor=actor_for_api_key(world.a.live_key), tld=com, percent="20", premium_factor="1.5"
    )
    [cash] = check_names(customer, [CASH])
    assert (cash.on_request, cash.price) == (False, Decimal("3750.00"))


# --- setting it ----------------------------------------------------------------------------------
def test_a_factor_and_on_request_together_are_refused(world, com):
    with pytest.raises(ValidationError) as refused:
        on_request(world, premium_factor="2")
    assert "either at a factor or on request" in refused.value.message_dict["premium_factor"][0]
    assert not MarkupRule.objects.exists()


def test_the_price_list_sets_premium_names_on_request(client, world, com):
    client.force_login(world.a.member)
    saved = client.post(
        "/billing/prices/",
        {"form": "rule", "rule-percent": "10", "rule-rounding": "none", "rule-premium": "request"},
    )
    assert saved.status_code == 302
    rule = MarkupRule.objects.get(organisation=world.a.organisation)
    assert (rule.premium_on_request, rule.premium_factor) == (True, None)
    assert "Price on request" in client.get("/billing/prices/").content.decode()

    missing = client.post(
        "/billing/prices/",
        {"form": "rule", "rule-percent": "10", "rule-rounding": "none", "rule-premium": "factor"},
    )
    assert missing.status_code == 422
    assert "Enter the factor" in missing.content.decode()
    assert MarkupRule.objects.get().premium_on_request is True


def test_the_api_sets_and_clears_on_request(client, world, com):
    key = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    created = client.post(
        "/api/v1/markup-rules/",
        {"percent": "10", "premium_factor": "2"},
        content_type="application/json",
        **key,
    )
    assert created.status_code == 201, created.content
    rule = created.json()
    assert rule["premium_on_request"] is False
    url = f"/api/v1/markup-rules/{rule['id']}/"
    patched = client.patch(
        url, {"premium_on_request": True}, content_type="application/json", **key
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["premium_on_request"], patched.json()["premium_factor"]) == (True, None)
    both = client.patch(
        url,
        {"premium_on_request": True, "premium_factor": "3"},
        content_type="application/json",
        **key,
    )
    assert both.status_code == 400 and "on request" in both.json()["message"]
    back = client.patch(url, {"premium_factor": "1.5"}, content_type="application/json", **key)
    assert (back.json()["premium_on_request"], back.json()["premium_factor"]) == (False, "1.500")

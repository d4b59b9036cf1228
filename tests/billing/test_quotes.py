"""billing.quotes: seed 003's quote, computed as the invoice will be, priced by the one function."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import MarkupRule, PaymentMethod, Price, TaxRule
from billing.quotes import quote
from domains.models import DomainStatus
from portal.tenancy import SYSTEM, actor_for_user
from tests.domains.factories import DomainFactory, TldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(world):
    com = world.a.domain.tld
    net = TldFactory(name="net")
    for tld, sell in ((com, "10.00"), (net, "12.00")):
        for action in ("register", "renew", "transfer"):
            Price.objects.create(tld=tld, action=action, currency="USD", cost="5.00", sell=sell)
    TaxRule.objects.create(name="VAT", country="NG", rate="7.50")
    return {"com": com, "net": net}


def ask(world, items, **kwargs):
    kwargs.setdefault("check_registry", False)
    return quote(
        actor=actor_for_user(world.a.customer_user),
        customer=world.a.customer,
        items=items,
        **kwargs,
    )


def test_a_cart_is_quoted_as_its_invoice_will_be(world, priced):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="10")
    result = ask(
        world,
        [
            {"type": "domain", "action": "register", "name": "fresh-one.com", "years": 2},
            {"type": "domain", "action": "transfer", "name": "moving-one.net", "years": 1},
            {"type": "domain", "action": "renew", "domain_id": world.a.domain.pk, "years": 1},
        ],
    )
    summary = result["summary"]
    # 2 x 10.00 + 10% = 22.00; 12.00 + 10% = 13.20; 11.00: 46.20, VAT 7.5% per line.
    assert summary["subtotal"] == Decimal("46.20")
    assert summary["tax"] == [{"name": "VAT", "tax": Decimal("3.47"), "value": Decimal("7.50")}]
    assert summary["total"] == Decimal("49.67")
    assert [item["valid"] for item in result["items"]] == [True, True, True]
    assert result["items"][0]["domains"]["fresh-one.com"]["price"] == Decimal("22.00")
    # The renewal after a year: one year of each at the renewal price.
    assert summary["recurring"] == [{"title": "Annually", "price": Decimal("35.20"), "value": "a"}]

    invoice = services.invoice_create(
        actor=SYSTEM,
        customer=world.a.customer,
        lines=[("Domain", Decimal("22.00")), ("Domain", Decimal("13.20")), ("D", Decimal("11.00"))],
    )
    assert (invoice.subtotal, invoice.tax, invoice.total) == (
        summary["subtotal"],
        summary["tax"][0]["tax"],
        summary["total"],
    )


def test_credit_and_the_payment_fee_are_in_the_summary(world, priced):
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount="5.00", currency="USD", reason="Goodwill"
    )
    method = PaymentMethod.objects.create(
        name="Card", fixed_fee=Decimal("0.30"), percent_fee=Decimal("2.90")
    )
    result = ask(
        world,
        [{"type": "domain", "action": "register", "name": "fee-test.com", "years": 1}],
        pay_method=method,
    )
    summary = result["summary"]
    # 10.00 + VAT 0.75 = 10.75; the fee 0.30 + 2.9% of 10.75 = 0.61, taxed: 0.05.
    assert summary["fee"] == Decimal("0.61")
    assert summary["total"] == Decimal("11.41")
    assert summary["credit"] == Decimal("5.00") and summary["due"] == Decimal("6.41")


def test_each_bad_item_says_why_and_the_good_ones_are_priced(world, priced):
    taken = DomainFactory(name="taken-name.com", tld=priced["com"], customer=world.b.customer)
    other = DomainFactory(customer=world.b.customer, tld=priced["com"])
    gone = DomainFactory(customer=world.a.customer, tld=priced["com"], status=DomainStatus.DELETED)
    result = ask(
        world,
        [
            {"type": "domain", "action": "register", "name": taken.name},
            {"type": "domain", "action": "register", "name": "not a name"},
            {"type": "domain", "action": "register", "name": "x.nosuchtld"},
            {"type": "domain", "action": "register", "name": "ok-name.com", "years": 11},
            {"type": "domain", "action": "renew", "domain_id": other.pk},
            {"type": "domain", "action": "renew", "domain_id": gone.pk},
            {"type": "domain", "action": "steal", "name": "a.com"},
            "not an object",
            {"type": "domain", "action": "register", "name": "ok-name.com"},
            {"type": "domain", "action": "register", "name": "ok-name.com"},
        ],
    )
    errors = [item["error"] for item in result["items"]]
    assert errors[0] == ["taken-name.com is not available."]
    assert all(errors[n] for n in range(1, 8)), errors
    assert errors[4] == ["No such domain in your account."], "another tenant's domain"
    assert "cannot be renewed now" in errors[5][0]
    assert errors[8] == [] and errors[9] == ["ok-name.com is in the cart already."]
    assert result["summary"]["subtotal"] == Decimal("10.00")


def test_below_cost_and_unpriced_tlds_are_not_for_sale(world, priced):
    Price.objects.create(
        organisation=world.a.organisation,
        tld=priced["net"],
        action="register",
        currency="USD",
        cost="12.00",
        sell="11.00",
    )
    TldFactory(name="org")
    result = ask(
        world,
        [
            {"type": "domain", "action": "register", "name": "cheap.net"},
            {"type": "domain", "action": "register", "name": "unpriced.org"},
        ],
    )
    assert result["items"][0]["error"] == [".net is not for sale at the moment."]
    assert result["items"][1]["error"] == [".org cannot be ordered: it has no price."]
    assert result["summary"]["total"] == Decimal("0.00")


def test_a_tax_exempt_customer_pays_no_tax(world, priced):
    customer = world.a.customer
    customer.tax_exempt = True
    customer.save()
    result = ask(world, [{"type": "domain", "action": "register", "name": "exempt.com"}])
    assert result["summary"]["tax"] == [] and result["summary"]["total"] == Decimal("10.00")


def test_an_empty_or_huge_cart_is_refused(world, priced):
    with pytest.raises(ValidationError):
        ask(world, [])
    with pytest.raises(ValidationError):
        ask(world, [{"type": "domain", "name": f"n{i}.com"} for i in range(101)])


def test_a_reseller_quoting_for_its_customer_gets_the_customers_price(world, priced):
    MarkupRule.objects.create(organisation=world.a.organisation, percent="50")
    result = quote(
        actor=actor_for_user(world.a.member),
        customer=world.a.customer,
        items=[{"type": "domain", "action": "register", "name": "for-customer.com"}],
        check_registry=False,
    )
    assert result["summary"]["subtotal"] == Decimal("15.00")


# --- the API -------------------------------------------------------------------------------------
QUOTES = "/api/v1/quotes/"


def test_the_api_quotes_for_a_customer_in_seed_003s_shape(client, world, priced):
    client.force_login(world.a.customer_user)
    body = {
        "check_registry": False,
        "items": [{"type": "domain", "action": "register", "name": "api-quote.com", "years": 1}],
    }
    response = client.post(QUOTES, body, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["summary"]["subtotal"] == "10.00" and data["summary"]["total"] == "10.75"
    assert data["summary"]["tax"] == [{"name": "VAT", "tax": "0.75", "value": "7.50"}]
    line = data["items"][0]
    assert line["valid"] is True and line["domains"]["api-quote.com"]["tld"] == ".com"


def test_a_reseller_names_its_customer_another_tenants_is_refused(client, world, priced):
    body = {
        "check_registry": False,
        "items": [{"type": "domain", "action": "register", "name": "api-quote.com"}],
    }
    key = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    missing = client.post(QUOTES, body, content_type="application/json", **key)
    assert missing.status_code == 400 and "customer" in missing.json()["message"].lower()
    other = client.post(
        QUOTES, {**body, "customer": world.b.customer.pk}, content_type="application/json", **key
    )
    assert other.status_code == 400 and "No such customer." in other.json()["message"]
    mine = client.post(
        QUOTES, {**body, "customer": world.a.customer.pk}, content_type="application/json", **key
    )
    assert mine.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"items": []},
        {"items": "x"},
        {"items": [{"action": "register", "name": "a.com", "years": 0}]},
        {"items": [{"action": "nope"}]},
        {"items": [{"name": "a.com"}], "pay_method": 999999},
    ],
)
def test_bad_quote_requests_are_400(client, world, priced, body):
    client.force_login(world.a.customer_user)
    response = client.post(QUOTES, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["message"]

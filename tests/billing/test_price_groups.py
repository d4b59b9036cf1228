"""Customer price groups: a reseller's discount off its sell prices for the customers it puts in
a group, applied by the one price function wherever that customer is priced (quotes and orders
whoever asks, renewal invoices raised after the change), refused below cost, managed from the
price list editor and the native API, audited."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing import price_groups, renewals
from billing.models import Invoice, MarkupRule, Price, PriceGroup, PriceGroupMembership
from billing.pricing import PriceList
from billing.quotes import quote
from portal.models import AuditEntry
from portal.tenancy import SESSION_LIVEMODE_KEY, actor_for_api_key, actor_for_user
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
PRICES = "/billing/prices/"


@pytest.fixture
def com(world):
    """The platform sells .com at 10.00 (its cost 8.00); reseller a sells at +50 %: 15.00."""
    tld = world.a.domain.tld
    for action in ("register", "renew", "transfer"):
        Price.objects.create(tld=tld, action=action, currency="USD", cost="8.00", sell="10.00")
    MarkupRule.objects.create(organisation=world.a.organisation, percent="50")
    return tld


def reseller(world, tenant="a"):
    return actor_for_api_key(getattr(world, tenant).live_key)


def gold(world, percent="20") -> PriceGroup:
    return price_groups.price_group_save(actor=reseller(world), name="Gold", percent=percent)


def price_seen_by(user, tld, action="register"):
    return PriceList(actor_for_user(user), [tld], action, 1).price(tld)


# --- prices -------------------------------------------------------------------------------------
def test_a_customer_in_a_group_pays_the_group_price_others_do_not(world, com):
    group = gold(world)
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)
    neighbour = CustomerFactory(organisation=world.a.organisation, user=UserFactory())

    assert price_seen_by(world.a.customer_user, com).price == Decimal("12.00")  # 15.00 - 20 %
    assert price_seen_by(world.a.contact_user, com).price == Decimal("12.00"), "its contacts too"
    assert price_seen_by(neighbour.user, com).price == Decimal("15.00")
    member = price_seen_by(world.a.member, com)
    assert (member.price, member.cost) == (Decimal("15.00"), Decimal("10.00"))
    assert price_seen_by(world.b.customer_user, com).price == Decimal("10.00")


def test_a_reseller_or_staff_quoting_for_the_customer_gets_the_group_price(world, com):
    group = gold(world, "10")
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)
    items = [{"type": "domain", "action": "register", "name": "grouped.com", "years": 2}]
    for user in (world.a.member, world.staff, world.a.customer_user):
        result = quote(
            actor=actor_for_user(user),
            customer=world.a.customer,
            items=items,
            check_registry=False,
        )
        assert result["items"][0]["domains"]["grouped.com"]["price"] == Decimal("27.00")
        assert result["summary"]["subtotal"] == Decimal("27.00")  # 2 x 15.00 less 10 %
        # The renewal a year later: one year at the renew price in the group.
        assert result["summary"]["recurring"][0]["price"] == Decimal("13.50")


def test_a_group_price_below_the_resellers_cost_is_refused(world, com):
    group = gold(world, "40")  # 15.00 - 40 % = 9.00, below the 10.00 the reseller pays
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)

    assert price_seen_by(world.a.customer_user, com).below_cost
    result = quote(
        actor=actor_for_user(world.a.member),
        customer=world.a.customer,
        items=[{"type": "domain", "action": "register", "name": "too-cheap.com"}],
        check_registry=False,
    )
    assert result["items"][0]["valid"] is False
    assert result["items"][0]["error"] == [".com is not for sale at the moment."]
    assert result["summary"]["total"] == Decimal("0.00")


def test_a_premium_name_is_discounted_in_the_group_too(world, com):
    group = gold(world, "10")
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)
    actor = actor_for_user(world.a.customer_user)
    premium = PriceList(actor, [com]).price(com, registry_quote=(Decimal("100.00"), "USD"))
    # 100.00 x the platform's 10/8 = 125.00, the reseller's +50 % = 187.50, less 10 %.
    assert (premium.price, premium.premium) == (Decimal("168.75"), True)


NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def expiring_in(days: int) -> datetime:
    return datetime.combine(NOW.date() + timedelta(days=days), time(12), tzinfo=UTC)


def test_renewal_invoices_raised_after_the_change_carry_the_group_price(world, com):
    organisation = world.a.organisation
    organisation.renewal_invoice_days = 14
    organisation.save()
    neighbour = CustomerFactory(organisation=organisation)
    before = DomainFactory(customer=world.a.customer, tld=com, expires_at=expiring_in(5))
    for domain in (world.a.domain, world.a.sandbox_domain):  # not part of this test
        domain.expires_at = expiring_in(300)
        domain.save()
    renewals.renewals_sweep(now=NOW)
    [raised_before] = Invoice.objects.filter(lines__domain=before)
    assert raised_before.subtotal == Decimal("15.00")

    group = gold(world, "20")
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)
    grouped = DomainFactory(customer=world.a.customer, tld=com, expires_at=expiring_in(6))
    ungrouped = DomainFactory(customer=neighbour, tld=com, expires_at=expiring_in(6))
    renewals.renewals_sweep(now=NOW)

    assert Invoice.objects.get(lines__domain=grouped).subtotal == Decimal("12.00")
    assert Invoice.objects.get(lines__domain=ungrouped).subtotal == Decimal("15.00")
    raised_before.refresh_from_db()
    assert raised_before.subtotal == Decimal("15.00"), "an invoice already raised keeps its price"


# --- the services -------------------------------------------------------------------------------
def test_names_are_unique_per_organisation_whatever_their_case(world, com):
    gold(world)
    with pytest.raises(ValidationError) as refused:
        price_groups.price_group_save(actor=reseller(world), name="  gold ", percent="5")
    assert "You have a price group named “gold” already." in refused.value.messages
    other = price_groups.price_group_save(actor=reseller(world, "b"), name="Gold", percent="5")
    assert other.organisation == world.b.organisation, "another reseller may use the name"
    assert PriceGroup.objects.count() == 2


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("-1", "Enter a percent from 0 to 100."),
        ("100.01", "Enter a percent from 0 to 100."),
        ("abc", "Enter a percent such as 10 or 12.5."),
        ("NaN", "Enter a percent from 0 to 100."),
        ("5.555", "Enter a percent with at most two decimals."),
    ],
)
def test_a_percent_outside_0_to_100_is_refused(world, percent, message):
    with pytest.raises(ValidationError) as refused:
        price_groups.price_group_save(actor=reseller(world), name="Odd", percent=percent)
    assert refused.value.message_dict == {"percent": [message]}
    assert not PriceGroup.objects.exists()


def test_changes_are_audited_and_a_deleted_group_sends_its_customers_back(world, com):
    group = gold(world, "10")
    price_groups.price_group_save(actor=reseller(world), group=group, name="Gold", percent="15")
    price_groups.price_group_assign(actor=reseller(world), customer=world.a.customer, group=group)
    assert price_seen_by(world.a.customer_user, com).price == Decimal("12.75")
    price_groups.price_group_delete(actor=reseller(world), group=group)

    assert price_seen_by(world.a.customer_user, com).price == Decimal("15.00")
    assert not PriceGroupMembership.objects.exists()
    actions = list(
        AuditEntry.objects.filter(action__startswith="billing.price_group")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "billing.price_group.create",
        "billing.price_group.change",
        "billing.price_group.assign",
        "billing.price_group.delete",
    ]
    change = AuditEntry.objects.get(action="billing.price_group.change")
    assert change.data["before"] == {"name": "Gold", "percent": "10.00"}
    assert change.organisation == world.a.organisation


def test_only_the_customers_own_reseller_puts_it_in_its_own_group(world, com):
    group = gold(world)
    with pytest.raises(PermissionDenied):
        price_groups.price_group_assign(
            actor=reseller(world, "b"), customer=world.a.customer, group=group
        )
    bravo = price_groups.price_group_save(actor=reseller(world, "b"), name="B", percent="1")
    with pytest.raises(ValidationError, match="Choose one of your own price groups"):
        price_groups.price_group_assign(
            actor=reseller(world), customer=world.a.customer, group=bravo
        )
    with pytest.raises(PermissionDenied):
        price_groups.price_group_assign(
            actor=actor_for_user(world.a.customer_user), customer=world.a.customer, group=group
        )
    assert not PriceGroupMembership.objects.exists()


def test_sandbox_rows_stay_out_of_price_groups(world, com):
    group = gold(world)
    with pytest.raises(ValidationError, match="Sandbox customers"):
        price_groups.price_group_assign(
            actor=reseller(world), customer=world.a.sandbox_customer, group=group
        )
    sandbox_key = actor_for_api_key(world.a.sandbox_key)
    with pytest.raises(PermissionDenied):
        price_groups.price_group_assign(actor=sandbox_key, customer=world.a.customer, group=group)
    with pytest.raises(PermissionDenied):
        price_groups.price_group_save(actor=sandbox_key, name="Sandbox", percent="5")
    assert not PriceGroupMembership.objects.exists()


# --- the pages ------------------------------------------------------------------------------------
def test_a_reseller_creates_edits_and_deletes_a_group_in_the_price_list(client, world, com):
    client.force_login(world.a.member)
    created = client.post(PRICES, {"form": "group", "group-name": "Gold", "group-percent": "10"})
    assert created.status_code == 302
    page = client.get(created["Location"]).content.decode()
    group = PriceGroup.objects.get(organisation=world.a.organisation)
    assert "Gold" in page and "10.00%" in page

    edit_url = f"/billing/prices/groups/{group.pk}/"
    assert client.get(edit_url).status_code == 200
    changed = client.post(edit_url, {"group-name": "Platinum", "group-percent": "12.5"})
    assert changed.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.percent) == ("Platinum", Decimal("12.50"))

    deleted = client.post(f"/billing/prices/groups/{group.pk}/delete/")
    assert deleted.status_code == 302
    assert not PriceGroup.objects.exists()
    assert "No price groups" in client.get(PRICES).content.decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"group-name": "gold", "group-percent": "5"}, "You have a price group named “gold”"),
        ({"group-name": "Silver", "group-percent": "150"}, "Enter a percent from 0 to 100."),
        ({"group-name": "Silver", "group-percent": "-2"}, "Enter a percent from 0 to 100."),
        ({"group-name": "", "group-percent": "5"}, "This field is required."),
    ],
)
def test_bad_group_input_is_422_with_the_reason_and_changes_nothing(
    client, world, com, body, message
):
    gold(world)
    client.force_login(world.a.member)
    response = client.post(PRICES, {"form": "group", **body})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(PriceGroup.objects.values_list("name", "percent")) == [("Gold", Decimal("20.00"))]


def test_a_discount_that_falls_below_cost_is_named_when_saved_and_in_the_preview(
    client, world, com
):
    client.force_login(world.a.member)
    saved = client.post(
        PRICES, {"form": "group", "group-name": "Deep", "group-percent": "40"}, follow=True
    )
    html = saved.content.decode()
    assert "At 40.00% off, .com would sell below what you pay" in html
    group = PriceGroup.objects.get()
    preview = client.get(f"{PRICES}?action=register&years=1&group={group.pk}").content.decode()
    assert "9.00 USD" in preview and "Below your cost" in preview


def test_the_customers_group_is_chosen_on_a_billing_page(client, world, com):
    group = gold(world, "20")
    client.force_login(world.a.member)
    url = f"/billing/customers/{world.a.customer.pk}/price-group/"
    page = client.get(url).content.decode()
    assert "In no group" in page and "15.00 USD" in page

    chosen = client.post(url, {"group": group.pk}, follow=True)
    assert "In <strong>Gold</strong>" in chosen.content.decode()
    assert "12.00 USD" in chosen.content.decode()
    assert PriceGroupMembership.objects.get().customer == world.a.customer

    other = price_groups.price_group_save(actor=reseller(world, "b"), name="B", percent="5")
    refused = client.post(url, {"group": other.pk})
    assert refused.status_code == 422
    assert "Choose one of your price groups." in refused.content.decode()
    assert PriceGroupMembership.objects.get().group == group

    client.post(url, {"group": ""})
    assert not PriceGroupMembership.objects.exists()


def test_the_group_page_adds_and_removes_customers(client, world, com):
    group = gold(world)
    client.force_login(world.a.member)
    page = client.get(f"/billing/prices/groups/{group.pk}/").content.decode()
    assert "No customers yet." in page and world.a.customer.email in page
    added = client.post(
        f"/billing/prices/groups/{group.pk}/add/", {"customer": world.a.customer.pk}, follow=True
    )
    assert "No customers yet." not in added.content.decode()
    assert PriceGroupMembership.objects.get().customer == world.a.customer

    refused = client.post(
        f"/billing/prices/groups/{group.pk}/add/", {"customer": world.b.customer.pk}, follow=True
    )
    assert "Choose one of your customers." in refused.content.decode()
    assert PriceGroupMembership.objects.count() == 1


def test_in_sandbox_mode_groups_are_not_reached(client, world, com):
    group = gold(world)
    client.force_login(world.a.member)
    session = client.session
    session[SESSION_LIVEMODE_KEY] = False
    session.save()
    assert client.get(f"/billing/prices/groups/{group.pk}/").status_code == 404
    assert (
        client.post(PRICES, {"form": "group", "group-name": "S", "group-percent": "1"}).status_code
        == 422
    )
    assert PriceGroup.objects.count() == 1


# --- the API --------------------------------------------------------------------------------------
GROUPS = "/api/v1/price-groups/"
MEMBERSHIPS = "/api/v1/price-group-memberships/"


def api(client, method, url, key, body=None):
    send = getattr(client, method)
    if body is None:
        return send(url, HTTP_ACCESS_TOKEN=key)
    return send(url, body, content_type="application/json", HTTP_ACCESS_TOKEN=key)


def test_the_api_manages_groups_and_memberships(client, world, com):
    key = world.a.live_key_raw
    created = api(client, "post", GROUPS, key, {"name": "Gold", "percent": "20"})
    assert created.status_code == 201, created.content
    group = created.json()
    assert (group["name"], group["percent"], group["members"]) == ("Gold", "20.00", 0)

    joined = api(
        client, "post", MEMBERSHIPS, key, {"customer": world.a.customer.pk, "group": group["id"]}
    )
    assert joined.status_code == 201, joined.content
    assert api(client, "get", f"{GROUPS}{group['id']}/", key).json()["members"] == 1
    assert price_seen_by(world.a.customer_user, com).price == Decimal("12.00")

    silver = api(client, "post", GROUPS, key, {"name": "Silver", "percent": "5"}).json()
    moved = api(
        client, "post", MEMBERSHIPS, key, {"customer": world.a.customer.pk, "group": silver["id"]}
    )
    assert moved.status_code == 200 and moved.json()["id"] == joined.json()["id"]
    listed = api(client, "get", f"{MEMBERSHIPS}?group={silver['id']}", key).json()
    assert [m["customer"] for m in listed["results"]] == [world.a.customer.pk]

    patched = api(client, "patch", f"{GROUPS}{silver['id']}/", key, {"percent": "10"})
    assert patched.status_code == 200 and patched.json()["name"] == "Silver"
    assert price_seen_by(world.a.customer_user, com).price == Decimal("13.50")

    left = api(client, "delete", f"{MEMBERSHIPS}{moved.json()['id']}/", key)
    assert left.status_code == 204
    assert price_seen_by(world.a.customer_user, com).price == Decimal("15.00")
    assert api(client, "delete", f"{GROUPS}{group['id']}/", key).status_code == 204
    assert list(PriceGroup.objects.values_list("name", flat=True)) == ["Silver"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "gold", "percent": "5"}, "You have a price group named “gold” already."),
        ({"name": "Silver", "percent": "101"}, "Enter a percent from 0 to 100."),
        ({"name": "Silver"}, "This field is required."),
    ],
)
def test_bad_api_input_is_a_400_with_a_message(client, world, com, body, message):
    gold(world)
    response = api(client, "post", GROUPS, world.a.live_key_raw, body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert PriceGroup.objects.count() == 1


def test_the_api_refuses_another_tenants_customer_or_group(client, world, com):
    mine = gold(world)
    theirs = price_groups.price_group_save(actor=reseller(world, "b"), name="B", percent="5")
    key = world.a.live_key_raw
    foreign_customer = api(
        client, "post", MEMBERSHIPS, key, {"customer": world.b.customer.pk, "group": mine.pk}
    )
    assert foreign_customer.status_code == 400
    assert "No such customer of yours." in foreign_customer.json()["message"]
    foreign_group = api(
        client, "post", MEMBERSHIPS, key, {"customer": world.a.customer.pk, "group": theirs.pk}
    )
    assert foreign_group.status_code == 400
    assert "No such price group of yours." in foreign_group.json()["message"]
    assert api(client, "get", f"{GROUPS}{theirs.pk}/", key).status_code == 404
    assert [g["name"] for g in api(client, "get", GROUPS, key).json()["results"]] == ["Gold"]
    assert not PriceGroupMembership.objects.exists()
    sandbox = api(client, "get", GROUPS, world.a.sandbox_key_raw)
    assert sandbox.status_code == 404


def test_the_openapi_document_describes_price_groups(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "/api/v1/price-groups/" in schema["paths"]
    assert "/api/v1/price-group-memberships/{id}/" in schema["paths"]
    group = schema["components"]["schemas"]["PriceGroup"]["properties"]
    assert "discount" in group["percent"]["description"]


def test_the_api_preview_shows_a_groups_prices_and_below_cost(client, world, com):
    key = world.a.live_key_raw
    deep = gold(world, "40")
    url = "/api/v1/reseller-prices/preview/?action=register"
    plain = next(r for r in api(client, "get", url, key).json() if r["tld"] == com.name)
    assert (plain["price"], plain["below_cost"]) == ("15.00", False)
    grouped = api(client, "get", f"{url}&group={deep.pk}", key)
    row = next(r for r in grouped.json() if r["tld"] == com.name)
    assert (row["cost"], row["price"], row["margin"], row["below_cost"]) == (
        "10.00",
        "9.00",
        "-1.00",
        True,
    )
    theirs = price_groups.price_group_save(actor=reseller(world, "b"), name="B", percent="5")
    refused = api(client, "get", f"{url}&group={theirs.pk}", key)
    assert refused.status_code == 400
    assert "No such price group of yours." in refused.json()["message"]

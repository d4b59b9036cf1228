"""/api/v1/reseller-accounts/: balances, the ledger, top-ups and the forecast over the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import ledger
from billing.models import AccountEntry, Price
from domains.models import DomainStatus
from portal.tenancy import SYSTEM
from tests.api_helpers import get_as, ids
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/reseller-accounts/"


@pytest.fixture
def accounts(world):
    live = ledger.account_for(world.a.organisation, "USD", True)
    ledger.topup(actor=SYSTEM, account=live, amount="120.00", reference="WIRE-1")
    sandbox = ledger.account_for(world.a.organisation, "USD", False)
    other = ledger.account_for(world.b.organisation, "USD", True)
    return live, sandbox, other


def post_as_key(client, raw, url, data):
    return client.post(url, data, content_type="application/json", HTTP_ACCESS_TOKEN=raw)


def test_a_key_lists_its_organisations_accounts_of_its_mode(client, world, accounts):
    live, sandbox, _ = accounts
    assert ids(get_as(client, world.a, "live_key", BASE)) == [live.pk]
    assert ids(get_as(client, world.a, "sandbox_key", BASE)) == [sandbox.pk]
    body = get_as(client, world.a, "live_key", f"{BASE}{live.pk}/").json()
    assert body["balance"] == "120.00" and body["currency"] == "USD" and body["livemode"]


def test_staff_list_every_account(client, world, accounts):
    client.force_login(world.staff)
    assert sorted(ids(client.get(BASE))) == sorted(a.pk for a in accounts)


def test_customers_see_no_account(client, world, accounts):
    assert ids(get_as(client, world.a, "customer_user", BASE)) == []


def test_the_ledger_is_paginated_newest_first(client, world, accounts):
    live, _, _ = accounts
    for n in range(3):
        ledger.topup(actor=SYSTEM, account=live, amount="1.00", reference=f"WIRE-{n + 2}")
    response = get_as(client, world.a, "live_key", f"{BASE}{live.pk}/entries/", {"per_page": 2})
    body = response.json()
    assert response.status_code == 200 and body["count"] == 4
    assert [row["reference"] for row in body["results"]][:2] == ["WIRE-4", "WIRE-3"]
    assert body["results"][0]["balance_after"] == "123.00"


def test_a_sandbox_key_tops_up_its_sandbox_account(client, world, accounts):
    _, sandbox, _ = accounts
    url = f"{BASE}{sandbox.pk}/topup/"
    response = post_as_key(client, world.a.sandbox_key_raw, url, {"amount": "75.50"})
    assert response.status_code == 201, response.content
    assert response.json()["balance_after"] == "75.50"
    assert ledger.balance(sandbox) == Decimal("75.50")


def test_staff_top_up_a_live_account_with_a_reference(client, world, accounts):
    live, _, _ = accounts
    client.force_login(world.staff)
    url = f"{BASE}{live.pk}/topup/"
    response = client.post(
        url,
        {"amount": "30", "reference": "WIRE-9", "note": "March"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["balance_after"] == "150.00"
    again = client.post(
        url, {"amount": "30", "reference": "WIRE-9"}, content_type="application/json"
    )
    assert again.status_code == 400 and "already recorded" in again.json()["message"]


def test_the_forecast_prices_the_renewals_due(client, world, accounts):
    tld = world.a.domain.tld
    Price.objects.create(tld=tld, action="renew", years=1, currency="USD", cost=8, sell=12)
    DomainFactory(
        customer=world.a.customer,
        tld=tld,
        status=DomainStatus.ACTIVE,
        autorenew=True,
        expires_at=timezone.now() + timedelta(days=20),
    )
    response = get_as(client, world.a, "live_key", f"{BASE}forecast/")
    assert response.status_code == 200, response.content
    [usd] = response.json()
    assert usd["balance"] == "120.00" and usd["currency"] == "USD"
    assert usd["due_30"] >= "12.00" and usd["renewals_30"] >= 1


def test_the_forecast_for_staff_needs_an_organisation(client, world, accounts):
    client.force_login(world.staff)
    assert client.get(f"{BASE}forecast/").status_code == 404
    response = client.get(f"{BASE}forecast/", {"organisation": world.a.organisation.slug})
    assert response.status_code == 200 and response.json()[0]["balance"] == "120.00"


def test_entries_of_a_charge_name_their_domain(client, world, accounts):
    live, _, _ = accounts
    from tests.domains.factories import RegistrarOperationFactory

    operation = RegistrarOperationFactory(domain=world.a.domain, status="running")
    AccountEntry.objects.create(
        account=live,
        kind=AccountEntry.Kind.CHARGE,
        amount=Decimal("-10.00"),
        balance_after=Decimal("110.00"),
        operation=operation,
    )
    body = get_as(client, world.a, "live_key", f"{BASE}{live.pk}/entries/").json()
    assert body["results"][0]["domain"] == world.a.domain.name
    assert body["results"][0]["operation"] == operation.pk

"""Issue 9, section 6: customers and contacts see sell prices only.

Reproduced: a customer read the platform's registry cost in ``payload.expected_cost`` on
``/api/v1/operations/`` (and in the 202 answer of a registration), and was offered a premium name
at the registry's wholesale quote. Now the payload shown to anyone but staff is a whitelist, an
error is written for its reader, and every price comes from ``billing.pricing``: the registry's
quote with the platform's and the reseller's markups. A reseller still sees its own cost.

Prices here: .com registry 8.00, platform 10.00, reseller 12.00; .io registry 40.00, platform
50.00 (x1.25), reseller 60.00 (x1.2). The registry quotes gold.io at 950.00, so the platform
asks 1187.50 and the reseller 1425.00.
"""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Price
from domains import outbox
from domains.models import Domain, RegistrarOperation, Tld
from tests.billing.ledger_helpers import unmetered
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _unmetered():
    """About the fee guard, not the reseller's account with the platform: operations run
    without charging it (tests/domains/test_charge_at_claim.py covers the charge)."""
    with unmetered():
        yield


Status = RegistrarOperation.Status

REGISTRY_COSTS = ("8.00", "40.00", "950.00")
PLATFORM_PRICES = ("10.00", "50.00", "1187.50")


@pytest.fixture
def priced(world):
    account = RegistrarAccountFactory(name="Sandbox registry")
    account.settings = {"premium": {"gold.io": "950.00"}}
    account.save()
    tlds = {}
    for name in ("com", "io"):
        tlds[name], _ = Tld.objects.update_or_create(
            name=name, defaults={"registrar_account": account}
        )
    organisation = world.a.organisation
    for tld, registry, platform, reseller in (
        ("com", "8.00", "10.00", "12.00"),
        ("io", "40.00", "50.00", "60.00"),
    ):
        Price.objects.create(
            tld=tlds[tld], action="register", currency="USD", cost=registry, sell=platform
        )
        Price.objects.create(
            organisation=organisation,
            tld=tlds[tld],
            action="register",
            currency="USD",
            cost=platform,
            sell=reseller,
        )
    return tlds


def _operations(client, user) -> list[dict]:
    client.force_login(user)
    response = client.get("/api/v1/operations/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _no_cost_in(text: str, *amounts: str) -> None:
    for key in ("expected_cost", "accepted_cost", "cost"):
        assert f'"{key}"' not in text
    for amount in amounts:
        assert amount not in text


def test_a_customers_registration_and_operations_carry_no_registry_cost(client, world, priced):
    _credit(world.a.customer)
    client.force_login(world.a.customer_user)
    answer = client.post(
        "/api/v1/orders/",
        {"check_registry": False, "items": [{"action": "register", "name": "tunji.com"}]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="costs-1",
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["invoice"]["status"] == "Paid"
    _no_cost_in(json.dumps(answer.json()), "8.00", "10.00")
    operation = RegistrarOperation.objects.get(domain__name="tunji.com")
    assert operation.payload["expected_cost"] == {"amount": "8.00", "currency": "USD"}  # kept

    for user in (world.a.customer_user, world.a.contact_user):
        rows = _operations(client, user)
        assert operation.pk in [row["id"] for row in rows]
        _no_cost_in(json.dumps(rows), "8.00", "10.00")
        detail = client.get(f"/api/v1/operations/{operation.pk}/").content.decode()
        _no_cost_in(detail, "8.00", "10.00")
        assert set(json.loads(detail)["payload"]) <= {"years", "nameservers", "privacy"}


def _credit(customer, amount="5000.00"):
    """Account credit that pays the customer's order at once (the registration is queued)."""
    from billing import services
    from portal.tenancy import SYSTEM

    services.credit_add(
        actor=SYSTEM, customer=customer, amount=amount, currency="USD", reason="Top-up"
    )


def test_staff_still_see_the_whole_payload(client, world, priced):
    _credit(world.a.customer)
    client.force_login(world.a.customer_user)
    client.post(reverse("domains:register"), {"name": "tunji.com", "years": "1"})
    operation = RegistrarOperation.objects.get(domain__name="tunji.com")
    client.force_login(world.staff)
    detail = client.get(f"/api/v1/operations/{operation.pk}/").json()
    assert detail["payload"]["expected_cost"] == {"amount": "8.00", "currency": "USD"}


@pytest.fixture
def held(client, world, priced):
    """A customer registers gold.io at the listed .io price; the registry asks its premium
    price, so the worker holds the operation for staff."""
    _credit(world.a.customer)
    client.force_login(world.a.customer_user)
    response = client.post(reverse("domains:register"), {"name": "gold.io", "years": "1"})
    assert response.status_code == 302
    operation = RegistrarOperation.objects.get(domain__name="gold.io")
    assert outbox.run_operation(operation.pk).status == Status.HELD
    operation.refresh_from_db()
    assert "950.00" in operation.last_error  # staff read the registry's price
    return operation


def test_a_held_premium_registration_shows_no_registry_price_to_customer_or_reseller(
    client, world, held
):
    domain = Domain.objects.get(name="gold.io")
    for user in (world.a.customer_user, world.a.contact_user, world.a.member):
        rows = _operations(client, user)
        [row] = [r for r in rows if r["id"] == held.pk]
        assert row["status"] == "held"
        assert (
            row["last_error"]
            == "Waiting for our team to check it before it is sent to the registry."
        )
        _no_cost_in(json.dumps(rows), *REGISTRY_COSTS)
        for url in (
            reverse("domains:detail", args=[domain.pk]),
            reverse("domains:operations", args=[domain.pk]),
            reverse("support:ticket_list"),
            reverse("dashboard"),
        ):
            page = client.get(url).content.decode()
            assert all(amount not in page for amount in REGISTRY_COSTS), (user, url)
    client.force_login(world.a.member)  # the reseller's own operations queue
    page = client.get(reverse("domains:operation_list")).content.decode()
    assert "Waiting for our team" in page
    assert all(amount not in page for amount in REGISTRY_COSTS)


def test_a_premium_name_is_offered_to_a_customer_at_the_sell_price(client, world, priced):
    client.force_login(world.a.customer_user)
    row = client.get(reverse("domains:check"), {"name": "gold.io"}).content.decode()
    assert "data-premium" in row and "1425.00 USD" in row
    assert all(amount not in row for amount in (*REGISTRY_COSTS, *PLATFORM_PRICES))
    assert "data-cost" not in row

    answer = client.post(
        "/api/v1/domains/availability/",
        {"names": ["gold.io", "tunji.com"]},
        content_type="application/json",
    ).json()
    gold, tunji = answer
    assert gold["premium"] and Decimal(gold["price"]) == Decimal("1425.00")
    assert Decimal(tunji["price"]) == Decimal("12.00")
    assert gold["cost"] is None and tunji["cost"] is None
    _no_cost_in(json.dumps(answer).replace('"cost": null', ""), "950.00", "1187.50", "10.00")

    suggested = client.post(
        "/api/v1/domains/suggestions/",
        {"keyword": "gold", "limit": 20},
        content_type="application/json",
    ).json()
    [premium] = [r for r in suggested if r["name"] == "gold.io"]
    assert Decimal(premium["price"]) == Decimal("1425.00") and premium["cost"] is None
    # The page's suggestions leave out the names the results list (gold.io among them): a
    # premium alternative shows its sell price there, never the registry's.
    account = priced["io"].registrar_account
    account.settings = {"premium": {"gold.io": "950.00", "gogold.io": "950.00"}}
    account.save()
    html = client.get(reverse("domains:suggestions"), {"q": "gold"}).content.decode()
    assert "gogold.io" in html and "1425.00 USD" in html and "950.00" not in html


def test_a_reseller_still_sees_its_cost_and_its_sell_price(client, world, priced):
    client.force_login(world.a.member)
    answer = client.post(
        "/api/v1/domains/availability/",
        {"names": ["gold.io", "tunji.com"]},
        content_type="application/json",
    ).json()
    gold, tunji = answer
    assert (Decimal(gold["price"]), Decimal(gold["cost"])) == (
        Decimal("1425.00"),
        Decimal("1187.50"),
    )
    assert (Decimal(tunji["price"]), Decimal(tunji["cost"])) == (Decimal("12.00"), Decimal("10.00"))
    assert "950.00" not in json.dumps(answer)  # the registry's quote is the platform's business
    row = client.get(reverse("domains:check"), {"name": "tunji.com"}).content.decode()
    assert "12.00 USD" in row and "your cost 10.00 USD" in row
    page = client.get(reverse("domains:register"), {"name": "tunji.com"}).content.decode()
    assert "12.00 USD" in page and "Your cost" in page and "10.00 USD" in page
    # The same key over the API sees the same.
    response = client.post(
        "/api/v1/domains/availability/",
        {"names": ["tunji.com"]},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert Decimal(response.json()[0]["cost"]) == Decimal("10.00")

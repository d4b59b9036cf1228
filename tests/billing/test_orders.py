"""billing.orders: a cart placed once per key, invoiced, and queued at the registries when paid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing import services
from billing.models import CreditEntry, Invoice, Order, Price
from billing.orders import order_place
from domains.models import Domain, RegistrarOperation
from portal.tenancy import SYSTEM, actor_for_user
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(world):
    com = world.a.domain.tld
    for action in ("register", "renew"):
        Price.objects.create(tld=com, action=action, currency="USD", cost="5.00", sell="10.00")
    return com


def place(world, items, key="order-1", **kwargs):
    kwargs.setdefault("check_registry", False)
    return order_place(
        actor=actor_for_user(world.a.customer_user),
        customer=world.a.customer,
        items=items,
        idempotency_key=key,
        **kwargs,
    )


def two_names():
    return [
        {"type": "domain", "action": "register", "name": "first-order.com", "years": 1},
        {"type": "domain", "action": "register", "name": "second-order.com", "years": 2},
    ]


def add_credit(world, amount):
    services.credit_add(
        actor=SYSTEM, customer=world.a.customer, amount=amount, currency="USD", reason="Top-up"
    )


def test_credit_that_covers_the_order_pays_it_and_queues_the_registrations(world, priced):
    add_credit(world, "50.00")

    order = place(world, two_names())

    invoice = order.invoices.get()
    assert invoice.status == Invoice.Status.PAID and invoice.total == Decimal("30.00")
    assert invoice.number, "issued with its number"
    assert order.status == Order.Status.COMPLETED
    names = set(Domain.objects.filter(customer=world.a.customer).values_list("name", flat=True))
    assert {"first-order.com", "second-order.com"} <= names
    ops = RegistrarOperation.objects.filter(
        domain__name__in=["first-order.com", "second-order.com"], kind="register"
    )
    assert ops.count() == 2
    assert services.credit_balance(world.a.customer, "USD") == Decimal("20.00")


def test_an_unpaid_order_queues_nothing_until_its_invoice_is_paid(world, priced):
    order = place(world, two_names())

    invoice = order.invoices.get()
    assert invoice.status == Invoice.Status.UNPAID
    assert not Domain.objects.filter(name="first-order.com").exists()

    add_credit(world, "30.00")
    services.credit_apply(actor=actor_for_user(world.a.customer_user), invoice=invoice)

    assert Domain.objects.filter(name="first-order.com", status="pending_registration").exists()
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED


def test_the_same_key_gives_the_same_order_once(world, priced):
    first = place(world, two_names(), key="double-click")
    again = place(world, two_names(), key="double-click")
    assert first.pk == again.pk
    assert Order.objects.count() == 1 and Invoice.objects.filter(order=first).count() == 1


def test_a_cart_with_a_bad_item_is_refused_whole_with_the_reason(world, priced):
    DomainFactory(name="taken-order.com", tld=priced, customer=world.b.customer)
    with pytest.raises(ValidationError) as refused:
        place(
            world,
            [
                {"type": "domain", "action": "register", "name": "fine-order.com"},
                {"type": "domain", "action": "register", "name": "taken-order.com"},
            ],
        )
    assert "taken-order.com: taken-order.com is not available." in refused.value.messages
    assert not Order.objects.exists() and not Invoice.objects.filter(order__isnull=False).exists()


def test_a_name_taken_before_payment_is_credited_back_and_said_on_the_invoice(world, priced):
    order = place(world, two_names())
    invoice = order.invoices.get()
    DomainFactory(name="second-order.com", tld=priced, customer=world.b.customer)

    add_credit(world, "30.00")
    services.credit_apply(actor=SYSTEM, invoice=invoice)

    order.refresh_from_db()
    invoice.refresh_from_db()
    assert order.status == Order.Status.INCOMPLETE
    assert order.items.get(domain_name="second-order.com").status == "failed"
    assert "20.00 USD credited to your account" in invoice.notes
    assert services.credit_balance(world.a.customer, "USD") == Decimal("20.00")
    assert CreditEntry.objects.filter(reason__startswith="second-order.com could not").exists()


def test_a_renewal_in_an_order_is_queued_when_paid(world, priced):
    domain = world.a.domain
    add_credit(world, "10.00")
    place(world, [{"type": "domain", "action": "renew", "domain_id": domain.pk, "years": 1}])
    assert RegistrarOperation.objects.filter(domain=domain, kind="renew").count() == 1


def test_a_missing_key_is_refused(world, priced):
    with pytest.raises(ValidationError, match="idempotency key"):
        place(world, two_names(), key=" ")
    assert not Order.objects.exists()


def test_the_api_places_an_order_with_the_idempotency_key_header(client, world, priced):
    client.force_login(world.a.customer_user)
    body = {"check_registry": False, "items": two_names()}
    missing = client.post("/api/v1/orders/", body, content_type="application/json")
    assert missing.status_code == 400 and "idempotency key" in missing.json()["message"]
    first = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    again = client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["invoice"]["status"] == "Unpaid"
    assert [i["domain_name"] for i in first.json()["items"]] == [
        "first-order.com",
        "second-order.com",
    ]
    listed = client.get("/api/v1/orders/").json()
    assert [o["id"] for o in listed["results"]] == [first.json()["id"]]
    other = client.get(
        f"/api/v1/orders/{first.json()['id']}/", HTTP_ACCESS_TOKEN=world.b.live_key_raw
    )
    assert other.status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two real transactions")
def test_two_concurrent_requests_with_one_key_make_one_order(world, priced):
    from tests.domains.test_races import race

    results = race(
        lambda: place(world, two_names(), key="racing"),
        lambda: place(world, two_names(), key="racing"),
    )
    assert results["first"].pk == results["second"].pk
    assert Order.objects.filter(idempotency_key="racing").count() == 1
    assert Invoice.objects.filter(order__isnull=False).count() == 1

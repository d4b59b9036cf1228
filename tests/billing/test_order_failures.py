"""What a customer paid for comes back when the registry does not do it, and transfers wait in
an order with their auth code until it is paid (``billing.orders``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice, Order, OrderItem, Price
from billing.orders import credit_back_failed
from domains import dispatch, outbox
from domains.models import Domain, DomainStatus, RegistrarOperation
from domains.services import operation_cancel
from portal.tenancy import SYSTEM
from tests.billing.ledger_helpers import fund
from tests.billing.test_orders import add_credit, place, two_names
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


@pytest.fixture
def priced(world):
    com = world.a.domain.tld
    for action in ("register", "transfer", "renew"):
        Price.objects.create(tld=com, action=action, currency="USD", cost="5.00", sell="10.00")
    fund(world.a.organisation, "100.00")  # the reseller's account with the platform
    return com


@pytest.fixture(autouse=True)
def no_messages(monkeypatch):
    """Operations are run by hand here: what would be sent to Celery is recorded instead."""
    monkeypatch.setattr(dispatch, "send", lambda ids: None)


def transfer(name="moving-in.com", code="Xy7-secret!", **extra):
    return {"type": "domain", "action": "transfer", "name": name, "auth_code": code, **extra}


def test_a_paid_registration_the_registry_refuses_is_credited_back_and_said(world, priced):
    account = priced.registrar_account
    account.settings = {**account.settings, "reserved": ["second-order.com"]}
    account.save()
    add_credit(world, "30.00")
    order = place(world, two_names())
    assert services.credit_balance(world.a.customer, "USD") == Decimal("0.00")
    refused = RegistrarOperation.objects.get(domain__name="second-order.com", kind="register")

    assert outbox.run_operation(refused.pk).status == Status.FAILED

    invoice = order.invoices.get()
    item = order.items.get(domain_name="second-order.com")
    assert item.operation_id == refused.pk and item.status == "failed"
    order.refresh_from_db()
    assert order.status == Order.Status.INCOMPLETE
    # The 2-year line (20.00) comes back; the other registration stays paid for.
    assert services.credit_balance(world.a.customer, "USD") == Decimal("20.00")
    assert "second-order.com: the registration was not completed by the registry." in (
        invoice.notes
    )
    assert "20.00 USD credited to your account" in invoice.notes
    assert Domain.objects.get(pk=refused.domain_id).status == DomainStatus.REGISTRATION_FAILED
    # Told again (a cancel after the failure): nothing more is credited.
    operation_cancel(actor=SYSTEM, operation=refused)
    refused.refresh_from_db()
    assert credit_back_failed(operation=refused) == 0
    assert services.credit_balance(world.a.customer, "USD") == Decimal("20.00")


def test_a_cancelled_paid_registration_is_credited_back(world, priced):
    add_credit(world, "30.00")
    order = place(world, two_names())
    operation = order.items.get(domain_name="first-order.com").operation

    operation_cancel(actor=SYSTEM, operation=operation)

    assert services.credit_balance(world.a.customer, "USD") == Decimal("10.00")
    assert order.items.get(domain_name="first-order.com").status == "failed"


def test_an_operation_that_succeeds_credits_nothing(world, priced):
    add_credit(world, "30.00")
    order = place(world, two_names())
    for item in order.items.all():
        assert outbox.run_operation(item.operation_id).status == Status.SUCCEEDED
    assert services.credit_balance(world.a.customer, "USD") == Decimal("0.00")
    assert set(order.items.values_list("status", flat=True)) == {"queued"}


def test_a_transfer_waits_in_the_order_with_its_code_and_starts_when_paid(world, priced):
    order = place(world, [transfer()])
    item = order.items.get()
    assert item.kind == OrderItem.Kind.DOMAIN_TRANSFER and item.auth_code == "Xy7-secret!"
    invoice = order.invoices.get()
    assert invoice.total == Decimal("10.00")
    assert invoice.lines.get().description == "Domain transfer moving-in.com (1 year)"
    assert not Domain.objects.filter(name="moving-in.com").exists(), "nothing before payment"

    add_credit(world, "10.00")
    services.credit_apply(actor=SYSTEM, invoice=invoice)

    item.refresh_from_db()
    domain = Domain.objects.get(name="moving-in.com")
    assert domain.status == DomainStatus.PENDING_TRANSFER and domain.auth_code == "Xy7-secret!"
    assert item.operation.kind == RegistrarOperation.Kind.TRANSFER
    assert item.auth_code == "", "the code is kept once, with the domain"
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


@pytest.mark.parametrize(
    "bad, message",
    [
        (transfer(code=""), "moving-in.com: enter the transfer authorisation (EPP) code."),
        (transfer(code="x" * 65), "moving-in.com: that code is too long"),
        (transfer(name="alpha-site.com"), "alpha-site.com: this domain is already managed here."),
    ],
)
def test_a_transfer_without_a_usable_code_or_of_a_held_name_is_refused(world, priced, bad, message):
    with pytest.raises(ValidationError) as refused:
        place(world, [bad])
    assert any(text.startswith(message) for text in refused.value.messages), refused.value
    assert not Order.objects.exists()


def test_a_transfer_of_a_name_another_tenant_holds_says_nothing_more(world, priced):
    DomainFactory(name="bravo-held.com", tld=priced, customer=world.b.customer)
    with pytest.raises(ValidationError) as refused:
        place(world, [transfer(name="bravo-held.com")])
    assert refused.value.messages == ["bravo-held.com: this domain is already managed here."]


@pytest.mark.parametrize("path", ["/api/v1/domains/", "/api/v1/domains/transfer/"])
def test_a_customer_cannot_register_free_through_the_domains_api(client, world, priced, path):
    client.force_login(world.a.customer_user)
    body = {"customer": world.a.customer.pk, "name": "free-ride.com", "auth_code": "abc123"}
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert "POST /api/v1/orders/" in response.json()["message"]
    assert not Domain.objects.filter(name="free-ride.com").exists()


def _refused_and_credited(world, priced):
    account = priced.registrar_account
    account.settings = {**account.settings, "reserved": ["second-order.com"]}
    account.save()
    add_credit(world, "30.00")
    order = place(world, two_names())
    refused = RegistrarOperation.objects.get(domain__name="second-order.com", kind="register")
    assert outbox.run_operation(refused.pk).status == Status.FAILED
    assert services.credit_balance(world.a.customer, "USD") == Decimal("20.00")
    account.settings = {key: v for key, v in account.settings.items() if key != "reserved"}
    account.save()
    return order, refused


def test_a_staff_retry_takes_back_the_credit_it_gave(world, priced):
    from domains.services import operation_retry

    order, refused = _refused_and_credited(world, priced)

    operation_retry(actor=SYSTEM, operation=refused)

    assert services.credit_balance(world.a.customer, "USD") == Decimal("0.00")
    assert order.items.get(domain_name="second-order.com").status == "queued"
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert "credited back was taken back" in order.invoices.get().notes
    assert outbox.run_operation(refused.pk).status == Status.SUCCEEDED
    assert services.credit_balance(world.a.customer, "USD") == Decimal("0.00")


def test_a_retry_is_refused_when_the_customer_spent_that_credit(world, priced):
    from domains.services import operation_retry

    order, refused = _refused_and_credited(world, priced)
    services.credit_adjust(
        actor=SYSTEM,
        customer=world.a.customer,
        amount=Decimal("-15.00"),
        currency="USD",
        reason="Spent on something else",
    )

    with pytest.raises(ValidationError, match="has used that credit since"):
        operation_retry(actor=SYSTEM, operation=refused)

    refused.refresh_from_db()
    assert refused.status == Status.FAILED
    assert services.credit_balance(world.a.customer, "USD") == Decimal("5.00")
    assert order.items.get(domain_name="second-order.com").status == "failed"


def test_two_items_credited_back_on_one_invoice_are_both_said(world, priced):
    order = place(world, two_names())
    for name in ("first-order.com", "second-order.com"):
        DomainFactory(name=name, tld=priced, customer=world.b.customer)
    add_credit(world, "30.00")

    services.credit_apply(actor=SYSTEM, invoice=order.invoices.get())

    notes = order.invoices.get().notes
    assert "first-order.com:" in notes and "second-order.com:" in notes
    assert services.credit_balance(world.a.customer, "USD") == Decimal("30.00")

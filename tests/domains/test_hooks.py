"""domains reaches support, dns and billing only through domains.hooks: each hook is filled in
by the app above, domains works without them, and a failing one never undoes the registry's
answer."""

import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from billing import ledger, orders, pricing
from billing.models import Price
from dns import services as dns_services
from dns.models import Zone
from domains import hooks, outbox
from domains.availability import check_names
from domains.models import DomainStatus, RegistrarOperation, SandboxBalance
from domains.services import domain_register
from portal.hooks import Hook
from portal.tenancy import SYSTEM
from support import services as support_services
from support.models import Ticket
from tests.billing.ledger_helpers import balance_of, fund
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox", settings={"balance": "100.00"})


@pytest.fixture
def tld(account):
    return TldFactory(name="com", registrar_account=account)


@pytest.fixture
def customer():
    return CustomerFactory(user=UserFactory())


@pytest.fixture
def no_app_above():
    """domains alone: every hook answers with its default, as if no app had registered one."""
    with (
        hooks.operation_stopped.replaced(None),
        hooks.operations_succeeded.replaced(None),
        hooks.domain_activated.replaced(None),
        hooks.price_list.replaced(None),
        hooks.priced_tlds.replaced(None),
        hooks.registry_cost.replaced(None),
        hooks.operation_charge.replaced(None),
        hooks.operation_refund.replaced(None),
    ):
        yield


def register_and_run(customer, name="hooked.com"):
    domain = domain_register(actor=SYSTEM, customer=customer, name=name)
    operation = RegistrarOperation.objects.get(domain=domain)
    outcome = outbox.run_operation(operation.pk)
    domain.refresh_from_db()
    operation.refresh_from_db()
    return domain, operation, outcome


def fail(**kwargs):
    raise RuntimeError("the app above is broken")


def test_each_hook_is_filled_in_by_the_app_above_at_start():
    assert hooks.operation_stopped.implementation is support_services.ticket_open_for_operation
    assert hooks.operations_succeeded.implementation is support_services.ticket_close_for_operations
    assert hooks.domain_activated.implementation is dns_services.zone_create_after_registration
    assert hooks.price_list.implementation is pricing.PriceList
    assert hooks.priced_tlds.implementation is pricing.priced_tld_names
    assert hooks.registry_cost.implementation is pricing.platform_cost
    assert hooks.operation_charge.implementation is ledger.charge_operations
    assert hooks.operation_refund.implementation is orders.operation_ended
    assert hooks.customer_order.implementation is orders.customer_order
    assert hooks.operation_resumed.implementation is orders.operation_resumed
    assert all(hook.implementation is not None for hook in hooks.ALL)


def test_a_second_implementation_is_refused():
    hook = Hook("test.hook", default=lambda: None, guarded=False)
    hook.register(len)
    hook.register(len)  # the same one again (ready() run twice) is fine
    with pytest.raises(ImproperlyConfigured, match="already has"):
        hook.register(print)


def test_with_billing_the_simulator_charges_the_price_lists_cost(tld, customer):
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=20, sell=25)
    fund(customer.organisation, "100.00", livemode=customer.livemode)
    _, operation, _ = register_and_run(customer)
    assert operation.payload["expected_cost"] == {"amount": "20.00", "currency": "USD"}
    assert SandboxBalance.objects.get().amount == Decimal("80.00")
    # ... and the reseller's account with the platform paid the platform's price (its sell).
    assert balance_of(customer.organisation, livemode=customer.livemode) == Decimal("75.00")


def test_a_registration_completes_with_no_app_above_domains(tld, customer, no_app_above):
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=20, sell=25)
    domain, operation, outcome = register_and_run(customer)
    assert outcome.status == Status.SUCCEEDED and domain.status == DomainStatus.ACTIVE
    assert "expected_cost" not in operation.payload  # no price list: the guard stays off
    assert not Zone.objects.exists() and not Ticket.objects.exists()
    # The simulator charged its own default price (8.00), not the price list's cost (20).
    assert SandboxBalance.objects.get().amount == Decimal("92.00")


@pytest.mark.django_db(transaction=True)  # the checks run in a thread pool
def test_a_search_with_no_app_above_domains_shows_no_price(tld, no_app_above):
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=20, sell=25)
    [result] = check_names(SYSTEM, ["free-name.com"])
    assert result.available and result.price is None
    with hooks.price_list.replaced(pricing.PriceList):
        [result] = check_names(SYSTEM, ["free-name.com"])
    assert result.price == Decimal("25.00")


def test_a_stop_with_no_app_above_is_recorded_without_a_ticket(
    tld, customer, account, no_app_above
):
    account.settings = {"reserved": ["hooked.com"]}
    account.save()
    _, operation, outcome = register_and_run(customer)
    assert outcome.status == Status.FAILED and operation.status == Status.FAILED
    assert not Ticket.objects.exists()


def test_a_failing_zone_hook_does_not_undo_the_registration(tld, customer, caplog):
    caplog.set_level(logging.ERROR, logger="portal.hooks")
    with hooks.domain_activated.replaced(fail):
        domain, operation, outcome = register_and_run(customer)
    assert outcome.status == Status.SUCCEEDED and operation.status == Status.SUCCEEDED
    assert domain.status == DomainStatus.ACTIVE and domain.expires_at is not None
    assert "hook domains.domain_activated failed" in caplog.text


def test_a_failing_ticket_hook_does_not_undo_the_stop(tld, customer, account, caplog):
    account.settings = {"reserved": ["hooked.com"]}
    account.save()
    caplog.set_level(logging.ERROR, logger="portal.hooks")
    with hooks.operation_stopped.replaced(fail):
        _, operation, outcome = register_and_run(customer)
    assert outcome.status == Status.FAILED and operation.status == Status.FAILED
    assert "reserved" in operation.last_error
    assert "hook domains.operation_stopped failed" in caplog.text


def test_a_failing_ticket_close_does_not_undo_the_success(tld, customer, caplog):
    caplog.set_level(logging.ERROR, logger="portal.hooks")
    with hooks.operations_succeeded.replaced(fail):
        domain, operation, outcome = register_and_run(customer)
    assert outcome.status == Status.SUCCEEDED and operation.status == Status.SUCCEEDED
    assert domain.status == DomainStatus.ACTIVE
    assert "hook domains.operations_succeeded failed" in caplog.text


def test_the_hooks_receive_domains_own_rows(tld, customer, account):
    seen = {}
    with (
        hooks.domain_activated.replaced(lambda *, domain: seen.setdefault("activated", domain)),
        hooks.operations_succeeded.replaced(
            lambda *, operation_ids: seen.setdefault("succeeded", operation_ids)
        ),
    ):
        domain, operation, _ = register_and_run(customer)
    assert seen["activated"].pk == domain.pk
    assert seen["succeeded"] == [operation.pk]
    account.settings = {"reserved": ["stopped.com"]}
    account.save()
    with hooks.operation_stopped.replaced(
        lambda *, operation: seen.setdefault("stopped", operation)
    ):
        _, stopped, _ = register_and_run(customer, name="stopped.com")
    assert seen["stopped"].pk == stopped.pk and seen["stopped"].status == Status.FAILED

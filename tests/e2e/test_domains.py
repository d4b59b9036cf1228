"""A customer finds a name, registers it and watches the registry operation finish; then manages
a domain from its tabs. No Celery worker runs here: the test runs the outbox itself."""

import re

import pytest
from playwright.sync_api import expect

from domains import outbox
from domains.models import Domain, DomainStatus, RegistrarOperation
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "customer@example.com"


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Operation ids the services hand to Celery, kept here instead of a broker."""
    from domains import tasks

    ids: list[int] = []
    monkeypatch.setattr(tasks.registrar_operation_run, "delay", lambda pk: ids.append(pk))
    return ids


def _enough_credit(email: str) -> None:
    """Account credit that pays a registration at once (the order page is tested elsewhere)."""
    from billing import services
    from customers.models import Customer
    from portal.tenancy import SYSTEM

    customer = Customer.objects.get(user__email=email, livemode=True)
    services.credit_add(
        actor=SYSTEM, customer=customer, amount="500.00", currency=customer.currency, reason="E2E"
    )


def drain(queued: list[int]) -> None:
    """Run queued operations as a worker would, including those they queue in turn."""
    while queued:
        outbox.run_operation(queued.pop(0))


def test_a_customer_searches_registers_and_sees_the_operation_succeed(page, demo, queued):
    sign_in(page, CUSTOMER)
    page.goto("/domains/")
    page.click("[data-action=search]")
    page.fill("input[name=q]", "e2e-bright-idea")
    page.click("form[data-search-form] button[type=submit]")

    # Every extension's row is there at once, and each fills itself in.
    expect(page.locator("tr[data-name]").first).to_be_visible()
    expect(page.locator("tr[data-state=pending]")).to_have_count(0, timeout=15_000)
    row = page.locator("tr[data-name='e2e-bright-idea.com']")
    expect(row).to_have_attribute("data-state", "available")
    expect(row.locator("[data-price]")).to_contain_text("USD")
    expect(page.locator("[data-section=suggestions] li").first).to_be_visible(timeout=15_000)

    row.locator("[data-action=register]").click()
    expect(page.locator("[data-billing-note]")).to_contain_text("issues an invoice")
    expect(page.locator("input[name=name]")).to_have_value("e2e-bright-idea.com")
    _enough_credit(CUSTOMER)
    page.click("form[data-form=register] button[type=submit]")

    # The order's invoice, paid from the account credit: the registration is queued.
    expect(page).to_have_url(re.compile(r"/billing/invoices/\d+/$"))
    expect(page.locator(".alert-success")).to_contain_text(
        "Ordered and paid from your account credit: e2e-bright-idea.com is being registered."
    )
    domain = Domain.objects.get(name="e2e-bright-idea.com")

    # The domain page, with the registration queued in its history, which polls itself.
    page.goto(f"/domains/{domain.pk}/")
    history = page.locator("#operation-history")
    expect(history).to_have_attribute("data-polling", "on")
    expect(history.locator("[data-status=pending]")).to_contain_text("Pending")

    domain = Domain.objects.get(name="e2e-bright-idea.com")
    operation = RegistrarOperation.objects.get(domain=domain)
    assert queued == [operation.pk]
    # The worker's part: the registration, then what it queues in turn (lock, auto-renew).
    drain(queued)
    expect(history.locator("[data-operation]").last).to_have_attribute(
        "data-status", "succeeded", timeout=10_000
    )
    expect(history.locator("[data-operation]").last).to_contain_text("Register")
    expect(page.locator("#operation-history")).to_have_attribute("data-polling", "off")
    expect(history.locator("[data-status=pending]")).to_have_count(0)
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    assert page.requests_elsewhere == []


def test_a_customer_manages_nameservers_from_the_tab(page, demo, queued):
    domain = (
        Domain.objects.filter(customer__user__email=CUSTOMER, status=DomainStatus.ACTIVE)
        .order_by("pk")
        .first()
    )
    sign_in(page, CUSTOMER)
    page.goto(f"/domains/{domain.pk}/")
    page.click("[data-tab-link=nameservers]")
    expect(page).to_have_url(re.compile(r"\?tab=nameservers$"))
    textarea = page.locator("textarea[name=nameservers]")

    # A bad host name: the service's message next to the field, nothing queued.
    textarea.fill("ns1@sedoparking.com\nns2@sedoparking.com")
    page.click("form[data-form=nameservers] button[type=submit]")
    expect(page.locator("[data-error-for=nameservers]")).to_contain_text("not a valid host name")
    assert queued == []

    textarea = page.locator("textarea[name=nameservers]")
    textarea.fill("ns1.e2e-host.net\nns2.e2e-host.net")
    page.click("form[data-form=nameservers] button[type=submit]")
    expect(page.locator("[data-notice]")).to_contain_text("New nameservers sent")
    expect(page.locator(".np-toast")).to_contain_text("New nameservers sent")
    # The history heard about it and shows the new operation.
    history = page.locator("#operation-history")
    expect(history.locator("[data-status=pending]").first).to_contain_text("Pending")
    assert len(queued) == 1
    assert list(domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.e2e-host.net",
        "ns2.e2e-host.net",
    ]

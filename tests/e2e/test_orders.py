"""A customer orders two domains from the cart, pays with the test gateway and downloads the
invoice's PDF; the registrations are queued once the payment is approved. No Celery worker runs
here: the registrations are checked as queued operations."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from billing.services import credit_balance
from customers.models import Customer
from domains.models import Domain, RegistrarOperation
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "customer@example.com"
NAMES = ["e2e-order-one.com", "e2e-order-two.com"]


def test_a_customer_orders_two_domains_pays_with_the_test_gateway_and_gets_the_pdf(
    page, demo, settings
):
    settings.NAMEPORT_TEST_GATEWAY_LIVE = True  # the demo's customer is live
    customer = Customer.objects.get(user__email=CUSTOMER)
    sign_in(page, CUSTOMER)
    page.goto("/billing/invoices/")
    page.click("[data-action=new-order]")
    form = page.locator("form[data-form=cart]")
    form.locator("textarea[name=names]").fill("\n".join(NAMES))
    form.locator("select[name=years]").select_option("10")  # more than the demo's credit
    form.locator("[data-action=quote]").click()
    quote = page.locator("[data-quote]")
    for name in NAMES:
        expect(quote.locator(f"tr[data-item='{name}']")).to_be_visible()
    expect(quote.locator("[data-error]")).to_have_count(0)
    page.locator("[data-action=order]").click()

    expect(page).to_have_url(re.compile(r"/billing/invoices/\d+/$"))
    invoice = Invoice.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert set(invoice.order.items.values_list("domain_name", flat=True)) == set(NAMES)
    assert invoice.total > credit_balance(customer, invoice.currency)
    assert invoice.status == Invoice.Status.UNPAID
    assert not Domain.objects.filter(name__in=NAMES).exists(), "nothing registered unpaid"

    pay = page.locator("[data-section=pay]")
    # Stripe runs on the test gateway in the demo; its fee joins the invoice when chosen.
    pay.locator("li[data-method]", has_text="Stripe").locator("button", has_text="Choose").click()
    page.locator("[data-section=pay] li[data-method]", has_text="Stripe").locator(
        "button", has_text="Pay"
    ).click()
    expect(page.locator("h1")).to_contain_text("Test gateway")
    page.click("button[value=approve]")
    expect(page.locator("[data-payment-status]")).to_contain_text("Completed")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert RegistrarOperation.objects.filter(domain__name__in=NAMES, kind="register").count() == 2

    response = page.request.get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert response.status == 200 and response.body()[:4] == b"%PDF"
    assert page.requests_elsewhere == []

"""A reseller adds a customer and a contact with privileges in the browser; the contact follows
the e-mailed invitation, sets a password and is signed in; the reseller signs in as the new
customer, sees the banner and returns with one click."""

import re

import pytest

from customers.models import Contact, Customer
from portal.models import AuditEntry
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_reseller_adds_a_customer_and_a_contact_then_signs_in_as_the_customer(
    page, browser, live_server, demo, mailoutbox
):
    sign_in(page, "reseller@example.com")
    page.click("[data-nav=customers]")
    page.click("[data-action=add-customer]")
    page.wait_for_load_state("networkidle")
    fields = {
        "first_name": "Chidi",
        "last_name": "Eze",
        "email": "chidi@example.test",
        "phone": "0801 111 2222",  # a local number first: refused with a message
        "address": "3 Awolowo Road",
        "city": "Lagos",
        "post_code": "101233",
    }
    for name, value in fields.items():
        page.fill(f"form[data-form=customer] [name={name}]", value)
    page.fill("form[data-form=customer] [name=country]", "NG")
    page.click("form[data-form=customer] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "international" in page.content().lower()
    assert not Customer.objects.filter(email="chidi@example.test").exists()
    page.fill("form[data-form=customer] [name=phone]", "+234.8011112222")
    page.click("form[data-form=customer] button[type=submit]")
    page.wait_for_load_state("networkidle")
    customer = Customer.objects.get(email="chidi@example.test")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert "Chidi Eze" in page.locator("h1").inner_text()

    # A contact who may pay invoices and open tickets, invited by e-mail.
    page.click("[data-action=add-contact]")
    page.wait_for_load_state("networkidle")
    page.fill("form[data-form=contact] [name=first_name]", "Ngozi")
    page.fill("form[data-form=contact] [name=last_name]", "Eze")
    page.fill("form[data-form=contact] [name=email]", "ngozi@example.test")
    page.check("[data-privileges=billing] input[value=payinvoice]")
    page.check("[data-privileges=support] input[value=newticket]")
    page.click("form[data-form=contact] button[type=submit]")
    page.wait_for_load_state("networkidle")
    contact = Contact.objects.get(email="ngozi@example.test")
    assert contact.customer == customer
    assert contact.privileges["billing"] == ["payinvoice"]
    assert contact.privileges["support"] == ["newticket"]
    assert page.locator(f"[data-contact='{contact.pk}']").count() == 1

    [mail] = [m for m in mailoutbox if m.to == ["ngozi@example.test"]]
    link = re.search(r"https?://\S+/customers/invitation/\S+/\S+/", mail.body).group(0)
    contact_context = browser.new_context(base_url=live_server.url)
    newcomer = contact_context.new_page()
    newcomer.goto(link)
    newcomer.fill("input[name=new_password1]", "a-long-contact-passphrase")
    newcomer.fill("input[name=new_password2]", "a-long-contact-passphrase")
    newcomer.click("button[type=submit]")
    newcomer.wait_for_load_state("networkidle")
    assert newcomer.url.rstrip("/") == live_server.url
    assert newcomer.locator("[data-nav=logout]").count() == 1
    contact_context.close()

    # Sign in as the customer: the banner, then one click back to its page.
    page.click("[data-action=impersonate]")
    page.wait_for_load_state("networkidle")
    banner = page.locator(f"[data-impersonating='{customer.pk}']")
    assert banner.count() == 1
    assert "reseller@example.com" in banner.inner_text()
    page.click("[data-action=stop-impersonating]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert page.locator("[data-impersonating]").count() == 0
    actions = set(
        AuditEntry.objects.filter(object_id=str(customer.pk)).values_list("action", flat=True)
    )
    assert {"customer.impersonate_start", "customer.impersonate_stop"} <= actions
    assert page.requests_elsewhere == []

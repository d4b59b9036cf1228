"""Pages people already use, mended (issue 12): the customer's dashboard shows its credit and a
prompt to register a name, every page has a favicon from our own static files, and the filter
bars have human labels, date pickers and a currency select."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.filtersets import InvoiceFilterSet
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from dns.filtersets import RecordFilterSet, ZoneFilterSet
from domains.filtersets import (
    DomainFilterSet,
    RegistrarOperationFilterSet,
    RegistryMessageFilterSet,
)
from portal.audit_log import AuditEntryFilterSet
from portal.tenancy import SYSTEM
from support.filtersets import TicketFilterSet
from tests.customers.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

FILTERSETS = [
    CustomerFilterSet,
    DomainFilterSet,
    RegistrarOperationFilterSet,
    RegistryMessageFilterSet,
    InvoiceFilterSet,
    ZoneFilterSet,
    RecordFilterSet,
    TicketFilterSet,
    AuditEntryFilterSet,
]


def stat(html: str, key: str) -> list[str]:
    block = re.search(rf'data-stat="{key}".*?data-count>(.*?)</div>', html, re.S)
    assert block, f"no {key} tile"
    return re.sub(r"<[^>]+>", "", block.group(1)).split()


# --- 10. the customer's dashboard -------------------------------------------------------------
def test_a_customer_sees_its_credit_and_a_register_prompt(client, world):
    customer = world.a.customer
    billing.credit_add(
        actor=SYSTEM, customer=customer, amount="25.50", currency=customer.currency, reason="Test"
    )
    client.force_login(world.a.customer_user)
    html = client.get(reverse("dashboard")).content.decode()
    assert stat(html, "credit") == ["25.50", customer.currency]
    assert 'href="/billing/credit/"' in html
    prompt = re.search(r"<div[^>]*data-register-prompt>.*?</form>", html, re.S).group(0)
    assert "Register a domain" in prompt
    assert f'action="{reverse("domains:search")}"' in prompt


def test_the_credit_is_the_customers_own(client, world):
    billing.credit_add(
        actor=SYSTEM,
        customer=world.b.customer,
        amount="99.00",
        currency=world.b.customer.currency,
        reason="Other tenant",
    )
    client.force_login(world.a.customer_user)
    html = client.get(reverse("dashboard")).content.decode()
    assert stat(html, "credit")[0] == "0.00"


def test_a_contact_without_the_balance_privilege_sees_no_credit(client, world):
    user = UserFactory(email="dns-only@alpha.test")
    ContactFactory(customer=world.a.customer, user=user, privileges={"domains": {"full": 1}})
    client.force_login(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-stat="credit"' not in html
    assert "data-register-prompt" not in html  # it may not order either


def test_resellers_get_no_customer_prompt(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("dashboard")).content.decode()
    assert 'data-stat="credit"' not in html
    assert "data-register-prompt" not in html


# --- 8. favicon ---------------------------------------------------------------------------------
def test_every_page_links_a_favicon_from_our_static_files(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("dashboard")).content.decode()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link and link.group(1) == "/static/favicon.svg"
    path = finders.find("favicon.svg")
    assert path, "static/favicon.svg"
    assert Path(path).read_text(encoding="utf-8").lstrip().startswith("<svg")
    client.logout()
    assert '<link rel="icon"' in client.get(reverse("login")).content.decode()


# --- 4. filter bars ---------------------------------------------------------------------------
@pytest.mark.parametrize("filterset", FILTERSETS, ids=lambda f: f.__name__)
def test_no_filter_is_labelled_with_its_lookup_or_field_name(filterset):
    form = filterset({}, queryset=filterset._meta.model.objects.none()).form
    for name, field in form.fields.items():
        label = str(field.label)
        assert " is " not in label, (name, label)  # django-filter's "Date is greater than..."
        assert "_" not in label, (name, label)


def _label(html: str, name: str) -> str:
    match = re.search(rf'<label class="form-label" for="id_{name}">(.*?)</label>', html)
    assert match, f"no label for {name}"
    return match.group(1)


def _input(html: str, name: str) -> str:
    match = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', html)
    assert match, f"no field {name}"
    return match.group(0)


def test_the_domain_filters_read_as_words_with_a_date_picker(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:list")).content.decode()
    assert _label(html, "autorenew") == "Auto-renew"
    assert _label(html, "expires_before") == "Expires before"
    assert 'type="date"' in _input(html, "expires_before")


def test_expires_before_filters_the_list(client, world):
    soon = world.a.domain
    soon.expires_at = timezone.now() + timedelta(days=3)
    soon.save(update_fields=["expires_at"])
    client.force_login(world.a.member)
    cutoff = (timezone.now() + timedelta(days=10)).date().isoformat()
    html = client.get(reverse("domains:list"), {"expires_before": cutoff}).content.decode()
    assert f'data-row="{soon.pk}"' in html
    earlier = (timezone.now() - timedelta(days=1)).date().isoformat()
    html = client.get(reverse("domains:list"), {"expires_before": earlier}).content.decode()
    assert f'data-row="{soon.pk}"' not in html


def test_the_invoice_filters_have_date_pickers_and_a_currency_select(client, world, settings):
    settings.NAMEPORT_CURRENCIES = ("USD", "NGN")
    client.force_login(world.a.member)
    html = client.get(reverse("billing:invoice_list")).content.decode()
    assert _label(html, "date_from") == "Dated from"
    assert _label(html, "date_to") == "Dated until"
    assert 'type="date"' in _input(html, "date_from")
    assert 'type="date"' in _input(html, "date_to")
    currency = re.search(r'<select[^>]*name="currency".*?</select>', html, re.S)
    assert currency, "currency is a select"
    options = re.findall(r'<option value="([^"]*)"', currency.group(0))
    assert options == ["", "USD", "NGN"]


def test_a_currency_filter_still_takes_any_case(client, world):
    invoice = world.a.invoice
    client.force_login(world.a.member)
    code = invoice.currency.lower()
    html = client.get(reverse("billing:invoice_list"), {"currency": code}).content.decode()
    assert invoice.number and invoice.number in html


def test_the_customer_filter_takes_a_date(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("customers:list")).content.decode()
    assert _label(html, "created_after") == "Created after"
    assert 'type="date"' in _input(html, "created_after")
    today = timezone.now().date()
    listed = client.get(reverse("customers:list"), {"created_after": today.isoformat()})
    assert world.a.customer.email in listed.content.decode()
    later = (today + timedelta(days=1)).isoformat()
    listed = client.get(reverse("customers:list"), {"created_after": later})
    assert world.a.customer.email not in listed.content.decode()


def test_the_api_still_takes_a_date_and_time(client, world):
    form = CustomerFilterSet(
        {"created_after": "2020-06-10T03:56:00+02:00"}, queryset=Customer.objects.all()
    ).form
    assert form.is_valid(), form.errors
    assert form.cleaned_data["created_after"].utcoffset() == timedelta(0)

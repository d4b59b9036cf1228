"""Finding and buying names in the browser: search rows, availability checks, suggestions, and
the register and transfer pages."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Price
from domains import outbox
from domains.models import Domain, DomainStatus, Tld
from domains.models import RegistrarOperation as Op
from portal.tenancy import SYSTEM
from tests.billing.ledger_helpers import fund
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(
        name="Sandbox",
        settings={"premium": {"gold.io": "950.00"}, "reserved": ["reserved-name.com"]},
    )
    tlds = {}
    for name, idn in (("com", True), ("io", False), ("ng", False)):
        tlds[name], _ = Tld.objects.update_or_create(
            name=name, defaults={"registrar_account": account, "idn_allowed": idn}
        )
    for tld, usd in (("com", "4.90"), ("io", "32.00"), ("ng", "12.00")):
        Price.objects.create(
            tld=tlds[tld], action="register", years=1, currency="USD", cost=usd, sell=usd
        )
    return account


@pytest.fixture
def upstream_calls(monkeypatch):
    """Every check that reaches a registry adapter, by name."""
    from domains import availability

    calls: list[str] = []
    original = availability._check_group

    def spy(account, names):
        calls.extend(names)
        return original(account, names)

    monkeypatch.setattr(availability, "_check_group", spy)
    return calls


def pending_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-name="([^"]+)" data-state="pending"', html)


# --- search ---------------------------------------------------------------------------------------
def test_the_search_page_starts_empty(client, world, registry):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:search"))
    assert response.status_code == 200
    assert "Search every extension at once." in response.content.decode()


def test_a_search_renders_one_pending_row_per_tld_at_once(client, world, registry, upstream_calls):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:search"), {"q": "tunji"})
    html = response.content.decode()
    assert pending_rows(html) == ["tunji.com", "tunji.io", "tunji.ng"]
    assert 'hx-get="/domains/search/check/?name=tunji.io" hx-trigger="load"' in html
    assert 'hx-get="/domains/suggestions/' not in html
    assert "/domains/search/suggestions/?q=tunji" in html
    assert "free of charge" in html
    assert upstream_calls == []  # the page itself asks no registry


def test_a_name_with_its_extension_puts_that_extension_first(client, world, registry):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:search"), {"q": "Tunji.io"}).content.decode()
    assert pending_rows(html) == ["tunji.io", "tunji.com", "tunji.ng"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("bad_name", "is not a valid domain name"),
        ("-dash", "must not start or end with a hyphen"),
        ("a" * 64, "Label too long"),
        ("tunji.xyz", "We do not offer .xyz domains."),
    ],
)
def test_invalid_input_shows_the_reason_and_sends_nothing_upstream(
    client, world, registry, upstream_calls, query, message
):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:search"), {"q": query})
    html = response.content.decode().replace("&#x27;", "'")
    assert message in html
    if "xyz" not in query:
        assert pending_rows(html) == []
    assert upstream_calls == []


def test_the_check_row_shows_status_and_price(client, world, registry):
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:check"), {"name": "tunji.com"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-state="available"' in html
    assert "4.90 USD" in html
    assert "/domains/register/?name=tunji.com" in html


def test_a_name_the_registry_refuses_is_taken(client, world, registry):
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:check"), {"name": "reserved-name.com"}).content.decode()
    assert 'data-state="taken"' in html
    assert "reserved" in html
    assert "Register</a>" not in html


def test_a_name_registered_through_nameport_is_taken(client, world, registry, upstream_calls):
    client.force_login(world.b.customer_user)
    html = client.get(reverse("domains:check"), {"name": "alpha-site.com"}).content.decode()
    assert 'data-state="taken"' in html
    assert "Already registered through Nameport." in html
    assert upstream_calls == []


def test_a_premium_name_shows_its_badge_and_price(client, world, registry):
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:check"), {"name": "gold.io"}).content.decode()
    assert "data-premium" in html and "950.00" in html


def test_an_idn_shows_unicode_and_punycode(client, world, registry):
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:check"), {"name": "bücher.com"}).content.decode()
    assert "bücher.com" in html and "xn--bcher-kva.com" in html
    refused = client.get(reverse("domains:check"), {"name": "bücher.io"}).content.decode()
    assert "does not accept internationalised names" in refused


def test_an_invalid_name_in_a_check_is_refused_locally(client, world, registry, upstream_calls):
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:check"), {"name": "ns1@sedoparking.com"}).content.decode()
    assert 'data-state="taken"' in html and "Not possible" in html
    assert upstream_calls == []


def test_suggestions_are_available_names_with_prices(client, world, registry):
    client.force_login(world.a.member)
    response = client.get(reverse("domains:suggestions"), {"q": "tunji"}, **HX)
    html = response.content.decode()
    assert "<html" not in html
    names = re.findall(r'data-name="([^"]+)"', html)
    assert names and all(name.endswith((".com", ".io", ".ng")) for name in names)
    assert "USD" in html


# --- register -------------------------------------------------------------------------------------
def test_the_register_page_is_prefilled_and_says_the_order_is_invoiced(client, world, registry):
    Tld.objects.filter(name="io").update(min_years=2, max_years=5)
    client.force_login(world.a.customer_user)
    response = client.get(reverse("domains:register"), {"name": "tunji.io"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="tunji.io"' in html
    assert "Placing this order issues an invoice" in html
    assert "Free of charge" not in html
    assert "32.00 USD" in html
    years = re.findall(r'<option value="(\d+)"', html)
    assert years == ["2", "3", "4", "5"]
    assert 'name="customer"' not in html  # a customer orders for itself


def credit(customer, amount):
    from billing import services

    services.credit_add(
        actor=SYSTEM, customer=customer, amount=amount, currency="USD", reason="Top-up"
    )


def test_a_customer_registers_a_domain_and_it_becomes_active(client, world, registry):
    """The customer's order is invoiced at its price; credit that covers it pays it at once."""
    from billing.models import Invoice

    fund(world.a.customer.organisation)  # the reseller's account with the platform pays for it
    Price.objects.create(
        tld=Tld.objects.get(name="com"),
        action="register",
        years=2,
        currency="USD",
        cost="9.80",
        sell=12,
    )
    credit(world.a.customer, "20.00")
    client.force_login(world.a.customer_user)
    body = {"name": "tunji.com", "years": "2", "nameservers": "", "autorenew": "on", "token": "t1"}
    response = client.post(reverse("domains:register"), body, follow=True)
    invoice = Invoice.objects.get(order__customer=world.a.customer)
    assert response.redirect_chain[-1][0] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert "Ordered and paid from your account credit: tunji.com is being registered." in (
        response.content.decode()
    )
    assert invoice.status == Invoice.Status.PAID and invoice.total == Decimal("12.00")
    # The same page posted again (a double click) orders nothing more.
    client.post(reverse("domains:register"), body)
    assert Invoice.objects.filter(order__customer=world.a.customer).count() == 1
    domain = Domain.objects.get(name="tunji.com")
    assert (domain.customer, domain.status, domain.period, domain.autorenew) == (
        world.a.customer,
        DomainStatus.PENDING_REGISTRATION,
        2,
        True,
    )
    [operation] = domain.operations.all()
    assert operation.kind == Op.Kind.REGISTER
    result = outbox.run_operation(operation.pk)
    operation.refresh_from_db()
    assert result.status == "succeeded", operation.last_error
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    html = client.get(reverse("domains:operations", args=[domain.pk])).content.decode()
    assert 'data-status="succeeded"' in html


def test_a_customer_order_waits_for_its_invoice_with_the_choices_made(client, world, registry):
    from billing import services
    from billing.models import Invoice

    client.force_login(world.a.customer_user)
    body = {
        "name": "waits.com",
        "years": "1",
        "nameservers": "ns1.elsewhere.net\nns2.elsewhere.net",
        "id_protection": "on",
        "token": "t2",
    }
    response = client.post(reverse("domains:register"), body, follow=True)
    assert "Ordered: waits.com is being registered once this invoice is paid." in (
        response.content.decode()
    )
    invoice = Invoice.objects.get(order__customer=world.a.customer)
    assert invoice.status == Invoice.Status.UNPAID and invoice.total == Decimal("4.90")
    assert not Domain.objects.filter(name="waits.com").exists(), "nothing before payment"

    credit(world.a.customer, "4.90")
    services.credit_apply(actor=SYSTEM, invoice=invoice)

    domain = Domain.objects.get(name="waits.com")
    assert domain.id_protection is True and domain.autorenew is False
    assert list(domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.elsewhere.net",
        "ns2.elsewhere.net",
    ]


def test_a_reseller_registers_for_one_of_its_customers(client, world, registry):
    client.force_login(world.a.member)
    page = client.get(reverse("domains:register"), {"name": "for-customer.com"}).content.decode()
    assert world.a.customer.email in page
    assert world.b.customer.email not in page
    client.post(
        reverse("domains:register"),
        {
            "name": "for-customer.com",
            "customer": world.a.customer.pk,
            "years": "1",
            "nameservers": "ns1.host.net\nns2.host.net",
        },
    )
    domain = Domain.objects.get(name="for-customer.com")
    assert domain.customer == world.a.customer
    assert list(domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.host.net",
        "ns2.host.net",
    ]


def test_a_reseller_cannot_order_for_another_tenants_customer(client, world, registry):
    client.force_login(world.a.member)
    response = client.post(
        reverse("domains:register"),
        {"name": "stolen.com", "customer": world.b.customer.pk, "years": "1"},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Domain.objects.filter(name="stolen.com").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "bad_name.com"}, "is not a valid"),
        ({"name": "nope.xyz"}, "We do not offer .xyz domains."),
        ({"name": "alpha-site.com"}, "alpha-site.com is not available."),
        ({"nameservers": "ns1@sedoparking.com\nns2@sedoparking.com"}, "not a valid host name"),
        ({"nameservers": "ns1.only.net"}, "Give at least two nameservers."),
    ],
)
def test_bad_input_shows_the_message_and_creates_nothing(client, world, registry, data, message):
    client.force_login(world.a.customer_user)
    before = Domain.objects.count()
    body = {"name": "fresh-name.com", "years": "1", **data}
    response = client.post(reverse("domains:register"), body)
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Domain.objects.count() == before
    assert not Op.objects.filter(kind=Op.Kind.REGISTER).exists()


def test_a_contact_without_the_orders_privilege_gets_403(client, world, registry):
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="no-orders@alpha.test"),
        privileges={"domains": {"full": 1}},
    )
    client.force_login(contact.user)
    response = client.post(reverse("domains:register"), {"name": "nope-here.com", "years": "1"})
    assert response.status_code == 403
    assert not Domain.objects.filter(name="nope-here.com").exists()


def test_a_sandbox_customer_buys_a_sandbox_domain(client, world, registry):
    from billing.models import Order

    sandbox_user = UserFactory(email="sandbox-customer@alpha.test")
    customer = CustomerFactory(organisation=world.a.organisation, user=sandbox_user, livemode=False)
    credit(customer, "10.00")
    client.force_login(sandbox_user)
    client.post(reverse("domains:register"), {"name": "test-only.com", "years": "1"})
    order = Order.objects.get(customer=customer)
    assert order.livemode is False and order.invoices.get().livemode is False
    assert Domain.objects.get(name="test-only.com").livemode is False


# --- transfer -------------------------------------------------------------------------------------
def test_a_transfer_starts_with_the_auth_code_once_paid(client, world, registry):
    from billing.models import Invoice

    Price.objects.create(
        tld=Tld.objects.get(name="com"), action="transfer", currency="USD", cost=8, sell=8
    )
    credit(world.a.customer, "8.00")
    client.force_login(world.a.customer_user)
    page = client.get(reverse("domains:transfer"), {"name": "moving.com"})
    assert page.status_code == 200 and "Placing this order issues an invoice" in (
        page.content.decode()
    )
    response = client.post(
        reverse("domains:transfer"), {"name": "moving.com", "auth_code": "Xy-123", "years": "1"}
    )
    invoice = Invoice.objects.get(order__customer=world.a.customer)
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert invoice.status == Invoice.Status.PAID
    domain = Domain.objects.get(name="moving.com")
    assert domain.status == DomainStatus.PENDING_TRANSFER
    assert str(domain.auth_code) == "Xy-123"
    assert domain.operations.get().kind == Op.Kind.TRANSFER


def test_a_reseller_transfers_in_at_cost_without_an_invoice(client, world, registry):
    from billing.models import Invoice

    client.force_login(world.a.member)
    page = client.get(reverse("domains:transfer"), {"name": "moving.com"}).content.decode()
    assert "the customer is not invoiced" in page
    response = client.post(
        reverse("domains:transfer"),
        {
            "name": "moving.com",
            "auth_code": "Xy-123",
            "years": "1",
            "customer": world.a.customer.pk,
        },
    )
    domain = Domain.objects.get(name="moving.com")
    assert response["Location"] == reverse("domains:detail", args=[domain.pk])
    assert domain.status == DomainStatus.PENDING_TRANSFER
    assert not Invoice.objects.filter(customer=world.a.customer, order__isnull=False).exists()


def test_a_transfer_without_an_auth_code_is_refused(client, world, registry):
    client.force_login(world.a.customer_user)
    response = client.post(reverse("domains:transfer"), {"name": "moving.com", "years": "1"})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not Domain.objects.filter(name="moving.com").exists()


def test_order_pages_refuse_other_methods(client, world, registry):
    client.force_login(world.a.customer_user)
    for name in ("register", "transfer"):
        assert client.put(reverse(f"domains:{name}")).status_code == 405
    for name in ("search", "check", "suggestions"):
        assert client.post(reverse(f"domains:{name}")).status_code == 405


def test_prices_are_the_customers_currency_when_listed(client, world, registry):
    tld = Tld.objects.get(name="com")
    Price.objects.create(tld=tld, action="register", years=1, currency="NGN", cost=4000, sell=4000)
    world.a.customer.currency = "NGN"
    world.a.customer.save()
    client.force_login(world.a.customer_user)
    html = client.get(reverse("domains:check"), {"name": "naira.com"}).content.decode()
    assert f"{Decimal('4000.00')} NGN" in html


def test_the_register_page_shows_an_idn_in_both_forms(client, world, registry):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:register"), {"name": "bücher.com"}).content.decode()
    assert "bücher.com" in html and "xn--bcher-kva.com" in html
    assert 'class="form-select" required id="id_customer"' in html

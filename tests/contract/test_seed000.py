"""Seed 000 (the Leanstack enterprise API, current version) replayed against Nameport: every
request example of the document (ids adjusted to the test data), its documented answers field by
field, and bad input per endpoint: the ``{"message"}`` shape with a 4xx, never a 500, nothing
changed."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from billing.models import AccountEntry
from customers.models import Customer
from domains.models import Domain, DomainStatus, Nameserver, RegistrarOperation
from support.models import Ticket
from tests.billing.ledger_helpers import fund
from tests.customers.factories import CustomerFactory
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PRICE = re.compile(r"^\d+(\.\d{1,2})?$")
INCOMPLETE = "Could not be completed automatically, request routed to support for completion"

# The document's request bodies, as written there.
ADD_CUSTOMER = {
    "customer": {
        "first_name": "Bob",
        "last_name": "Brown",
        "email": "bobby20@gmail.com",
        "phone": "090383938393",
    },
    "contact": {"address": "My home", "country": "NG", "city": "Lagos", "post_code": " 100001"},
}
SHOW_CUSTOMERS = {"query": "trial", "pagination": {"page": 2, "page_size": 4}}
AVAILABILITY = {"domain_name": "tunji", "tld": "com"}
SUGGESTION = {"domain_name": "tunji"}
ORDER = {
    "domain_name": "testdomain",
    "tld": "com",
    "duration": 1,
    "customer_id": 316,
    "domain_privacy": False,
}
SHOW_DOMAINS = {
    "domain_name": "trek",
    "customer_id": 312,
    "pagination": {"page": 2, "page_size": 3},
}
DOMAIN_ROW = ["id", "current_status", "domain_name", "expiry", "created_at", "customer_id"]
NAMESERVERS = {
    "ns1": "ns1@sedoparking.com",
    "ns2": "ns2@sedoparking.com",
    "ns3": "ns3@sedoparking.com",
    "ns4": "ns4@sedoparking.com",
}


def message_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert list(body) == ["message"], body
    assert isinstance(body["message"], str) and body["message"]
    return body["message"]


def counts() -> dict:
    return {
        "customers": Customer.objects.count(),
        "domains": Domain.objects.count(),
        "operations": RegistrarOperation.objects.count(),
        "nameservers": Nameserver.objects.count(),
        "tickets": Ticket.objects.count(),
        "entries": AccountEntry.objects.count(),
        "customer_rows": sorted(Customer.objects.values_list("email", "phone", "first_name")),
        "locks": sorted(Domain.objects.values_list("pk", "registrar_lock")),
    }


# --- customers -------------------------------------------------------------------------------
def test_add_customer_answers_an_empty_object_and_stores_the_customer(lean):
    response = lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER)
    assert response.status_code == 200
    assert response.json() == {}
    customer = Customer.objects.get(email="bobby20@gmail.com")
    assert customer.organisation == lean.world.a.organisation
    assert customer.livemode is True
    assert (customer.first_name, customer.last_name) == ("Bob", "Brown")
    assert customer.phone == "+23490383938393"  # the national number read with NG
    assert (customer.address, customer.country, customer.city, customer.post_code) == (
        "My home",
        "NG",
        "Lagos",
        "100001",
    )


def test_add_customer_twice_answers_the_documented_message(lean):
    lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER)
    before = counts()
    response = lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER)
    assert message_of(response, 409) == "Customer already exists for organisation"
    assert counts() == before


def test_the_same_email_in_another_organisation_is_another_customer(lean):
    lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER)
    response = lean.call(
        "POST", "/v1/enterprise/customer", ADD_CUSTOMER, key=lean.world.b.live_key_raw
    )
    assert response.status_code == 200
    assert Customer.objects.filter(email="bobby20@gmail.com").count() == 2


def test_edit_customer_answers_an_empty_object_and_changes_it(lean):
    customer = lean.world.a.customer
    response = lean.call("PATCH", f"/v1/enterprise/customer/{customer.pk}", ADD_CUSTOMER)
    assert response.status_code == 200
    assert response.json() == {}
    customer.refresh_from_db()
    assert (customer.first_name, customer.email, customer.phone) == (
        "Bob",
        "bobby20@gmail.com",
        "+23490383938393",
    )
    assert (customer.city, customer.post_code) == ("Lagos", "100001")


def test_edit_customer_of_an_unknown_id_answers_the_documented_message(lean):
    response = lean.call("PATCH", "/v1/enterprise/customer/200", ADD_CUSTOMER)
    assert message_of(response, 404) == "Customer does not exist for organisation"


def test_edit_customer_to_an_email_another_customer_uses_is_the_documented_conflict(lean):
    other = CustomerFactory(organisation=lean.world.a.organisation, email="taken@example.test")
    body = {"customer": {"email": other.email.upper()}}
    before = counts()
    response = lean.call("PATCH", f"/v1/enterprise/customer/{lean.world.a.customer.pk}", body)
    assert message_of(response, 409) == "Customer already exists for organisation"
    assert counts() == before


def test_show_customers_answers_the_documented_page(lean):
    organisation = lean.world.a.organisation
    for n in range(5):
        CustomerFactory(
            organisation=organisation,
            first_name="Trial",
            last_name="Pro",
            email=f"trial{n}@gmail.com",
            phone="+234814116058",
        )
    CustomerFactory(organisation=lean.world.b.organisation, first_name="Trial")
    response = lean.call("POST", "/v1/enterprise/customers", SHOW_CUSTOMERS)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data", "meta_data"]
    assert body["meta_data"] == {
        "query": "trial",
        "total_count": 5,
        "total_pages": 2,
        "page": 2,
        "page_size": 4,
    }
    (row,) = body["data"]
    assert list(row) == ["id", "first_name", "last_name", "phone", "email", "created_at"]
    assert isinstance(row["id"], int)
    assert (row["first_name"], row["last_name"], row["phone"]) == ("Trial", "Pro", "234814116058")
    assert row["email"].startswith("trial")
    assert TIMESTAMP.match(row["created_at"])


def test_show_customers_without_a_body_lists_the_first_twenty(lean):
    response = lean.call("POST", "/v1/enterprise/customers")
    assert response.status_code == 200
    body = response.json()
    assert body["meta_data"] == {
        "query": "",
        "total_count": 1,
        "total_pages": 1,
        "page": 1,
        "page_size": 20,
    }
    assert [row["id"] for row in body["data"]] == [lean.world.a.customer.pk]


def test_get_customer_answers_the_documented_shape(lean):
    customer = lean.world.a.customer
    Customer.objects.filter(pk=customer.pk).update(
        phone="+234.9019191919", country="NG", city="lagos", address="home", post_code="100001"
    )
    response = lean.call("GET", f"/v1/enterprise/customer/{customer.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": customer.pk,
        "customer": {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "phone": "2349019191919",
        },
        "contact": {"address": "home", "country": "NG", "city": "lagos", "post_code": "100001"},
    }


# --- availability and suggestion ---------------------------------------------------------
def test_availability_of_a_free_name_answers_the_first_documented_shape(lean):
    response = lean.call("POST", "/v1/enterprise/domain_availability", AVAILABILITY)
    assert response.status_code == 200
    assert response.json() == {
        "tld_available": True,
        "dollar_price": "5",
        "naira_price": "3000",
        "domain_name_available": True,
    }


def test_availability_of_a_held_name_answers_the_second_documented_shape(lean):
    body = {"domain_name": "alpha-site", "tld": "com"}  # world.a's domain
    response = lean.call("POST", "/v1/enterprise/domain_availability", body)
    assert response.json() == {
        "tld_available": True,
        "dollar_price": "5",
        "naira_price": "3000",
        "domain_name_available": False,
    }


@pytest.mark.parametrize("tld", ["nosuchtld", "org"])
def test_availability_under_a_tld_not_sold_answers_the_third_documented_shape(lean, tld):
    from tests.domains.factories import TldFactory

    TldFactory(name="org")  # exists, but the price list has no price for it
    response = lean.call("POST", "/v1/enterprise/domain_availability", {**AVAILABILITY, "tld": tld})
    assert response.status_code == 200
    assert response.json() == {"tld_available": False}


def test_availability_prices_a_currency_without_price_or_rate_as_null(lean):
    from billing.models import ExchangeRate

    ExchangeRate.objects.all().delete()
    response = lean.call("POST", "/v1/enterprise/domain_availability", AVAILABILITY)
    assert response.json()["dollar_price"] == "5"
    assert response.json()["naira_price"] is None


@pytest.mark.parametrize("path", ["/v1/rest/domain_suggestion", "/v1/enterprise/domain_suggestion"])
def test_suggestion_answers_available_names_with_string_prices(lean, path):
    response = lean.call("POST", path, SUGGESTION)
    assert response.status_code == 200
    items = response.json()
    assert items and isinstance(items, list)
    for item in items:
        assert list(item) == ["domain_name", "tld", "dollar_price", "naira_price"]
        assert "." not in item["domain_name"] and item["tld"] == "com"
        assert "tunji" in item["domain_name"]
        assert (item["dollar_price"], item["naira_price"]) == ("5", "3000")
        assert PRICE.match(item["dollar_price"])


# --- order -------------------------------------------------------------------------------------
def order_for(customer, **changes) -> dict:
    return {**ORDER, "customer_id": customer.pk, **changes}


def test_order_with_funds_answers_success_and_records_the_registration(lean):
    a = lean.world.a
    fund(a.organisation, "100.00")
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(a.customer))
    assert response.status_code == 200
    assert response.json() == [{"status": "success", "domain_name": "testdomain.com"}]
    domain = Domain.objects.get(name="testdomain.com")
    assert (domain.customer, domain.livemode, domain.period, domain.id_protection) == (
        a.customer,
        True,
        1,
        False,
    )
    assert domain.status == DomainStatus.PENDING_REGISTRATION
    assert domain.operations.get().kind == RegistrarOperation.Kind.REGISTER
    assert not Ticket.objects.filter(domain=domain).exists()


def test_order_for_an_unknown_customer_answers_the_documented_message(lean):
    before = counts()
    response = lean.call("POST", "/v1/enterprise/domain/order", ORDER)  # customer 316
    assert message_of(response, 404) == "Customer not found"
    assert counts() == before


def test_order_without_funds_answers_incomplete_and_opens_a_ticket_for_staff(lean):
    a = lean.world.a
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(a.customer))
    assert response.status_code == 200
    assert response.json() == [
        {"status": "incomplete", "message": INCOMPLETE, "domain_name": "testdomain.com"}
    ]
    domain = Domain.objects.get(name="testdomain.com")
    operation = domain.operations.get()
    ticket = Ticket.objects.get(domain=domain)
    assert ticket.staff_only and ticket.is_system and ticket.operation == operation
    assert "0 USD" in ticket.messages.get().body and "5 USD" in ticket.messages.get().body


# --- domains -------------------------------------------------------------------------------
def test_show_domains_answers_the_documented_page(lean):
    a = lean.world.a
    for n in range(5):
        DomainFactory(customer=a.customer, name=f"trek{n}.com")
    DomainFactory(customer=a.customer, name="trekgone.com", status=DomainStatus.DELETED)
    DomainFactory(customer=CustomerFactory(organisation=a.organisation), name="trekother.com")
    response = lean.call(
        "POST", "/v1/enterprise/domains", {**SHOW_DOMAINS, "customer_id": a.customer.pk}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["data", "meta_data"]
    assert body["meta_data"] == {
        "query": "trek",
        "total_count": 5,
        "total_pages": 2,
        "page": 2,
        "page_size": 3,
    }
    assert [row["domain_name"] for row in body["data"]] == ["trek1.com", "trek0.com"]
    for row in body["data"]:
        assert list(row) == [*DOMAIN_ROW]
        assert row["current_status"] == "1"
        assert TIMESTAMP.match(row["expiry"]) and TIMESTAMP.match(row["created_at"])
        assert row["customer_id"] == a.customer.pk and isinstance(row["id"], int)


def test_show_domains_of_another_organisations_customer_is_not_found(lean):
    body = {**SHOW_DOMAINS, "customer_id": lean.world.b.customer.pk}
    assert message_of(lean.call("POST", "/v1/enterprise/domains", body), 404) == (
        "Customer not found"
    )


def test_get_domain_answers_the_documented_shape(lean):
    a = lean.world.a
    domain = DomainFactory(
        customer=a.customer,
        name="friskhouse.com",
        status=DomainStatus.PENDING_REGISTRATION,
        expires_at=None,
    )
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.sedoparking.com")
    Nameserver.objects.create(domain=domain, position=2, hostname="ns2.sedoparking.com")
    response = lean.call("GET", f"/v1/enterprise/domain/{domain.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "domain_name": "friskhouse.com",
        "current_status": "InActive - Order Locked In Processing.",
        "registrar_lock": None,
        "expiry": None,
        "customer_id": a.customer.pk,
        "customer_name": a.customer.name,
        "nameservers": {
            "ns1": "ns1.sedoparking.com",
            "ns2": "ns2.sedoparking.com",
            "ns3": None,
            "ns4": None,
        },
    }


def test_get_an_active_domain_shows_its_lock_label_and_expiry(lean):
    domain = lean.world.a.domain
    body = lean.call("GET", f"/v1/enterprise/domain/{domain.pk}").json()
    assert (body["current_status"], body["registrar_lock"]) == ("Active", True)
    assert TIMESTAMP.match(body["expiry"])


def test_the_documents_nameserver_example_is_refused_and_nothing_stored(lean):
    domain = lean.world.a.domain
    before = counts()
    response = lean.call("POST", f"/v1/enterprise/domain/{domain.pk}/nameservers", NAMESERVERS)
    assert "ns1@sedoparking.com" in message_of(response, 400)
    assert "not a valid host name" in response.json()["message"]
    assert counts() == before


def test_valid_nameservers_answer_an_empty_object_and_are_stored(lean):
    domain = lean.world.a.domain
    body = {"ns1": "ns1.sedoparking.com", "ns2": "ns2.sedoparking.com", "ns3": None}
    response = lean.call("POST", f"/v1/enterprise/domain/{domain.pk}/nameservers", body)
    assert response.status_code == 200
    assert response.json() == {}
    assert list(domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.sedoparking.com",
        "ns2.sedoparking.com",
    ]
    assert domain.operations.get().kind == RegistrarOperation.Kind.NAMESERVERS


@pytest.mark.parametrize("enable", [True, False])
def test_registrar_lock_answers_an_empty_object_and_sets_the_lock(lean, enable):
    domain = lean.world.a.domain
    Domain.objects.filter(pk=domain.pk).update(registrar_lock=not enable)
    response = lean.call(
        "POST",
        f"/v1/enterprise/domain/{domain.pk}/registrar_lock",
        {"enable_registrar_lock": enable},
    )
    assert response.status_code == 200
    assert response.json() == {}
    domain.refresh_from_db()
    assert domain.registrar_lock is enable
    assert domain.operations.get().kind == RegistrarOperation.Kind.LOCK


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_domain_secret_answers_the_documented_shape(lean, method):
    domain = lean.world.a.domain
    Domain.objects.filter(pk=domain.pk).update(registrar_lock=False)
    domain.refresh_from_db()
    domain.auth_code = "f`BvdTx7ka"
    domain.save(update_fields=["auth_code"])
    response = lean.call(method, f"/v1/enterprise/domain/{domain.pk}/domain_secret")
    assert response.status_code == 200
    assert response.json() == {"secret": "f`BvdTx7ka"}


def test_domain_secret_of_a_locked_domain_is_refused_with_the_reason(lean):
    domain = lean.world.a.domain  # locked by default
    message = message_of(lean.call("GET", f"/v1/enterprise/domain/{domain.pk}/domain_secret"), 409)
    assert "locked" in message


def test_domain_secret_not_fetched_yet_is_asked_from_the_registry_once(lean):
    domain = lean.world.a.domain
    Domain.objects.filter(pk=domain.pk).update(registrar_lock=False)
    path = f"/v1/enterprise/domain/{domain.pk}/domain_secret"
    assert "ask again" in message_of(lean.call("GET", path), 409)
    assert "ask again" in message_of(lean.call("GET", path), 409)
    assert domain.operations.get().kind == RegistrarOperation.Kind.AUTH_CODE


# --- bad input, per endpoint ----------------------------------------------------------------------
TWO_HOSTS = {"ns1": "a.example", "ns2": "b.example"}
# (method, path, a valid body): {customer}/{domain} are the tenant's own ids.
ENDPOINTS = [
    ("POST", "/v1/enterprise/customer", ADD_CUSTOMER),
    ("PATCH", "/v1/enterprise/customer/{customer}", ADD_CUSTOMER),
    ("POST", "/v1/enterprise/customers", SHOW_CUSTOMERS),
    ("POST", "/v1/enterprise/domain_availability", AVAILABILITY),
    ("POST", "/v1/rest/domain_suggestion", SUGGESTION),
    ("POST", "/v1/enterprise/domain_suggestion", SUGGESTION),
    ("POST", "/v1/enterprise/domain/order", "order"),
    ("POST", "/v1/enterprise/domains", {"pagination": {"page": 1, "page_size": 3}}),
    ("POST", "/v1/enterprise/domain/{domain}/nameservers", TWO_HOSTS),
    ("POST", "/v1/enterprise/domain/{domain}/registrar_lock", {"enable_registrar_lock": False}),
]
# Wrong types or missing required fields, per path.
BAD_BODIES = {
    "/v1/enterprise/customer": [
        {},
        {"customer": ADD_CUSTOMER["customer"]},
        {**ADD_CUSTOMER, "customer": {**ADD_CUSTOMER["customer"], "phone": 2349018191818}},
        {**ADD_CUSTOMER, "customer": {**ADD_CUSTOMER["customer"], "phone": "12"}},
        {**ADD_CUSTOMER, "customer": {**ADD_CUSTOMER["customer"], "email": "not-an-email"}},
        {**ADD_CUSTOMER, "customer": "Bob"},
        {**ADD_CUSTOMER, "contact": {**ADD_CUSTOMER["contact"], "country": ["NG"]}},
        {**ADD_CUSTOMER, "contact": {**ADD_CUSTOMER["contact"], "country": "N1"}},
        {**ADD_CUSTOMER, "contact": {"address": "x", "country": "NG", "city": "Lagos"}},
    ],
    "/v1/enterprise/customer/{customer}": [
        {},
        {"customer": {"first_name": 7}},
        {"customer": {"phone": "0803"}, "contact": {"country": "US"}},
        {"customer": {"email": ""}},
        {"contact": None},
    ],
    "/v1/enterprise/customers": [
        {"query": 5},
        {"pagination": {"page": "2"}},
        {"pagination": {"page": 0}},
        {"pagination": {"page_size": 101}},
        {"pagination": {"page_size": True}},
        {"pagination": [1, 2]},
    ],
    "/v1/enterprise/domain_availability": [
        {},
        {"domain_name": "tunji"},
        {"domain_name": 5, "tld": "com"},
        {"domain_name": "tun ji", "tld": "com"},
        {"domain_name": "-tunji", "tld": "com"},
        {"domain_name": "a" * 64, "tld": "com"},
    ],
    "/v1/rest/domain_suggestion": [{}, {"domain_name": None}, {"domain_name": ["tunji"]}],
    "/v1/enterprise/domain_suggestion": [{}, {"domain_name": "!!!"}],
    "/v1/enterprise/domain/order": [
        {},
        {**ORDER, "duration": "1"},
        {**ORDER, "duration": 0},
        {**ORDER, "duration": 11},
        {**ORDER, "duration": 1.5},
        {**ORDER, "domain_privacy": "false"},
        {**ORDER, "domain_privacy": 0},
        {**ORDER, "customer_id": "316"},
        {**ORDER, "customer_id": 99999999999999999999},
        {**ORDER, "domain_name": "bad_name"},
        {**ORDER, "domain_name": "sub.testdomain"},
        {**ORDER, "tld": "nosuchtld"},
        {k: v for k, v in ORDER.items() if k != "domain_privacy"},
    ],
    "/v1/enterprise/domains": [
        {"domain_name": 5},
        {"customer_id": "312"},
        {"customer_id": 0},
        {"pagination": {"page": -1}},
    ],
    "/v1/enterprise/domain/{domain}/nameservers": [
        {},
        {"ns1": "ns1.example.net"},
        {"ns1": "ns1.example.net", "ns2": 5},
        {"ns1": "ns1.example.net", "ns2": "ns1.example.net"},
        {"ns1": "ns1.example.net", "ns2": "192.0.2.1"},
        {"ns1": ["ns1.example.net"], "ns2": "ns2.example.net"},
    ],
    "/v1/enterprise/domain/{domain}/registrar_lock": [
        {},
        {"enable_registrar_lock": "true"},
        {"enable_registrar_lock": 1},
        {"enable_registrar_lock": None},
    ],
}
BAD_CASES = [(path, body) for path, bodies in BAD_BODIES.items() for body in bodies]


def _path(template: str, tenant) -> str:
    return template.format(customer=tenant.customer.pk, domain=tenant.domain.pk)


def _order_body(lean, body):
    if body == "order":
        return order_for(lean.world.a.customer)
    if isinstance(body, dict) and body.get("customer_id") == 316:
        return {**body, "customer_id": lean.world.a.customer.pk}
    return body


@pytest.mark.parametrize(("path", "body"), BAD_CASES, ids=[f"{p} {b}" for p, b in BAD_CASES])
def test_wrong_types_and_missing_fields_are_a_400_and_change_nothing(lean, path, body):
    method = next(m for m, p, _ in ENDPOINTS if p == path)
    before = counts()
    response = lean.call(method, _path(path, lean.world.a), _order_body(lean, body))
    message_of(response, 400)
    assert counts() == before


@pytest.mark.parametrize(
    "raw", ["{", '{"customer": ', "[1, 2", "null", "[]", '"text"', "\x00", "{'a': 1}"]
)
@pytest.mark.parametrize(("method", "path", "_body"), ENDPOINTS)
def test_malformed_json_is_a_400_and_changes_nothing(lean, method, path, _body, raw):
    before = counts()
    response = lean.call(method, _path(path, lean.world.a), raw)
    message_of(response, 400)
    assert counts() == before


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("key", ["none", "bad", "revoked"])
def test_no_key_a_bad_key_or_a_revoked_key_is_a_401(lean, method, path, body, key):
    from customers.services import api_key_revoke
    from portal.tenancy import SYSTEM

    a = lean.world.a
    raw = {"none": "", "bad": "np_live_nothing_here", "revoked": a.live_key_raw}[key]
    if key == "revoked":
        api_key_revoke(actor=SYSTEM, api_key=a.live_key)
    before = counts()
    response = lean.call(method, _path(path, a), _order_body(lean, body), key=raw)
    message_of(response, 401)
    assert counts() == before


ID_ENDPOINTS = [
    ("GET", "/v1/enterprise/customer/{customer}", None),
    ("PATCH", "/v1/enterprise/customer/{customer}", ADD_CUSTOMER),
    ("GET", "/v1/enterprise/domain/{domain}", None),
    ("POST", "/v1/enterprise/domain/{domain}/nameservers", TWO_HOSTS),
    ("POST", "/v1/enterprise/domain/{domain}/registrar_lock", {"enable_registrar_lock": False}),
    ("GET", "/v1/enterprise/domain/{domain}/domain_secret", None),
    ("POST", "/v1/enterprise/domain/{domain}/domain_secret", None),
]
DOCUMENTED_404 = {
    "customer": "Customer does not exist for organisation",
    "domain": "Domain does not exist for organisation",
}


@pytest.mark.parametrize(("method", "path", "body"), ID_ENDPOINTS)
@pytest.mark.parametrize(
    "whose", ["unknown", "other tenant", "sandbox key on live", "not a number", "bigint"]
)
def test_an_id_that_is_not_the_callers_is_a_404_and_changes_nothing(
    lean, method, path, body, whose
):
    a, b = lean.world.a, lean.world.b
    key = a.sandbox_key_raw if whose == "sandbox key on live" else a.live_key_raw
    target = _path(path, b if whose == "other tenant" else a)
    replacement = {
        "unknown": "987654321",
        "not a number": "abc",
        "bigint": "99999999999999999999",
    }.get(whose)
    if replacement:
        target = re.sub(r"/\d+", f"/{replacement}", target, count=1)
    before = counts()
    response = lean.call(method, target, body, key=key)
    kind = "customer" if "/customer/" in path else "domain"
    assert message_of(response, 404) == DOCUMENTED_404[kind]
    assert counts() == before


@pytest.mark.parametrize("whose", ["other tenant", "sandbox key on live"])
def test_an_order_for_a_customer_that_is_not_the_callers_is_not_found(lean, whose):
    a, b = lean.world.a, lean.world.b
    customer = b.customer if whose == "other tenant" else a.customer
    key = a.sandbox_key_raw if whose == "sandbox key on live" else a.live_key_raw
    fund(a.organisation, "100.00", livemode=False)
    before = counts()
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(customer), key=key)
    assert message_of(response, 404) == "Customer not found"
    assert counts() == before


def test_a_sandbox_key_sees_only_sandbox_customers_and_domains(lean):
    a = lean.world.a
    customers = lean.call("POST", "/v1/enterprise/customers", key=a.sandbox_key_raw).json()
    assert [row["id"] for row in customers["data"]] == [a.sandbox_customer.pk]
    domains = lean.call("POST", "/v1/enterprise/domains", key=a.sandbox_key_raw).json()
    assert [row["id"] for row in domains["data"]] == [a.sandbox_domain.pk]


def test_a_sandbox_key_adds_sandbox_customers(lean):
    a = lean.world.a
    lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER, key=a.sandbox_key_raw)
    assert Customer.objects.get(email="bobby20@gmail.com").livemode is False


def test_an_unavailable_name_is_a_409_and_nothing_is_stored(lean):
    a = lean.world.a
    fund(a.organisation, "100.00")
    before = counts()
    body = order_for(a.customer, domain_name="alpha-site")
    message = message_of(lean.call("POST", "/v1/enterprise/domain/order", body), 409)
    assert "alpha-site.com" in message
    assert counts() == before


def test_an_archived_customer_cannot_order(lean):
    from customers.accounts import ARCHIVED_MESSAGE, customer_archive
    from portal.tenancy import SYSTEM

    a = lean.world.a
    customer_archive(actor=SYSTEM, customer=a.customer)
    before = counts()
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(a.customer))
    assert message_of(response, 400) == ARCHIVED_MESSAGE
    assert counts() == before
    # still listed and readable
    assert lean.call("GET", f"/v1/enterprise/customer/{a.customer.pk}").status_code == 200


def test_a_term_outside_the_tlds_years_names_the_duration(lean):
    from domains.models import Tld

    Tld.objects.filter(pk=lean.tld.pk).update(max_years=2)
    body = order_for(lean.world.a.customer, duration=3)
    assert message_of(lean.call("POST", "/v1/enterprise/domain/order", body), 400).startswith(
        "duration: "
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/enterprise/customer"),
        ("GET", "/v1/enterprise/customers"),
        ("PUT", "/v1/enterprise/customer/1"),
        ("GET", "/v1/enterprise/domain/order"),
        ("GET", "/v1/enterprise/domains"),
        ("DELETE", "/v1/enterprise/domain/1"),
        ("GET", "/v1/enterprise/domain/1/nameservers"),
    ],
)
def test_a_method_the_path_does_not_take_is_a_405_message(lean, method, path):
    message_of(lean.call(method, path), 405)


@pytest.mark.parametrize("path", ["/v1/enterprise/customer", "/v1/enterprise/domains"])
def test_paths_without_a_trailing_slash_are_not_redirected(lean, path):
    response = lean.call("POST", path, {})
    assert response.status_code != 301 and response.status_code < 500


def test_premium_name_is_recorded_incomplete_with_a_ticket(lean):
    a = lean.world.a
    account = lean.tld.registrar_account
    account.settings = {"premium": {"testdomain.com": "900.00"}}
    account.save()
    fund(a.organisation, "10000.00")
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(a.customer))
    assert response.json()[0]["status"] == "incomplete"
    ticket = Ticket.objects.get(domain__name="testdomain.com")
    assert ticket.staff_only and "premium" in ticket.messages.get().body
    assert Decimal(str(account.settings["premium"]["testdomain.com"])) == Decimal(900)

"""Seed 001 (the older draft of the Leanstack API) replayed against Nameport: its spellings that
do not clash with seed 000 (``access_token`` and ``debug_id`` headers, ``/v1/enterprise/
add_customer``, ``postcode``, its "GET" lines for availability and suggestion), the documented
answers field by field, and bad input: ``{"message"}`` with a 4xx, nothing changed."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.contract.test_seed000 import counts, message_of

pytestmark = pytest.mark.django_db

ADD_CUSTOMER = {
    "customer": {
        "first_name": "Bob",
        "last_name": "Brown",
        "email": "bobby20@gmail.com",
        "phone": "090383938393",
    },
    "contact": {"address": "My home", "country": "NG", "city": "Lagos", "postcode": " 100001"},
}
AVAILABILITY = {"domain_name": "tunji", "tld": "com"}
AVAILABLE = {
    "tld_available": True,
    "dollar_price": "5",
    "naira_price": "3000",
    "domain_name_available": True,
}


def test_the_access_token_header_with_an_underscore_authenticates(lean):
    """gunicorn (--header-map dangerous) and Django's test client both give HTTP_ACCESS_TOKEN
    for ``access_token``; the key is the same as with seed 000's ``access-token``."""
    response = lean.client.post(
        "/v1/enterprise/domain_availability",
        AVAILABILITY,
        content_type="application/json",
        HTTP_ACCESS_TOKEN=lean.world.a.live_key_raw,
    )
    assert response.status_code == 200
    assert response.json() == AVAILABLE


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_domain_availability_answers_the_documented_shapes(lean, method):
    assert lean.call(method, "/v1/enterprise/domain_availability", AVAILABILITY).json() == (
        AVAILABLE
    )
    taken = {"domain_name": "alpha-site", "tld": "com"}
    body = lean.call(method, "/v1/enterprise/domain_availability", taken).json()
    assert body == {**AVAILABLE, "domain_name_available": False}
    unsold = {"domain_name": "tunji", "tld": "nosuchtld"}
    body = lean.call(method, "/v1/enterprise/domain_availability", unsold).json()
    assert body == {"tld_available": False}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/rest/domain_suggestion"),
        ("GET", "/v1/rest/domain_suggestion"),
        ("GET", "/v1/enterprise/domain_suggestion"),
    ],
)
def test_domain_suggestion_answers_the_documented_list(lean, method, path):
    response = lean.call(method, path, {"domain_name": "tunji"})
    assert response.status_code == 200
    items = response.json()
    assert items
    for item in items:
        assert list(item) == ["domain_name", "tld", "dollar_price", "naira_price"]
        assert isinstance(item["dollar_price"], str) and isinstance(item["naira_price"], str)


def test_add_customer_reads_postcode_and_answers_an_empty_object(lean):
    response = lean.call("POST", "/v1/enterprise/add_customer", ADD_CUSTOMER)
    assert response.status_code == 200
    assert response.json() == {}
    customer = Customer.objects.get(email="bobby20@gmail.com")
    assert (customer.post_code, customer.phone) == ("100001", "+23490383938393")
    assert customer.organisation == lean.world.a.organisation


def test_add_customer_twice_answers_the_documented_message(lean):
    lean.call("POST", "/v1/enterprise/add_customer", ADD_CUSTOMER)
    before = counts()
    response = lean.call("POST", "/v1/enterprise/add_customer", ADD_CUSTOMER)
    assert message_of(response, 409) == "Customer already exists for organisation"
    assert counts() == before


def test_the_current_path_takes_postcode_too(lean):
    assert lean.call("POST", "/v1/enterprise/customer", ADD_CUSTOMER).status_code == 200
    assert Customer.objects.get(email="bobby20@gmail.com").post_code == "100001"


def test_a_get_on_add_customer_never_creates_one(lean):
    """Seed 001's HTTP Request line says GET: a GET that would create a customer is a 405."""
    before = counts()
    params = {"first_name": "Bob", "email": "bobby20@gmail.com"}
    response = lean.call("GET", "/v1/enterprise/add_customer", params)
    assert "POST" in message_of(response, 405)
    assert response["Allow"] == "POST, OPTIONS"
    assert counts() == before


def test_the_debug_id_header_with_an_underscore_is_echoed(lean):
    response = lean.call(
        "POST", "/v1/enterprise/domain_availability", AVAILABILITY, HTTP_DEBUG_ID="req-42"
    )
    assert response["debug-id"] == "req-42"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/enterprise/domain_availability", {"domain_name": "tunji"}),
        ("GET", "/v1/enterprise/domain_availability", {}),
        ("GET", "/v1/enterprise/domain_availability", {"domain_name": "tu ji", "tld": "com"}),
        ("GET", "/v1/rest/domain_suggestion", {}),
        ("GET", "/v1/enterprise/domain_suggestion", {"domain_name": "..."}),
        ("POST", "/v1/enterprise/add_customer", {}),
        ("POST", "/v1/enterprise/add_customer", "{"),
        ("POST", "/v1/enterprise/add_customer", "[]"),
        (
            "POST",
            "/v1/enterprise/add_customer",
            {**ADD_CUSTOMER, "contact": {**ADD_CUSTOMER["contact"], "postcode": 100001}},
        ),
        (
            "POST",
            "/v1/enterprise/add_customer",
            {**ADD_CUSTOMER, "customer": {**ADD_CUSTOMER["customer"], "phone": None}},
        ),
    ],
)
def test_bad_input_is_a_400_message_and_changes_nothing(lean, method, path, body):
    before = counts()
    message_of(lean.call(method, path, body), 400)
    assert counts() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/enterprise/domain_availability"),
        ("GET", "/v1/rest/domain_suggestion"),
        ("POST", "/v1/enterprise/add_customer"),
    ],
)
def test_without_a_key_it_is_a_401_message(lean, method, path):
    before = counts()
    message_of(lean.call(method, path, AVAILABILITY, key=""), 401)
    assert counts() == before


def test_a_sandbox_key_adds_a_sandbox_customer_through_the_old_path(lean):
    key = lean.world.a.sandbox_key_raw
    assert lean.call("POST", "/v1/enterprise/add_customer", ADD_CUSTOMER, key=key).json() == {}
    assert Customer.objects.get(email="bobby20@gmail.com").livemode is False

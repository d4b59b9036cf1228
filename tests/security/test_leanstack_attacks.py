"""Attacks on the Leanstack enterprise API (seeds 000/001): header injection through
``debug-id``, ids past the largest bigint, another organisation's customer in an order, a
sandbox key ordering for a live customer, and secrets in the request log line."""

from __future__ import annotations

import logging

import pytest

from domains.models import Domain
from tests.billing.ledger_helpers import fund
from tests.contract.conftest import make_lean
from tests.contract.test_seed000 import counts, message_of, order_for

pytestmark = pytest.mark.django_db

LOGGER = "nameport.compat.leanstack"
BIG = "99999999999999999999"
AVAILABILITY = {"domain_name": "tunji", "tld": "com"}


@pytest.fixture
def lean(world, client):
    return make_lean(world, client)


def log_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


# --- debug-id -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ("abc-123", "abc-123"),
        ("abc\r\nSet-Cookie: sessionid=stolen", "abcSet-Cookie: sessionid=stolen"),
        ("abc\nX-Injected: 1", "abcX-Injected: 1"),
        ("a\x00b\x1bc\x7fd", "abcd"),
        ("é-ü-ñ", "--"),
        ("x" * 5000, "x" * 128),
    ],
)
def test_the_debug_id_is_echoed_without_control_characters_and_capped(lean, caplog, sent, echoed):
    caplog.set_level(logging.INFO, logger=LOGGER)
    response = lean.call(
        "POST", "/v1/enterprise/domain_availability", AVAILABILITY, HTTP_DEBUG_ID=sent
    )
    assert response.status_code == 200
    assert response["debug-id"] == echoed
    assert "sessionid" not in response.cookies
    assert "X-Injected" not in response
    (line,) = log_lines(caplog)
    assert "\n" not in line and "\r" not in line
    assert f"debug_id={echoed}" in line


def test_a_debug_id_of_control_characters_only_is_not_echoed(lean):
    response = lean.call("POST", "/v1/enterprise/customers", HTTP_DEBUG_ID="\r\n\t")
    assert response.status_code == 200
    assert "debug-id" not in response


def test_the_debug_id_is_echoed_on_refusals_too(lean):
    response = lean.call("POST", "/v1/enterprise/customers", key="", HTTP_DEBUG_ID="req-401")
    assert response.status_code == 401
    assert response["debug-id"] == "req-401"


# --- the request log ------------------------------------------------------------------------
def test_the_log_line_names_the_request_and_the_keys_prefix_never_the_key(lean, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    a = lean.world.a
    lean.call("POST", "/v1/enterprise/customers", HTTP_DEBUG_ID="find-me")
    (line,) = log_lines(caplog)
    assert line.startswith("POST /v1/enterprise/customers 200 debug_id=find-me ")
    assert f"key={a.live_key.prefix}" in line or "key=np_" in line
    assert a.live_key_raw not in line
    assert line.rstrip().endswith("ms")


def test_a_bad_key_is_not_written_to_the_log(lean, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    guess = "np_live_guessed_secret_value_1234567890"
    response = lean.call("POST", "/v1/enterprise/customers", key=guess)
    assert response.status_code == 401
    (line,) = log_lines(caplog)
    assert guess not in line and "guessed_secret" not in line
    assert " 401 " in line and "key=-" in line


def test_the_domain_secret_is_not_written_to_the_log(lean, caplog):
    caplog.set_level(logging.DEBUG)
    domain = lean.world.a.domain
    Domain.objects.filter(pk=domain.pk).update(registrar_lock=False)
    domain.refresh_from_db()
    domain.auth_code = "Zq8-secret-AUTH"
    domain.save(update_fields=["auth_code"])
    response = lean.call("GET", f"/v1/enterprise/domain/{domain.pk}/domain_secret")
    assert response.json() == {"secret": "Zq8-secret-AUTH"}
    assert log_lines(caplog)
    assert all("Zq8-secret-AUTH" not in r.getMessage() for r in caplog.records)


def test_a_key_sent_as_the_debug_id_is_redacted_in_the_log(lean, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    raw = lean.world.a.live_key_raw
    lean.call("POST", "/v1/enterprise/customers", HTTP_DEBUG_ID=raw)
    (line,) = log_lines(caplog)
    assert raw not in line


# --- ids past the largest bigint ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/enterprise/customer/{BIG}"),
        ("PATCH", f"/v1/enterprise/customer/{BIG}"),
        ("GET", "/v1/enterprise/customer/-1"),
        ("GET", f"/v1/enterprise/customer/{BIG[:19]}"),
        ("GET", f"/v1/enterprise/domain/{BIG}"),
        ("GET", "/v1/enterprise/domain/1e3"),
        ("POST", f"/v1/enterprise/domain/{BIG}/nameservers"),
        ("POST", f"/v1/enterprise/domain/{BIG}/registrar_lock"),
        ("GET", f"/v1/enterprise/domain/{BIG}/domain_secret"),
        ("POST", f"/v1/enterprise/domain/{BIG}/domain_secret"),
    ],
)
def test_a_path_id_past_the_largest_bigint_is_a_404_message(lean, method, path):
    before = counts()
    message_of(lean.call(method, path, {"customer": {"first_name": "X"}}), 404)
    assert counts() == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/enterprise/domain/order", "order"),
        ("/v1/enterprise/domains", {"customer_id": int(BIG)}),
        ("/v1/enterprise/customers", {"pagination": {"page": int(BIG)}}),
        ("/v1/enterprise/domains", {"pagination": {"page": 2**62, "page_size": 100}}),
    ],
)
def test_a_body_number_past_the_largest_bigint_is_a_400(lean, path, body):
    if body == "order":
        body = order_for(lean.world.a.customer, customer_id=int(BIG))
    before = counts()
    message_of(lean.call("POST", path, body), 400)
    assert counts() == before


# --- orders for customers that are not the caller's ---------------------------------------------
def test_an_order_for_another_organisations_customer_is_not_found_and_stores_nothing(lean):
    a, b = lean.world.a, lean.world.b
    fund(a.organisation, "100.00")
    before = counts()
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(b.customer))
    assert message_of(response, 404) == "Customer not found"
    assert counts() == before
    assert not Domain.objects.filter(name="testdomain.com").exists()


def test_a_sandbox_key_cannot_order_for_a_live_customer(lean):
    a = lean.world.a
    fund(a.organisation, "100.00", livemode=False)
    before = counts()
    response = lean.call(
        "POST", "/v1/enterprise/domain/order", order_for(a.customer), key=a.sandbox_key_raw
    )
    assert message_of(response, 404) == "Customer not found"
    assert counts() == before


def test_a_live_key_cannot_order_for_a_sandbox_customer(lean):
    a = lean.world.a
    fund(a.organisation, "100.00")
    before = counts()
    response = lean.call("POST", "/v1/enterprise/domain/order", order_for(a.sandbox_customer))
    assert message_of(response, 404) == "Customer not found"
    assert counts() == before


def test_a_sandbox_order_is_a_sandbox_domain_paid_from_the_sandbox_account(lean):
    a = lean.world.a
    fund(a.organisation, "100.00", livemode=False)  # the live account stays empty
    response = lean.call(
        "POST",
        "/v1/enterprise/domain/order",
        order_for(a.sandbox_customer),
        key=a.sandbox_key_raw,
    )
    assert response.json() == [{"status": "success", "domain_name": "testdomain.com"}]
    domain = Domain.objects.get(name="testdomain.com")
    assert domain.livemode is False and domain.operations.get().livemode is False


def test_a_session_cannot_use_the_leanstack_api(lean):
    lean.client.force_login(lean.world.a.member)
    before = counts()
    response = lean.call("POST", "/v1/enterprise/customer", {"customer": {}}, key="")
    message_of(response, 401)
    assert counts() == before

"""Issue 9, section 4: no input reaches a 500.

Each input below answered 500 (or was wrongly accepted). Each must now answer 400 with the usual
JSON ``message`` in the native API (a form error or a shown reason on a page) and change nothing.
"""

from __future__ import annotations

import base64
import inspect
import json
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty

from dns.models import DnssecKey, Record
from domains.lifecycle import add_years
from domains.models import Domain, RegistrarAccount, RegistrarOperation
from portal.filtersets import ID_MESSAGE
from support.models import Ticket

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999"  # past the largest bigint: OverflowError (SQLite), DataError (PG)
DEEP = "[" * 5000 + "]" * 5000


def api(client, tenant, method, path, body=None, *, content_type="application/json"):
    """A native API call with the tenant's live key; ``body`` is sent as given (str or bytes)
    or JSON-encoded (json.dumps escapes a lone surrogate as the six characters \\ud800)."""
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    send = getattr(client, method)
    return send(path, body or "", content_type=content_type, HTTP_ACCESS_TOKEN=tenant.live_key_raw)


def refused(response, *, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    return body


def counts() -> dict:
    return {
        "operations": RegistrarOperation.objects.count(),
        "records": Record.objects.count(),
        "tickets": Ticket.objects.count(),
        "keys": DnssecKey.objects.count(),
    }


# --- integer filters out of range -------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/domains/", {"customer": BIG}),
        ("/api/v1/invoices/", {"customer": BIG}),
        ("/api/v1/zones/", {"customer": BIG}),
        ("/api/v1/operations/", {"domain": BIG}),
        ("/api/v1/tickets/", {"department": BIG}),
        ("/api/v1/tickets/", {"assignee": BIG}),
        ("/api/v1/domains/", {"expiring_within": "10000000"}),
        ("/api/v1/domains/{domain}/", {"customer": BIG}),  # a detail goes through the filters
    ],
)
def test_an_integer_filter_out_of_range_is_a_400_in_the_api(client, world, path, params):
    path = path.format(domain=world.a.domain.pk)
    response = client.get(path, params, HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    body = refused(response)
    (name,) = params
    assert name in body["errors"]
    assert body["message"].startswith(f"{name}: ")


def test_a_utc_offset_postgresql_refuses_is_read_in_utc(client, world):
    """Found by schemathesis: Python takes offsets up to 23:59, PostgreSQL only to 15:59."""
    params = {"created_after": "2020-06-10T03:56:00+16:22"}
    response = client.get("/api/v1/customers/", params, HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.a.customer.pk]


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_time_without_a_utc_form_is_a_400(client, world, value):
    params = {"created_after": value}
    response = client.get("/api/v1/customers/", params, HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert "created_after" in refused(response)["errors"]
    client.force_login(world.a.member)
    page = client.get(reverse("customers:list"), params)
    assert page.status_code == 200
    assert "from the year 1 to 9999 in UTC" in page.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/domains/{BIG}/",
        f"/api/v1/zones/{BIG}/",
        f"/api/v1/zones/{BIG}/records/",
        f"/api/v1/invoices/{BIG}/",
        f"/api/v1/domains/?page={BIG}",
    ],
)
def test_a_path_id_or_page_out_of_range_is_not_found(client, world, path):
    refused(client.get(path, HTTP_ACCESS_TOKEN=world.a.live_key_raw), status=404)


@pytest.mark.parametrize(
    ("path", "params", "shown"),
    [
        ("domains:list", {"customer": BIG}, "alpha-site.com"),
        ("billing:invoice_list", {"customer": BIG}, None),
        ("dns:zone_list", {"customer": BIG}, "alpha-site.com"),
        ("domains:operation_list", {"domain": BIG}, None),
        ("support:ticket_list", {"department": BIG}, None),
        ("domains:list", {"expiring_within": "10000000"}, "alpha-site.com"),
    ],
)
def test_a_list_page_shows_why_it_ignored_an_out_of_range_filter(
    client, world, path, params, shown
):
    client.force_login(world.a.member)
    response = client.get(reverse(path), params)
    assert response.status_code == 200
    html = response.content.decode()
    if "expiring_within" in params:
        assert "Ensure this value is less than or equal to 3660." in html
    else:
        assert ID_MESSAGE in html
    if shown:  # the list is there, unfiltered by the refused value
        assert shown in html


def test_the_csv_export_refuses_an_out_of_range_filter(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("domains:export"), {"customer": BIG})
    assert response.status_code == 400
    assert ID_MESSAGE in response.content.decode()


def test_a_bulk_action_with_an_id_out_of_range_is_a_form_error(client, world):
    client.force_login(world.a.member)
    before = counts()
    response = client.post(reverse("domains:bulk"), {"action": "lock", "ids": [BIG]})
    assert response.status_code == 422
    assert "Select domains from the list." in response.content.decode()
    assert counts() == before


# --- deeply nested JSON -----------------------------------------------------------------------
JSON_WRITES = [
    ("post", "/api/v1/domains/"),
    ("put", "/api/v1/domains/{domain}/lock/"),
    ("put", "/api/v1/domains/{domain}/contacts/"),
    ("post", "/api/v1/zones/{zone}/records/"),
    ("put", "/api/v1/zones/{zone}/forwarding/"),
    ("post", "/api/v1/zones/{zone}/dnssec-keys/"),
    ("post", "/api/v1/zone-templates/"),
    ("post", "/api/v1/tickets/"),
]


def _path(path: str, world) -> str:
    return path.format(domain=world.a.domain.pk, zone=world.a.zone.pk)


@pytest.mark.parametrize("body", [DEEP, '{"name": ' + DEEP + "}", "[" * 40 + "]" * 40])
@pytest.mark.parametrize(("method", "path"), JSON_WRITES)
def test_deeply_nested_json_is_a_400(client, world, method, path, body):
    Domain.objects.filter(pk=world.a.domain.pk).update(registrar_lock=True)
    before = counts()
    response = api(client, world.a, method, _path(path, world), body)
    assert "nested too deeply" in refused(response)["message"]
    assert counts() == before
    assert Domain.objects.get(pk=world.a.domain.pk).registrar_lock is True


def test_the_sandbox_rest_front_end_refuses_deep_json(world):
    """The simulated registry parses JSON bodies itself (domains/simulator/rest_server.py)."""
    from domains.simulator.rest_server import SandboxRestApp
    from tests.domains.factories import RegistrarAccountFactory

    app = SandboxRestApp(account=RegistrarAccountFactory(), username="u", api_token="t")
    raw = DEEP.encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/login",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": BytesIO(raw),
    }
    status, payload = app.dispatch(environ)
    assert status == 400
    assert payload["result"]["message"]


def test_the_typed_account_form_takes_no_raw_json(client, world):
    """The registrar account form has typed fields only (domains.forms_staff): a posted raw
    ``settings`` body, however deep, is not read, and a NUL in a typed field is a form error."""
    client.force_login(world.staff)
    data = {
        "name": "Deep",
        "kind": "sandbox",
        "settings": DEEP,
        "rate_per_second": "20",
        "max_sessions": "4",
        "is_active": "on",
    }
    response = client.post(reverse("domains:account_create"), data)
    assert response.status_code == 302
    assert RegistrarAccount.objects.get(name="Deep").settings == {}
    response = client.post(
        reverse("domains:account_create"), {**data, "name": "Nul", "reserved": "a\x00b"}
    )
    assert response.status_code == 422
    assert not RegistrarAccount.objects.filter(name="Nul").exists()


# --- lone surrogates and NUL ------------------------------------------------------------------
def _key_body(**fields) -> dict:
    return {"flags": 257, "algorithm": 13, "public_key": "A" * 88, **fields}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        # echoed in the error: '"\ud800" is not a valid choice.' could not be encoded
        ("post", "/api/v1/zones/{zone}/records/", {"type": "\ud800", "content": "x"}),
        ("post", "/api/v1/zones/{zone}/records/", {"type": "A", "content": "\ud800"}),
        ("put", "/api/v1/zones/{zone}/forwarding/", {"type": "\ud800", "target": "https://x.io"}),
        ("post", "/api/v1/zones/{zone}/dnssec-keys/", _key_body(flags="\ud800")),
        # stored (SQLite keeps it, PostgreSQL refuses it), then echoed in the answer
        (
            "post",
            "/api/v1/zones/{zone}/records/",
            {"name": "\ud800", "type": "TXT", "content": "x"},
        ),
        ("post", "/api/v1/zone-templates/", {"name": "t\ud800", "body": "@ 3600 IN A 192.0.2.1"}),
        # in a key, and nested
        ("put", "/api/v1/domains/{domain}/contacts/", {"registrant": {"\udfff": "x"}}),
    ],
)
def test_a_lone_surrogate_is_a_400(client, world, method, path, body):
    before = counts()
    response = api(client, world.a, method, _path(path, world), body)
    assert "lone surrogate" in refused(response)["message"]
    assert counts() == before


def test_a_lone_surrogate_in_a_ticket_subject_is_not_stored(client, world):
    body = {"department": world.a.ticket.department_id, "subject": "\ud800", "body": "Help"}
    before = counts()
    response = api(client, world.a, "post", "/api/v1/tickets/", body)
    assert "lone surrogate" in refused(response)["message"]
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"registrant": {"first_name": "a\u0000b"}}), "application/json"),
        ("registrant.first_name=a%00b", "application/x-www-form-urlencoded"),
    ],
)
def test_a_nul_character_is_a_400(client, world, body, content_type):
    before = counts()
    path = f"/api/v1/domains/{world.a.domain.pk}/contacts/"
    response = api(client, world.a, "put", path, body, content_type=content_type)
    assert "NUL" in refused(response)["message"]
    assert counts() == before


# --- DNSSEC keys: required fields, a DNS-sized key ------------------------------------------------
def test_a_dnssec_key_without_flags_and_algorithm_is_a_400(client, world):
    path = f"/api/v1/zones/{world.a.zone.pk}/dnssec-keys/"
    body = refused(api(client, world.a, "post", path, {"public_key": "AAAA"}))
    assert {"flags", "algorithm"} <= set(body["errors"])
    assert not DnssecKey.objects.exists()


def test_a_dnssec_key_longer_than_dns_allows_is_refused(client, world):
    path = f"/api/v1/zones/{world.a.zone.pk}/dnssec-keys/"
    body = refused(api(client, world.a, "post", path, _key_body(public_key="A" * 100_000)))
    assert "public_key" in body["errors"]
    assert not DnssecKey.objects.exists()


def test_a_4096_bit_rsa_key_is_accepted(client, world):
    """The bound is a DNS one: the largest real key (RSA, 4096 bits) still fits."""
    rsa = b"\x03\x01\x00\x01" + b"\xc5" * 512  # exponent 65537, 4096-bit modulus
    key = base64.b64encode(rsa).decode()
    wrapped = "\n".join(key[i : i + 64] for i in range(0, len(key), 64))
    path = f"/api/v1/zones/{world.a.zone.pk}/dnssec-keys/"
    response = api(client, world.a, "post", path, _key_body(algorithm=8, public_key=wrapped))
    assert response.status_code == 201, response.content
    assert DnssecKey.objects.get().public_key == key


# --- a missing boolean is an error, never a value ----------------------------------------------
@pytest.mark.parametrize(
    ("action", "field"),
    [("lock", "registrar_lock"), ("privacy", "id_protection"), ("autorenew", "autorenew")],
)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [("x=1", "application/x-www-form-urlencoded"), ("{}", "application/json")],
)
def test_a_flag_left_out_of_the_body_changes_nothing(
    client, world, action, field, body, content_type
):
    domain = world.a.domain
    Domain.objects.filter(pk=domain.pk).update(**{field: True})
    before = counts()
    path = f"/api/v1/domains/{domain.pk}/{action}/"
    response = api(client, world.a, "put", path, body, content_type=content_type)
    errors = refused(response)["errors"]
    assert errors == {"locked" if action == "lock" else "enabled": ["This field is required."]}
    assert getattr(Domain.objects.get(pk=domain.pk), field) is True
    assert counts() == before


def _write_serializers():
    """Every serializer the OpenAPI document names as a request body (``...Request``)."""
    from drf_spectacular.generators import SchemaGenerator

    import dns.api.serializers
    import domains.api.serializers
    import support.api.serializers

    requests = {
        name.removesuffix("Request")
        for name in SchemaGenerator().get_schema(public=True)["components"]["schemas"]
        if name.endswith("Request")
    }
    for module in (domains.api.serializers, dns.api.serializers, support.api.serializers):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, serializers.Serializer)
                and cls.__module__ == module.__name__
                and cls.__name__.removesuffix("Serializer") in requests
            ):
                yield cls


def test_no_write_serializer_reads_a_missing_form_boolean_as_false():
    """A boolean left out of a form body means what it means in JSON: required, or its default
    (DRF's own BooleanField reads it as false, which unlocked domains)."""
    wrong, seen = [], 0
    for cls in _write_serializers():
        seen += 1
        for name, field in cls().get_fields().items():
            if not isinstance(field, serializers.BooleanField) or field.read_only:
                continue
            same = field.default_empty_html is empty or (
                not field.required and field.default is False
            )
            if not same:
                wrong.append(f"{cls.__name__}.{name}")
    assert seen > 10
    assert not wrong


# --- renewals beyond ten years -------------------------------------------------------------------
def _expiring_in(domain, years: int, days: int = 0) -> None:
    Domain.objects.filter(pk=domain.pk).update(
        expires_at=add_years(timezone.now(), years) + timedelta(days=days)
    )


def test_a_renewal_past_ten_years_is_refused_in_the_api(client, world):
    domain = world.a.domain
    Domain.objects.filter(pk=domain.pk).update(expires_at=datetime(2050, 3, 1, tzinfo=UTC))
    before = counts()
    response = api(client, world.a, "post", f"/api/v1/domains/{domain.pk}/renew/", {"years": 1})
    body = refused(response)
    assert "more than 10 years from today" in body["errors"]["years"][0]
    assert counts() == before


def test_renewals_already_queued_count_toward_the_ten_years(client, world):
    domain = world.a.domain
    _expiring_in(domain, 5)
    path = f"/api/v1/domains/{domain.pk}/renew/"
    assert api(client, world.a, "post", path, {"years": 4}).status_code == 202
    before = counts()
    body = refused(api(client, world.a, "post", path, {"years": 2}))
    assert "at most 1 year now" in body["errors"]["years"][0]
    assert counts() == before


def test_a_renewal_past_ten_years_is_refused_in_the_browser(client, world):
    domain = world.a.domain
    _expiring_in(domain, 9, days=100)
    client.force_login(world.a.member)
    before = counts()
    response = client.post(reverse("domains:renew", args=[domain.pk]), {"years": 1})
    assert "more than 10 years from today" in response.content.decode()
    assert counts() == before


def test_a_bulk_renewal_past_ten_years_is_refused_for_that_domain(client, world):
    domain = world.a.domain
    _expiring_in(domain, 9, days=100)
    client.force_login(world.a.member)
    before = counts()
    data = {"action": "renew", "ids": [domain.pk], "years": 1}
    response = client.post(reverse("domains:bulk"), data)
    assert "more than 10 years from today" in response.content.decode()
    assert counts() == before

"""The native API shell at /api/v1/: schema, docs, root, authentication, errors, pagination,
livemode. Each app's endpoints are tested in tests/<app>/test_api.py."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from openapi_spec_validator import validate

from customers.services import api_key_revoke
from portal.tenancy import SYSTEM
from tests.domains.factories import DomainFactory

ENDPOINTS = ["customers", "domains", "zones", "invoices", "tickets"]


def test_the_schema_is_a_valid_openapi_document(client, db):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    for endpoint in ENDPOINTS:
        assert f"/api/v1/{endpoint}/" in schema["paths"]
    assert "/api/v1/zones/{zone_pk}/records/" in schema["paths"]


def test_the_schema_documents_the_api_key_header(client, db):
    schema = json.loads(client.get("/api/v1/schema/?format=json").content)
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "access-token",
        "description": schemes["apiKey"]["description"],
    }
    assert schemes["bearerApiKey"]["scheme"] == "bearer"
    security = schema["paths"]["/api/v1/domains/"]["get"]["security"]
    assert {"apiKey": []} in security


def test_no_listed_domain_carries_its_auth_code(client, db):
    """The code has one endpoint of its own (audited); the domain objects never include it."""
    schema = client.get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "auth_code" not in components["Domain"]["properties"]
    assert "auth_code" not in components["PaginatedDomainList"]["properties"]["results"].get(
        "items", {}
    ).get("properties", {})


def test_the_docs_page_uses_only_local_assets(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert re.findall(r"https?://", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith(("/static/", "/api/v1/docs/")), asset


def test_the_docs_page_loads_its_script_from_the_same_origin(client, db):
    html = client.get("/api/v1/docs/").content.decode()
    assert "<script>" not in html  # no inline script: the CSP is script-src 'self'
    script_url = re.search(r'<script src="(/api/v1/docs/\?[^"]*)"', html).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_the_root_lists_every_endpoint(client, world):
    client.force_login(world.a.member)
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    for endpoint in ENDPOINTS:
        assert body[endpoint] == f"http://testserver/api/v1/{endpoint}/"
    assert body["schema"] == "http://testserver/api/v1/schema/"
    assert body["docs"] == "http://testserver/api/v1/docs/"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_credentials_get_401_with_a_json_message(client, db, endpoint):
    response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["HTTP_ACCESS_TOKEN", "HTTP_AUTHORIZATION"])
def test_a_revoked_key_gets_401(client, world, header):
    api_key_revoke(actor=SYSTEM, api_key=world.a.live_key)
    raw = world.a.live_key_raw
    value = raw if header == "HTTP_ACCESS_TOKEN" else f"Bearer {raw}"
    response = client.get("/api/v1/domains/", **{header: value})
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key."}


def test_a_wrong_key_gets_401(client, world):
    forged = world.a.live_key_raw[:-4] + "abcd"
    response = client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=forged)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key."}


def test_a_key_of_a_disabled_organisation_gets_401(client, world):
    world.a.organisation.is_active = False
    world.a.organisation.save()
    response = client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid or revoked API key."}


def test_an_unknown_object_gets_404_with_a_json_message(client, world):
    response = client.get("/api/v1/domains/999999/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}


def test_a_non_numeric_id_gets_404_not_500(client, world):
    response = client.get("/api/v1/domains/abc/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}


def test_an_unknown_url_under_the_api_gets_404_json(client, world):
    response = client.get("/api/v1/does-not-exist/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "message" in response.json()


@pytest.mark.parametrize(
    "query",
    ["status=flying", "customer=abc", "expiring_within=-3", "expiring_within=soon"],
)
def test_a_bad_filter_value_gets_400_with_a_message(client, world, query):
    response = client.get(f"/api/v1/domains/?{query}", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 400
    body = response.json()
    field = query.split("=")[0]
    assert body["message"].startswith(f"{field}: ")
    assert field in body["errors"]


def test_the_list_is_paginated(client, world):
    for n in range(3):
        DomainFactory(customer=world.a.customer, name=f"paged-{n}.com")
    response = client.get(
        "/api/v1/domains/?page_size=2&ordering=name_puny", HTTP_ACCESS_TOKEN=world.a.live_key_raw
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "count_exact", "next", "previous", "results"}
    assert (body["count"], body["count_exact"]) == (4, True)
    assert body["previous"] is None
    assert body["next"] == (
        "http://testserver/api/v1/domains/?ordering=name_puny&page=2&page_size=2"
    )
    assert [d["name"] for d in body["results"]] == ["alpha-site.com", "paged-0.com"]
    second = client.get(body["next"], HTTP_ACCESS_TOKEN=world.a.live_key_raw).json()
    assert [d["name"] for d in second["results"]] == ["paged-1.com", "paged-2.com"]
    assert second["next"] is None


def test_the_page_size_is_capped_at_200(client, world):
    response = client.get("/api/v1/domains/?page_size=5000", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_page_past_the_end_gets_404_json(client, world):
    response = client.get("/api/v1/domains/?page=9", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 404
    assert response.json() == {"message": "Invalid page."}


def test_ordering_ignores_fields_that_are_not_offered(client, world):
    response = client.get(
        "/api/v1/domains/?ordering=auth_code", HTTP_ACCESS_TOKEN=world.a.live_key_raw
    )
    assert response.status_code == 200
    assert [d["name"] for d in response.json()["results"]] == ["alpha-site.com"]


@pytest.mark.parametrize(
    ("endpoint", "live_attr", "sandbox_attr"),
    [
        ("domains", "domain", "sandbox_domain"),
        ("customers", "customer", "sandbox_customer"),
    ],
)
def test_a_sandbox_key_sees_only_sandbox_rows_and_a_live_key_only_live_rows(
    client, world, endpoint, live_attr, sandbox_attr
):
    live_row = getattr(world.a, live_attr)
    sandbox_row = getattr(world.a, sandbox_attr)

    sandbox = client.get(f"/api/v1/{endpoint}/", HTTP_ACCESS_TOKEN=world.a.sandbox_key_raw)
    assert [row["id"] for row in sandbox.json()["results"]] == [sandbox_row.pk]
    assert all(row["livemode"] is False for row in sandbox.json()["results"])

    live = client.get(f"/api/v1/{endpoint}/", HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert [row["id"] for row in live.json()["results"]] == [live_row.pk]
    assert all(row["livemode"] is True for row in live.json()["results"])

    for raw, hidden in (
        (world.a.sandbox_key_raw, live_row),
        (world.a.live_key_raw, sandbox_row),
    ):
        response = client.get(f"/api/v1/{endpoint}/{hidden.pk}/", HTTP_ACCESS_TOKEN=raw)
        assert response.status_code == 404


def test_staff_see_both_modes_and_every_tenant(client, world):
    client.force_login(world.staff)
    response = client.get("/api/v1/domains/")
    names = {row["name"] for row in response.json()["results"]}
    assert names == {"alpha-site.com", "alpha-sandbox.com", "bravo-site.com", "bravo-sandbox.com"}


def test_a_member_in_sandbox_mode_sees_sandbox_rows(client, world):
    from portal.tenancy import SESSION_LIVEMODE_KEY

    client.force_login(world.a.member)
    session = client.session
    session[SESSION_LIVEMODE_KEY] = False
    session.save()
    response = client.get("/api/v1/domains/")
    assert [row["name"] for row in response.json()["results"]] == ["alpha-sandbox.com"]


def test_the_root_is_listed_by_reverse(db):
    assert reverse("api:api-root") == "/api/v1/"
    assert reverse("api:domain-detail", kwargs={"pk": 1}) == "/api/v1/domains/1/"


def test_the_count_stops_at_the_cap_and_says_so(client, world, monkeypatch):
    """Counting a million rows costs more than the page: past the cap the count is capped."""
    from portal import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 2)
    for n in range(3):
        DomainFactory(customer=world.a.customer, name=f"many-{n}.com")
    body = client.get("/api/v1/domains/", HTTP_ACCESS_TOKEN=world.a.live_key_raw).json()
    assert (body["count"], body["count_exact"]) == (2, False)
    assert len(body["results"]) == 4, "the page itself is not capped"

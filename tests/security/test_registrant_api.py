"""Attacks on the registrant API (seed 004): another customer's domain with one's own token,
credentials of another kind (an API key, a session, a token in the query string), broken
headers, the transfer code of a locked domain, floods, and the token in the logs. Each is
refused with the document's ``{"errors": [...]}`` and a 4xx, and changes nothing."""

from __future__ import annotations

import logging

import pytest
from rest_framework.throttling import SimpleRateThrottle

from customers.registrant_tokens import token_create
from domains.models import Domain
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory
from tests.domains.factories import DomainFactory
from tests.security.test_logs import access_log_line, console, procfile_gunicorn_config

pytestmark = pytest.mark.django_db
__all__ = ["console"]  # the fixture, imported for the log test

DOMAINS = "/api/v1/registrant/domains"


def one(domain) -> str:
    return f"{DOMAINS}/{domain.uuid}"


@pytest.fixture
def raw(world) -> str:
    return token_create(actor=SYSTEM, customer=world.a.customer, name="attack")[1]


def refused(response, status: int) -> list[str]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errors"} and body["errors"] and isinstance(body["errors"][0], str)
    return body["errors"]


def test_a_token_of_customer_a_does_not_reach_customer_bs_domains(client, world, raw):
    neighbour = CustomerFactory(organisation=world.a.organisation)
    theirs = DomainFactory(customer=neighbour, name="neighbour-site.com")
    theirs.auth_code = "neighbour-secret"
    theirs.registrar_lock = False
    theirs.save()
    for domain in (theirs, world.b.domain, world.b.sandbox_domain, world.a.sandbox_domain):
        response = client.get(one(domain), HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert refused(response, 404) == ["Domain not found"]
        assert domain.name not in response.content.decode()
    listed = client.get(DOMAINS, HTTP_AUTHORIZATION=f"Bearer {raw}").content.decode()
    assert "neighbour" not in listed and world.b.domain.name not in listed
    assert not AuditEntry.objects.filter(action="domain.auth_code.view").exists()


@pytest.mark.parametrize("which", ["live", "sandbox"])
def test_an_api_key_is_no_registrant_credential(client, world, which):
    key = world.a.live_key_raw if which == "live" else world.a.sandbox_key_raw
    for headers in (
        {"HTTP_ACCESS_TOKEN": key},
        {"HTTP_AUTHORIZATION": f"Bearer {key}"},
        {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCESS_TOKEN": key},
    ):
        for url in (DOMAINS, one(world.a.domain)):
            response = client.get(url, **headers)
            refused(response, 401)
            assert response["WWW-Authenticate"].startswith("Bearer")
            assert world.a.domain.name not in response.content.decode()


@pytest.mark.parametrize("who", ["customer_user", "member", "contact_user"])
def test_a_session_is_no_registrant_credential(client, world, who):
    client.force_login(getattr(world.a, who))
    for url in (DOMAINS, one(world.a.domain)):
        response = client.get(url)
        refused(response, 401)
        assert world.a.domain.name not in response.content.decode()


def test_a_session_does_not_widen_a_token(client, world, raw):
    """Signed in as the other tenant's member, with tenant a's token: still tenant a's view."""
    client.force_login(world.b.member)
    response = client.get(one(world.b.domain), HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused(response, 404)


@pytest.mark.parametrize("name", ["access_token", "access-token", "token", "bearer", "auth"])
def test_a_token_in_the_query_string_is_not_accepted(client, world, raw, name):
    response = client.get(f"{DOMAINS}?{name}={raw}")
    refused(response, 401)


@pytest.mark.parametrize(
    "header",
    [
        "Basic Zm9vOmJhcg==",
        "Bearer",
        "Bearer ",
        "Token {raw}",
        "{raw}",
        "Bearer {raw}x",
        "Bearer {raw} {raw}",
        "Bearer np_reg_\x00_x",
        "Bearer " + "np_reg_" + "a" * 5000,
        "Bearer Z2l0bGFiOmdoeXQ5ZTRmdQ==",  # the document's example token
    ],
)
def test_a_broken_or_wrong_authorization_header_is_a_401(client, world, raw, header):
    response = client.get(DOMAINS, HTTP_AUTHORIZATION=header.format(raw=raw))
    refused(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_scheme_name_is_case_insensitive(client, world, raw):
    assert client.get(DOMAINS, HTTP_AUTHORIZATION=f"bearer {raw}").status_code == 200


def test_the_transfer_code_is_hidden_while_the_domain_is_locked(client, world, raw):
    domain = world.a.domain
    domain.auth_code = "locked-secret-code"
    domain.registrar_lock = True
    domain.save()
    for url in (DOMAINS, one(domain)):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert response.status_code == 200
        assert "locked-secret-code" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="domain.auth_code.view").exists()


def test_a_flood_is_throttled_in_the_documents_shape(client, world, raw, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "2/min"})
    for _ in range(2):
        assert client.get(DOMAINS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    response = client.get(DOMAINS, HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_the_api_is_read_only_whatever_the_body(client, world, raw):
    domain = world.a.domain
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(
            one(domain),
            {"registrar_lock": False, "name": "stolen.com"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        refused(response, 405)
    domain.refresh_from_db()
    assert domain.name == "alpha-site.com" and domain.registrar_lock is True
    assert Domain.objects.filter(customer=world.a.customer).count() == 1


def test_the_token_stays_out_of_the_logs(client, world, raw, console):
    revoked_raw = token_create(actor=SYSTEM, customer=world.a.customer, name="old")[1]
    from customers.models import RegistrantToken
    from customers.registrant_tokens import token_revoke

    token_revoke(actor=SYSTEM, token=RegistrantToken.objects.get(name="old"))
    client.get(DOMAINS, HTTP_AUTHORIZATION=f"Bearer {revoked_raw}")  # "Unauthorized: ..."
    client.get(f"{DOMAINS}?token={raw}")
    client.get(f"{DOMAINS}/not-a-uuid", HTTP_AUTHORIZATION=f"Bearer {raw}")  # "Not Found: ..."
    logging.getLogger("nameport.test").warning("caller sent %s and %s", raw, revoked_raw)
    text = console.getvalue()
    assert "Unauthorized: /api/v1/registrant/domains" in text
    for secret in (raw, revoked_raw):
        assert secret not in text
        assert secret.split("_", 3)[3] not in text

    line = access_log_line(
        procfile_gunicorn_config(),
        f"{DOMAINS}?access_token={raw}",
        {"Authorization": f"Bearer {raw}", "Referer": f"http://127.0.0.1{DOMAINS}?x={raw}"},
    )
    assert raw not in line and raw.split("_", 3)[3] not in line


def test_audit_rows_name_the_token_by_its_prefix_only(client, world, raw):
    domain = world.a.domain
    domain.auth_code = "open-code"
    domain.registrar_lock = False
    domain.save()
    client.get(one(domain), HTTP_AUTHORIZATION=f"Bearer {raw}")
    entries = AuditEntry.objects.filter(action__startswith="registrant_token") | (
        AuditEntry.objects.filter(action="domain.auth_code.view")
    )
    assert entries.count() == 2
    for entry in entries:
        assert raw not in f"{entry.actor} {entry.data}"
        assert "open-code" not in str(entry.data)

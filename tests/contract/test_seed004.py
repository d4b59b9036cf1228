"""Seed 004 (the internetee registrant API), replayed: every request example of the document,
with its headers, against Nameport, and the documented answer checked field by field; then bad
input, each answered with the document's error shape and a 4xx, nothing changed."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from customers.registrant_tokens import token_create, token_revoke
from domains.models import Domain, RegistrarOperation
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.domains.factories import DomainFactory, RegistrarOperationFactory

pytestmark = pytest.mark.django_db

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# The document's domain object: every key, and the type of its example's value.
STRING, NULL, TIME_OR_NULL = "string", "null", "time"
LIST_FIELDS = {
    "id": STRING,
    "name": STRING,
    "registrar": STRING,
    "valid_from": TIME_OR_NULL,
    "valid_to": TIME_OR_NULL,
    "registrant_id": int,
    "transfer_code": (STRING, NULL),
    "created_at": TIME_OR_NULL,
    "updated_at": TIME_OR_NULL,
    "name_dirty": STRING,
    "name_puny": STRING,
    "period": int,
    "period_unit": STRING,
    "creator_str": NULL,
    "updator_str": NULL,
    "legacy_id": NULL,
    "legacy_registrar_id": NULL,
    "legacy_registrant_id": NULL,
    "outzone_at": TIME_OR_NULL,
    "delete_at": TIME_OR_NULL,
    "registrant_verification_asked_at": NULL,
    "registrant_verification_token": NULL,
    "locked_by_registrant_at": TIME_OR_NULL,
    "pending_json": dict,
    "force_delete_at": NULL,
    "statuses": list,
    "reserved": bool,
    "status_notes": dict,
    "statuses_backup": list,
}
# The detail example says registered_at where the list says valid_from: both carry both.
FIELDS = {**LIST_FIELDS, "registered_at": TIME_OR_NULL}
# The document's request headers.
DOCUMENT_HEADERS = {"HTTP_ACCEPT": "application/json", "CONTENT_TYPE": "application/json"}


def bearer(raw: str) -> dict:
    return {**DOCUMENT_HEADERS, "HTTP_AUTHORIZATION": f"Bearer {raw}"}


def new_token(customer) -> str:
    return token_create(actor=SYSTEM, customer=customer, name="contract")[1]


def check_shape(item: dict) -> None:
    assert set(item) == set(FIELDS), set(item) ^ set(FIELDS)
    for key, kind in FIELDS.items():
        value = item[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = False
        for each in kinds:
            if each == STRING:
                ok |= isinstance(value, str)
            elif each == NULL:
                ok |= value is None
            elif each == TIME_OR_NULL:
                ok |= value is None or (isinstance(value, str) and bool(TIME.match(value)))
            else:
                ok |= type(value) is each
        assert ok, f"{key}: {value!r}"
    uuid.UUID(item["id"])
    assert item["period_unit"] == "y"
    assert item["valid_from"] == item["registered_at"]
    assert all(isinstance(status, str) for status in item["statuses"])


def refused(response, status: int, message: str | None = None) -> list:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    assert isinstance(body["errors"], list) and body["errors"]
    assert all(isinstance(error, str) and error for error in body["errors"])
    if message is not None:
        assert body["errors"] == [message]
    return body["errors"]


@pytest.fixture
def registrant(world):
    """Tenant a's customer with three domains (its world domain and two more) and a token."""
    a = world.a
    DomainFactory(customer=a.customer, name="beta-names.com")
    DomainFactory(customer=a.customer, name="gamma-names.com")
    a.registrant_raw = new_token(a.customer)
    return a


def as_document(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# --- the document's examples -------------------------------------------------------------------
def test_get_domains_answers_the_documented_array(client, registrant):
    response = client.get("/api/v1/registrant/domains", **bearer(registrant.registrant_raw))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body, list)
    assert [d["name"] for d in body] == ["alpha-site.com", "beta-names.com", "gamma-names.com"]
    for item in body:
        check_shape(item)
        assert item["registrant_id"] == registrant.customer.pk


def test_get_domains_with_offset_and_limit_answers_one(client, registrant):
    response = client.get(
        "/api/v1/registrant/domains?offset=1&limit=1", **bearer(registrant.registrant_raw)
    )
    assert response.status_code == 200
    body = response.json()
    assert [d["name"] for d in body] == ["beta-names.com"]
    check_shape(body[0])


def test_get_one_domain_by_its_uuid_answers_the_documented_object(client, registrant):
    domain = registrant.domain
    response = client.get(
        f"/api/v1/registrant/domains/{domain.uuid}", **bearer(registrant.registrant_raw)
    )
    assert response.status_code == 200
    item = response.json()
    check_shape(item)
    domain.refresh_from_db()
    assert item["id"] == str(domain.uuid)
    assert item["name"] == item["name_dirty"] == domain.name
    assert item["name_puny"] == domain.name_puny
    assert item["registrar"] == registrant.organisation.name
    assert item["registered_at"] == as_document(domain.registered_at)
    assert item["valid_to"] == as_document(domain.expires_at)
    assert item["created_at"] == as_document(domain.created_at)
    assert item["updated_at"] == as_document(domain.updated_at)
    assert item["period"] == domain.period
    assert item["statuses"] == ["ok"]
    assert item["transfer_code"] is None  # locked (the default)
    assert item["locked_by_registrant_at"] == as_document(domain.registered_at)
    assert item["pending_json"] == {} and item["status_notes"] == {}
    assert item["statuses_backup"] == [] and item["reserved"] is False


def test_an_unknown_uuid_answers_the_documented_404(client, registrant):
    response = client.get(
        "/api/v1/registrant/domains/98d1083a-8863-4153-93e4-caee4a013535",
        **bearer(registrant.registrant_raw),
    )
    refused(response, 404, "Domain not found")


# --- the mapping ---------------------------------------------------------------------------
def test_the_lifecycle_lock_statuses_and_brand_are_mapped(client, registrant):
    organisation = registrant.organisation
    organisation.portal_name = "Best Names"
    organisation.save(update_fields=["portal_name"])
    outzone = timezone.now() + timedelta(days=180)
    domain = DomainFactory(
        customer=registrant.customer,
        name="bücher.com",
        name_puny="xn--bcher-kva.com",
        epp_statuses=["clientTransferProhibited", "clientDeleteProhibited"],
        outzone_at=outzone,
        delete_at=outzone + timedelta(days=30),
        period=2,
    )
    lock = RegistrarOperationFactory(
        domain=domain,
        kind=RegistrarOperation.Kind.LOCK,
        payload={"value": True},
        status=RegistrarOperation.Status.SUCCEEDED,
        finished_at=timezone.now() - timedelta(days=3),
    )
    response = client.get(
        f"/api/v1/registrant/domains/{domain.uuid}", **bearer(registrant.registrant_raw)
    )
    item = response.json()
    assert item["registrar"] == "Best Names"
    assert item["name"] == item["name_dirty"] == "bücher.com"
    assert item["name_puny"] == "xn--bcher-kva.com"
    assert item["statuses"] == ["clientTransferProhibited", "clientDeleteProhibited"]
    assert item["outzone_at"] == as_document(outzone)
    assert item["delete_at"] == as_document(outzone + timedelta(days=30))
    assert item["period"] == 2
    assert item["locked_by_registrant_at"] == as_document(lock.finished_at)


def test_the_transfer_code_shows_only_while_unlocked_and_each_view_is_audited(client, registrant):
    domain = registrant.domain
    domain.auth_code = "98oiewslkfkd"
    domain.save()
    url = f"/api/v1/registrant/domains/{domain.uuid}"
    assert client.get(url, **bearer(registrant.registrant_raw)).json()["transfer_code"] is None
    assert not AuditEntry.objects.filter(action="domain.auth_code.view").exists()

    Domain.objects.filter(pk=domain.pk).update(registrar_lock=False)
    item = client.get(url, **bearer(registrant.registrant_raw)).json()
    assert item["transfer_code"] == "98oiewslkfkd"
    assert item["locked_by_registrant_at"] is None
    entry = AuditEntry.objects.get(action="domain.auth_code.view")
    assert entry.object_id == str(domain.pk)
    assert entry.actor.startswith("registrant-token:np_reg_")
    assert entry.organisation_id == registrant.organisation.pk
    listed = client.get("/api/v1/registrant/domains", **bearer(registrant.registrant_raw)).json()
    assert {d["name"]: d["transfer_code"] for d in listed}["alpha-site.com"] == "98oiewslkfkd"
    assert AuditEntry.objects.filter(action="domain.auth_code.view").count() == 2


def test_a_sandbox_customers_token_sees_its_sandbox_domains(client, world):
    raw = new_token(world.a.sandbox_customer)
    body = client.get("/api/v1/registrant/domains", **bearer(raw)).json()
    assert [d["name"] for d in body] == ["alpha-sandbox.com"]


def test_released_domains_are_left_out(client, registrant):
    gone = DomainFactory(customer=registrant.customer, name="gone-names.com", status="deleted")
    names = [
        d["name"]
        for d in client.get(
            "/api/v1/registrant/domains", **bearer(registrant.registrant_raw)
        ).json()
    ]
    assert "gone-names.com" not in names
    response = client.get(
        f"/api/v1/registrant/domains/{gone.uuid}", **bearer(registrant.registrant_raw)
    )
    refused(response, 404, "Domain not found")


def test_the_list_costs_the_same_queries_for_many_domains(client, registrant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = "/api/v1/registrant/domains"
    client.get(url, **bearer(registrant.registrant_raw))  # marks the token used (one write)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, **bearer(registrant.registrant_raw)).status_code == 200
    for n in range(20):
        domain = DomainFactory(customer=registrant.customer, name=f"more-{n}.com")
        domain.auth_code = f"code-{n}"
        domain.save()
        RegistrarOperationFactory(
            domain=domain, kind=RegistrarOperation.Kind.LOCK, payload={"value": True}
        )
    Domain.objects.filter(customer=registrant.customer).update(registrar_lock=False)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, **bearer(registrant.registrant_raw))
    assert len(response.json()) == 23
    # One more for the audit row of the codes shown (one row for all of them).
    assert len(many.captured_queries) <= len(few.captured_queries) + 1


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be an integer between 1 and 200"),
        ("limit=201", "limit must be an integer between 1 and 200"),
        ("limit=x", "limit must be an integer between 1 and 200"),
        ("limit=1.5", "limit must be an integer between 1 and 200"),
        ("limit=", "limit must be an integer between 1 and 200"),
        ("limit=-1", "limit must be an integer between 1 and 200"),
        ("limit=%EF%BC%91", "limit must be an integer between 1 and 200"),  # a full-width 1
        ("offset=-1", "offset must be an integer between 0 and 2147483647"),
        ("offset=x", "offset must be an integer between 0 and 2147483647"),
        ("offset=99999999999999999999", "offset must be an integer between 0 and 2147483647"),
    ],
)
def test_a_bad_limit_or_offset_is_a_400(client, registrant, query, message):
    response = client.get(
        f"/api/v1/registrant/domains?{query}", **bearer(registrant.registrant_raw)
    )
    refused(response, 400, message)


def test_limit_bounds_are_accepted(client, registrant):
    for query, count in (("limit=1", 1), ("limit=200", 3), ("offset=0", 3), ("offset=3", 0)):
        response = client.get(
            f"/api/v1/registrant/domains?{query}", **bearer(registrant.registrant_raw)
        )
        assert response.status_code == 200, query
        assert len(response.json()) == count, query


@pytest.mark.parametrize(
    "value",
    ["not-a-uuid", "98d1083a-8863-4153-93e4", "1", "98d1083a" * 10, "%00", "0" * 32 + "g"],
)
def test_a_malformed_uuid_is_domain_not_found(client, registrant, value):
    response = client.get(
        f"/api/v1/registrant/domains/{value}", **bearer(registrant.registrant_raw)
    )
    refused(response, 404, "Domain not found")


def test_another_customers_domain_is_not_found(client, world, registrant):
    from tests.customers.factories import CustomerFactory

    neighbour = CustomerFactory(organisation=registrant.organisation)
    theirs = DomainFactory(customer=neighbour, name="neighbour-names.com")
    for domain in (theirs, world.b.domain, world.a.sandbox_domain):
        response = client.get(
            f"/api/v1/registrant/domains/{domain.uuid}", **bearer(registrant.registrant_raw)
        )
        errors = refused(response, 404, "Domain not found")
        assert domain.name not in str(errors)
    names = {
        d["name"]
        for d in client.get(
            "/api/v1/registrant/domains", **bearer(registrant.registrant_raw)
        ).json()
    }
    assert names.isdisjoint({theirs.name, world.b.domain.name, world.a.sandbox_domain.name})


def test_a_revoked_token_is_a_401_and_changes_nothing(client, registrant):
    token = registrant.customer.registrant_tokens.get()
    token_revoke(actor=SYSTEM, token=token)
    before = Domain.objects.filter(customer=registrant.customer).count()
    for url in (
        "/api/v1/registrant/domains",
        f"/api/v1/registrant/domains/{registrant.domain.uuid}",
    ):
        response = client.get(url, **bearer(registrant.registrant_raw))
        refused(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Domain.objects.filter(customer=registrant.customer).count() == before


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_refused_and_change_nothing(client, registrant, method):
    domain = registrant.domain
    for url in ("/api/v1/registrant/domains", f"/api/v1/registrant/domains/{domain.uuid}"):
        response = getattr(client, method)(
            url,
            '{"name": "x"',
            content_type="application/json",
            **bearer(registrant.registrant_raw),
        )
        refused(response, 405)
    assert Domain.objects.filter(pk=domain.pk, name=domain.name).exists()


def test_a_trailing_slash_or_another_path_is_a_404_in_the_documents_shape(client, registrant):
    for url in (
        "/api/v1/registrant/domains/",
        f"/api/v1/registrant/domains/{registrant.domain.uuid}/",
        "/api/v1/registrant/contacts",
    ):
        refused(client.get(url, **bearer(registrant.registrant_raw)), 404)


def test_json_is_answered_whatever_the_accept_header(client, registrant):
    response = client.get(
        "/api/v1/registrant/domains",
        HTTP_ACCEPT="text/html",
        HTTP_AUTHORIZATION=f"Bearer {registrant.registrant_raw}",
    )
    assert response.status_code == 200
    assert isinstance(response.json(), list)

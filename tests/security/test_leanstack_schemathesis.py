"""Schemathesis over the Leanstack API's own OpenAPI document (/api/compat/leanstack/schema/),
as tests/security/test_schemathesis.py runs it over the native one: every operation gets its
coverage cases and generated examples, valid and invalid, with a live key of ``world.a``; each
answer must be no 5xx, a documented status code and content type, and a body its schema
describes. Every request runs in a savepoint that is rolled back.

Then the document itself: every operation declares its request body, its answers with the
``{"message"}`` error body for each 4xx, and the ``access-token`` security scheme."""

from __future__ import annotations

import time

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application

from tests.contract.conftest import make_lean
from tests.security import test_schemathesis as native

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Do not use the `random` module"),
]
SCHEMA = "/api/compat/leanstack/schema/"
MESSAGE = {"$ref": "#/components/schemas/LeanstackMessage"}

loopback_only = native.loopback_only
unthrottled = native.unthrottled
connection_kept = native.connection_kept


def test_the_leanstack_api_conforms_to_its_openapi_document(
    world, client, settings, loopback_only, connection_kept, unthrottled
):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    lean = make_lean(world, client)
    a = lean.world.a
    schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())
    headers = {"access-token": a.live_key_raw}
    paths = {
        "/v1/enterprise/customer/{customer_id}": {"customer_id": a.customer.pk},
        "/v1/enterprise/domain/{domain_id}": {"domain_id": a.domain.pk},
    }
    body_ids = {"customer_id": a.customer.pk}
    native.SENT[0] = 0
    failures: list[str] = []
    ran = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        late = time.monotonic() - started > native.BUDGET_SECONDS
        path_ids = native.fixed_path(operation, paths)
        limit = 2 if late else native.COVERAGE
        native.run_coverage(schema, operation, headers, path_ids, limit, failures)
        native.run_operation(
            operation,
            headers,
            path_ids,
            body_ids,
            examples=1 if late else native.EXAMPLES,
            negative=0 if late else native.NEGATIVE_EXAMPLES,
            failures=failures,
        )
        ran += 1
    assert ran == 18, "every operation of the document (13 paths, 18 operations)"
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    assert native.SENT[0] > ran * native.EXAMPLES


@pytest.fixture
def document(client):
    response = client.get(SCHEMA, {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_document_lists_every_path_of_the_seed_exactly(document):
    assert set(document["paths"]) == {
        "/v1/enterprise/customer",
        "/v1/enterprise/add_customer",
        "/v1/enterprise/customer/{customer_id}",
        "/v1/enterprise/customers",
        "/v1/enterprise/domain_availability",
        "/v1/rest/domain_suggestion",
        "/v1/enterprise/domain_suggestion",
        "/v1/enterprise/domain/order",
        "/v1/enterprise/domains",
        "/v1/enterprise/domain/{domain_id}",
        "/v1/enterprise/domain/{domain_id}/nameservers",
        "/v1/enterprise/domain/{domain_id}/registrar_lock",
        "/v1/enterprise/domain/{domain_id}/domain_secret",
    }


def test_every_operation_documents_its_bodies_errors_and_key(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "in": "header", "name": "access-token"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert operation.get("description"), where
            assert {"apiKey": []} in operation["security"], where
            responses = operation["responses"]
            assert "200" in responses and responses["200"].get("content"), where
            for code in ("400", "401", "429", *(["404"] if "{" in path else [])):
                assert code in responses, f"{where} {code}"
            for code, answer in responses.items():
                if code.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == MESSAGE, where
            if method in {"post", "patch"} and "domain_secret" not in path:
                assert "requestBody" in operation, where


def test_the_error_body_is_the_message_alone(document):
    assert document["components"]["schemas"]["LeanstackMessage"] == {
        "type": "object",
        "description": "A refusal: the request is not complete.",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
        "additionalProperties": False,
    }


def test_the_docs_page_is_served_and_linked(client):
    assert client.get("/api/compat/leanstack/docs/").status_code == 200
    assert "/api/compat/leanstack/docs/" in client.get("/api/docs/").content.decode()

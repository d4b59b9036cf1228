"""The registrant API's OpenAPI document (/api/compat/registrant/schema/) tells the truth: read
directly (every field of seed 004, the Bearer scheme, the error body on every refusal), and
checked by schemathesis against the answers, as test_schemathesis.py checks the native one."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application

from customers.registrant_tokens import token_create
from portal.tenancy import SYSTEM
from tests.contract.test_seed004 import FIELDS
from tests.domains.factories import DomainFactory
from tests.security.test_schemathesis import (
    COVERAGE,
    EXAMPLES,
    NEGATIVE_EXAMPLES,
    SENT,
    connection_kept,
    loopback_only,
    run_coverage,
    run_operation,
    unthrottled,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Do not use the `random` module"),
]
__all__ = ["connection_kept", "loopback_only", "unthrottled"]  # fixtures used below

SCHEMA = "/api/compat/registrant/schema/"
ERROR = {"$ref": "#/components/schemas/Errors"}


@pytest.fixture
def schema(client):
    response = client.get(f"{SCHEMA}?format=json")
    assert response.status_code == 200
    return response.json()


def test_it_documents_the_two_paths_of_the_document_and_nothing_else(schema):
    assert set(schema["paths"]) == {
        "/api/v1/registrant/domains",
        "/api/v1/registrant/domains/{uuid}",
    }
    for operations in schema["paths"].values():
        assert set(operations) == {"get"}


def test_every_field_of_the_document_is_described_with_its_mapping(schema):
    domain = schema["components"]["schemas"]["RegistrantDomain"]
    assert set(domain["properties"]) == set(FIELDS)
    assert set(domain["required"]) == set(FIELDS)
    for name, field in domain["properties"].items():
        assert len(field.get("description", "")) > 10, name
    listed = schema["paths"]["/api/v1/registrant/domains"]["get"]
    answer = listed["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"type": "array", "items": {"$ref": "#/components/schemas/RegistrantDomain"}}
    assert "JSON array" in listed["description"]
    limit = next(p for p in listed["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)


def test_the_bearer_scheme_is_the_only_credential(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes == {"registrantToken": schemes["registrantToken"]}
    assert schemes["registrantToken"]["type"] == "http"
    assert schemes["registrantToken"]["scheme"] == "bearer"
    for operations in schema["paths"].values():
        assert operations["get"]["security"] == [{"registrantToken": []}]


def test_every_refusal_is_documented_with_the_errors_body(schema):
    for path, operations in schema["paths"].items():
        responses = operations["get"]["responses"]
        wanted = {"400", "401", "405", "429"} | ({"404"} if "{" in path else set())
        assert wanted <= set(responses), path
        for code, response in responses.items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == ERROR, (path, code)
    errors = schema["components"]["schemas"]["Errors"]
    assert errors["properties"]["errors"]["items"] == {"type": "string"}


def test_the_docs_page_and_the_index_link_it(client):
    docs = client.get("/api/compat/registrant/docs/")
    assert docs.status_code == 200
    assert "Nameport registrant API" in docs.content.decode()
    script = client.get("/api/compat/registrant/docs/?script=")
    assert SCHEMA in script.content.decode()
    index = client.get("/api/docs/").content.decode()
    assert "/api/compat/registrant/docs/" in index


def test_the_native_document_leaves_the_registrant_api_out(client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert not [path for path in paths if path.startswith("/api/v1/registrant")]


def test_the_registrant_api_conforms_to_its_openapi_document(
    world, settings, loopback_only, connection_kept, unthrottled
):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    a = world.a
    DomainFactory(customer=a.customer, name="second-site.com", registrar_lock=False)
    raw = token_create(actor=SYSTEM, customer=a.customer, name="schemathesis")[1]
    schema = schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())
    headers = {"Authorization": f"Bearer {raw}"}
    path_ids = {"uuid": str(a.domain.uuid)}

    SENT[0] = 0
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ids = path_ids if operation.path_parameters else None
        run_coverage(schema, operation, headers, ids, COVERAGE, failures)
        run_operation(
            operation,
            headers,
            ids,
            {},
            examples=EXAMPLES,
            negative=NEGATIVE_EXAMPLES,
            failures=failures,
        )
        ran += 1
    assert ran == 2
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    assert SENT[0] > ran * EXAMPLES

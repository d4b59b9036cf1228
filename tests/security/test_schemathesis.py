"""Schemathesis over the native API's own OpenAPI document (/api/v1/schema/), in the suite so CI
runs it: every operation gets a few generated requests, valid ones and invalid ones, against the
Django WSGI app in this process, authenticated with a live API key of a tenant of ``world``.

Each answer must be no 5xx, a status code the document lists for the operation, the documented
content type and a body that conforms to the documented schema. Every example runs in a savepoint
that is rolled back, so each starts from the same data (a DELETE does not empty the next
example's world) and nothing is committed: no outbox task is enqueued, no registry is called
(the TLDs of ``world`` route to the in-process sandbox adapter, and a socket guard refuses any
connection beyond loopback).

Per operation: up to ``COVERAGE`` cases of schemathesis's coverage phase (each parameter's and
body field's boundary values, wrong types, missing required fields: deterministic), then
``EXAMPLES`` positive and ``NEGATIVE_EXAMPLES`` negative generated examples (derandomized: the
same requests on every run). Bounded in time: a request slower than ``DEADLINE_SECONDS`` is a
failure, and past ``BUDGET_SECONDS`` the remaining operations run two coverage cases and one
example each instead of being skipped. A deeper run by hand:
``NAMEPORT_SCHEMATHESIS_COVERAGE=100000 NAMEPORT_SCHEMATHESIS_EXAMPLES=200 pytest <this file>``.
"""

from __future__ import annotations

import logging
import os
import socket
import time

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domains.models import RegistrarAccount

EXAMPLES = int(os.environ.get("NAMEPORT_SCHEMATHESIS_EXAMPLES", "8"))
NEGATIVE_EXAMPLES = max(1, EXAMPLES * 5 // 8)
COVERAGE = int(os.environ.get("NAMEPORT_SCHEMATHESIS_COVERAGE", "60"))  # cases per operation
DEEP = {"NAMEPORT_SCHEMATHESIS_EXAMPLES", "NAMEPORT_SCHEMATHESIS_COVERAGE"} & set(os.environ)
BUDGET_SECONDS = 24 * 3600 if DEEP else 150
DEADLINE_SECONDS = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

pytestmark = [
    pytest.mark.django_db,
    # Hypothesis blames the strategies for `random` used while a request is served (PostgreSQL
    # runs); the examples stay derandomized.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module"),
]


@pytest.fixture
def loopback_only(monkeypatch):
    """Any socket connection beyond loopback (a registry, a DNS server) fails the test."""
    connect = socket.socket.connect

    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in {"127.0.0.1", "::1", "localhost"}:
                raise AssertionError(f"the API test tried to reach {host}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def unthrottled(monkeypatch):
    """Thousands of requests a minute are the point here (429 is documented all the same)."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})


@pytest.fixture
def connection_kept():
    """The WSGI app runs in this thread on the test's connection: as Django's test client does,
    keep the end of each request from closing it (and with it the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def real_objects(world, media_root) -> tuple[dict[str, dict], dict[str, int]]:
    """The tenant's own objects: path parameters by path template, and ids for body fields, so
    that generated requests reach the code behind the 404 (and the 400 for an unknown id)."""
    from django.core.files.base import ContentFile

    from dns.models import DnssecKey, EmailForward, ZoneTemplate
    from domains.models import DnssecDs, HostRecord
    from support.models import Attachment, Department
    from tests.domains.factories import RegistrarOperationFactory

    a = world.a
    domain, zone = a.domain, a.zone
    operation = RegistrarOperationFactory(domain=domain)
    template = ZoneTemplate.objects.create(
        organisation=a.organisation, name="Schemathesis", body="@ 3600 IN A 192.0.2.1"
    )
    host = HostRecord.objects.create(
        domain=domain, hostname=f"ns1.{domain.name}", ipv4=["192.0.2.53"]
    )
    ds = DnssecDs.objects.create(
        domain=domain, key_tag=1, algorithm=13, digest_type=2, digest="A" * 64
    )
    key = DnssecKey.objects.create(
        zone=zone, flags=257, algorithm=13, public_key="A" * 88, key_tag=2, digest="B" * 64
    )
    forward = EmailForward.objects.create(zone=zone, source="info", destination="a@example.net")
    attachment = Attachment(message=a.ticket.messages.first(), filename="a.txt", size=1)
    attachment.file.save("a.txt", ContentFile(b"a"), save=True)
    department = Department.objects.filter(pk=a.ticket.department_id).first()
    ticket = {"ticket_number": a.ticket.ticket_number}
    records = {"zone_pk": zone.pk}
    paths = {
        "/api/v1/customers/{id}/": {"id": a.customer.pk},
        "/api/v1/invoices/{id}/": {"id": a.invoice.pk},
        "/api/v1/operations/{id}/": {"id": operation.pk},
        "/api/v1/zone-templates/{id}/": {"id": template.pk},
        "/api/v1/domains/{id}/hosts/{host_id}/": {"id": domain.pk, "host_id": host.pk},
        "/api/v1/domains/{id}/dnssec/{ds_id}/": {"id": domain.pk, "ds_id": ds.pk},
        "/api/v1/domains/{id}/": {"id": domain.pk},
        "/api/v1/zones/{zone_pk}/records/{id}/": {**records, "id": a.record.pk},
        "/api/v1/zones/{zone_pk}/dnssec-keys/{id}/": {**records, "id": key.pk},
        "/api/v1/zones/{zone_pk}/email-forwards/{id}/": {**records, "id": forward.pk},
        "/api/v1/zones/{zone_pk}/": records,
        "/api/v1/zones/{id}/": {"id": zone.pk},
        "/api/v1/tickets/{ticket_number}/attachments/{attachment_id}/": {
            **ticket,
            "attachment_id": attachment.pk,
        },
        "/api/v1/tickets/{ticket_number}/": ticket,
    }
    body_ids = {
        "customer": a.customer.pk,
        "domain": domain.pk,
        "invoice": a.invoice.pk,
        "template": template.pk,
        **({"department": department.pk} if department else {}),
    }
    return paths, body_ids


def fixed_path(operation, paths: dict[str, dict]) -> dict | None:
    """The real path parameters of the longest template that ``operation.path`` starts with."""
    names = {p.name for p in operation.path_parameters}
    if not names:
        return None
    for template in sorted(paths, key=len, reverse=True):
        prefix = template.rstrip("/")
        if operation.path == template or operation.path.startswith(prefix + "/"):
            chosen = {k: v for k, v in paths[template].items() if k in names}
            if chosen:
                return chosen
    return None


def with_real_ids(case, use: bool, body_ids: dict):
    """Half of the positive examples name the tenant's own objects in the body."""
    if use and isinstance(case.body, dict):
        for field, value in body_ids.items():
            if field in case.body:
                case.body[field] = value
    return case


SENT = [0]  # requests sent by the current run


def call(case, headers) -> None:
    SENT[0] += 1
    started = time.monotonic()
    with transaction.atomic():
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        finally:
            transaction.set_rollback(True)
    took = time.monotonic() - started
    assert took < DEADLINE_SECONDS, f"{case.method} {case.formatted_path} took {took:.1f} s"


def run_coverage(schema, operation, headers, path_ids, limit: int, failures: list) -> None:
    """Schemathesis's coverage phase: for each parameter and body field its boundary values,
    wrong types and missing required ones (``?customer=`` past the largest id among them),
    deterministic. At most ``limit`` cases per operation, spread over all of them; every other
    one names the tenant's own objects in the path."""
    config = schema.config.generation_for(operation=operation, phase="coverage")
    cases = list(
        schema.iter_coverage_cases(
            operation, generation_modes=list(GenerationMode), generation_config=config
        )
    )
    if len(cases) > limit:
        cases = [cases[i * len(cases) // limit] for i in range(limit)]
    for number, case in enumerate(cases):
        if path_ids and number % 2:
            case.path_parameters = {**(case.path_parameters or {}), **path_ids}
        try:
            call(case, headers)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label} (coverage):\n{exc}")
            return


def run_operation(operation, headers, path_ids, body_ids, examples, negative, failures: list):
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if path_ids:
        strategies.append(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_ids)
        )
    positive = st.builds(
        lambda case, use: with_real_ids(case, use, body_ids), st.one_of(strategies), st.booleans()
    )
    modes = [(positive, examples)]
    if negative:
        negatives = [operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
        if path_ids:
            negatives.append(
                operation.as_strategy(
                    generation_mode=GenerationMode.NEGATIVE, path_parameters=path_ids
                )
            )
        modes.append((st.one_of(negatives), negative))

    for strategy, count in modes:

        @hypothesis.settings(
            max_examples=count,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def test(case):
            call(case, headers)

        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one run reports them all
            failures.append(f"{operation.label}:\n{exc}")
            return


def test_the_native_api_conforms_to_its_openapi_document(
    world, settings, tmp_path, loopback_only, connection_kept, unthrottled
):
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.MEDIA_ROOT = tmp_path
    assert set(RegistrarAccount.objects.values_list("kind", flat=True)) <= {
        RegistrarAccount.Kind.SANDBOX
    }, "every registrar account of the test data is the in-process sandbox"

    app = get_wsgi_application()
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", app)
    headers = {"access-token": world.a.live_key_raw}
    paths, body_ids = real_objects(world, tmp_path)

    started = time.monotonic()
    SENT[0] = 0
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        late = time.monotonic() - started > BUDGET_SECONDS
        path_ids = fixed_path(operation, paths)
        run_coverage(schema, operation, headers, path_ids, 2 if late else COVERAGE, failures)
        run_operation(
            operation,
            headers,
            path_ids,
            body_ids,
            examples=1 if late else EXAMPLES,
            negative=0 if late else NEGATIVE_EXAMPLES,
            failures=failures,
        )
        ran += 1
    assert ran > 50, "the document lists every operation of the native API"
    took = time.monotonic() - started
    logging.getLogger(__name__).info("%s requests, %s operations, %.0f s", SENT[0], ran, took)
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    assert SENT[0] > ran * EXAMPLES

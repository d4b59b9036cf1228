"""Schemathesis over RDAP's own OpenAPI document (/api/compat/rdap/schema/), as
test_schemathesis.py does for the native API: every operation gets its coverage cases (boundary
values, odd strings) and a few generated names, half of them a real served domain or
nameserver, against the Django WSGI app in this process. Each answer must be no 5xx, a
documented status, ``application/rdap+json`` and a body that conforms to the document."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domains.models import DnssecDs, DomainContact, HostRecord, Nameserver
from tests.domains.factories import DomainContactFactory, DomainFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Do not use the `random` module"),
]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
COVERAGE = 40
EXAMPLES = 15


@pytest.fixture
def connection_kept():
    """The WSGI app runs in this thread on the test's connection: keep the end of each request
    from closing it (as Django's test client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def served(settings):
    settings.NAMEPORT_RDAP_THROTTLE = ""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    domain = DomainFactory(name="served-site.com")
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.served-site.com")
    Nameserver.objects.create(domain=domain, position=2, hostname="ns.other.net")
    HostRecord.objects.create(domain=domain, hostname="ns1.served-site.com", ipv4=["192.0.2.1"])
    DnssecDs.objects.create(domain=domain, key_tag=1, algorithm=13, digest_type=2, digest="AB" * 32)
    for role in DomainContact.Role.values:
        DomainContactFactory(domain=domain, role=role, organization="Org")
    return {
        "/rdap/domain/{name}": "served-site.com",
        "/rdap/nameserver/{name}": "ns1.served-site.com",
    }


def test_rdap_conforms_to_its_openapi_document(served, connection_kept):
    schema = schemathesis.openapi.from_wsgi("/api/compat/rdap/schema/", get_wsgi_application())
    failures: list[str] = []
    ran = 0
    sent = [0]

    def call(case) -> None:
        sent[0] += 1
        case.call_and_validate(checks=CHECKS)

    for result in schema.get_all_operations():
        operation = result.ok()
        ran += 1
        real = served.get(operation.path)
        config = schema.config.generation_for(operation=operation, phase="coverage")
        cases = list(
            schema.iter_coverage_cases(
                operation, generation_modes=list(GenerationMode), generation_config=config
            )
        )[:COVERAGE]
        for number, case in enumerate(cases):
            if real and number % 2:
                case.path_parameters = {"name": real}
            try:
                call(case)
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} (coverage): {exc}")
                break
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
        if real:
            strategies.append(
                operation.as_strategy(
                    generation_mode=GenerationMode.POSITIVE, path_parameters={"name": real}
                )
            )

        @hypothesis.settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=st.one_of(strategies))
        def examples(case):
            call(case)

        try:
            examples()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert ran == 3
    assert sent[0] > ran * EXAMPLES
    assert not failures, "\n\n".join(failures)

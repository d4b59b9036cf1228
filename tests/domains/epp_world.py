"""Shared set-up for the poll and transfer tests over real TLS: the simulator's EPP front end
(fixtures of test_epp.py: its TLS material, every frame validated against epp-all.xsd), an EPP
registrar account routed for the ``.test`` TLD, and domains held on both sides (the portal's row
and the simulated registry's)."""

# ruff: noqa: F401, F811 (fixtures re-exported for the test modules that import this one)

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from domains import outbox
from domains.models import (
    Domain,
    DomainStatus,
    RegistrarOperation,
    SandboxDomain,
)
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, TldFactory
from tests.domains.test_epp import (
    CLID,
    account,
    adapter,
    epp_schema,
    frames,
    other_registrars_domain,
    pki,
    server,
    upstream,
)


@pytest.fixture
def tld(account):
    return TldFactory(name="test", registrar_account=account)


@pytest.fixture
def customer(db):
    return CustomerFactory(user=UserFactory())


def held(
    name: str,
    *,
    upstream,
    tld,
    customer=None,
    status: str = DomainStatus.ACTIVE,
    expires_in: timedelta = timedelta(days=200),
) -> Domain:
    """A domain we hold: the portal's row, and the simulated registry's sponsored by us."""
    now = timezone.now()
    SandboxDomain.objects.create(
        name=name,
        account=upstream.name,
        registered_at=now - timedelta(days=100),
        expires_at=now + expires_in,
        statuses=["ok"],
        auth_code="Our-auth-1",
    )
    options = {"customer": customer} if customer is not None else {}
    return DomainFactory(
        name=name,
        tld=tld,
        registrar_account=tld.registrar_account,
        status=status,
        expires_at=now + expires_in,
        **options,
    )


def run_all(domain: Domain) -> list[str]:
    """Run the domain's due operations in order, as a worker would; their outcomes."""
    outcomes = []
    for _ in range(10):
        due = (
            RegistrarOperation.objects.filter(
                domain=domain,
                status=RegistrarOperation.Status.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .order_by("pk")
            .first()
        )
        if due is None:
            break
        outcomes.append(outbox.run_operation(due.pk).status)
    return outcomes


def set_upstream(upstream, **settings) -> None:
    upstream.settings = {**upstream.settings, **settings}
    upstream.save(update_fields=["settings"])

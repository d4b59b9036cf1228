"""Issue 10, section 3 (fees): a registry price above the quote is never paid silently.

Reproduced: a reseller's software registers (or renews) a name through the native API at the
listed price; the EPP registry asks a premium price, or its price rose. ``EppAdapter.price``
answered the account's configured number (none here), so the premium-price guard saw no price and
the worker paid whatever the registry charged. Now the guard reads the registry's real fee
(RFC 8748 fee check) and holds the operation for staff, and the command itself carries the agreed
fee (``<fee:fee>``), so that a price that rises after the check is refused by the registry and
the operation is held too. Nothing is registered and nothing is charged at the registry.

The registry is the simulator's EPP front end over real TLS (tests/domains/test_epp.py); every
frame is validated against epp-all.xsd.
"""

# ruff: noqa: F811 (the fixtures imported from test_epp.py are requested by name)

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Price
from domains import outbox
from domains.models import Domain, RegistrarOperation, SandboxBalance, SandboxDomain
from domains.registrars import epp
from domains.registrars.base import CheckResult
from tests.billing.ledger_helpers import unmetered
from tests.domains.factories import TldFactory
from tests.domains.test_epp import (  # noqa: F401 (fixtures)
    account,
    epp_schema,
    frames,
    pki,
    server,
    upstream,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unmetered():
    """About the fee guard, not the reseller's account with the platform: operations run
    without charging it (tests/domains/test_charge_at_claim.py covers the charge)."""
    with unmetered():
        yield


Status = RegistrarOperation.Status


@pytest.fixture
def listed(world, account, upstream):
    """.guard costs 8.00 at the registry by the platform's price list; the EPP registry asks
    950.00 for gold.guard (premium)."""
    tld = TldFactory(name="guard", registrar_account=account)
    for action in ("register", "renew"):
        Price.objects.create(tld=tld, action=action, currency="USD", cost="8.00", sell="10.00")
    upstream.settings = {**upstream.settings, "premium": {"gold.guard": "950.00"}}
    upstream.save()
    return tld


def api_register(client, tenant, name: str):
    return client.post(
        "/api/v1/domains/",
        {"customer": tenant.customer.pk, "name": name, "years": 1},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=tenant.live_key_raw,
    )


def registry_balance(upstream) -> Decimal:
    row = SandboxBalance.objects.filter(account=upstream.name).first()
    return row.amount if row else Decimal(upstream.settings["balance"])


def work(name: str) -> RegistrarOperation:
    operation = RegistrarOperation.objects.get(domain__name=name, status=Status.PENDING)
    outbox.run_operation(operation.pk)
    operation.refresh_from_db()
    return operation


def test_a_premium_name_bought_at_the_listed_price_is_held_not_paid(
    client, world, listed, upstream, frames
):
    before = registry_balance(upstream)
    response = api_register(client, world.a, "gold.guard")
    assert response.status_code == 202, response.content

    operation = work("gold.guard")

    assert operation.status == Status.HELD
    assert "premium price" in operation.last_error and "950.00" in operation.last_error
    assert not SandboxDomain.objects.filter(name="gold.guard").exists()
    assert registry_balance(upstream) == before
    assert frames.commands("create", "domain") == []  # the create was never sent
    shown = client.get(
        f"/api/v1/operations/{operation.pk}/", HTTP_ACCESS_TOKEN=world.a.live_key_raw
    ).json()
    assert shown["status"] == "held" and "950" not in str(shown)


def test_a_price_that_rises_after_the_check_is_refused_by_the_registry(
    client, world, listed, upstream, frames, monkeypatch
):
    before = registry_balance(upstream)
    real_price = epp.EppAdapter.price
    asked = []

    def racing(self, name, action, years):
        asked.append(name)
        if len(asked) == 1:  # the guard's check still sees the listed price
            return CheckResult(name=name, available=True, price=Decimal("8.00"))
        return real_price(self, name, action, years)

    monkeypatch.setattr(epp.EppAdapter, "price", racing)
    assert api_register(client, world.a, "gold.guard").status_code == 202

    operation = work("gold.guard")

    assert operation.status == Status.HELD
    assert "its price is 950.00 USD" in operation.last_error
    [create] = frames.commands("create", "domain")  # sent, with the agreed fee ...
    fees = [e.text for e in create.getparent().iter("{urn:ietf:params:xml:ns:epp:fee-1.0}fee")]
    assert fees == ["8.00"]
    assert 2004 in frames.result_codes()  # ... which the registry refused
    assert not SandboxDomain.objects.filter(name="gold.guard").exists()
    assert registry_balance(upstream) == before


def test_a_renewal_whose_price_rose_is_held_not_paid(client, world, listed, upstream):
    domain = Domain.objects.get(pk=world.a.domain.pk)
    Domain.objects.filter(pk=domain.pk).update(
        tld=listed, name="kept.guard", name_puny="kept.guard"
    )
    SandboxDomain.objects.create(
        name="kept.guard",
        account=upstream.name,
        registered_at=domain.registered_at,
        expires_at=domain.expires_at,
        statuses=["ok"],
        auth_code="Own-auth-1",
    )
    upstream.settings = {**upstream.settings, "prices": {"guard": {"renew": "300.00"}}}
    upstream.save()
    before = registry_balance(upstream)
    response = client.post(
        f"/api/v1/domains/{domain.pk}/renew/",
        {"years": 1},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert response.status_code == 202, response.content

    operation = work("kept.guard")

    assert operation.status == Status.HELD and "300.00" in operation.last_error
    row = SandboxDomain.objects.get(name="kept.guard")
    assert row.expires_at == domain.expires_at  # not renewed
    assert registry_balance(upstream) == before

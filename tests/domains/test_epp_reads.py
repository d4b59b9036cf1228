"""What the EPP adapter now reads from the simulator's EPP front end over TLS, through the response
layer: the greeting, the registry's own reasons, rgp statuses, transfer data and error reasons.
(The fixtures, the TLS material and the schema check of every frame are those of test_epp.py.)"""

# ruff: noqa: F811 (the fixtures imported from test_epp.py are requested by name)

from __future__ import annotations

import pytest

from domains.models import SandboxDomain
from domains.registrars import epp_responses as r
from domains.registrars.base import AuthorizationError, NotFoundError
from tests.domains.test_epp import (  # noqa: F401 (fixtures)
    CLID,
    account,
    adapter,
    epp_schema,
    frames,
    other_registrars_domain,
    pki,
    register,
    server,
    upstream,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_greeting_says_what_the_server_offers(adapter):
    greeting = adapter.greeting()
    assert greeting.server_id == "Nameport sandbox EPP server"
    assert greeting.objects == [r.DOMAIN, r.HOST, r.CONTACT]
    assert greeting.extensions == [r.SECDNS, r.RGP, r.FEE]
    assert greeting.fee is True and greeting.fee_drafts == []


def test_checks_keep_the_registrys_own_reason(adapter):
    other_registrars_domain("taken-read.test")
    taken, reserved, free = adapter.check(["taken-read.test", "reserved-name.test", "free.test"])
    assert (taken.reason, taken.detail) == ("registered", "In use")
    assert (reserved.reason, reserved.detail) == ("reserved", "Reserved")
    assert (free.available, free.detail) == (True, "")
    assert [(f.command, f.fee_class) for f in free.fees] == [
        ("create", "standard"),
        ("renew", "standard"),
        ("transfer", "standard"),
        ("restore", "standard"),
    ]
    assert reserved.fee("create").amount is None and reserved.fee("create").fee_class == "reserved"


def test_info_reads_the_sponsor_dates_and_the_redemption_period(adapter):
    register(adapter, "read-me.test", "key-read-create")
    info = adapter.info("read-me.test")
    assert info.sponsor == CLID and info.rgp_statuses == []
    assert info.registered_at is not None and info.expires_at > info.registered_at
    deleted = adapter.delete(name="read-me.test", idempotency_key="key-read-delete")
    assert deleted.statuses == ["pendingDelete"]
    assert deleted.rgp_statuses == ["redemptionPeriod"]


def test_a_transfer_reports_its_transfer_data(adapter, upstream):
    row = other_registrars_domain("move-read.test", auth_code="Their-auth-1")
    info = adapter.transfer(
        name="move-read.test", auth_code="Their-auth-1", years=1, idempotency_key="key-tr"
    )
    transfer = info.transfer
    assert (transfer.name, transfer.status, transfer.approved) == (
        "move-read.test",
        "serverApproved",
        True,
    )
    assert transfer.requested_by == CLID and transfer.action_by not in ("", CLID)
    row.refresh_from_db()
    assert transfer.expires_at == row.expires_at == info.expires_at
    assert SandboxDomain.objects.get(name="move-read.test").account == upstream.name


def test_errors_carry_the_registrys_reasons(adapter):
    with pytest.raises(NotFoundError) as missing:
        adapter.info("nobody-read.test")
    assert missing.value.code == 2303 and missing.value.epp_result.code == 2303
    assert missing.value.message.startswith("EPP 2303: ")
    other_registrars_domain("theirs-read.test")
    with pytest.raises(AuthorizationError) as refused:
        adapter.set_lock(name="theirs-read.test", locked=True, idempotency_key="key-theirs")
    assert refused.value.code == refused.value.epp_result.code == 2201
    assert refused.value.message.startswith("EPP 2201: ")

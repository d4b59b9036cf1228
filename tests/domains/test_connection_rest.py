"""The registrar account page's "test the connection" against the simulator's seed-002 REST front
end over a real socket (the fixtures of test_reseller_rest.py)."""

# ruff: noqa: F401, F811 (fixtures imported from test_reseller_rest)

from __future__ import annotations

import json

import pytest

from domains import admin_services
from portal.tenancy import SYSTEM
from tests.domains.test_reseller_rest import TOKEN, account, rest_account, server, upstream

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("auth", ["session", "headers"])
def test_it_logs_in_and_reports_the_registrar_answer(server, auth):
    checked = rest_account(server.url, name=f"REST {auth}", auth=auth)
    report = admin_services.registrar_account_test(actor=SYSTEM, account=checked)
    assert report.ok and report.code == 100, report
    assert TOKEN not in json.dumps(report.__dict__)


def test_a_wrong_token_reports_the_refusal_without_the_token(server):
    wrong = rest_account(server.url, name="REST wrong", token="wrong-token-xyz")
    report = admin_services.registrar_account_test(actor=SYSTEM, account=wrong)
    assert not report.ok and report.code is not None and report.code != 100
    assert report.message
    assert "wrong-token-xyz" not in json.dumps(report.__dict__)


def test_no_base_url_is_reported(db):
    from tests.domains.factories import RegistrarAccountFactory

    broken = RegistrarAccountFactory(name="No URL", kind="reseller_rest", settings={})
    report = admin_services.registrar_account_test(actor=SYSTEM, account=broken)
    assert not report.ok and "base_url" in report.message

"""The registrar account page's "test the connection" against the simulator's EPP front end over
real TLS (the fixtures of test_epp.py): a login and a logout on a new session, the registry's
code and message reported, never the password."""

# ruff: noqa: F401, F811 (fixtures imported from test_epp)

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from domains import admin_services
from portal.models import AuditEntry
from portal.tenancy import SYSTEM
from tests.customers.factories import StaffFactory
from tests.domains.test_epp import (
    CLID,
    PASSWORD,
    account,
    epp_schema,
    frames,
    make_account,
    pki,
    server,
    upstream,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_logs_in_and_reports_the_registry_answer(account):
    report = admin_services.registrar_account_test(actor=SYSTEM, account=account)
    assert report.ok and report.code == 1000
    assert any("Greeting from" in line for line in report.details)
    assert PASSWORD not in json.dumps(report.__dict__)


def test_a_wrong_password_reports_the_refusal_without_the_password(server, pki):
    wrong = make_account(server, pki, name="Wrong password", password="Not-the-pw-9")
    report = admin_services.registrar_account_test(actor=SYSTEM, account=wrong)
    assert not report.ok and report.code == 2200
    assert "Not-the-pw-9" not in json.dumps(report.__dict__)
    entry = AuditEntry.objects.get(action="registrar_account.test", object_id=str(wrong.pk))
    assert entry.data == {"ok": False, "code": 2200}


def test_nothing_listening_is_reported_as_a_connection_failure(server, pki):
    closed = make_account(server, pki, name="Closed port")
    closed.settings = {**closed.settings, "port": 1, "timeout": 2}
    closed.save()
    report = admin_services.registrar_account_test(actor=SYSTEM, account=closed)
    assert not report.ok and report.code is None
    assert "Could not connect" in report.message


def test_the_button_shows_code_and_message_and_never_the_credentials(client, account):
    client.force_login(StaffFactory())
    response = client.post(
        reverse("domains:account_test", args=[account.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-connection="ok"' in html and ">1000<" in html
    assert PASSWORD not in html
    page = client.get(reverse("domains:account_edit", args=[account.pk])).content.decode()
    assert PASSWORD not in page and CLID not in page

"""Staff find their tools from the navigation, add a TLD and registrar accounts through the typed
forms, test a connection, and read an operation's attempts (issue 12)."""

from __future__ import annotations

import json

import pytest

from domains import outbox
from domains.models import RegistrarAccount, Tld
from domains.models import RegistrarOperation as Op
from tests.domains.factories import (
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
    TldFactory,
)
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def open_tool(page, key: str) -> None:
    page.click("[data-nav=staff]")
    page.click(f".dropdown-menu [data-nav={key}]")
    page.wait_for_load_state("networkidle")


def test_staff_add_a_tld_and_registrar_accounts_through_typed_forms(page, demo):
    sign_in(page, "staff@example.com")
    # A registrar account for the EPP registry, typed fields, the password write-only.
    open_tool(page, "registrars")
    page.click("text=New registrar account")
    page.click("[data-kinds] [data-kind=epp]")
    form = page.locator("form[data-form=registrar-account]")
    assert form.get_attribute("data-kind") == "epp"
    form.locator("input[name=name]").fill("Registry EPP")
    form.locator("input[name=host]").fill("epp.registry.example")
    form.locator("input[name=port]").fill("700")
    form.locator("input[name=client_id]").fill("np-clid")
    form.locator("input[name=password]").fill("E2e-Secret-pw")
    form.locator("[data-action=save-account]").click()
    page.wait_for_load_state("networkidle")
    assert "saved" in page.locator(".np-messages").inner_text()
    assert page.locator("input[name=password]").input_value() == ""
    assert "E2e-Secret-pw" not in page.content()
    account = RegistrarAccount.objects.get(name="Registry EPP")
    assert account.settings["host"] == "epp.registry.example"
    assert json.loads(account.credentials)["password"] == "E2e-Secret-pw"

    # A simulated-registry account, and its connection test.
    page.goto("/domains/registrars/new/")
    page.locator("input[name=name]").fill("Sim for e2e")
    page.locator("input[name=failure_rate]").fill("0")
    page.locator("[data-action=save-account]").click()
    page.wait_for_load_state("networkidle")
    page.click("[data-action=test-connection]")
    report = page.locator("[data-connection]")
    report.wait_for()
    assert report.get_attribute("data-connection") == "ok"
    assert "1000" in report.inner_text()

    # A TLD with its rules, reserved names and routing.
    open_tool(page, "tlds")
    page.click("[data-action=add-tld]")
    tld_form = page.locator("form[data-form=tld]")
    tld_form.locator("input[name=name]").fill("shop")
    tld_form.locator("select[name=registrar_account]").select_option(label="Sim for e2e")
    tld_form.locator("input[name=grace_days]").fill("40")
    tld_form.locator("input[name=redemption_days]").fill("30")
    tld_form.locator("input[name=max_years]").fill("5")
    tld_form.locator("textarea[name=reserved_names]").fill("premium\nnic")
    tld_form.locator("[data-action=save-tld]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-tld=shop]").is_visible()
    tld = Tld.objects.get(name="shop")
    assert tld.registrar_account.name == "Sim for e2e"
    assert (tld.grace_days, tld.max_years, tld.reserved_names) == (40, 5, ["premium", "nic"])
    # Its page opens from the list, with the reserved names.
    page.click("[data-edit-tld=shop]")
    page.wait_for_load_state("networkidle")
    assert "premium" in page.locator("textarea[name=reserved_names]").input_value()
    assert page.requests_elsewhere == []


def test_staff_read_an_operations_attempts_and_retry_it(page, demo):
    account = RegistrarAccountFactory(
        name="Flaky sim", settings={"failure_rate": 1, "failure_kind": "permanent"}
    )
    tld = TldFactory(name="flaky", registrar_account=account)
    domain = DomainFactory(name="attempts.flaky", tld=tld)
    operation = RegistrarOperationFactory(
        domain=domain, registrar_account=account, kind=Op.Kind.LOCK, payload={"value": True}
    )
    assert outbox.run_operation(operation.pk).status == Op.Status.FAILED

    sign_in(page, "staff@example.com")
    open_tool(page, "operations")
    page.click(f"[data-row='{operation.pk}'] [data-operation-link]")
    page.wait_for_load_state("networkidle")
    attempt = page.locator("[data-section=attempts] [data-attempt]").first
    assert attempt.get_attribute("data-outcome") == "failed"
    assert "lock attempts.flaky" in attempt.locator("[data-sent]").inner_text()
    assert "2306" in attempt.locator("[data-came-back]").inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-action=retry]")
    page.wait_for_load_state("networkidle")
    assert "queued again" in page.locator(".np-messages").inner_text()
    assert page.locator("[data-action=retry]").count() == 0 or operation.attempt_log.count() == 2
    # The old error stays in its attempt.
    assert "2306" in page.locator("[data-section=attempts]").inner_text()

"""Staff and reseller pages: the operations queue with retry and cancel; registrar accounts and
TLD routing for staff only."""

import json
import re

import pytest
from django.urls import reverse

from domains.models import RegistrarAccount, Tld
from domains.models import RegistrarOperation as Op
from portal.models import AuditEntry
from tests.domains.factories import RegistrarAccountFactory, RegistrarOperationFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
NOT_STAFF = ["member", "customer_user", "contact_user"]


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


# --- the operations queue -------------------------------------------------------------------------
def test_failed_operations_have_retry_and_cancel_buttons(client, world):
    failed = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
    done = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.SUCCEEDED)
    client.force_login(world.a.member)
    html = client.get(reverse("domains:operation_list")).content.decode()
    assert reverse("domains:operation_retry", args=[failed.pk]) in html
    assert reverse("domains:operation_cancel", args=[failed.pk]) in html
    assert reverse("domains:operation_retry", args=[done.pk]) not in html


def test_the_queue_refreshes_fast_while_something_runs(client, world):
    RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.SUCCEEDED)
    client.force_login(world.staff)
    html = client.get(reverse("domains:operation_list"), **HX).content.decode()
    assert 'hx-trigger="every 20s"' in html
    RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.RUNNING)
    html = client.get(reverse("domains:operation_list"), {"kind": "register"}, **HX)
    assert 'hx-trigger="every 3s"' in html.content.decode()
    assert 'hx-get="/domains/operations/?kind=register"' in html.content.decode()


def test_retry_puts_a_failed_operation_back_in_the_queue(client, world):
    failed = RegistrarOperationFactory(
        domain=world.a.domain, status=Op.Status.FAILED, attempts=8, last_error="boom"
    )
    client.force_login(world.a.member)
    response = client.post(reverse("domains:operation_retry", args=[failed.pk]), **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'data-status="pending"' in html
    assert "queued again" in response["HX-Trigger"]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Op.Status.PENDING, 0)
    assert AuditEntry.objects.filter(action="operation.retry").exists()


def test_cancel_without_htmx_redirects_back_with_a_message(client, world):
    pending = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.PENDING)
    client.force_login(world.staff)
    response = client.post(
        reverse("domains:operation_cancel", args=[pending.pk]),
        {"next": "/domains/operations/?status=pending"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/domains/operations/?status=pending"
    assert "cancelled" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Op.Status.CANCELLED


def test_an_operation_that_cannot_be_cancelled_says_why(client, world):
    done = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.SUCCEEDED)
    client.force_login(world.a.member)
    response = client.post(reverse("domains:operation_cancel", args=[done.pk]), **HX)
    assert response.status_code == 422
    assert "only pending, held or failed ones can be cancelled" in response.content.decode()
    done.refresh_from_db()
    assert done.status == Op.Status.SUCCEEDED


def test_retry_from_the_domain_history_answers_204_and_refreshes_it(client, world):
    failed = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
    client.force_login(world.a.member)
    response = client.post(
        reverse("domains:operation_retry", args=[failed.pk]), {"from": "history"}, **HX
    )
    assert response.status_code == 204
    assert "np-operations-changed" in response["HX-Trigger"]


@pytest.mark.parametrize("who", ["customer_user", "contact_user"])
def test_customers_may_not_retry_or_cancel(client, world, who):
    failed = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
    client.force_login(getattr(world.a, who))
    for name in ("operation_retry", "operation_cancel"):
        assert client.post(reverse(f"domains:{name}", args=[failed.pk])).status_code == 403
    failed.refresh_from_db()
    assert failed.status == Op.Status.FAILED


def test_another_reseller_gets_404_and_get_is_refused(client, world):
    failed = RegistrarOperationFactory(domain=world.a.domain, status=Op.Status.FAILED)
    client.force_login(world.b.member)
    assert client.post(reverse("domains:operation_retry", args=[failed.pk])).status_code == 404
    client.force_login(world.a.member)
    for name in ("operation_retry", "operation_cancel"):
        assert client.get(reverse(f"domains:{name}", args=[failed.pk])).status_code == 405


# --- registrar accounts ---------------------------------------------------------------------------
ACCOUNT = {  # the typed form of a reseller REST account (domains.forms_staff)
    "name": "Name.com",
    "kind": "reseller_rest",
    "base_url": "https://api.example.test",
    "timeout": "10",
    "auth": "session",
    "username": "user",
    "api_token": "s3cret-token",
    "rate_per_second": "20",
    "max_sessions": "4",
    "is_active": "on",
}


@pytest.mark.parametrize("who", NOT_STAFF)
def test_only_staff_see_the_registry_setup(client, world, who):
    account = RegistrarAccountFactory(name="Hidden")
    tld = Tld.objects.get(name="com")
    client.force_login(getattr(world.a, who))
    for url in [
        reverse("domains:account_list"),
        reverse("domains:account_create"),
        reverse("domains:account_edit", args=[account.pk]),
        reverse("domains:tld_list"),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("domains:tld_edit", args=[tld.pk])).status_code == 404


def test_staff_list_accounts(client, world):
    client.force_login(world.staff)
    response = client.get(reverse("domains:account_list"))
    assert response.status_code == 200
    assert "Sandbox registry" in response.content.decode()


def test_staff_create_an_account_whose_credentials_are_never_shown(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("domains:account_create"), ACCOUNT)
    assert response.status_code == 302
    account = RegistrarAccount.objects.get(name="Name.com")
    assert account.settings == {
        "base_url": "https://api.example.test",
        "timeout": 10.0,
        "auth": "session",
    }
    assert json.loads(str(account.credentials)) == {"username": "user", "api_token": "s3cret-token"}
    page = client.get(reverse("domains:account_edit", args=[account.pk])).content.decode()
    assert "s3cret" not in page and "stored" in page
    assert "s3cret" not in client.get(reverse("domains:account_list")).content.decode()
    entry = AuditEntry.objects.get(action="registrar_account.create")
    assert entry.data["credentials_changed"] is True
    assert "s3cret" not in str(entry.data)


def test_blank_credentials_keep_the_stored_ones(client, world):
    stored = json.dumps({"username": "user", "api_token": "old-secret"})
    account = RegistrarAccountFactory(name="Keep", kind="reseller_rest", credentials=stored)
    client.force_login(world.staff)
    data = {**ACCOUNT, "name": "Keep", "username": "", "api_token": "", "rate_per_second": "5"}
    client.post(reverse("domains:account_edit", args=[account.pk]), data)
    account.refresh_from_db()
    assert json.loads(str(account.credentials)) == json.loads(stored)
    assert account.rate_per_second == 5


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("base_url", "not a url", "Enter a valid URL"),
        ("timeout", "0", "greater than or equal to 1"),
        ("auth", "magic", "Select a valid choice"),
    ],
)
def test_typed_settings_are_checked(client, world, field, raw, message):
    client.force_login(world.staff)
    response = client.post(reverse("domains:account_create"), {**ACCOUNT, field: raw})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not RegistrarAccount.objects.filter(name="Name.com").exists()


def test_a_duplicate_account_name_is_refused(client, world):
    client.force_login(world.staff)
    data = {**ACCOUNT, "name": "Sandbox registry"}
    response = client.post(reverse("domains:account_create"), data)
    assert response.status_code == 422
    assert "already exists" in response.content.decode()


# --- TLD routing ----------------------------------------------------------------------------------
def tld_data(tld, **overrides):
    values = {
        "registrar_account": str(tld.registrar_account_id or ""),
        "grace_days": str(tld.grace_days),
        "redemption_days": str(tld.redemption_days),
        "min_years": str(tld.min_years),
        "max_years": str(tld.max_years),
        "idn_allowed": "on" if tld.idn_allowed else None,
        "is_active": "on" if tld.is_active else None,
        **overrides,
    }
    return {f"tld-{tld.pk}-{key}": value for key, value in values.items() if value is not None}


def test_staff_route_a_tld_to_another_account(client, world, django_assert_max_num_queries):
    other = RegistrarAccountFactory(name="EPP registry", kind="epp")
    tld = Tld.objects.get(name="com")
    client.force_login(world.staff)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("domains:tld_list"))
    assert page.status_code == 200 and 'data-tld="com"' in page.content.decode()
    response = client.post(
        reverse("domains:tld_edit", args=[tld.pk]),
        tld_data(tld, registrar_account=str(other.pk), grace_days="40", max_years="5"),
        **HX,
    )
    assert response.status_code == 200
    assert "data-saved" in response.content.decode()
    tld.refresh_from_db()
    assert (tld.registrar_account, tld.grace_days, tld.max_years) == (other, 40, 5)
    entry = AuditEntry.objects.get(action="tld.update")
    assert entry.data == {"registrar_account": other.pk, "grace_days": 40, "max_years": 5}


def test_min_years_above_max_years_is_refused(client, world):
    tld = Tld.objects.get(name="com")
    client.force_login(world.staff)
    response = client.post(
        reverse("domains:tld_edit", args=[tld.pk]),
        tld_data(tld, min_years="5", max_years="2"),
        **HX,
    )
    assert response.status_code == 422
    assert "Must be at least the minimum years." in response.content.decode()
    tld.refresh_from_db()
    assert (tld.min_years, tld.max_years) == (1, 10)


def test_a_normal_post_redirects_with_a_message(client, world):
    tld = Tld.objects.get(name="com")
    tld.idn_allowed = True
    tld.save()
    client.force_login(world.staff)
    response = client.post(
        reverse("domains:tld_edit", args=[tld.pk]), tld_data(tld, idn_allowed=None), follow=True
    )
    assert ".com saved." in response.content.decode()
    tld.refresh_from_db()
    assert tld.idn_allowed is False
    assert client.get(reverse("domains:tld_edit", args=[tld.pk])).status_code == 405

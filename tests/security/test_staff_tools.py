"""Attacks on the staff tools (issue 12, part 4): a reseller reaching them, another
organisation's audit entries, and credentials leaking through the account form, the operation
page or the connection test."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import RegistrarAccount, RegistrarOperationAttempt, Tld
from domains.models import RegistrarOperation as Op
from portal.models import AuditEntry
from tests.domains.factories import RegistrarAccountFactory, RegistrarOperationFactory, TldFactory

pytestmark = pytest.mark.django_db

SECRET = "Very-Secret-Pass-42"


def staff_urls(account, tld) -> list[tuple[str, str]]:
    return [
        ("get", reverse("domains:account_list")),
        ("get", reverse("domains:account_create")),
        ("post", reverse("domains:account_create")),
        ("get", reverse("domains:account_edit", args=[account.pk])),
        ("post", reverse("domains:account_edit", args=[account.pk])),
        ("post", reverse("domains:account_test", args=[account.pk])),
        ("get", reverse("domains:tld_list")),
        ("get", reverse("domains:tld_create")),
        ("post", reverse("domains:tld_create")),
        ("get", reverse("domains:tld_page", args=[tld.pk])),
        ("post", reverse("domains:tld_edit", args=[tld.pk])),
        ("get", reverse("domains:registry_message_list")),
    ]


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_a_reseller_or_customer_gets_404_on_every_staff_tool(client, world, who):
    account = RegistrarAccountFactory(
        name="Target", kind="epp", credentials=json.dumps({"client_id": "c", "password": SECRET})
    )
    tld = TldFactory(name="target", registrar_account=account)
    client.force_login(getattr(world.a, who))
    data = {"name": "Hijacked", "kind": "sandbox", "rate_per_second": 1, "max_sessions": 1}
    for method, url in staff_urls(account, tld):
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code == 404, (method, url)
        assert SECRET not in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Target" and not RegistrarAccount.objects.filter(name="Hijacked")
    assert not Tld.objects.filter(name="hijacked").exists()
    assert not AuditEntry.objects.filter(action__startswith="registrar_account").exists()


def test_a_reseller_never_reads_another_organisations_audit_entries(client, world):
    theirs = AuditEntry.objects.create(
        organisation=world.b.organisation,
        actor="reseller:member@bravo.test",
        action="customer.update",
        data={"last_name": world.b.customer.last_name},
    )
    client.force_login(world.a.member)
    for params in ({}, {"who": "bravo"}, {"action": "customer.update"}, {"object_id": ""}):
        html = client.get(reverse("audit_log"), params).content.decode()
        assert f'data-row="{theirs.pk}"' not in html
        assert world.b.customer.last_name not in html


def test_the_account_form_never_renders_a_credential_even_when_it_is_refused(client, world):
    client.force_login(world.staff)
    data = {
        "kind": "epp",
        "name": "Leak test",
        "rate_per_second": "1",
        "max_sessions": "1",
        "host": "bad host with spaces",
        "port": "700",
        "client_id": "clid",
        "password": SECRET,
    }
    response = client.post(reverse("domains:account_create"), data)
    assert response.status_code == 422
    assert SECRET not in response.content.decode()
    data["host"] = "epp.example"
    assert client.post(reverse("domains:account_create"), data).status_code == 302
    account = RegistrarAccount.objects.get(name="Leak test")
    for url in (
        reverse("domains:account_edit", args=[account.pk]),
        reverse("domains:account_list"),
        reverse("audit_log"),
    ):
        assert SECRET not in client.get(url).content.decode(), url
    assert SECRET not in json.dumps(list(AuditEntry.objects.values_list("data", flat=True)))


def test_the_connection_test_never_echoes_a_credential(client, world):
    account = RegistrarAccountFactory(
        name="Unreachable",
        kind="epp",
        settings={"host": "127.0.0.1", "port": 1, "timeout": 1},
        credentials=json.dumps({"client_id": "clid", "password": SECRET}),
    )
    client.force_login(world.staff)
    response = client.post(
        reverse("domains:account_test", args=[account.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    followed = client.post(reverse("domains:account_test", args=[account.pk]), follow=True)
    assert SECRET not in followed.content.decode()


def test_the_operation_page_shows_no_secret(client, world):
    from domains.attempts import sent

    operation = RegistrarOperationFactory(
        domain=world.a.domain,
        kind=Op.Kind.TRANSFER,
        status=Op.Status.FAILED,
        payload={"years": 1, "auth_code": SECRET, "extra": {"api_token": SECRET}},
    )
    now = timezone.now()
    RegistrarOperationAttempt.objects.create(
        operation=operation,
        number=1,
        started_at=now,
        finished_at=now,
        outcome="failed",
        request=sent(operation),
        response={"ok": False, "error": "AuthorizationError", "code": 2202, "message": "bad"},
    )
    for user in (world.staff, world.a.member):
        client.force_login(user)
        html = client.get(reverse("domains:operation_detail", args=[operation.pk])).content
        assert SECRET not in html.decode()

"""Transfers on the domain page and in the API: another registrar's request shown to the customer
(banner and tab) and answered there or through ``/api/v1/domains/{id}/transfer-request/``; our
own transfer in cancelled; the staff page of registry poll messages."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import (
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
    Tld,
    TransferRequest,
)
from portal.models import AuditEntry
from tests.domains.factories import DomainFactory, RegistrarOperationFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
Kind = RegistrarOperation.Kind


@pytest.fixture
def domain(world):
    """The tenant's domain, held through an EPP registry (which takes answers to transfers)."""
    epp = RegistrarAccount.objects.create(name="EPP registry", kind="epp")
    Domain.objects.filter(pk=world.a.domain.pk).update(registrar_account=epp)
    world.a.domain.refresh_from_db()
    return world.a.domain


@pytest.fixture
def request_row(domain):
    return TransferRequest.objects.create(
        domain=domain,
        gaining_registrar="RivalRegistrar",
        requested_at=timezone.now(),
        act_by=timezone.now() + timedelta(days=5),
        source="poll",
    )


def page(name, domain):
    return reverse(f"domains:{name}", args=[domain.pk])


def api(name, domain):
    return reverse(f"api:domain-{name}", args=[domain.pk])


def ops(domain, kind):
    return list(RegistrarOperation.objects.filter(domain=domain, kind=kind))


# --- the page ---------------------------------------------------------------------------------
def test_the_page_shows_a_banner_and_the_tab_offers_both_answers(
    client, world, domain, request_row
):
    client.force_login(world.a.customer_user)
    html = client.get(page("detail", domain)).content.decode()
    assert "data-transfer-banner" in html and "RivalRegistrar asked to transfer" in html
    assert "if nobody answers, it is approved" in html

    tab = client.get(page("detail", domain), {"tab": "transfer"}, **HX)
    text = tab.content.decode()
    assert tab.status_code == 200 and "<html" not in text
    assert 'data-panel="transfer"' in text
    assert 'data-action="approve-transfer"' in text and 'data-action="reject-transfer"' in text
    assert "HX-Request" in tab["Vary"]


def test_no_banner_without_a_request(client, world, domain):
    client.force_login(world.a.customer_user)
    html = client.get(page("detail", domain), {"tab": "transfer"}).content.decode()
    assert "data-transfer-banner" not in html and "data-empty-state" in html


def test_the_banner_names_the_tlds_default(client, world, domain, request_row):
    Tld.objects.filter(pk=domain.tld_id).update(transfer_default="reject")
    client.force_login(world.a.member)
    html = client.get(page("detail", domain)).content.decode()
    assert "if nobody answers, it is rejected" in html


def test_rejecting_on_the_page_queues_the_answer(client, world, domain, request_row):
    client.force_login(world.a.customer_user)
    response = client.post(page("transfer_request_reject", domain), **HX)
    assert response.status_code == 200
    assert "Rejection sent to the registry" in response.content.decode()
    assert json.loads(response["HX-Trigger"])["np-toast"]["message"].startswith("Rejection")
    [operation] = ops(domain, Kind.TRANSFER_REJECT)
    assert operation.payload == {"request": request_row.pk}
    request_row.refresh_from_db()
    assert request_row.status == TransferRequest.Status.REJECTING
    assert request_row.decided_by == f"customer:{world.a.customer_user.email}"
    assert AuditEntry.objects.filter(action="domain.transfer_request.reject").count() == 1


def test_approving_without_htmx_redirects_to_the_tab(client, world, domain, request_row):
    client.force_login(world.a.member)
    response = client.post(page("transfer_request_approve", domain))
    assert response.status_code == 302 and response["Location"].endswith("?tab=transfer")
    assert len(ops(domain, Kind.TRANSFER_APPROVE)) == 1


def test_answering_without_a_request_is_refused_and_changes_nothing(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(page("transfer_request_approve", domain), **HX)
    assert response.status_code == 422
    assert "No transfer request" in response.content.decode()
    assert ops(domain, Kind.TRANSFER_APPROVE) == []


def test_a_registry_that_takes_no_answer_is_said_so(client, world, domain, request_row):
    sandbox = RegistrarAccount.objects.create(name="Simulated", kind="sandbox")
    Domain.objects.filter(pk=domain.pk).update(registrar_account=sandbox)
    client.force_login(world.a.member)
    response = client.post(page("transfer_request_reject", domain), **HX)
    assert response.status_code == 422
    assert "takes no answer to transfer requests" in response.content.decode()
    assert ops(domain, Kind.TRANSFER_REJECT) == []


def test_an_answer_that_failed_can_be_given_again(client, world, domain, request_row):
    client.force_login(world.a.member)
    client.post(page("transfer_request_reject", domain), **HX)
    RegistrarOperation.objects.filter(kind=Kind.TRANSFER_REJECT).update(status="failed")
    tab = client.get(page("detail", domain), {"tab": "transfer"}).content.decode()
    assert "did not reach the registry" in tab and 'data-action="approve-transfer"' in tab

    response = client.post(page("transfer_request_approve", domain), **HX)

    assert response.status_code == 200
    assert len(ops(domain, Kind.TRANSFER_APPROVE)) == 1
    request_row.refresh_from_db()
    assert request_row.status == TransferRequest.Status.APPROVING


def test_the_actions_refuse_get(client, world, domain, request_row):
    client.force_login(world.a.member)
    for name in ("transfer_request_approve", "transfer_request_reject", "transfer_cancel"):
        assert client.get(page(name, domain)).status_code == 405


def test_cancelling_our_transfer_in_from_the_page(client, world):
    domain = DomainFactory(
        customer=world.a.customer, name="incoming-page.com", status=DomainStatus.PENDING_TRANSFER
    )
    RegistrarOperationFactory(domain=domain, kind=Kind.TRANSFER, status="succeeded")
    client.force_login(world.a.customer_user)
    html = client.get(page("detail", domain), {"tab": "transfer"}).content.decode()
    assert "data-incoming-transfer" in html and 'data-action="cancel-transfer"' in html

    response = client.post(page("transfer_cancel", domain), **HX)

    assert response.status_code == 200
    assert len(ops(domain, Kind.TRANSFER_CANCEL)) == 1
    again = client.post(page("transfer_cancel", domain), **HX)
    assert again.status_code == 422 and "already being cancelled" in again.content.decode()


def test_the_transfer_tab_query_count_is_fixed(
    client, world, domain, request_row, django_assert_max_num_queries
):
    for status in ("rejected", "cancelled", "approved"):
        TransferRequest.objects.create(domain=domain, status=status)
    client.force_login(world.a.member)
    with django_assert_max_num_queries(11):
        assert client.get(page("detail", domain), {"tab": "transfer"}).status_code == 200


# --- the API ----------------------------------------------------------------------------------
def test_the_api_shows_the_request(client, world, domain, request_row):
    client.force_login(world.a.member)
    response = client.get(api("transfer-request", domain))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["gaining_registrar"]) == (
        request_row.pk,
        "pending",
        "RivalRegistrar",
    )
    assert body["default_answer"] == "approve"


def test_the_api_says_when_there_is_no_request(client, world, domain):
    client.force_login(world.a.member)
    response = client.get(api("transfer-request", domain))
    assert response.status_code == 404
    assert response.json()["message"] == "No other registrar has asked for this domain."


def test_approving_through_the_api_answers_202_with_the_operation(
    client, world, domain, request_row
):
    response = client.post(
        api("transfer-request-approve", domain), HTTP_ACCESS_TOKEN=world.a.live_key_raw
    )
    assert response.status_code == 202
    assert response.json()["operation"]["kind"] == "transfer_approve"
    second = client.post(
        api("transfer-request-reject", domain), HTTP_ACCESS_TOKEN=world.a.live_key_raw
    )
    assert second.status_code == 400
    assert "answered already (approval sent)" in second.json()["message"]
    assert ops(domain, Kind.TRANSFER_REJECT) == []


def test_cancel_through_the_api_needs_a_pending_transfer(client, world, domain):
    response = client.post(api("transfer-cancel", domain), HTTP_ACCESS_TOKEN=world.a.live_key_raw)
    assert response.status_code == 400
    assert "cannot be withdrawn from a transfer" in response.json()["message"]
    assert ops(domain, Kind.TRANSFER_CANCEL) == []


# --- staff: the registry messages -------------------------------------------------------------
@pytest.fixture
def messages(world):
    first = RegistrarAccount.objects.create(name="Registry one", kind="epp")
    second = RegistrarAccount.objects.create(name="Registry two", kind="epp")
    rows = [
        RegistryMessage.objects.create(
            account=first, message_id="1", kind="renewal", name="alpha.test", status="applied"
        ),
        RegistryMessage.objects.create(
            account=first,
            message_id="2",
            kind="notice",
            name="",
            status="unapplied",
            note="Nameport does not understand this message",
        ),
        RegistryMessage.objects.create(
            account=second, message_id="1", kind="transfer", name="bravo.test", status="applied"
        ),
    ]
    return first, second, rows


def shown(response) -> list[str]:
    html = response.content.decode()
    return sorted(part.split('"')[0] for part in html.split('data-message="')[1:])


def test_staff_see_every_message_and_filter_them(client, world, messages):
    _, second, _ = messages
    client.force_login(world.staff)
    url = reverse("domains:registry_message_list")
    everything = client.get(url)
    assert everything.status_code == 200 and "<html" in everything.content.decode()
    assert shown(everything) == ["1", "1", "2"]
    assert shown(client.get(url, {"status": "unapplied"})) == ["2"]
    assert shown(client.get(url, {"account": second.pk})) == ["1"]
    fragment = client.get(url, {"name": "bravo"}, **HX)
    assert "<html" not in fragment.content.decode() and shown(fragment) == ["1"]
    assert "does not understand" in client.get(url, {"status": "unapplied"}).content.decode()


def test_a_bad_filter_is_an_error_not_a_crash(client, world, messages):
    client.force_login(world.staff)
    response = client.get(reverse("domains:registry_message_list"), {"account": "nope"})
    assert response.status_code < 500


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_nobody_else_sees_the_registry_messages(client, world, messages, who):
    client.force_login(getattr(world.a, who))
    assert client.get(reverse("domains:registry_message_list")).status_code == 404


def test_the_admin_shows_the_log_read_only(client, world, messages):
    client.force_login(world.staff)
    changelist = client.get(reverse("admin:domains_registrymessage_changelist"))
    assert changelist.status_code == 200
    assert client.get(reverse("admin:domains_registrymessage_add")).status_code == 403
    row = messages[2][1]
    change = reverse("admin:domains_registrymessage_change", args=[row.pk])
    assert client.post(change, {"status": "ignored"}).status_code == 403
    row.refresh_from_db()
    assert row.status == "unapplied"

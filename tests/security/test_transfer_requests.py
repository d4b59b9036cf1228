"""Issue 10, section 3: another registrar's request for a domain is the domain holder's to answer.

Attacks reproduced through the real pages and API: someone of another organisation (a reseller
member, its customer or contact, its live or sandbox API key), another customer of the same
reseller, or the owner's own sandbox key reads, approves or rejects the transfer request of a
domain that is not theirs, or cancels its transfer in; a contact of the right customer without
the ``eppcode`` privilege (approving releases the domain) approves or rejects it. Each is refused
(404 for what is out of scope, 403 with the reason for the missing privilege) and nothing
changes: the request stays pending, no operation is queued, no audit row is written.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from domains.models import (
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    TransferRequest,
)
from portal.models import AuditEntry
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarOperationFactory

pytestmark = pytest.mark.django_db
ANSWERS = ("transfer-request-approve", "transfer-request-reject")
PAGE_ANSWERS = ("transfer_request_approve", "transfer_request_reject")


@pytest.fixture
def victim(world):
    epp = RegistrarAccount.objects.create(name="EPP registry", kind="epp")
    Domain.objects.filter(pk=world.a.domain.pk).update(registrar_account=epp)
    domain = world.a.domain
    request = TransferRequest.objects.create(
        domain=domain,
        gaining_registrar="SecretRivalRegistrar",
        requested_at=timezone.now(),
        act_by=timezone.now() + timedelta(days=5),
    )
    incoming = DomainFactory(
        customer=world.a.customer, name="arriving-victim.com", status=DomainStatus.PENDING_TRANSFER
    )
    RegistrarOperationFactory(domain=incoming, kind="transfer", status="succeeded")
    return domain, request, incoming


def api(name, domain):
    return reverse(f"api:domain-{name}", args=[domain.pk])


def page(name, domain):
    return reverse(f"domains:{name}", args=[domain.pk])


def assert_unchanged(domain, request, incoming):
    request.refresh_from_db()
    assert request.status == TransferRequest.Status.PENDING and not request.decided_by
    kinds = ["transfer_approve", "transfer_reject", "transfer_cancel"]
    assert not RegistrarOperation.objects.filter(kind__in=kinds).exists()
    assert not AuditEntry.objects.filter(action__startswith="domain.transfer").exists()
    incoming.refresh_from_db()
    assert incoming.status == DomainStatus.PENDING_TRANSFER


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_another_organisation_cannot_see_or_answer_it(client, world, victim, who):
    domain, request, incoming = victim
    client.force_login(getattr(world.b, who))

    shown = client.get(api("transfer-request", domain))
    assert shown.status_code == 404 and "SecretRival" not in shown.content.decode()
    detail = client.get(page("detail", domain), {"tab": "transfer"})
    assert detail.status_code == 404 and "SecretRival" not in detail.content.decode()
    for name in ANSWERS:
        assert client.post(api(name, domain)).status_code == 404
    for name in PAGE_ANSWERS:
        assert client.post(page(name, domain)).status_code == 404
    assert client.post(api("transfer-cancel", incoming)).status_code == 404
    assert client.post(page("transfer_cancel", incoming)).status_code == 404

    assert_unchanged(domain, request, incoming)


@pytest.mark.parametrize("key", ["live_key_raw", "sandbox_key_raw"])
def test_another_organisations_api_keys_cannot_answer_it(client, world, victim, key):
    domain, request, incoming = victim
    raw = getattr(world.b, key)
    assert client.get(api("transfer-request", domain), HTTP_ACCESS_TOKEN=raw).status_code == 404
    for name in ANSWERS:
        assert client.post(api(name, domain), HTTP_ACCESS_TOKEN=raw).status_code == 404
    assert client.post(api("transfer-cancel", incoming), HTTP_ACCESS_TOKEN=raw).status_code == 404
    assert_unchanged(domain, request, incoming)


def test_the_owners_sandbox_key_cannot_answer_for_a_live_domain(client, world, victim):
    domain, request, incoming = victim
    raw = world.a.sandbox_key_raw
    for name in ANSWERS:
        assert client.post(api(name, domain), HTTP_ACCESS_TOKEN=raw).status_code == 404
    assert_unchanged(domain, request, incoming)


def test_another_customer_of_the_same_reseller_cannot_answer_it(client, world, victim):
    domain, request, incoming = victim
    neighbour = UserFactory(email="neighbour@alpha.test")
    CustomerFactory(organisation=world.a.organisation, user=neighbour)
    client.force_login(neighbour)
    assert client.get(api("transfer-request", domain)).status_code == 404
    for name in ANSWERS:
        assert client.post(api(name, domain)).status_code == 404
    for name in PAGE_ANSWERS:
        assert client.post(page(name, domain)).status_code == 404
    assert client.post(page("transfer_cancel", incoming)).status_code == 404
    assert_unchanged(domain, request, incoming)


def test_a_contact_without_the_eppcode_privilege_cannot_approve_or_reject(client, world, victim):
    domain, request, incoming = victim
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="no-eppcode@alpha.test"),
        privileges={"domains": {str(domain.pk): ["basic", "renew", "nameservers"]}},
    )
    client.force_login(contact.user)

    tab = client.get(page("detail", domain), {"tab": "transfer"})
    assert tab.status_code == 200  # it may see the request...
    html = tab.content.decode()
    assert "SecretRivalRegistrar" in html and 'data-action="approve-transfer"' not in html
    for name in ANSWERS:  # ...but not answer it
        response = client.post(api(name, domain))
        assert response.status_code == 403
        assert "eppcode" in response.json()["message"]
    for name in PAGE_ANSWERS:
        assert client.post(page(name, domain)).status_code == 403

    assert_unchanged(domain, request, incoming)


def test_a_contact_with_the_eppcode_privilege_may_answer(client, world, victim):
    domain, request, _ = victim
    contact = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="eppcode@alpha.test"),
        privileges={"domains": {str(domain.pk): ["basic", "eppcode"]}},
    )
    client.force_login(contact.user)
    assert client.post(api("transfer-request-reject", domain)).status_code == 202
    request.refresh_from_db()
    assert request.status == TransferRequest.Status.REJECTING

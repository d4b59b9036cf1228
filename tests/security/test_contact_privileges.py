"""Issue 9, section 6: a contact is offered only what its privileges allow, and a refusal says
why, on the page and in the API, without an error and a traceback in the log.

Reproduced: a contact without the ``billing.orders`` privilege was offered Register and Transfer
(domain list, search page, search rows, suggestions), got a bare 403 page when it used them, and
the reason went to the log as a warning with a full traceback. The same for the other privileges
looked at: a contact with ``support.tickets`` only was offered "Re-open" on a closed ticket and
refused; a contact without a domain's ``basic`` privilege was offered "Sync with registry".
"""

import logging

import pytest
from django.urls import reverse

from billing.models import Price
from domains.models import Domain, RegistrarOperation, Tld
from domains.policies import ORDER_REFUSAL
from support.models import Ticket
from tests.customers.factories import ContactFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory
from tests.support.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox registry")
    tld, _ = Tld.objects.update_or_create(name="com", defaults={"registrar_account": account})
    Price.objects.create(tld=tld, action="register", currency="USD", cost="8.00", sell="10.00")
    return account


@pytest.fixture
def no_orders(world):
    """A contact who may manage every domain of the account and open tickets, but not order."""
    return ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="no-orders@alpha.test"),
        privileges={"domains": {"full": 1}, "support": ["newticket", "tickets"]},
    ).user


def _offers_ordering(html: str) -> bool:
    return any(
        marker in html
        for marker in (
            'data-action="register"',
            'data-action="transfer"',
            reverse("domains:register"),
            reverse("domains:transfer"),
        )
    )


def _refusal_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and r.status_code == 403]


def _assert_no_error_or_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]


def test_a_contact_without_orders_is_not_offered_register_or_transfer(
    client, world, registry, no_orders
):
    client.force_login(no_orders)
    pages = [
        client.get(reverse("dashboard")),
        client.get(reverse("domains:list")),
        client.get(reverse("domains:detail", args=[world.a.domain.pk])),
        client.get(reverse("domains:search"), {"q": "tunji"}),
        client.get(reverse("domains:check"), {"name": "tunji.com"}),
        client.get(reverse("domains:check"), {"name": "alpha-site.com"}),
        client.get(reverse("domains:suggestions"), {"q": "tunji"}),
    ]
    for response in pages:
        assert response.status_code == 200
        assert not _offers_ordering(response.content.decode()), response.wsgi_request.path
    # The same pages offer ordering to someone who may order (the check is not vacuous).
    client.force_login(world.a.contact_user)  # the factory's contact has billing.orders
    assert _offers_ordering(client.get(reverse("domains:list")).content.decode())
    row = client.get(reverse("domains:check"), {"name": "tunji.com"}).content.decode()
    assert 'data-action="register"' in row


@pytest.mark.parametrize("name", ["register", "transfer"])
def test_posting_anyway_gets_a_403_page_with_the_reason_and_no_traceback(
    client, world, registry, no_orders, caplog, name
):
    client.force_login(no_orders)
    caplog.set_level(logging.INFO)
    data = {"name": "nope-here.com", "years": "1", "auth_code": "Xy-123"}
    for response in (
        client.get(reverse(f"domains:{name}"), {"name": "nope-here.com"}),
        client.post(reverse(f"domains:{name}"), data),
    ):
        assert response.status_code == 403
        page = response.content.decode().replace("&#x27;", "'")
        assert ORDER_REFUSAL in page
        assert "data-reason" in page
    assert not Domain.objects.filter(name="nope-here.com").exists()
    assert not RegistrarOperation.objects.exists()
    refusals = _refusal_logs(caplog)
    assert refusals and all(r.levelno == logging.WARNING for r in refusals)
    assert ORDER_REFUSAL in refusals[-1].getMessage()
    _assert_no_error_or_traceback(caplog)


def test_the_api_says_why_too(client, world, registry, no_orders, caplog):
    client.force_login(no_orders)
    caplog.set_level(logging.INFO)
    response = client.post(
        "/api/v1/domains/",
        {"customer": world.a.customer.pk, "name": "nope-here.com"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["message"] == ORDER_REFUSAL
    assert not Domain.objects.filter(name="nope-here.com").exists()
    _assert_no_error_or_traceback(caplog)


def test_the_403_page_escapes_the_reason(rf, world):
    from django.core.exceptions import PermissionDenied

    from portal.views import permission_denied

    request = rf.get("/domains/register/")
    request.user = world.a.customer_user
    request.actor = None
    response = permission_denied(request, PermissionDenied("<script>alert(1)</script>"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_contact_with_tickets_only_is_not_offered_reopen(client, world):
    reader = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="reader@alpha.test"),
        privileges={"support": ["tickets"]},
    ).user
    ticket = TicketFactory(customer=world.a.customer, status=Ticket.Status.CLOSED)
    client.force_login(reader)
    url = reverse("support:ticket_detail", args=[ticket.ticket_number])
    page = client.get(url).content.decode()
    assert 'data-action="reopen"' not in page
    assert 'data-action="close"' not in page
    assert (
        'data-action="new-ticket"'
        not in client.get(reverse("support:ticket_list")).content.decode()
    )
    response = client.post(reverse("support:ticket_reopen", args=[ticket.ticket_number]))
    assert response.status_code == 403
    assert "You may not re-open support tickets." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED


def test_a_contact_without_basic_on_a_domain_is_not_offered_sync(client, world, caplog):
    domain = world.a.domain
    viewer = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="dns-only@alpha.test"),
        privileges={"domains": {str(domain.pk): ["dnsmanagement"]}},
    ).user
    client.force_login(viewer)
    caplog.set_level(logging.INFO)
    page = client.get(reverse("domains:detail", args=[domain.pk]))
    assert page.status_code == 200
    assert 'data-action="sync"' not in page.content.decode()
    sync = client.get(reverse("domains:detail", args=[domain.pk]), {"tab": "sync"}).content
    assert b"Sync now" not in sync
    response = client.post(reverse("domains:sync", args=[domain.pk]))
    assert response.status_code == 403
    assert "privilege for" in response.content.decode().replace("&#x27;", "'")
    assert not RegistrarOperation.objects.filter(domain=domain).exists()
    _assert_no_error_or_traceback(caplog)

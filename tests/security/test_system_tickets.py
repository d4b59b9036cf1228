"""Issue 9, section 6: the staff ticket for a failed operation stays with staff.

Reproduced: a registry operation that failed for good opened a system ticket in the registry's
own words, for staff, and the customer found it in their ticket list (on the demo data its only
message was an internal note, so it showed up empty). Now the staff ticket is ``staff_only``
(absent from the customer's, the contact's and the reseller's lists, pages and API), the
customer gets a ticket written for them, and a retry that succeeds closes both with a note.
"""

import pytest
from django.core import mail
from django.urls import reverse

from domains import outbox
from domains.models import RegistrarOperation
from portal.models import AuditEntry
from support.models import Ticket
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status
REGISTRY_WORDS = "Parameter value policy error"


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def eager():
    """Celery tasks (the ticket e-mails) run at once, in this process."""
    from portal.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def registry(world):
    from domains.models import Tld

    account = RegistrarAccountFactory(name="Sandbox registry")
    Tld.objects.update_or_create(name="com", defaults={"registrar_account": account})
    return account


def _refusing(account, refuse: bool) -> None:
    account.settings = {"failure_rate": 1, "failure_kind": "permanent"} if refuse else {}
    account.save()


@pytest.fixture
def failed(client, world, registry, eager, django_capture_on_commit_callbacks):
    """world.a's reseller registers a name for its customer in the portal (at cost, no invoice);
    the registry refuses it for good."""
    _refusing(registry, True)
    client.force_login(world.a.member)
    body = {"name": "shop-fails.com", "years": "1", "customer": world.a.customer.pk}
    response = client.post(reverse("domains:register"), body)
    assert response.status_code == 302
    operation = RegistrarOperation.objects.get(domain__name="shop-fails.com")
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox.run_operation(operation.pk).status == Status.FAILED
    operation.refresh_from_db()
    assert REGISTRY_WORDS in operation.last_error
    return operation


def _lists(client, user) -> tuple[str, list[str]]:
    client.force_login(user)
    page = client.get(reverse("support:ticket_list")).content.decode()
    api = client.get("/api/v1/tickets/")
    assert api.status_code == 200, api.content
    return page, [row["ticket_number"] for row in api.json()["results"]]


def test_the_staff_ticket_is_not_in_the_customers_list_or_api(client, world, failed):
    staff_ticket = failed.tickets.get(staff_only=True)
    assert REGISTRY_WORDS in staff_ticket.messages.get().body
    for user in (world.a.customer_user, world.a.contact_user, world.a.member):
        page, numbers = _lists(client, user)
        assert staff_ticket.ticket_number not in numbers, user
        assert staff_ticket.ticket_number not in page, user
        assert REGISTRY_WORDS not in page
        detail = reverse("support:ticket_detail", args=[staff_ticket.ticket_number])
        assert client.get(detail).status_code == 404
        api = client.get(f"/api/v1/tickets/{staff_ticket.ticket_number}/")
        assert api.status_code == 404
        reply = client.post(
            reverse("support:ticket_reply", args=[staff_ticket.ticket_number]), {"body": "hi"}
        )
        assert reply.status_code == 404
    assert staff_ticket.messages.count() == 1, "nothing was added to it"
    # Staff find it in their queue.
    page, numbers = _lists(client, world.staff)
    assert staff_ticket.ticket_number in numbers


def test_the_customer_gets_the_text_written_for_them(client, world, failed):
    told = failed.tickets.get(staff_only=False)
    assert told.customer == world.a.customer
    _, numbers = _lists(client, world.a.customer_user)
    assert told.ticket_number in numbers
    page = client.get(reverse("support:ticket_detail", args=[told.ticket_number])).content
    page = page.decode()
    assert "The registration of shop-fails.com did not go through yet" in page
    assert "The registry did not accept the registration of shop-fails.com" in page
    assert "there is nothing you need to do now" in page
    assert REGISTRY_WORDS not in page
    # Only the customer side was e-mailed about their ticket, never about the staff one.
    staff_number = failed.tickets.get(staff_only=True).ticket_number
    to_customer = [m for m in mail.outbox if world.a.customer.email in m.to]
    assert to_customer and all(staff_number not in m.subject for m in to_customer)
    assert all(REGISTRY_WORDS not in m.body for m in to_customer)


def test_a_successful_retry_closes_the_staff_ticket_with_a_note(client, world, registry, failed):
    staff_ticket = failed.tickets.get(staff_only=True)
    told = failed.tickets.get(staff_only=False)
    _refusing(registry, False)  # staff corrected what the registry refused
    client.force_login(world.staff)
    response = client.post(reverse("support:ticket_retry", args=[staff_ticket.ticket_number]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Status.PENDING
    assert outbox.run_operation(failed.pk).status == Status.SUCCEEDED

    staff_ticket.refresh_from_db()
    assert staff_ticket.status == Ticket.Status.CLOSED and staff_ticket.closed_at is not None
    note = staff_ticket.messages.latest("id")
    assert note.is_internal and "succeeded after the retry" in note.body
    told.refresh_from_db()
    assert told.status == Ticket.Status.CLOSED
    answer = told.messages.latest("id")
    assert not answer.is_internal and "the registration of shop-fails.com is done" in answer.body
    assert AuditEntry.objects.filter(action="ticket.close_system").count() == 2
    client.force_login(world.a.customer_user)
    page = client.get(reverse("support:ticket_detail", args=[told.ticket_number])).content
    assert b"is done" in page


def test_a_second_failure_adds_a_note_instead_of_more_tickets(world, failed):
    from domains.services import operation_retry
    from portal.tenancy import SYSTEM

    operation_retry(actor=SYSTEM, operation=failed)
    assert outbox.run_operation(failed.pk).status == Status.FAILED  # the registry still refuses
    assert failed.tickets.count() == 2
    note = failed.tickets.get(staff_only=True).messages.latest("id")
    assert note.is_internal and "It stopped again" in note.body and REGISTRY_WORDS in note.body

"""Tickets Nameport opens itself: a registry operation that failed for good (staff retry it from
the ticket), an order it cannot complete, an invoice the gateway disputes."""

import pytest
from django.urls import reverse

from billing.models import Order
from domains import outbox
from domains.models import RegistrarOperation
from domains.services import domain_register
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from support import services
from support.models import Ticket
from support.selectors import visible_tickets
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


@pytest.fixture
def failed_ticket():
    account = RegistrarAccountFactory(
        name="Sandbox", settings={"failure_rate": 1, "failure_kind": "permanent"}
    )
    TldFactory(name="example", registrar_account=account)  # its own TLD, routed to this account
    customer = CustomerFactory(user=UserFactory(email="owner@shop.test"))
    domain = domain_register(actor=SYSTEM, customer=customer, name="nameport-shop.example")
    operation = RegistrarOperation.objects.get(domain=domain)
    assert outbox.run_operation(operation.pk).status == Status.FAILED
    return Ticket.objects.get(operation=operation, staff_only=True)


@pytest.fixture
def customer_ticket(failed_ticket):
    return Ticket.objects.get(operation=failed_ticket.operation, staff_only=False)


def test_a_failed_operation_opens_a_staff_ticket_and_tells_the_customer(
    failed_ticket, customer_ticket
):
    ticket = failed_ticket
    assert ticket.is_system and ticket.priority == Ticket.Priority.HIGH
    assert ticket.operation.status == Status.FAILED
    assert "nameport-shop.example" in ticket.subject
    customer = actor_for_user(ticket.customer.user)
    assert list(visible_tickets(customer)) == [customer_ticket]
    assert customer_ticket.customer == ticket.customer and customer_ticket.is_system
    assert AuditEntry.objects.filter(action="ticket.open_system").count() == 2


def test_staff_retry_the_operation_from_the_ticket_page(client, world, failed_ticket):
    ticket = failed_ticket
    url = reverse("support:ticket_detail", args=[ticket.ticket_number])
    client.force_login(world.staff)
    page = client.get(url).content.decode()
    assert "Retry the operation" in page
    response = client.post(reverse("support:ticket_retry", args=[ticket.ticket_number]))
    assert response.status_code == 302
    ticket.operation.refresh_from_db()
    assert ticket.operation.status == Status.PENDING
    note = ticket.messages.latest("id")
    assert note.is_internal and "back in the registry queue" in note.body
    page = client.get(url).content.decode()
    assert "Retry the operation" not in page
    assert "The operation is back in the registry queue." in page


def test_the_customer_sees_their_ticket_but_no_retry_button(client, failed_ticket, customer_ticket):
    client.force_login(failed_ticket.customer.user)
    url = reverse("support:ticket_detail", args=[customer_ticket.ticket_number])
    page = client.get(url).content.decode()
    assert "did not go through yet" in page
    assert "Retry the operation" not in page
    response = client.post(reverse("support:ticket_retry", args=[customer_ticket.ticket_number]))
    assert response.status_code == 403
    staff_url = reverse("support:ticket_detail", args=[failed_ticket.ticket_number])
    assert client.get(staff_url).status_code == 404
    response = client.post(reverse("support:ticket_retry", args=[failed_ticket.ticket_number]))
    assert response.status_code == 404
    failed_ticket.operation.refresh_from_db()
    assert failed_ticket.operation.status == Status.FAILED


def test_staff_retry_through_the_api(client, world, failed_ticket):
    client.force_login(world.staff)
    response = client.post(f"/api/v1/tickets/{failed_ticket.ticket_number}/retry/")
    assert response.status_code == 200, response.content
    failed_ticket.operation.refresh_from_db()
    assert failed_ticket.operation.status == Status.PENDING
    again = client.post(f"/api/v1/tickets/{failed_ticket.ticket_number}/retry/")
    assert again.status_code == 400
    assert "Only failed" in again.json()["message"]


def test_an_incomplete_order_and_a_disputed_invoice_open_tickets(world):
    order = Order.objects.create(
        organisation=world.a.organisation, customer=world.a.customer, status="incomplete"
    )
    ticket = services.ticket_open_for_order(order=order, reason="Registry needs documents")
    assert ticket.order == order and ticket.department.name == "Billing"
    assert "Registry needs documents" in ticket.messages.get().body
    dispute = services.ticket_open_for_dispute(invoice=world.a.invoice, reason="Chargeback")
    assert dispute.invoice == world.a.invoice and dispute.customer == world.a.customer
    customer = actor_for_user(world.a.customer_user)
    assert {ticket, dispute} <= set(visible_tickets(customer))
    assert dispute not in visible_tickets(actor_for_user(world.b.customer_user))

"""Ticket list and ticket page."""

import re

import pytest
from django.urls import reverse

from support.models import Ticket
from tests.customers.factories import ContactFactory, UserFactory
from tests.support.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def detail(ticket) -> str:
    return reverse("support:ticket_detail", args=[ticket.ticket_number])


def test_member_lists_its_tickets(client, world):
    client.force_login(world.a.member)
    response = client.get(reverse("support:ticket_list"))
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert rows(response) == [world.a.ticket.pk]
    assert "HX-Request" in response["Vary"]


def test_htmx_request_gets_only_the_results(client, world):
    client.force_login(world.a.customer_user)
    response = client.get(
        reverse("support:ticket_list"), {"q": "nameservers"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-table="tickets"' in html
    assert rows(response) == [world.a.ticket.pk]


def test_filters_by_status_and_priority(client, world):
    closed = TicketFactory(
        customer=world.a.customer, status=Ticket.Status.CLOSED, priority=Ticket.Priority.URGENT
    )
    client.force_login(world.a.member)
    url = reverse("support:ticket_list")
    assert rows(client.get(url, {"status": "Closed"})) == [closed.pk]
    assert rows(client.get(url, {"priority": "urgent"})) == [closed.pk]
    open_ones = client.get(url, {"status": ["Open", "Answered", "Customer-Reply", "On Hold"]})
    assert rows(open_ones) == [world.a.ticket.pk]
    assert rows(client.get(url, {"q": closed.ticket_number})) == [closed.pk]
    assert "Nothing matches these filters." in client.get(url, {"q": "zzz"}).content.decode()


def test_anonymous_is_sent_to_sign_in(client, world):
    for url in [reverse("support:ticket_list"), detail(world.a.ticket)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_other_tenant_gets_404(client, world, who):
    client.force_login(getattr(world.b, who))
    assert client.get(detail(world.a.ticket)).status_code == 404
    assert world.a.ticket.pk not in rows(client.get(reverse("support:ticket_list")))


def test_unknown_ticket_number_is_404(client, world):
    client.force_login(world.staff)
    assert client.get(reverse("support:ticket_detail", args=["999999"])).status_code == 404


def test_internal_notes_are_hidden_from_customers(client, world):
    MessageFactory(ticket=world.a.ticket, body="We answered you.", is_staff=True)
    MessageFactory(ticket=world.a.ticket, body="Customer is difficult", is_internal=True)
    client.force_login(world.a.customer_user)
    html = client.get(detail(world.a.ticket)).content.decode()
    assert "Please help." in html
    assert "We answered you." in html
    assert "Customer is difficult" not in html

    client.force_login(world.a.member)
    assert "Customer is difficult" not in client.get(detail(world.a.ticket)).content.decode()

    client.force_login(world.staff)
    html = client.get(detail(world.a.ticket)).content.decode()
    assert "Customer is difficult" in html
    assert "Internal note" in html


def test_contact_without_ticket_privilege_sees_only_its_own(client, world):
    user = UserFactory(email="own-tickets@alpha.test")
    ContactFactory(customer=world.a.customer, user=user, privileges={"support": ["newticket"]})
    own = TicketFactory(customer=world.a.customer, created_by=user)
    client.force_login(user)
    assert rows(client.get(reverse("support:ticket_list"))) == [own.pk]
    assert client.get(detail(world.a.ticket)).status_code == 404
    assert client.get(detail(own)).status_code == 200


def test_query_counts(client, world, django_assert_max_num_queries):
    for _ in range(40):
        TicketFactory(customer=world.a.customer)
    for i in range(10):
        MessageFactory(ticket=world.a.ticket, body=f"Reply {i}")
    for user in [world.staff, world.a.member, world.a.customer_user]:
        client.force_login(user)
        with django_assert_max_num_queries(7):
            response = client.get(reverse("support:ticket_list"))
        assert len(rows(response)) == (42 if user.is_staff else 41)
        # staff also get the triage form (departments, assignable staff) and canned replies
        with django_assert_max_num_queries(11 if user.is_staff else 9):
            assert client.get(detail(world.a.ticket)).status_code == 200

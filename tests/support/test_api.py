"""/api/v1/tickets/: the caller's tickets by ticket number; internal notes for staff only."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from portal.tenancy import actor_for_user
from support.filtersets import TicketFilterSet
from support.models import Ticket
from support.selectors import visible_tickets
from tests.api_helpers import INTRUDERS, get_as
from tests.support.factories import MessageFactory, TicketFactory


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["ticket_number"] for row in response.json()["results"]]


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user", "live_key", "bearer"])
def test_each_actor_of_the_owner_lists_its_tickets(client, world, who):
    response = get_as(client, world.a, who, "/api/v1/tickets/")
    assert numbers(response) == [world.a.ticket.ticket_number]


@pytest.mark.parametrize("who", INTRUDERS)
def test_another_tenant_gets_404_for_the_ticket(client, world, who):
    url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/"
    response = get_as(client, world.b, who, url)
    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert world.a.ticket.subject not in response.content.decode()


def test_the_ticket_is_looked_up_by_its_number_not_its_id(client, world):
    ticket = world.a.ticket
    by_number = get_as(client, world.a, "member", f"/api/v1/tickets/{ticket.ticket_number}/")
    assert by_number.status_code == 200
    assert by_number.json()["subject"] == "Cannot update nameservers"
    by_id = get_as(client, world.a, "member", f"/api/v1/tickets/{ticket.pk}/")
    assert by_id.status_code == 404


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user", "live_key"])
def test_internal_notes_are_hidden_from_everyone_but_staff(client, world, who):
    ticket = world.a.ticket
    MessageFactory(ticket=ticket, body="Internal: customer is difficult", is_internal=True)
    MessageFactory(ticket=ticket, body="We are on it.", is_staff=True, author_name="Support")
    response = get_as(client, world.a, who, f"/api/v1/tickets/{ticket.ticket_number}/")
    messages = response.json()["messages"]
    assert [m["body"] for m in messages] == ["Please help.", "We are on it."]
    assert "customer is difficult" not in response.content.decode()
    assert messages[1]["is_staff"] is True


def test_staff_see_internal_notes(client, world):
    ticket = world.a.ticket
    MessageFactory(ticket=ticket, body="Internal: customer is difficult", is_internal=True)
    client.force_login(world.staff)
    response = client.get(f"/api/v1/tickets/{ticket.ticket_number}/")
    bodies = [m["body"] for m in response.json()["messages"]]
    assert bodies == ["Please help.", "Internal: customer is difficult"]
    assert response.json()["messages"][1]["is_internal"] is True


def test_the_list_leaves_the_messages_out(client, world):
    row = get_as(client, world.a, "member", "/api/v1/tickets/").json()["results"][0]
    assert "messages" not in row
    assert row["department"] == "Billing"
    assert row["status"] == "Open"
    assert row["customer"] == world.a.customer.pk


@pytest.mark.parametrize(
    "params",
    [
        {"status": "Closed"},
        {"status": ["Open", "Answered"]},
        {"priority": "urgent"},
        {"q": "renewal"},
        {"q": "654321"},
    ],
)
def test_a_filter_gives_the_same_ids_as_the_list_page_filterset(client, world, params):
    customer = world.a.customer
    TicketFactory(customer=customer, status=Ticket.Status.CLOSED, subject="Renewal question")
    TicketFactory(customer=customer, priority=Ticket.Priority.URGENT, ticket_number="654321")
    response = get_as(client, world.a, "member", "/api/v1/tickets/", params)
    query = QueryDict(urlencode(params, doseq=True))
    page = TicketFilterSet(query, queryset=visible_tickets(actor_for_user(world.a.member)))
    expected = list(page.qs.values_list("ticket_number", flat=True))
    assert expected
    assert numbers(response) == expected


def test_a_bad_priority_gets_400(client, world):
    response = get_as(client, world.a, "live_key", "/api/v1/tickets/", {"priority": "meh"})
    assert response.status_code == 400
    assert "priority" in response.json()["errors"]


def test_lists_run_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    for _ in range(12):
        TicketFactory(customer=world.a.customer)
    for _ in range(12):
        MessageFactory(ticket=world.a.ticket)
    headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
    client.get("/api/v1/tickets/", **headers)  # stamps the key's last use
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/tickets/", **headers).json()["count"] == 13
    with django_assert_max_num_queries(5):
        url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/"
        assert len(client.get(url, **headers).json()["messages"]) == 13


def test_a_sandbox_key_sees_only_sandbox_customers_tickets(client, world):
    sandbox_ticket = TicketFactory(customer=world.a.sandbox_customer)
    sandbox = get_as(client, world.a, "sandbox_key", "/api/v1/tickets/")
    assert numbers(sandbox) == [sandbox_ticket.ticket_number]
    live = get_as(client, world.a, "live_key", "/api/v1/tickets/")
    assert numbers(live) == [world.a.ticket.ticket_number]
    url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/"
    assert get_as(client, world.a, "sandbox_key", url).status_code == 404

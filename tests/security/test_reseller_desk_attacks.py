"""Attacks on the reseller's help desk: assigning a ticket to someone outside its team, moving it
out of the reseller's departments, escalating or answering tickets of another tenant, and a
customer or a reseller doing staff's part of an escalation. Each is refused and changes
nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal.tenancy import actor_for_user
from support import escalation, services
from support.models import Department, Message
from tests.customers.factories import MembershipFactory, UserFactory
from tests.support.factories import MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def url(name, ticket):
    return reverse(f"support:{name}", args=[ticket.ticket_number])


@pytest.fixture
def tickets(world):
    """A ticket of each tenant's customer in that tenant's own department."""
    out = {}
    for slug in ("a", "b"):
        tenant = getattr(world, slug)
        desk = services.department_ensure_default(organisation=tenant.organisation)
        ticket = TicketFactory(customer=tenant.customer, department=desk)
        MessageFactory(ticket=ticket, body=f"Help {slug}")
        out[slug] = ticket
    return out


def _unchanged(ticket, **expected):
    ticket.refresh_from_db()
    for field, value in expected.items():
        assert getattr(ticket, field) == value, field


def test_assigning_another_resellers_member_is_refused_everywhere(client, world, tickets):
    ticket = tickets["a"]
    client.force_login(world.a.member)
    page = client.post(
        url("ticket_update", ticket),
        {
            "status": ticket.status,
            "priority": ticket.priority,
            "department": ticket.department_id,
            "assignee": world.b.member.pk,
        },
        follow=True,
    )
    assert "Only members of Alpha who answer tickets" in page.content.decode()
    api = client.patch(
        f"/api/v1/tickets/{ticket.ticket_number}/",
        {"assignee": world.b.member.pk},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert "Only members of Alpha who answer tickets" in api.json()["errors"]["assignee"][0]
    # A made-up id reads the same: nobody learns which user ids exist.
    unknown = client.patch(
        f"/api/v1/tickets/{ticket.ticket_number}/",
        {"assignee": 999999},
        content_type="application/json",
    )
    assert unknown.json()["errors"] == api.json()["errors"]
    _unchanged(ticket, assignee=None)


def test_a_reseller_cannot_hand_a_ticket_to_a_platform_department(client, world, tickets):
    ticket = tickets["a"]
    platform = Department.objects.create(organisation=None, name="Platform desk")
    client.force_login(world.a.member)
    api = client.patch(
        f"/api/v1/tickets/{ticket.ticket_number}/",
        {"department": platform.pk},
        content_type="application/json",
    )
    assert api.status_code == 400
    other = Department.objects.get(organisation=world.b.organisation)
    api = client.patch(
        f"/api/v1/tickets/{ticket.ticket_number}/",
        {"department": other.pk},
        content_type="application/json",
    )
    assert api.status_code == 400
    _unchanged(ticket, department_id=ticket.department_id)


def test_another_resellers_ticket_is_404_for_triage_and_escalation(client, world, tickets):
    theirs = tickets["b"]
    client.force_login(world.a.member)
    assert client.post(url("ticket_update", theirs), {"priority": "low"}).status_code == 404
    assert client.post(url("ticket_escalate", theirs), {"reason": "x"}).status_code == 404
    assert client.post(url("ticket_escalation_answer", theirs), {"body": "x"}).status_code == 404
    api = client.patch(
        f"/api/v1/tickets/{theirs.ticket_number}/",
        {"assignee": world.a.member.pk},
        content_type="application/json",
    )
    assert api.status_code == 404
    _unchanged(theirs, priority="medium", assignee=None, escalated_at=None)
    assert theirs.messages.count() == 1


def test_a_staff_only_ticket_cannot_be_escalated_by_the_reseller(client, world, tickets):
    hidden = TicketFactory(
        customer=world.a.customer, department=tickets["a"].department, staff_only=True
    )
    client.force_login(world.a.member)
    assert client.post(url("ticket_escalate", hidden), {"reason": "x"}).status_code == 404
    with pytest.raises(PermissionDenied):
        escalation.ticket_escalate(actor=actor_for_user(world.a.member), ticket=hidden, reason="x")
    _unchanged(hidden, escalated_at=None)


def test_a_customer_neither_escalates_nor_answers_nor_writes_notes(client, world, tickets):
    ticket = tickets["a"]
    client.force_login(world.a.customer_user)
    assert client.post(url("ticket_escalate", ticket), {"reason": "Boss!"}).status_code == 403
    client.post(url("ticket_reply", ticket), {"body": "Sneaky note", "internal": "on"})
    assert not Message.objects.get(body="Sneaky note").is_internal
    escalation.ticket_escalate(
        actor=actor_for_user(world.a.member), ticket=ticket, reason="Please look"
    )
    answer = client.post(url("ticket_escalation_answer", ticket), {"body": "Done"})
    assert answer.status_code == 403
    _unchanged(ticket, escalation_answered_at=None)


def test_the_reseller_cannot_answer_its_own_escalation(client, world, tickets):
    ticket = tickets["a"]
    escalation.ticket_escalate(actor=actor_for_user(world.a.member), ticket=ticket, reason="x")
    client.force_login(world.a.member)
    response = client.post(url("ticket_escalation_answer", ticket), {"body": "Solved"})
    assert response.status_code == 403
    _unchanged(ticket, escalation_answered_at=None)
    assert not ticket.messages.filter(body="Solved").exists()


def test_a_read_only_member_changes_nothing_through_the_api(client, world, tickets):
    ticket = tickets["a"]
    reader = MembershipFactory(
        organisation=world.a.organisation, user=UserFactory(email="ro@alpha.test"), role="read_only"
    ).user
    client.force_login(reader)
    api = client.patch(
        f"/api/v1/tickets/{ticket.ticket_number}/",
        {"priority": "urgent", "assignee": reader.pk},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert client.post(url("ticket_escalate", ticket), {"reason": "x"}).status_code == 403
    _unchanged(ticket, priority="medium", assignee=None, escalated_at=None)


BIG = "99999999999999999999"  # past the largest bigint


def test_bad_input_on_the_new_pages_is_refused_without_a_500(client, world, tickets):
    from support.models import CannedReply

    client.force_login(world.a.member)
    for path in (f"/support/canned/{BIG}/", f"/support/canned/{BIG}/delete/"):
        assert client.post(path, {"title": "x", "body": "y", "position": 0}).status_code == 404
    for data in (
        {"title": "a\x00b", "body": "y", "position": 0},
        {"title": "ab", "body": "y", "position": BIG},
        {"title": "x" * 101, "body": "y", "position": 0},
        {"title": "ab", "body": "   ", "position": 0},
    ):
        assert client.post(reverse("support:canned_new"), data).status_code == 400
    assert not CannedReply.objects.exists()
    assert client.get(reverse("support:ticket_list"), {"escalation": "bogus"}).status_code == 200
    ticket = tickets["a"]
    response = client.post(url("ticket_escalate", ticket), {"reason": "help\x00"}, follow=True)
    assert response.status_code == 200
    assert client.get(url("ticket_escalate", ticket)).status_code == 405
    _unchanged(ticket, escalated_at=None)

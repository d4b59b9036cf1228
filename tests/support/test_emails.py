"""Notifications: the customer, the contacts who chose support e-mails and the department are
told about new tickets, replies and status changes, by Celery, after the commit."""

import re

import pytest
from django.core import mail

from portal.tenancy import actor_for_user
from support import services
from support.emails import REPLY_MARKER, read_reply_address, reply_address
from tests.support.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    return DepartmentFactory(name="Technical", email="tech@nameport.test")


@pytest.fixture
def watcher(world):
    """A contact who chose support e-mails (seed 003 privilege ``support.emails``)."""
    contact = world.a.contact
    contact.privileges["support"] = ["newticket", "tickets", "emails"]
    contact.save()
    return contact


def open_ticket(world, desk, django_capture_on_commit_callbacks, body="Site down"):
    with django_capture_on_commit_callbacks(execute=True):
        return services.ticket_open(
            actor=actor_for_user(world.a.customer_user),
            department=desk,
            subject="Help",
            body=body,
        )


def test_nothing_is_sent_inside_the_transaction(world, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_open(
            actor=actor_for_user(world.a.customer_user), department=desk, subject="s", body="b"
        )
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_new_ticket_tells_the_customer_side_and_the_department(
    world, desk, watcher, eager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(world, desk, django_capture_on_commit_callbacks)
    by_recipients = {tuple(m.to): m for m in mail.outbox}
    customer_mail = by_recipients[(world.a.customer.email, watcher.email)]
    team_mail = by_recipients[("tech@nameport.test",)]
    assert customer_mail.subject == f"[#{ticket.ticket_number}] Help"
    assert "We have received your ticket" in customer_mail.body
    assert "Site down" in customer_mail.body
    assert REPLY_MARKER in customer_mail.body
    html, kind = customer_mail.alternatives[0]
    assert kind == "text/html" and "Site down" in html
    assert customer_mail.extra_headers["Auto-Submitted"] == "auto-generated"
    assert customer_mail.extra_headers["X-Nameport-Ticket"] == ticket.ticket_number
    assert "tech@nameport.test" in customer_mail.from_email
    assert team_mail.subject == f"[#{ticket.ticket_number}] New ticket: Help"
    # replies go to the ticket's signed address, which the mail-in believes
    signed = reply_address(ticket)
    assert re.fullmatch(rf"support\+{ticket.ticket_number}-[0-9a-f]{{16}}@nameport\.test", signed)
    assert customer_mail.reply_to == [signed] and team_mail.reply_to == [signed]
    assert "reply address belongs to this ticket" in customer_mail.body
    assert "Answer in Nameport" in team_mail.body


def test_every_ticket_email_carries_the_signed_reply_address(
    world, desk, eager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(world, desk, django_capture_on_commit_callbacks)
    staff, customer = actor_for_user(world.staff), actor_for_user(world.a.customer_user)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(actor=staff, ticket=ticket, body="Answer")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(actor=customer, ticket=ticket, body="Thanks")
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_close(actor=staff, ticket=ticket)
    assert len(mail.outbox) == 5  # opened x2, answer, customer reply, status
    for sent in mail.outbox:
        assert sent.reply_to == [reply_address(ticket)]
        assert sent.message()["Reply-To"] == reply_address(ticket)


def test_the_reply_address_is_signed_per_ticket_and_by_the_secret_key(world, settings):
    ticket, other = world.a.ticket, world.b.ticket
    address = reply_address(ticket)
    assert read_reply_address(address).number == ticket.ticket_number
    assert read_reply_address(address).valid
    assert read_reply_address(address.upper()).valid  # mail servers may change the case
    assert reply_address(other) != address.replace(ticket.ticket_number, other.ticket_number)
    assert read_reply_address("billing@nameport.test") is None
    assert read_reply_address("support+x@elsewhere.example") is None
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-after-rotation"
    assert reply_address(ticket) != address
    assert read_reply_address(address).valid  # old mails keep working while the key rotates
    settings.SECRET_KEY_FALLBACKS = []
    assert not read_reply_address(address).valid


def test_a_staff_answer_is_mailed_to_the_customer_and_a_note_to_nobody(
    world, desk, eager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(world, desk, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    staff = actor_for_user(world.staff)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(actor=staff, ticket=ticket, body="Secret remark", internal=True)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(actor=staff, ticket=ticket, body="Fixed it for you.")
    [answer] = mail.outbox
    assert answer.to == [world.a.customer.email]
    assert "Fixed it for you." in answer.body
    assert "Secret remark" not in answer.body
    assert "Secret remark" not in answer.alternatives[0][0]


def test_a_customer_reply_goes_to_the_department_not_back_to_the_author(
    world, desk, eager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(world, desk, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(
            actor=actor_for_user(world.a.customer_user), ticket=ticket, body="Any news?"
        )
    [notice] = mail.outbox
    assert notice.to == ["tech@nameport.test"]
    assert "The customer answered" in notice.body


def test_a_status_change_is_mailed_to_the_customer(
    world, desk, eager, django_capture_on_commit_callbacks
):
    ticket = open_ticket(world, desk, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_close(actor=actor_for_user(world.staff), ticket=ticket)
    [notice] = mail.outbox
    assert notice.to == [world.a.customer.email]
    assert "is now Closed" in notice.subject
    assert "it was Open" in notice.body


def test_contacts_without_the_emails_privilege_are_not_told(
    world, desk, eager, django_capture_on_commit_callbacks
):
    open_ticket(world, desk, django_capture_on_commit_callbacks)
    recipients = {address for m in mail.outbox for address in m.to}
    assert world.a.contact.email not in recipients

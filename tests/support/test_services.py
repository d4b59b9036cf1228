"""The help desk's rules, through its services."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from portal.models import AuditEntry
from portal.tenancy import actor_for_api_key, actor_for_user
from support import services
from support.models import Attachment, Message, Ticket
from support.selectors import response_medians, visible_messages
from tests.customers.factories import ContactFactory, UserFactory
from tests.support.factories import DepartmentFactory, TicketFactory

pytestmark = pytest.mark.django_db
Status = Ticket.Status


def actor(user):
    return actor_for_user(user)


def department(**kwargs):
    return DepartmentFactory(name=kwargs.pop("name", "Technical"), **kwargs)


class TestOpen:
    def test_a_customer_opens_a_ticket_with_an_attachment(self, world, png):
        ticket = services.ticket_open(
            actor=actor(world.a.customer_user),
            department=department(),
            subject="  Site down ",
            body="Since this morning.",
            attachments=[ContentFile(png, name="screen shot.png")],
        )
        assert len(ticket.ticket_number) == 6 and ticket.ticket_number.isdigit()
        assert ticket.customer == world.a.customer
        assert ticket.organisation == world.a.organisation
        assert (ticket.subject, ticket.status) == ("Site down", Status.OPEN)
        message = ticket.messages.get()
        assert message.body == "Since this morning." and not message.is_staff
        attachment = message.attachments.get()
        assert attachment.filename == "screen_shot.png"
        assert attachment.content_type == "image/png" and attachment.size == len(png)
        assert attachment.file.read() == png
        assert AuditEntry.objects.filter(action="ticket.open", object_id=str(ticket.pk)).exists()

    @pytest.mark.parametrize(
        ("subject", "body", "field"), [("", "text", "subject"), ("Help", "   ", "body")]
    )
    def test_empty_subject_or_body_is_refused_and_nothing_stored(self, world, subject, body, field):
        before = Ticket.objects.count()
        with pytest.raises(ValidationError) as error:
            services.ticket_open(
                actor=actor(world.a.customer_user),
                department=department(),
                subject=subject,
                body=body,
            )
        assert field in error.value.message_dict
        assert Ticket.objects.count() == before

    def test_a_department_of_another_reseller_is_refused(self, world):
        theirs = department(organisation=world.b.organisation, name="Bravo desk")
        with pytest.raises(ValidationError, match="departments offered"):
            services.ticket_open(
                actor=actor(world.a.customer_user), department=theirs, subject="x", body="y"
            )

    def test_a_contact_without_the_newticket_privilege_may_not_open(self, world):
        user = UserFactory(email="viewer@alpha.test")
        ContactFactory(customer=world.a.customer, user=user, privileges={"support": ["tickets"]})
        with pytest.raises(PermissionDenied):
            services.ticket_open(actor=actor(user), department=department(), subject="x", body="y")

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("virus.exe", b"MZ...", "not accepted"),
            ("fake.png", b"<html>not an image</html>", "not a valid .png"),
            ("empty.txt", b"", "is empty"),
        ],
    )
    def test_forbidden_attachments_are_refused_and_nothing_stored(
        self, world, name, content, message
    ):
        before = (Ticket.objects.count(), Attachment.objects.count())
        with pytest.raises(ValidationError, match=message):
            services.ticket_open(
                actor=actor(world.a.customer_user),
                department=department(),
                subject="x",
                body="y",
                attachments=[ContentFile(content, name=name)],
            )
        assert (Ticket.objects.count(), Attachment.objects.count()) == before

    def test_an_oversized_attachment_is_refused(self, world, settings):
        settings.NAMEPORT_ATTACHMENT_MAX_BYTES = 10
        with pytest.raises(ValidationError, match="too large"):
            services.ticket_open(
                actor=actor(world.a.customer_user),
                department=department(),
                subject="x",
                body="y",
                attachments=[ContentFile(b"x" * 11, name="log.txt")],
            )


class TestReplies:
    def test_staff_answer_sets_answered_and_the_first_response(self, world):
        ticket = world.a.ticket
        message = services.ticket_reply(actor=actor(world.staff), ticket=ticket, body="Done.")
        ticket.refresh_from_db()
        assert message.is_staff and not message.is_internal
        assert ticket.status == Status.ANSWERED
        assert ticket.client_read is False
        assert ticket.first_response_at is not None
        assert ticket.first_response_time >= timedelta(0)

    def test_a_customer_reply_sets_customer_reply(self, world):
        ticket = world.a.ticket
        services.ticket_reply(actor=actor(world.staff), ticket=ticket, body="Done.")
        services.ticket_reply(actor=actor(world.a.contact_user), ticket=ticket, body="Thanks!")
        ticket.refresh_from_db()
        assert ticket.status == Status.CUSTOMER_REPLY and ticket.client_read is True

    def test_an_internal_note_is_hidden_from_the_customer_and_changes_nothing(self, world):
        ticket = world.a.ticket
        note = services.ticket_reply(
            actor=actor(world.staff), ticket=ticket, body="Difficult one", internal=True
        )
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN and ticket.first_response_at is None
        assert note not in visible_messages(actor(world.a.customer_user), ticket)
        assert note not in visible_messages(actor(world.a.member), ticket)
        assert note in visible_messages(actor(world.staff), ticket)

    def test_customers_may_not_write_internal_notes(self, world):
        with pytest.raises(PermissionDenied):
            services.ticket_reply(
                actor=actor(world.a.customer_user), ticket=world.a.ticket, body="x", internal=True
            )

    def test_an_empty_reply_is_refused(self, world):
        with pytest.raises(ValidationError, match="cannot be empty"):
            services.ticket_reply(
                actor=actor(world.a.customer_user), ticket=world.a.ticket, body=""
            )
        assert world.a.ticket.messages.count() == 1

    def test_a_reply_reopens_a_ticket_closed_within_the_window(self, world):
        ticket = world.a.ticket
        services.ticket_close(actor=actor(world.a.customer_user), ticket=ticket)
        message = services.ticket_reply(
            actor=actor(world.a.customer_user), ticket=ticket, body="One more thing"
        )
        ticket.refresh_from_db()
        assert message.ticket == ticket
        assert ticket.status == Status.CUSTOMER_REPLY and ticket.closed_at is None

    def test_a_reply_long_after_closing_opens_a_new_linked_ticket(self, world, settings):
        settings.NAMEPORT_SUPPORT_REOPEN_DAYS = 7
        ticket = world.a.ticket
        services.ticket_close(actor=actor(world.staff), ticket=ticket)
        Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - timedelta(days=8))
        message = services.ticket_reply(
            actor=actor(world.a.customer_user), ticket=ticket, body="It broke again"
        )
        ticket.refresh_from_db()
        assert ticket.status == Status.CLOSED
        new = message.ticket
        assert new.pk != ticket.pk and new.follow_up_of == ticket
        assert new.subject == ticket.subject and new.customer == world.a.customer
        assert list(new.messages.values_list("body", flat=True)) == ["It broke again"]

    def test_a_reseller_answers_tickets_of_its_own_department(self, world):
        own = department(organisation=world.a.organisation, name="Alpha desk")
        ticket = TicketFactory(customer=world.a.customer, department=own)
        message = services.ticket_reply(actor=actor(world.a.member), ticket=ticket, body="Hi")
        assert message.is_staff
        note = services.ticket_reply(
            actor=actor(world.a.member), ticket=ticket, body="Note", internal=True
        )
        assert note in visible_messages(actor(world.a.member), ticket)
        assert note not in visible_messages(actor(world.a.customer_user), ticket)


class TestStatus:
    def test_a_contact_needs_closeticket_to_close(self, world):
        with pytest.raises(PermissionDenied):
            services.ticket_close(actor=actor(world.a.contact_user), ticket=world.a.ticket)
        world.a.contact.privileges["support"].append("closeticket")
        world.a.contact.save()
        services.ticket_close(actor=actor(world.a.contact_user), ticket=world.a.ticket)
        world.a.ticket.refresh_from_db()
        assert world.a.ticket.status == Status.CLOSED and world.a.ticket.closed_at

    def test_closing_twice_is_refused(self, world):
        services.ticket_close(actor=actor(world.staff), ticket=world.a.ticket)
        with pytest.raises(ValidationError, match="already closed"):
            services.ticket_close(actor=actor(world.staff), ticket=world.a.ticket)

    def test_a_customer_reopens_within_the_window_but_not_after(self, world):
        ticket = world.a.ticket
        customer = actor(world.a.customer_user)
        services.ticket_close(actor=customer, ticket=ticket)
        assert services.ticket_reopen(actor=customer, ticket=ticket).status == Status.CUSTOMER_REPLY
        services.ticket_close(actor=customer, ticket=ticket)
        Ticket.objects.filter(pk=ticket.pk).update(closed_at=timezone.now() - timedelta(days=30))
        with pytest.raises(ValidationError, match="open a new ticket"):
            services.ticket_reopen(actor=customer, ticket=ticket)
        assert services.ticket_reopen(actor=actor(world.staff), ticket=ticket).status == "Open"

    def test_staff_triage_puts_on_hold_and_assigns(self, world):
        ticket = world.a.ticket
        services.ticket_update(
            actor=actor(world.staff),
            ticket=ticket,
            status=Status.ON_HOLD,
            priority="urgent",
            assignee=world.staff,
        )
        ticket.refresh_from_db()
        assert (ticket.status, ticket.priority, ticket.assignee) == (
            Status.ON_HOLD,
            "urgent",
            world.staff,
        )
        assert AuditEntry.objects.filter(action="ticket.update").exists()

    def test_a_reseller_may_not_triage_a_platform_ticket_nor_assign_outsiders(self, world):
        with pytest.raises(PermissionDenied):
            services.ticket_update(
                actor=actor(world.a.member), ticket=world.a.ticket, priority="low"
            )
        with pytest.raises(ValidationError, match="Only the platform's staff can be assigned"):
            services.ticket_update(
                actor=actor(world.staff), ticket=world.a.ticket, assignee=world.a.member
            )

    def test_an_api_key_of_the_reseller_answers_its_department(self, world):
        own = department(organisation=world.a.organisation, name="Alpha desk")
        ticket = TicketFactory(customer=world.a.customer, department=own)
        message = services.ticket_reply(
            actor=actor_for_api_key(world.a.live_key), ticket=ticket, body="From our software"
        )
        assert message.is_staff and message.author_name == "Alpha (API)"


class TestMedians:
    def test_medians_of_first_response_and_resolution(self, world):
        now = timezone.now()
        for hours_to_answer, hours_to_close in [(1, 10), (3, 20), (5, None)]:
            ticket = TicketFactory(customer=world.a.customer)
            Ticket.objects.filter(pk=ticket.pk).update(
                created_at=now - timedelta(hours=30),
                first_response_at=now - timedelta(hours=30 - hours_to_answer),
                closed_at=(now - timedelta(hours=30 - hours_to_close)) if hours_to_close else None,
                status=Status.CLOSED if hours_to_close else Status.ANSWERED,
            )
        medians = response_medians(actor(world.staff))
        assert medians["first_response_hours"] == 3.0
        assert medians["resolution_hours"] == 15.0
        assert (medians["answered"], medians["resolved"]) == (3, 2)
        assert response_medians(actor(world.b.member))["first_response_hours"] is None

    def test_stamps_before_the_opening_are_left_out(self, world):
        ticket = world.a.ticket
        Ticket.objects.filter(pk=ticket.pk).update(
            first_response_at=ticket.created_at - timedelta(days=3)
        )
        assert response_medians(actor(world.staff))["first_response_hours"] is None


def test_every_new_ticket_gets_a_distinct_six_digit_number(world):
    numbers = {
        services.ticket_open(
            actor=actor(world.a.customer_user), department=department(), subject="s", body="b"
        ).ticket_number
        for _ in range(20)
    }
    assert len(numbers) == 20
    assert all(len(n) == 6 and n.isdigit() and n[0] != "0" for n in numbers)


def test_messages_written_by_nameport_cannot_be_internal_for_customers(world):
    # The database itself refuses an internal note that is not from staff.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(ticket=world.a.ticket, author_name="x", body="y", is_internal=True)

"""``manage.py support_mail_in``: one RFC 822 message on standard input."""

import io
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.management import call_command

from support.emails import REPLY_MARKER
from support.models import Attachment, Message, Ticket
from tests.support.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


class Stdin(io.StringIO):
    """Standard input with a binary ``buffer``, as a pipe from a mail server gives it."""

    def __init__(self, data: bytes):
        super().__init__()
        self.buffer = io.BytesIO(data)


def build(
    *,
    sender="customer@alpha.test",
    to="tech@nameport.test",
    subject="Help",
    body="Hello",
    attachments=(),
    headers=None,
) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = f"Bob Brown <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((sender, subject, body)))}@mail.example>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content, maintype, subtype in attachments:
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def mail_in(raw: bytes) -> str:
    out = io.StringIO()
    call_command("support_mail_in", stdin=Stdin(raw), stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def desk():
    return DepartmentFactory(name="Technical", email="tech@nameport.test")


def counts():
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()


def test_a_reply_by_email_lands_on_the_ticket_with_its_attachment(world, desk, png, eager):
    ticket = world.a.ticket
    raw = build(
        subject=f"Re: [#{ticket.ticket_number}] Cannot update nameservers",
        body=f"Here is the screenshot.\n\n{REPLY_MARKER}\nOld quoted text",
        attachments=[("screen.png", png, "image", "png")],
    )
    assert mail_in(raw) == f"reply #{ticket.ticket_number}"
    message = ticket.messages.latest("id")
    assert message.body == "Here is the screenshot."
    assert message.via == "email" and not message.is_staff
    assert message.author == world.a.customer_user
    attachment = message.attachments.get()
    assert attachment.filename == "screen.png" and attachment.file.read() == png
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CUSTOMER_REPLY


def test_staff_answer_by_email(world, desk, eager):
    ticket = world.a.ticket
    raw = build(sender=world.staff.email, subject=f"[#{ticket.ticket_number}] x", body="On it")
    assert mail_in(raw).startswith("reply")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ANSWERED
    assert ticket.messages.latest("id").is_staff


def test_a_new_mail_opens_a_ticket_in_the_department_it_was_sent_to(
    world, desk, eager, django_capture_on_commit_callbacks
):
    raw = build(subject="Transfer question", body="How long does it take?")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = mail_in(raw)
    assert outcome.startswith("opened #")
    ticket = Ticket.objects.get(ticket_number=outcome.split("#")[1])
    assert ticket.department == desk
    assert ticket.customer == world.a.customer
    assert ticket.subject == "Transfer question"
    # the customer gets the usual acknowledgement, by Celery
    assert any(ticket.ticket_number in m.subject for m in mail.outbox)


def test_the_same_mail_delivered_twice_is_stored_once(world, desk, eager):
    raw = build(subject="Twice", body="Delivered twice")
    mail_in(raw)
    before = counts()
    assert mail_in(raw) == "ignored: already stored (same Message-ID)"
    assert counts() == before


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"Precedence": "list"},
        {"Precedence": "junk"},
        {"X-Autoreply": "yes"},
    ],
)
def test_auto_replies_are_ignored_without_an_answer(world, desk, eager, headers):
    ticket = world.a.ticket
    before = counts()
    raw = build(subject=f"Out of office [#{ticket.ticket_number}]", headers=headers)
    assert mail_in(raw).startswith("ignored")
    assert counts() == before
    assert mail.outbox == []


def test_our_own_notification_coming_back_is_ignored(world, desk, eager):
    before = counts()
    assert mail_in(build(sender="tech@nameport.test")).startswith("ignored")
    assert mail_in(build(sender="support@nameport.test")).startswith("ignored")
    assert counts() == before and mail.outbox == []


def test_an_unknown_sender_gets_a_polite_refusal_and_nothing_is_stored(world, desk, eager):
    before = counts()
    assert mail_in(build(sender="stranger@example.org", subject="Hi")) == (
        "refused: unknown sender"
    )
    assert counts() == before
    [answer] = mail.outbox
    assert answer.to == ["stranger@example.org"]
    assert "Thank you for writing" in answer.body
    assert "Nothing from your message was stored" in answer.body
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"


def test_a_forged_ticket_number_is_refused_and_logged(world, desk, eager, caplog):
    victim = world.a.ticket
    before = counts()
    raw = build(sender="customer@bravo.test", subject=f"Re: [#{victim.ticket_number}]")
    assert mail_in(raw) == "refused: sender not allowed on this ticket"
    assert counts() == before
    assert f"not allowed on ticket #{victim.ticket_number}" in caplog.text
    assert mail.outbox == []


def test_a_mail_without_sender_is_refused_and_logged(world, desk, caplog):
    before = counts()
    assert mail_in(build(sender=None)) == "refused: no sender address"
    assert counts() == before
    assert "no sender" in caplog.text


def test_an_empty_mail_is_refused(world, desk, eager):
    before = counts()
    assert mail_in(build(body="   \n")) == "refused: empty message"
    assert counts() == before


def test_a_forbidden_attachment_is_not_kept_but_named(world, desk, eager):
    ticket = world.a.ticket
    raw = build(
        subject=f"[#{ticket.ticket_number}]",
        body="See attached",
        attachments=[("tool.exe", b"MZ\x90\x00", "application", "octet-stream")],
    )
    assert mail_in(raw).startswith("reply")
    message = ticket.messages.latest("id")
    assert message.attachments.count() == 0
    assert "Not kept: tool.exe" in message.body


def test_nothing_on_stdin_is_an_error(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No message"):
        mail_in(b"")

"""``manage.py support_mail_in``: one RFC 822 message on standard input.

A customer's mail is taken when it goes to the ticket's signed reply address, or when our
receiving server's ``Authentication-Results`` (authserv-id ``mx.nameport.test`` here) vouches for
the From domain; the attacks on that rule are in ``tests/security/test_mail_in.py``.
"""

import io
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.management import call_command

from support.emails import REPLY_MARKER, reply_address
from support.models import Attachment, Message, Ticket
from tests.support.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

OUR_MX = "mx.nameport.test"
# What our receiving server writes when the From domain of the world's customer passed DMARC.
ALPHA_PASSED = {"Authentication-Results": f"{OUR_MX}; dmarc=pass header.from=alpha.test"}


@pytest.fixture(autouse=True)
def _trusted_mx(settings):
    settings.NAMEPORT_MAILIN_AUTHSERV_ID = [OUR_MX]


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
        to=reply_address(ticket),
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


def test_a_reply_by_email_with_our_servers_pass_and_the_number_in_the_subject(world, desk, eager):
    ticket = world.a.ticket
    raw = build(
        subject=f"Re: [#{ticket.ticket_number}] Cannot update nameservers",
        body="Still broken.",
        headers=ALPHA_PASSED,
    )
    assert mail_in(raw) == f"reply #{ticket.ticket_number}"
    assert ticket.messages.latest("id").body == "Still broken."
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CUSTOMER_REPLY


def test_staff_answer_in_the_portal_not_by_email(world, desk, eager):
    ticket = world.a.ticket
    before = counts()
    raw = build(sender=world.staff.email, subject=f"[#{ticket.ticket_number}] x", body="On it")
    assert mail_in(raw) == "refused: staff and reseller members answer in the portal"
    assert counts() == before
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert mail.outbox == []


def test_a_reply_to_a_ticket_closed_long_ago_opens_a_follow_up(world, desk, eager):
    from datetime import timedelta

    from django.utils import timezone

    ticket = world.a.ticket
    Ticket.objects.filter(pk=ticket.pk).update(
        status=Ticket.Status.CLOSED, closed_at=timezone.now() - timedelta(days=60)
    )
    raw = build(to=reply_address(ticket), subject="Re: old", body="It broke again.")
    outcome = mail_in(raw)
    assert outcome.startswith("reply #") and ticket.ticket_number not in outcome
    follow_up = Ticket.objects.get(ticket_number=outcome.split("#")[1])
    assert follow_up.follow_up_of == ticket and follow_up.customer == world.a.customer


def test_a_new_mail_opens_a_ticket_in_the_department_it_was_sent_to(
    world, desk, eager, django_capture_on_commit_callbacks
):
    raw = build(subject="Transfer question", body="How long does it take?", headers=ALPHA_PASSED)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = mail_in(raw)
    assert outcome.startswith("opened #")
    ticket = Ticket.objects.get(ticket_number=outcome.split("#")[1])
    assert ticket.department == desk
    assert ticket.customer == world.a.customer
    assert ticket.subject == "Transfer question"
    # the customer gets the usual acknowledgement, by Celery, with the ticket's reply address
    [ack] = [m for m in mail.outbox if world.a.customer.email in m.to]
    assert ticket.ticket_number in ack.subject
    assert ack.reply_to == [reply_address(ticket)]


def test_a_new_mail_without_our_servers_pass_opens_nothing(world, desk, eager):
    before = counts()
    raw = build(subject="Transfer question", body="How long does it take?")
    assert mail_in(raw) == "refused: sender not authenticated"
    assert counts() == before
    [answer] = mail.outbox
    assert answer.to == ["customer@alpha.test"]


def test_the_same_mail_delivered_twice_is_stored_once(world, desk, eager):
    raw = build(subject="Twice", body="Delivered twice", headers=ALPHA_PASSED)
    assert mail_in(raw).startswith("opened #")
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
    assert mail_in(build(sender=reply_address(world.a.ticket))).startswith("ignored")
    assert counts() == before and mail.outbox == []


def test_an_unknown_sender_is_refused_unanswered_and_nothing_is_stored(world, desk, eager, caplog):
    before = counts()
    assert mail_in(build(sender="stranger@example.org", subject="Hi")) == (
        "refused: unknown sender"
    )
    assert counts() == before
    assert mail.outbox == []  # the From may be anyone's: no backscatter
    assert "unknown sender stranger@example.org refused" in caplog.text


def test_a_known_customer_gets_a_polite_refusal(world, desk, eager, settings):
    settings.SITE_URL = "https://portal.example.com"
    before = counts()
    assert mail_in(build(subject="Hi")) == "refused: sender not authenticated"
    assert counts() == before
    [answer] = mail.outbox
    assert answer.to == ["customer@alpha.test"]
    assert answer.subject == "Re: Hi"
    assert "Thank you for writing" in answer.body
    assert "Nothing from your message was stored" in answer.body
    assert "https://portal.example.com/support/tickets/" in answer.body  # where to write
    assert "reply address" in answer.body
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"


def test_a_forged_ticket_number_is_refused_and_logged(world, desk, eager, caplog):
    victim = world.a.ticket
    before = counts()
    raw = build(
        sender="customer@bravo.test",
        subject=f"Re: [#{victim.ticket_number}]",
        headers={"Authentication-Results": f"{OUR_MX}; dmarc=pass header.from=bravo.test"},
    )
    assert mail_in(raw) == "refused: sender not allowed on this ticket"
    assert counts() == before
    assert f"not allowed on ticket #{victim.ticket_number}" in caplog.text
    [answer] = mail.outbox  # bravo's customer is told, without a word about the ticket
    assert answer.to == ["customer@bravo.test"]
    assert victim.subject not in answer.body


def test_a_mail_without_sender_is_refused_and_logged(world, desk, caplog):
    before = counts()
    assert mail_in(build(sender=None)) == "refused: no sender address"
    assert counts() == before
    assert "no sender" in caplog.text


def test_an_empty_mail_is_refused(world, desk, eager):
    before = counts()
    assert mail_in(build(to=reply_address(world.a.ticket), body="   \n")) == (
        "refused: empty message"
    )
    assert counts() == before
    [answer] = mail.outbox
    assert "Your e-mail had no text." in answer.body


def test_a_forbidden_attachment_is_not_kept_but_named(world, desk, eager):
    ticket = world.a.ticket
    raw = build(
        to=reply_address(ticket),
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

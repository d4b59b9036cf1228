"""Issue 9, part 3: a mail's sender is not who its From line says.

Every test goes through ``manage.py support_mail_in`` with a raw RFC 5322 message, as the mail
server's pipe delivers it. Before the fix a forged ``From: staff@...`` with ``[#number]`` in the
subject became a staff "Answered" reply on any tenant's ticket, and any From line was believed.
"""

import io
from email.message import EmailMessage

import pytest
from django.core import mail
from django.core.management import call_command

from support.emails import reply_address
from support.models import Message, Ticket

pytestmark = pytest.mark.django_db

OUR_MX = "mx.nameport.test"


class Stdin(io.StringIO):
    """Standard input with a binary ``buffer``, as a pipe from a mail server gives it."""

    def __init__(self, data: bytes):
        super().__init__()
        self.buffer = io.BytesIO(data)


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NAMEPORT_SUPPORT_FROM_EMAIL = "Nameport Support <support@nameport.test>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NAMEPORT_MAILIN_AUTHSERV_ID = [OUR_MX]


@pytest.fixture(autouse=True)
def _eager():
    """Celery tasks (the polite answer) run at once, in this process."""
    from portal.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def build(*, sender, subject, to="support@nameport.test", body="Done, closing.", headers=()):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash((sender, to, subject, body, headers)))}@mail.example>"
    for name, value in headers:
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def mail_in(raw: bytes) -> str:
    out = io.StringIO()
    call_command("support_mail_in", stdin=Stdin(raw), stdout=out)
    return out.getvalue().strip()


def passed(domain: str, authserv_id: str = OUR_MX) -> tuple[str, str]:
    return (
        "Authentication-Results",
        f"{authserv_id}; spf=pass smtp.mailfrom=x@{domain}; dmarc=pass header.from={domain}",
    )


def state(ticket: Ticket):
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.last_reply_at,
        list(ticket.messages.values_list("pk", flat=True)),
        Ticket.objects.count(),
        Message.objects.count(),
    )


@pytest.mark.parametrize("vouched", ["nothing", "signed address", "trusted auth result"])
def test_a_forged_staff_from_adds_nothing_and_keeps_the_status(world, vouched, caplog):
    victim = world.a.ticket
    before = state(victim)
    to, headers = "support@nameport.test", ()
    if vouched == "signed address":  # staff receive the team's copy, with the reply address
        to = reply_address(victim)
    elif vouched == "trusted auth result":
        headers = (passed("nameport.test"),)
    raw = build(
        sender=f"Platform Staff <{world.staff.email}>",
        subject=f"Re: [#{victim.ticket_number}] Cannot update nameservers",
        to=to,
        headers=headers,
    )
    assert mail_in(raw) == "refused: staff and reseller members answer in the portal"
    assert state(victim) == before
    assert victim.status == Ticket.Status.OPEN
    assert not Message.objects.filter(is_staff=True, via="email").exists()
    assert mail.outbox == []  # refused and logged, not answered
    assert f"mail in from {world.staff.email} refused" in caplog.text


def test_a_reseller_members_address_is_refused(world):
    ticket = world.a.ticket  # in a platform department: the reseller asks, it does not answer
    before = state(ticket)
    raw = build(
        sender=world.a.member.email,
        subject=f"[#{ticket.ticket_number}] x",
        to=reply_address(ticket),
        headers=(passed("alpha.test"),),
    )
    assert mail_in(raw) == "refused: staff and reseller members answer in the portal"
    assert state(ticket) == before
    assert mail.outbox == []


def test_a_forged_from_of_the_customer_without_proof_is_refused(world, caplog):
    ticket = world.a.ticket
    before = state(ticket)
    raw = build(
        sender=f"Bob Brown <{world.a.customer_user.email}>",
        subject=f"Re: [#{ticket.ticket_number}] Cannot update nameservers",
        body="Please move my domain to ns1.evil.example",
    )
    assert mail_in(raw) == "refused: sender not authenticated"
    assert state(ticket) == before
    assert "sender not authenticated" in caplog.text
    assert "ns1.evil.example" not in caplog.text  # never the body in the log
    # the real customer is told, politely, how to write to us
    [answer] = mail.outbox
    assert answer.to == [world.a.customer_user.email]
    assert "could not confirm that this e-mail comes from you" in answer.body
    assert "/tickets/" in answer.body


@pytest.mark.parametrize(
    "header",
    [
        # anyone can write this header: only our own server's authserv-id counts
        "evil.example; dmarc=pass header.from=alpha.test; dkim=pass header.d=alpha.test",
        f"{OUR_MX}.evil.example; dmarc=pass header.from=alpha.test",
        # our server, but about another domain, or not a pass
        f"{OUR_MX}; dmarc=pass header.from=evil.example; dkim=pass header.d=evil.example",
        f"{OUR_MX}; spf=softfail smtp.mailfrom=x@alpha.test; dkim=neutral header.d=alpha.test",
        f"{OUR_MX}; dmarc=fail header.from=alpha.test; spf=pass smtp.mailfrom=x@alpha.test",
        f"{OUR_MX}; none",
        # words inside a comment or a quoted value are not results
        f"{OUR_MX}; dmarc=fail (not dmarc=pass header.from=alpha.test) header.from=alpha.test",
        f'{OUR_MX}; spf=fail smtp.mailfrom="x; dmarc=pass header.from=alpha.test; y"@evil.example',
    ],
)
def test_an_authentication_result_we_cannot_believe_is_ignored(world, header):
    ticket = world.a.ticket
    before = state(ticket)
    raw = build(
        sender=world.a.customer_user.email,
        subject=f"[#{ticket.ticket_number}] x",
        headers=(("Authentication-Results", header),),
    )
    assert mail_in(raw) == "refused: sender not authenticated"
    assert state(ticket) == before


def _tampered(world):
    victim, own = world.a.ticket, world.b.ticket
    good = reply_address(victim)
    local, domain = good.split("@")
    own_signature = reply_address(own).split("@")[0].rsplit("-", 1)[1]
    flipped = local[:-1] + ("0" if local[-1] != "0" else "1")
    return {
        "flipped digit": f"{flipped}@{domain}",
        "another ticket's signature": f"{local.rsplit('-', 1)[0]}-{own_signature}@{domain}",
        "cut short": f"{local[:-4]}@{domain}",
        "no signature": f"support+{victim.ticket_number}@{domain}",
    }


@pytest.mark.parametrize(
    "how", ["flipped digit", "another ticket's signature", "cut short", "no signature"]
)
@pytest.mark.parametrize("header", ["To", "Cc", "Delivered-To"])
def test_a_tampered_reply_address_is_refused(world, how, header, caplog):
    victim = world.a.ticket
    address = _tampered(world)[how]
    before = state(victim)
    to, headers = "support@nameport.test", ((header, address),)
    if header == "To":
        to, headers = address, ()
    raw = build(sender=world.a.customer_user.email, subject="Re: my ticket", to=to, headers=headers)
    assert mail_in(raw) == "refused: bad reply address"
    assert state(victim) == before  # nothing added, and no new ticket either
    signature = address.split("@")[0].rsplit("-", 1)[-1]
    assert signature not in caplog.text  # the log never shows a signature


def test_two_reply_addresses_of_different_tickets_are_refused(world):
    mine = world.a.ticket
    other = Ticket.objects.create(
        customer=world.a.customer,
        organisation=world.a.organisation,
        department=mine.department,
        ticket_number="700004",
        subject="Second",
    )
    before = state(mine), state(other)
    raw = build(
        sender=world.a.customer_user.email,
        subject="Both",
        to=f"{reply_address(mine)}, {reply_address(other)}",
    )
    assert mail_in(raw) == "refused: several reply addresses"
    assert (state(mine), state(other)) == before


def test_a_from_line_with_two_addresses_is_refused(world):
    ticket = world.a.ticket
    before = state(ticket)
    raw = build(
        sender=f"{world.a.customer_user.email}, {world.staff.email}",
        subject=f"[#{ticket.ticket_number}]",
        to=reply_address(ticket),
    )
    assert mail_in(raw) == "refused: more than one sender address"
    assert state(ticket) == before
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("opened_by", "outcome"),
    [
        ("customer", "refused: sender not allowed on this ticket"),  # not even visible to them
        ("contact", "refused: You may not reply to support tickets."),  # theirs, no privilege
    ],
)
def test_a_contact_without_the_support_privilege_is_refused(world, opened_by, outcome):
    ticket, contact = world.a.ticket, world.a.contact
    contact.privileges["support"] = ["emails"]  # gets the e-mails, may not answer
    contact.save()
    ticket.created_by = world.a.contact_user if opened_by == "contact" else world.a.customer_user
    ticket.save()
    before = state(ticket)
    raw = build(sender=contact.email, subject="Re: x", to=reply_address(ticket))
    assert mail_in(raw) == outcome
    assert state(ticket) == before
    [answer] = mail.outbox  # a known person: told politely
    assert answer.to == [contact.email]


def test_a_customer_of_another_tenant_cannot_use_a_ticket_number(world):
    victim = world.a.ticket
    before = state(victim)
    raw = build(
        sender=world.b.customer_user.email,
        subject=f"[#{victim.ticket_number}] hello",
        headers=(passed("bravo.test"),),  # really from bravo's customer
    )
    assert mail_in(raw) == "refused: sender not allowed on this ticket"
    assert state(victim) == before
    [answer] = mail.outbox
    assert answer.to == [world.b.customer_user.email]
    assert victim.subject not in answer.body  # nothing about the other ticket


def test_the_signed_reply_address_from_the_customer_is_a_customer_reply(world):
    ticket, elsewhere = world.a.ticket, world.b.ticket
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.ANSWERED)
    elsewhere_before = state(elsewhere)
    raw = build(
        sender=f"Bob Brown <{world.a.customer_user.email}>",
        # the address names the ticket, not the subject
        subject=f"Re: [#{elsewhere.ticket_number}] Cannot update nameservers",
        to=reply_address(ticket),
        body="Thanks, it works now.",
    )
    assert mail_in(raw) == f"reply #{ticket.ticket_number}"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CUSTOMER_REPLY
    message = ticket.messages.latest("id")
    assert message.body == "Thanks, it works now."
    assert not message.is_staff and message.via == "email"
    assert message.author == world.a.customer_user
    assert state(elsewhere)[:3] == elsewhere_before[:3]


def test_the_signed_reply_address_from_a_privileged_contact_works(world):
    ticket, contact = world.a.ticket, world.a.contact  # support: newticket, tickets
    raw = build(sender=contact.email, subject="Re: x", to=reply_address(ticket), body="Me too")
    assert mail_in(raw) == f"reply #{ticket.ticket_number}"
    message = ticket.messages.latest("id")
    assert message.body == "Me too" and message.author_email == contact.email
    assert not message.is_staff


@pytest.mark.parametrize(
    "result",
    [
        "dmarc=pass (p=reject) header.from=alpha.test",
        "dkim=pass header.d=alpha.test header.s=mail",
        'spf=pass smtp.mailfrom="bob@alpha.test"',
    ],
)
def test_a_trusted_authentication_result_with_the_ticket_number_works(world, result):
    ticket = world.a.ticket
    raw = build(
        sender=world.a.customer_user.email,
        subject=f"Re: [#{ticket.ticket_number}] Cannot update nameservers",
        body="Any news?",
        headers=(
            ("Authentication-Results", "evil.example; dmarc=fail header.from=alpha.test"),
            ("X-Folded", "here"),
        ),
    )
    # our server's header, folded over two lines as servers write it
    raw = raw.replace(
        b"X-Folded: here", f"Authentication-Results: {OUR_MX} 1;\n\t{result}".encode()
    )
    assert mail_in(raw) == f"reply #{ticket.ticket_number}"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CUSTOMER_REPLY
    assert ticket.messages.latest("id").body == "Any news?"


def test_a_new_ticket_by_mail_needs_the_same_proof(world):
    before = Ticket.objects.count()
    raw = build(sender=world.a.customer_user.email, subject="Transfer question")
    assert mail_in(raw) == "refused: sender not authenticated"
    assert Ticket.objects.count() == before
    raw = build(
        sender=world.a.customer_user.email,
        subject="Transfer question",
        headers=(passed("alpha.test"),),
    )
    outcome = mail_in(raw)
    assert outcome.startswith("opened #")
    opened = Ticket.objects.get(ticket_number=outcome.split("#")[1])
    assert opened.customer == world.a.customer


def test_only_known_customers_get_the_polite_answer(world):
    ticket = world.a.ticket
    subject = f"[#{ticket.ticket_number}] x"
    # a stranger: refused, unanswered (no backscatter to a forged address)
    assert mail_in(build(sender="stranger@example.org", subject=subject)) == (
        "refused: unknown sender"
    )
    # staff and reseller members: refused, unanswered
    mail_in(build(sender=world.staff.email, subject=subject))
    mail_in(build(sender=world.a.member.email, subject=subject))
    assert mail.outbox == []
    # the customer (or someone using their address): one polite answer, to that address
    mail_in(build(sender=world.a.customer.email, subject=subject))
    [answer] = mail.outbox
    assert answer.to == [world.a.customer.email]
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "reply address" in answer.body


def test_forged_mails_cannot_flood_a_customer_with_answers(world):
    """Anyone can forge the customer's address: the polite answers are capped per day, every
    refusal still leaves an audit row staff can read."""
    from portal.models import AuditEntry
    from support.mailin import ANSWERS_PER_DAY, REFUSED_ACTION

    subject = f"[#{world.a.ticket.ticket_number}] x"
    for _ in range(ANSWERS_PER_DAY + 4):
        assert mail_in(build(sender=world.a.customer.email, subject=subject)).startswith("refused")

    assert len(mail.outbox) == ANSWERS_PER_DAY
    rows = AuditEntry.objects.filter(action=REFUSED_ACTION, object_id=world.a.customer.email)
    assert rows.count() == ANSWERS_PER_DAY + 4
    assert rows.filter(data__answered=False).count() == 4

"""E-mail in: one RFC 5322 message becomes a customer's reply or new ticket, or is refused.

``manage.py support_mail_in`` pipes standard input here (a mail server's ``|command`` delivery).
The ``From`` line proves nothing by itself, so a mail never acts as staff or as a reseller's
agent, and a customer's mail is taken only when something beyond the ``From`` line vouches for it:

* Auto-replies, bulk mail and our own notifications are ignored (``Auto-Submitted``,
  ``Precedence: bulk/list/junk``, ``X-Autoreply``/``X-Autorespond``, a null or MAILER-DAEMON
  sender, ``X-Nameport-Ticket``, a From that is one of our own addresses, a reply address
  included): nothing is stored and nobody is answered, so two robots never talk to each other.
* A From of a staff user or a reseller organisation member is refused and logged, unanswered:
  the team answers in the portal. A sender we do not know is refused and logged, unanswered
  (no backscatter). A From line with more than one address is refused.
* A reply to the ticket's signed reply address (:func:`support.emails.reply_address`, the
  ``Reply-To`` of every ticket e-mail), found in ``Delivered-To``, ``X-Original-To``,
  ``Envelope-To``, ``To`` or ``Cc``, goes to the ticket that address names, whatever the subject
  says. A tagged support address whose signature does not match, or two addresses naming
  different tickets, is refused.
* Without a signed address, the mail is taken only when our receiving server's
  ``Authentication-Results`` says the From domain passed (:mod:`support.mailauth`, trusted
  authserv-ids in ``NAMEPORT_MAILIN_AUTHSERV_ID``). Then ``[#123456]`` in the subject names the
  ticket; without a number (or with one no ticket has) a new ticket opens in the department the
  mail was sent to.
* Either way, a reply is written only by the ticket's customer or a contact of that customer
  whose support privileges let them answer it in the portal (the same ``visible_tickets`` and
  ``ticket_reply`` rules), as a customer reply (status Customer-Reply).
* Every refusal is logged with its reason (never the body, never the signature). A known
  customer (the From address is a customer's or a contact's) gets one polite answer (sent by
  Celery) telling them to write in the portal or to the reply address of the ticket's e-mails.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from customers.models import Contact, Customer, User
from portal.models import AuditEntry
from portal.tenancy import Actor, ActorKind, actor_for_user
from support import mailauth, services
from support.emails import REPLY_MARKER, read_reply_address, support_address
from support.models import Department, Message, Ticket, Via
from support.selectors import visible_departments, visible_tickets

logger = logging.getLogger("support.mailin")

NUMBER = re.compile(r"\[#(\d{6})\]")
BULK_PRECEDENCE = {"bulk", "list", "junk", "auto_reply"}
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply", "X-Nameport-Ticket")
QUOTE_HEADER = re.compile(r"^On .{4,200} wrote:\s*$", re.MULTILINE)


@dataclass
class Outcome:
    action: str  # "reply", "opened", "ignored", "refused"
    reason: str = ""
    ticket: Ticket | None = None
    message: Message | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        number = f" #{self.ticket.ticket_number}" if self.ticket else ""
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.action}{number}{reason}"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=default_policy)  # type: ignore[return-value]


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except (ValueError, TypeError, IndexError):  # a header too broken to parse
        return ""


def our_addresses() -> set[str]:
    addresses = {support_address()}
    addresses.update(
        e.lower() for e in Department.objects.exclude(email="").values_list("email", flat=True)
    )
    return addresses


def automatic_reason(message: EmailMessage, sender: str) -> str:
    """Why this mail is a robot's (empty when a person wrote it)."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in AUTO_HEADERS:
        if _header(message, name):
            return f"{name} header"
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return "mailing list"
    return_path = _header(message, "Return-Path")
    if return_path in {"<>", ""} and "Return-Path" in message:
        return "null return path (a bounce)"
    local = sender.split("@", 1)[0]
    if local in {"mailer-daemon", "postmaster"} or local.startswith(("noreply", "no-reply")):
        return f"sent by {local}"
    if sender in our_addresses() or read_reply_address(sender) is not None:
        return "sent from our own address (a loop)"
    return ""


def text_of(message: EmailMessage) -> str:
    """The new text of the mail: the plain part (or the HTML one without tags), cut above our
    reply marker and above a quoted "On ... wrote:" block."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    content = content.replace("\r\n", "\n")
    if REPLY_MARKER in content:
        content = content.split(REPLY_MARKER, 1)[0]
    quoted = QUOTE_HEADER.search(content)
    if quoted:
        content = content[: quoted.start()]
    lines = [line for line in content.split("\n") if not line.startswith(">")]
    return "\n".join(lines).strip()


def attachments_of(message: EmailMessage) -> list[ContentFile]:
    files = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if not payload:
            continue
        name = part.get_filename() or "attachment"
        files.append(ContentFile(payload, name=name))
    return files


def _keep_allowed(files: list[ContentFile]) -> tuple[list[ContentFile], list[str]]:
    """Attachments that pass the limits; the others are named in a note on the message."""
    kept, dropped = [], []
    for upload in files:
        try:
            services.validate_attachments([upload])
        except ValidationError as exc:
            dropped.extend(exc.message_dict.get("attachments", exc.messages))
            continue
        if len(kept) >= services.settings.NAMEPORT_ATTACHMENT_MAX_FILES:
            dropped.append(f"{upload.name}: too many attachments.")
            continue
        kept.append(upload)
    return kept, dropped


# What a known customer is told when their mail is refused: never whose a ticket is, or whether
# it exists.
NOT_YOURS = "Your e-mail does not answer a ticket you may write to."
ANSWERS = {
    "sender not authenticated": (
        "We could not confirm that this e-mail comes from you. To keep your account safe, we only "
        "take e-mails sent to the reply address of our e-mails about a ticket."
    ),
    "bad reply address": (
        "The address you wrote to is not the reply address of one of our e-mails "
        "(it may have been changed on the way)."
    ),
    "several reply addresses": (
        "Your e-mail went to the reply addresses of several tickets; please answer one ticket at "
        "a time."
    ),
    "sender not allowed on this ticket": NOT_YOURS,
    "unknown ticket": NOT_YOURS,
    "empty message": "Your e-mail had no text.",
    "no department for this sender": "This address does not take tickets for your account.",
}


def senders_of(message: EmailMessage) -> list[str]:
    """Every address of every ``From`` header (a person's mail has exactly one)."""
    try:
        values = [str(v) for v in message.get_all("From") or []]
    except (ValueError, TypeError, IndexError):  # a header too broken to parse
        return []
    return [
        address.strip().lower()
        for _, address in getaddresses(values)
        if address.strip() and "@" in address
    ]


def is_agent_address(address: str) -> bool:
    """Whether the address is a staff user's or a reseller organisation member's: those answer
    in the portal, never by e-mail."""
    return (
        User.objects.filter(email__iexact=address)
        .filter(Q(is_staff=True) | Q(is_superuser=True) | Q(memberships__isnull=False))
        .exists()
    )


def actors_for_address(address: str) -> list[Actor]:
    """The customer accounts and contacts known by this address (a login of their own, or the
    address on the account), as the actors a new ticket by e-mail would be opened for. Staff and
    reseller members are never among them (see :func:`is_agent_address`)."""
    actors: list[Actor] = []
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is not None:
        actor = actor_for_user(user)
        if actor.is_customer:
            actors.append(actor)
    customers = Customer.objects.select_related("organisation").filter(
        email__iexact=address, organisation__is_active=True
    )
    for customer in customers.filter(Q(user__isnull=True) | ~Q(user=user) if user else Q()):
        actors.append(
            Actor(
                kind=ActorKind.CUSTOMER,
                organisation=customer.organisation,
                customer=customer,
                livemode=customer.livemode,
            )
        )
    contacts = Contact.objects.select_related("customer__organisation").filter(
        email__iexact=address, customer__organisation__is_active=True
    )
    for contact in contacts:
        if user is not None and contact.user_id == user.pk:
            continue
        actors.append(
            Actor(
                kind=ActorKind.CONTACT,
                organisation=contact.customer.organisation,
                customer=contact.customer,
                contact=contact,
                livemode=contact.customer.livemode,
            )
        )
    # Live accounts before sandbox ones, the oldest first: a stable choice.
    return sorted(actors, key=lambda a: (a.livemode is False, a.customer_id or 0))


def _same(address: str, other: str | None) -> bool:
    return bool(other) and address == (other or "").strip().lower()


def requester_for(ticket: Ticket, address: str) -> Actor | None:
    """The ticket's customer, or one of that customer's contacts, known by ``address`` (the
    account's address or its login's); None for anyone else. Whether they may answer the ticket
    is then the portal's rule (privileges, ``visible_tickets``)."""
    if ticket.customer_id is None:
        return None
    customer = (
        Customer.objects.select_related("organisation", "user")
        .filter(pk=ticket.customer_id, organisation__is_active=True)
        .first()
    )
    if customer is None:
        return None
    user = customer.user
    if _same(address, customer.email) or (user is not None and _same(address, user.email)):
        return Actor(
            kind=ActorKind.CUSTOMER,
            user=user if user is not None and user.is_active else None,
            organisation=customer.organisation,
            customer=customer,
            livemode=customer.livemode,
        )
    for contact in customer.contacts.select_related("user"):
        login = contact.user
        if _same(address, contact.email) or (login is not None and _same(address, login.email)):
            return Actor(
                kind=ActorKind.CONTACT,
                user=login if login is not None and login.is_active else None,
                organisation=customer.organisation,
                customer=customer,
                contact=contact,
                livemode=customer.livemode,
            )
    return None


def _recipients(message: EmailMessage) -> list[str]:
    values = []
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"):
        try:
            values.extend(str(v) for v in message.get_all(name) or [])
        except (ValueError, TypeError, IndexError):  # a header too broken to parse
            continue
    return [address.lower() for _, address in getaddresses(values) if address]


def signed_ticket_number(message: EmailMessage) -> tuple[str, str]:
    """The ticket number the mail's signed reply address names, or why it cannot be used:
    ``("", "")`` when the mail was not sent to a reply address at all."""
    claims = [c for c in (read_reply_address(a) for a in _recipients(message)) if c is not None]
    if not claims:
        return "", ""
    if not all(claim.valid for claim in claims):
        return "", "bad reply address"
    numbers = {claim.number for claim in claims}
    if len(numbers) > 1:
        return "", "several reply addresses"
    return numbers.pop(), ""


def _department_for(message: EmailMessage) -> Department | None:
    addresses = _recipients(message)
    if not addresses:
        return None
    for address in addresses:
        department = Department.objects.filter(email__iexact=address).order_by("pk").first()
        if department is not None:
            return department
    return None


def process(raw: bytes) -> Outcome:
    message = parse(raw)
    subject = " ".join(_header(message, "Subject").split())
    message_id = _header(message, "Message-ID")[:255]
    senders = senders_of(message)
    if len(senders) != 1:
        reason = "more than one sender address" if senders else "no sender address"
        logger.warning("mail in refused: %s (Message-ID %s)", reason, message_id or "-")
        return Outcome("refused", reason)
    sender = senders[0]
    reason = automatic_reason(message, sender)
    if reason:
        logger.info("mail in from %s ignored: %s", sender, reason)
        return Outcome("ignored", reason)
    if message_id and Message.objects.filter(email_message_id=message_id).exists():
        logger.info("mail in from %s ignored: %s already stored", sender, message_id)
        return Outcome("ignored", "already stored (same Message-ID)")

    if is_agent_address(sender):
        logger.warning(
            "mail in from %s refused: a staff or reseller member address (the team answers in "
            "the portal; subject %r)",
            sender,
            subject,
        )
        return Outcome("refused", "staff and reseller members answer in the portal")
    actors = actors_for_address(sender)
    if not actors:
        logger.warning("mail in from unknown sender %s refused (subject %r)", sender, subject)
        return Outcome("refused", "unknown sender")  # no answer: the From may be anyone's

    number, problem = signed_ticket_number(message)
    if problem:
        return _refused(sender, subject, problem)
    if not number:
        passed, why = mailauth.sender_domain_passed(
            message.get_all(mailauth.HEADER) or [], sender, settings.NAMEPORT_MAILIN_AUTHSERV_ID
        )
        if not passed:
            return _refused(sender, subject, "sender not authenticated", detail=why)
        logger.info("mail in from %s authenticated by our server: %s", sender, why)

    body = text_of(message)
    files, dropped = _keep_allowed(attachments_of(message))
    if dropped:
        body = (body + "\n\n[Not kept: " + " ".join(dropped) + "]").strip()
    if not body:
        return _refused(sender, subject, "empty message")

    if number:
        ticket = Ticket.objects.filter(ticket_number=number).first()
        if ticket is None:
            return _refused(sender, subject, "unknown ticket", detail=f"#{number}")
        return _reply(ticket, sender, subject, body, files, message_id)
    match = NUMBER.search(subject)
    if match:
        ticket = Ticket.objects.filter(ticket_number=match.group(1)).first()
        if ticket is not None:
            return _reply(ticket, sender, subject, body, files, message_id)
        logger.info(
            "mail in from %s names unknown ticket #%s: opening a new one", sender, match.group(1)
        )
    return _open(message, actors, sender, subject, body, files, message_id)


def _reply(ticket, sender, subject, body, files, message_id) -> Outcome:
    actor = requester_for(ticket, sender)
    visible = visible_tickets(actor).filter(pk=ticket.pk).first() if actor else None
    if visible is None:
        return _refused(
            sender,
            subject,
            "sender not allowed on this ticket",
            detail=f"not allowed on ticket #{ticket.ticket_number}",
        )
    try:
        reply = services.ticket_reply(
            actor=actor,
            ticket=visible,
            body=body,
            attachments=files,
            via=Via.EMAIL,
            email_message_id=message_id,
        )
    except (PermissionDenied, ValidationError) as exc:
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _refused(sender, subject, reason, detail=f"on ticket #{ticket.ticket_number}")
    return Outcome("reply", ticket=reply.ticket, message=reply)


def _open(message, actors, sender, subject, body, files, message_id) -> Outcome:
    department = _department_for(message)
    for actor in actors:
        departments = visible_departments(actor)
        chosen = department if department and departments.filter(pk=department.pk) else None
        if chosen is None and (department is None or department.organisation_id is None):
            # Sent to no department, or to a platform one that is not the sender's: a customer's
            # mail lands in its reseller's department (visible_departments), anyone else's in
            # the platform's.
            fallback = departments.filter(is_public=True)
            if not actor.is_customer:
                fallback = fallback.filter(organisation__isnull=True)
            chosen = fallback.order_by("position", "pk").first()
        if chosen is None:
            continue
        try:
            ticket = services.ticket_open(
                actor=actor,
                department=chosen,
                subject=NUMBER.sub("", subject).strip() or "(no subject)",
                body=body,
                attachments=files,
                via=Via.EMAIL,
                email_message_id=message_id,
            )
        except (PermissionDenied, ValidationError) as exc:
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            return _refused(sender, subject, reason)
        return Outcome("opened", ticket=ticket, message=ticket.messages.first())
    return _refused(
        sender, subject, "no department for this sender", detail=f"sent to {department or '-'}"
    )


# Anyone can forge a customer's address, so the polite answers one address gets are capped:
# past ANSWERS_PER_DAY refusals in a day, a refusal is logged but not answered.
ANSWERS_PER_DAY = 3
REFUSED_ACTION = "support.mail_in.refused"


def _refused(sender: str, subject: str, reason: str, *, detail: str = "") -> Outcome:
    """Log the refusal of a known customer's mail (and an audit row staff can read), and answer
    it politely (by Celery) unless that address was answered ANSWERS_PER_DAY times today."""
    logger.warning(
        "mail in from %s refused: %s%s (subject %r)",
        sender,
        reason,
        f" ({detail})" if detail else "",
        subject,
    )
    since = timezone.now() - timedelta(days=1)
    answered = AuditEntry.objects.filter(
        action=REFUSED_ACTION,
        object_type="support.mail_in",
        object_id=sender.lower()[:64],
        created_at__gte=since,
        data__answered=True,
    ).count()
    answer = answered < ANSWERS_PER_DAY
    AuditEntry.objects.create(
        actor="mail-in",
        action=REFUSED_ACTION,
        object_type="support.mail_in",
        object_id=sender.lower()[:64],
        data={"reason": reason[:300], "detail": detail[:300], "answered": answer},
    )
    if answer:
        _refuse(sender, subject, ANSWERS.get(reason, reason))
    else:
        logger.warning("mail in from %s: not answered (%d answers today)", sender, answered)
    return Outcome("refused", reason)


def _refuse(to: str, subject: str, reason: str) -> None:
    from support.tasks import mail_refusal

    mail_refusal.delay(to, subject, reason)

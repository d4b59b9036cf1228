"""E-mail in: one RFC 822 message becomes a reply or a new ticket, or is refused.

``manage.py support_mail_in`` pipes standard input here (a mail server's ``|command`` delivery).

* Auto-replies, bulk mail and our own notifications are ignored (``Auto-Submitted``,
  ``Precedence: bulk/list/junk``, ``X-Autoreply``/``X-Autorespond``, a null or MAILER-DAEMON
  sender, ``X-Nameport-Ticket``, a From that is one of our own addresses): nothing is stored and
  nobody is answered, so two robots never talk to each other.
* ``[#123456]`` in the subject adds the mail to that ticket when the sender may act on it (the
  same rule as the portal: the sender's actor must see the ticket). A number the sender may not
  use is refused and logged (forged or mistyped), and nothing is stored.
* Otherwise a new ticket opens in the department the mail was sent to.
* A sender we do not know gets one polite refusal (sent by Celery) and nothing is stored.
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils.html import strip_tags

from customers.models import Contact, Customer, User
from portal.tenancy import Actor, ActorKind, actor_for_user
from support import services
from support.emails import REPLY_MARKER, support_address
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
    if sender in our_addresses():
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


def actors_for_address(address: str) -> list[Actor]:
    """Everyone who signs or is known by this address: a user (staff, member, customer,
    contact), then customer accounts and contacts without a login of their own."""
    actors: list[Actor] = []
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is not None:
        actor = actor_for_user(user)
        if actor.is_authenticated:
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


def _recipients(message: EmailMessage) -> list[str]:
    values = []
    for name in ("Delivered-To", "X-Original-To", "To", "Cc", "Envelope-To"):
        values.extend(message.get_all(name) or [])
    return [address.lower() for _, address in getaddresses([str(v) for v in values]) if address]


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
    _, sender = parseaddr(_header(message, "From"))
    sender = sender.strip().lower()
    if not sender or "@" not in sender:
        logger.warning("mail in refused: no sender (Message-ID %s)", message_id or "-")
        return Outcome("refused", "no sender address")
    reason = automatic_reason(message, sender)
    if reason:
        logger.info("mail in from %s ignored: %s", sender, reason)
        return Outcome("ignored", reason)
    if message_id and Message.objects.filter(email_message_id=message_id).exists():
        logger.info("mail in from %s ignored: %s already stored", sender, message_id)
        return Outcome("ignored", "already stored (same Message-ID)")

    actors = actors_for_address(sender)
    if not actors:
        logger.warning("mail in from unknown sender %s refused (subject %r)", sender, subject)
        _refuse(sender, subject, "We do not know the address you wrote from.")
        return Outcome("refused", "unknown sender")

    body = text_of(message)
    files, dropped = _keep_allowed(attachments_of(message))
    if dropped:
        body = (body + "\n\n[Not kept: " + " ".join(dropped) + "]").strip()
    if not body:
        logger.warning("mail in from %s refused: empty message", sender)
        _refuse(sender, subject, "Your e-mail had no text.")
        return Outcome("refused", "empty message")

    match = NUMBER.search(subject)
    if match:
        number = match.group(1)
        ticket = Ticket.objects.filter(ticket_number=number).first()
        if ticket is not None:
            return _reply(ticket, actors, sender, body, files, message_id)
        logger.info("mail in from %s names unknown ticket #%s: opening a new one", sender, number)
    return _open(message, actors, sender, subject, body, files, message_id)


def _reply(ticket, actors, sender, body, files, message_id) -> Outcome:
    for actor in actors:
        visible = visible_tickets(actor).filter(pk=ticket.pk).first()
        if visible is None:
            continue
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
            logger.warning("mail in from %s to #%s refused: %s", sender, ticket.ticket_number, exc)
            return Outcome("refused", str(exc), ticket=None)
        return Outcome("reply", ticket=reply.ticket, message=reply)
    logger.warning(
        "mail in from %s refused: not allowed on ticket #%s (forged or mistyped number)",
        sender,
        ticket.ticket_number,
    )
    return Outcome("refused", "sender not allowed on this ticket")


def _open(message, actors, sender, subject, body, files, message_id) -> Outcome:
    department = _department_for(message)
    for actor in actors:
        departments = visible_departments(actor)
        chosen = department if department and departments.filter(pk=department.pk) else None
        if chosen is None and department is None:
            chosen = departments.filter(is_public=True, organisation__isnull=True).first()
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
            logger.warning("mail in from %s refused: %s", sender, exc)
            return Outcome("refused", str(exc))
        return Outcome("opened", ticket=ticket, message=ticket.messages.first())
    logger.warning("mail in from %s refused: no department of theirs at %s", sender, department)
    _refuse(sender, subject, "This address does not take tickets for your account.")
    return Outcome("refused", "no department for this sender")


def _refuse(to: str, subject: str, reason: str) -> None:
    from support.tasks import mail_refusal

    mail_refusal.delay(to, subject, reason)

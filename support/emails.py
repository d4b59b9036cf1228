"""Support e-mail: who is told what, built from templates (text and HTML).

Nothing here runs inside a request: services enqueue ``support.tasks.ticket_notify`` with
``transaction.on_commit`` and the worker calls :func:`send_ticket_notification`. Internal notes
are never e-mailed, and a message's author is not sent their own words back.

Every ticket e-mail carries the ticket's signed reply address as ``Reply-To``:
``<local>+<ticket number>-<signature>@<domain>``, built on ``NAMEPORT_SUPPORT_FROM_EMAIL``
(``support+700004-3f0c9a1b2d4e5f60@nameport.test``). The signature is an HMAC-SHA256 of the
number keyed by ``SECRET_KEY`` (salted for this use, the first 16 hex digits), so only the people
our e-mails went to know it; the mail-in (:mod:`support.mailin`) takes a reply to that address
as coming from someone who received the ticket's e-mails.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from customers.branding import brand_of, branded_sender, site_url_for
from support.models import Message, Ticket

logger = logging.getLogger(__name__)

REPLY_MARKER = "##- Please type your reply above this line -##"
HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def support_address() -> str:
    return parseaddr(settings.NAMEPORT_SUPPORT_FROM_EMAIL)[1].lower()


# --- the signed reply address -----------------------------------------------------------------

REPLY_ADDRESS_SALT = "support.emails.reply_address"
SIGNATURE_LENGTH = 16  # hex digits: 64 bits, far beyond guessing by mail
# "<local>+<tag>@<domain>": the tag of a reply address is "<number>-<signature>".
TAGGED_ADDRESS = re.compile(r"^(?P<local>[^@+\s]+)\+(?P<tag>[^@\s]*)@(?P<domain>[^@\s]+)$")
REPLY_TAG = re.compile(r"^(?P<number>[0-9]{6})-(?P<signature>[0-9a-f]+)$")


def _signature(number: str, secret: str) -> str:
    digest = salted_hmac(REPLY_ADDRESS_SALT, number, secret=secret, algorithm="sha256")
    return digest.hexdigest()[:SIGNATURE_LENGTH]


def reply_address(ticket: Ticket) -> str:
    """The address a reply about ``ticket`` goes to (``Reply-To`` of every ticket e-mail)."""
    local, _, domain = support_address().partition("@")
    number = ticket.ticket_number
    return f"{local}+{number}-{_signature(number, settings.SECRET_KEY)}@{domain}"


@dataclass(frozen=True)
class ReplyAddress:
    number: str  # empty when the tag does not even name a ticket
    valid: bool


def read_reply_address(address: str) -> ReplyAddress | None:
    """What ``address`` says when it is a tagged form of our support address
    (``support+...@domain``); None for any other address. ``valid`` only when the signature
    matches the number (``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS``), compared in constant
    time."""
    match = TAGGED_ADDRESS.match((address or "").strip().lower())
    if match is None:
        return None
    local, _, domain = support_address().partition("@")
    if match["local"] != local or match["domain"].rstrip(".") != domain:
        return None
    tag = REPLY_TAG.match(match["tag"])
    if tag is None:
        return ReplyAddress(number="", valid=False)
    number, signature = tag["number"], tag["signature"]
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    valid = False
    for secret in keys:  # every key is tried, so the time says nothing about which matched
        valid |= constant_time_compare(signature, _signature(number, secret))
    return ReplyAddress(number=number, valid=valid)


def customer_organisation(ticket: Ticket):
    """The reseller whose customer the ticket is about (its brand is the customer's)."""
    return ticket.customer.organisation if ticket.customer_id else None


def sender_for(ticket: Ticket, *, team: bool = True) -> str:
    """The From of a ticket e-mail. To the customer side: the reseller's support address (its
    settings page) under its portal name, when it set them; to the team: the department's
    address or the platform's. (Reply-To is always the ticket's signed address, so answers
    reach the ticket.)"""
    department = ticket.department
    organisation = None if team else customer_organisation(ticket)
    name = brand_of(organisation).name
    if organisation is not None and organisation.support_email:
        return formataddr((f"{department.name} · {name}", organisation.support_email))
    if department.email:
        return formataddr((f"{department.name} · {name}", department.email))
    return branded_sender(organisation, settings.NAMEPORT_SUPPORT_FROM_EMAIL)


def ticket_url(ticket: Ticket, *, team: bool = True) -> str:
    """The ticket's page; for the customer side on the reseller's own host name, if any."""
    path = reverse("support:ticket_detail", args=[ticket.ticket_number])
    organisation = None if team else customer_organisation(ticket)
    return f"{site_url_for(organisation)}{path}"


def customer_side_recipients(ticket: Ticket) -> list[str]:
    """The account holder and the contacts who chose support e-mails (seed 003 ``emails``);
    nobody for a staff-only ticket."""
    customer = ticket.customer
    if customer is None or ticket.staff_only:
        return []
    addresses = [customer.email]
    for contact in customer.contacts.all():
        if contact.has_privilege("support", "emails"):
            addresses.append(contact.email)
    return addresses


def team_recipients(ticket: Ticket) -> list[str]:
    addresses = []
    if ticket.department.email:
        addresses.append(ticket.department.email)
    if ticket.assignee_id and ticket.assignee.email:
        addresses.append(ticket.assignee.email)
    return addresses


def _unique(addresses: list[str], exclude: set[str]) -> list[str]:
    seen, result = set(exclude), []
    for address in addresses:
        key = (address or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(address.strip())
    return result


def _build(
    *, template: str, to: list[str], ticket: Ticket, context: dict, subject: str, team: bool
) -> EmailMultiAlternatives:
    """One ticket e-mail; ``team``: to the department and assignee (they answer in the portal)."""
    context = {
        "ticket": ticket,
        "url": ticket_url(ticket, team=team),
        "marker": REPLY_MARKER,
        "for_team": team,
        "brand": brand_of(None if team else customer_organisation(ticket)),
        **context,
    }
    text = render_to_string(f"support/email/{template}.txt", context)
    html = render_to_string(f"support/email/{template}.html", context)
    mail = EmailMultiAlternatives(
        subject=f"[#{ticket.ticket_number}] {subject}",
        body=text,
        from_email=sender_for(ticket, team=team),
        to=to,
        reply_to=[reply_address(ticket)],
        headers={**HEADERS, "X-Nameport-Ticket": ticket.ticket_number},
    )
    mail.attach_alternative(html, "text/html")
    return mail


def ticket_notifications(
    event: str, ticket: Ticket, message: Message | None, previous: str = ""
) -> list[EmailMultiAlternatives]:
    """The e-mails one event sends: one to the customer side, one to the team, as it applies."""
    if message is not None and message.is_internal:
        return []  # internal notes are never e-mailed, to anyone
    author = {(message.author_email or "").lower()} if message is not None else set()
    customers = _unique(customer_side_recipients(ticket), author)
    team = _unique(team_recipients(ticket), author | {a.lower() for a in customers})
    mails = []
    if event == "opened":
        if customers:
            mails.append(
                _build(
                    template="opened_customer",
                    to=customers,
                    ticket=ticket,
                    context={"message": message},
                    subject=ticket.subject,
                    team=False,
                )
            )
        if team:
            mails.append(
                _build(
                    template="opened_team",
                    to=team,
                    ticket=ticket,
                    context={"message": message},
                    subject=f"New ticket: {ticket.subject}",
                    team=True,
                )
            )
    elif event == "reply" and message is not None:
        to = customers if message.is_staff else team
        if to:
            mails.append(
                _build(
                    template="reply",
                    to=to,
                    ticket=ticket,
                    context={"message": message, "to_team": not message.is_staff},
                    subject=f"Re: {ticket.subject}",
                    team=not message.is_staff,
                )
            )
    elif event == "status" and customers:
        mails.append(
            _build(
                template="status",
                to=customers,
                ticket=ticket,
                context={"previous": previous},
                subject=f"{ticket.subject} is now {ticket.get_status_display()}",
                team=False,
            )
        )
    return mails


def send_ticket_notification(
    event: str, ticket_id: int, message_id: int | None = None, previous: str = ""
) -> int:
    ticket = (
        Ticket.objects.select_related("department", "customer__organisation", "assignee")
        .prefetch_related("customer__contacts")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        return 0
    message = None
    if message_id is not None:
        message = ticket.messages.prefetch_related("attachments").filter(pk=message_id).first()
        if message is None:
            return 0
    mails = ticket_notifications(event, ticket, message, previous)
    for mail in mails:
        mail.send()
    logger.info("ticket %s: %s e-mail(s) for %s", ticket.ticket_number, len(mails), event)
    return len(mails)


def refusal(*, to: str, subject: str, reason: str) -> EmailMultiAlternatives:
    """The polite answer to a known customer's e-mail we could not take."""
    path = reverse("support:ticket_list")
    context = {
        "reason": reason,
        "subject": subject,
        "url": f"{settings.SITE_URL.rstrip('/')}{path}",
    }
    mail = EmailMultiAlternatives(
        subject=f"Re: {subject}" if subject else "Your e-mail to Nameport support",
        body=render_to_string("support/email/refused.txt", context),
        from_email=settings.NAMEPORT_SUPPORT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    mail.attach_alternative(render_to_string("support/email/refused.html", context), "text/html")
    return mail

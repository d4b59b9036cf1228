"""Support e-mail: who is told what, built from templates (text and HTML).

Nothing here runs inside a request: services enqueue ``support.tasks.ticket_notify`` with
``transaction.on_commit`` and the worker calls :func:`send_ticket_notification`. Internal notes
are never e-mailed, and a message's author is not sent their own words back.
"""

from __future__ import annotations

import logging
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from support.models import Message, Ticket

logger = logging.getLogger(__name__)

REPLY_MARKER = "##- Please type your reply above this line -##"
HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def support_address() -> str:
    return parseaddr(settings.NAMEPORT_SUPPORT_FROM_EMAIL)[1].lower()


def sender_for(ticket: Ticket) -> str:
    department = ticket.department
    if department.email:
        return formataddr((f"{department.name} · Nameport", department.email))
    return settings.NAMEPORT_SUPPORT_FROM_EMAIL


def ticket_url(ticket: Ticket) -> str:
    path = reverse("support:ticket_detail", args=[ticket.ticket_number])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def customer_side_recipients(ticket: Ticket) -> list[str]:
    """The account holder and the contacts who chose support e-mails (seed 003 ``emails``)."""
    customer = ticket.customer
    if customer is None:
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
    *, template: str, to: list[str], ticket: Ticket, context: dict, subject: str
) -> EmailMultiAlternatives:
    context = {
        "ticket": ticket,
        "url": ticket_url(ticket),
        "marker": REPLY_MARKER,
        **context,
    }
    text = render_to_string(f"support/email/{template}.txt", context)
    html = render_to_string(f"support/email/{template}.html", context)
    mail = EmailMultiAlternatives(
        subject=f"[#{ticket.ticket_number}] {subject}",
        body=text,
        from_email=sender_for(ticket),
        to=to,
        reply_to=[ticket.department.email or settings.NAMEPORT_SUPPORT_FROM_EMAIL],
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
            )
        )
    return mails


def send_ticket_notification(
    event: str, ticket_id: int, message_id: int | None = None, previous: str = ""
) -> int:
    ticket = (
        Ticket.objects.select_related("department", "customer", "assignee")
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
    """The polite answer to an e-mail we could not take (unknown sender...)."""
    context = {"reason": reason, "subject": subject}
    mail = EmailMultiAlternatives(
        subject=f"Re: {subject}" if subject else "Your e-mail to Nameport support",
        body=render_to_string("support/email/refused.txt", context),
        from_email=settings.NAMEPORT_SUPPORT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"},
    )
    mail.attach_alternative(render_to_string("support/email/refused.html", context), "text/html")
    return mail

"""A reseller's help desk asks the platform's staff for help: escalation.

The design, in one place:

* **The ticket stays where it is.** A reseller's customer writes to the reseller: the ticket is
  in one of the reseller's departments, the reseller's support team answers it and keeps
  triaging it (status, priority, assignee) while it is escalated. Moving it to a platform
  department would take it away from the team that talks to the customer, and copying it would
  make two conversations to keep in step.
* **Escalating flags it**: ``ticket_escalate`` stamps ``escalated_at`` and ``escalated_by``,
  clears ``escalation_answered_at``, writes an internal note with the reason ("Escalated to
  Nameport: ...") and an audit row (``ticket.escalate``). Staff see every ticket; their queue
  filters on ``escalation=waiting`` and marks such tickets, so they find it there.
* **Staff answer the reseller, not the customer**: ``ticket_escalation_answer`` writes the
  answer as an internal note (the customer never sees internal notes: ``visible_messages``),
  stamps ``escalation_answered_at`` and audits ``ticket.escalation_answer``; the reseller's
  queue shows the ticket as answered by Nameport, and the reseller answers its customer in its
  own words. A ticket may be escalated again after an answer (a new reason, a new note).
* **Where**: the ticket page (a form in its sidebar; staff get an "Answer the reseller" form
  while it waits) and the native API (``POST /api/v1/tickets/<number>/escalate/ {"reason"}``;
  the ticket's ``escalated_at`` and ``escalation_answered_at``, null for customers; the list's
  ``escalation`` filter: ``waiting``, ``answered``, ``any``).
* **Rights**: only a reseller's agents whose role may answer tickets (owner, admin, support)
  escalate, only tickets of their own departments, never a staff-only one; only staff answer an
  escalation. Another reseller never sees the ticket at all (404, as for any ticket of
  another tenant).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal.audit import audit
from portal.tenancy import Actor
from support import policies
from support.models import Message, Ticket, Via
from support.services import _author, _clean_text, _locked, _refusal


def _note(*, actor: Actor, ticket: Ticket, body: str) -> Message:
    author_name, author_email = _author(actor)
    return Message.objects.create(
        ticket=ticket,
        author=actor.user,
        author_name=author_name[:200],
        author_email=author_email,
        body=body,
        is_staff=True,
        is_internal=True,
        via=Via.WEB,
    )


def ticket_escalate(*, actor: Actor, ticket: Ticket, reason: str) -> Ticket:
    """A reseller's support team asks the platform's staff about ``ticket``."""
    if not policies.can_escalate(actor, ticket):
        raise PermissionDenied(
            _refusal(actor, "Only the reseller's support team escalates its own tickets.")
        )
    reason = _clean_text(reason, "reason", "The reason")
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.is_escalated:
            raise ValidationError(
                {"reason": "This ticket is already escalated; the platform's staff will answer."}
            )
        if ticket.status == Ticket.Status.CLOSED:
            raise ValidationError({"reason": "Re-open the ticket before escalating it."})
        now = timezone.now()
        message = _note(actor=actor, ticket=ticket, body=f"Escalated to Nameport: {reason}")
        ticket.escalated_at = now
        ticket.escalated_by = actor.user
        ticket.escalation_answered_at = None
        ticket.save(
            update_fields=["escalated_at", "escalated_by", "escalation_answered_at", "updated_at"]
        )
        audit(
            actor=actor,
            action="ticket.escalate",
            obj=ticket,
            organisation=ticket.organisation,
            data={"ticket_number": ticket.ticket_number, "message": message.pk},
        )
    return ticket


def ticket_escalation_answer(*, actor: Actor, ticket: Ticket, body: str) -> Message:
    """The platform's staff answer an escalation: an internal note to the reseller's team."""
    if not policies.can_answer_escalation(actor, ticket):
        raise PermissionDenied("Only the platform's staff answer an escalation.")
    body = _clean_text(body, "body", "The answer")
    with transaction.atomic():
        ticket = _locked(ticket)
        if not ticket.is_escalated:
            raise ValidationError({"body": "This ticket is not waiting for the platform's staff."})
        message = _note(actor=actor, ticket=ticket, body=body)
        ticket.escalation_answered_at = timezone.now()
        ticket.save(update_fields=["escalation_answered_at", "updated_at"])
        audit(
            actor=actor,
            action="ticket.escalation_answer",
            obj=ticket,
            organisation=ticket.organisation,
            data={"ticket_number": ticket.ticket_number, "message": message.pk},
        )
    return message

"""Read queries of the support app, always scoped to the actor."""

from __future__ import annotations

import statistics
from datetime import timedelta

from django.db.models import Exists, Q, QuerySet
from django.utils import timezone

from portal.tenancy import Actor, ActorKind, scope
from support.models import Attachment, CannedReply, Department, Message, Ticket

OPEN_STATUSES = [
    Ticket.Status.OPEN,
    Ticket.Status.ANSWERED,
    Ticket.Status.CUSTOMER_REPLY,
    Ticket.Status.ON_HOLD,
]


def visible_tickets(actor: Actor) -> QuerySet[Ticket]:
    queryset = scope(Ticket.objects.select_related("department", "customer", "assignee"), actor)
    if not actor.is_staff:
        # A staff-only ticket (the registry's own words about a failed operation) is for the
        # platform's staff; the customer has the ticket written for them.
        queryset = queryset.filter(staff_only=False)
    if actor.kind == ActorKind.CONTACT and not actor.can("support", "tickets"):
        if actor.user is None:  # a contact known only by e-mail address has no own tickets
            return queryset.none()
        queryset = queryset.filter(created_by=actor.user)
    return queryset


def open_tickets(actor: Actor) -> QuerySet[Ticket]:
    return visible_tickets(actor).filter(status__in=OPEN_STATUSES)


def is_agent(actor: Actor, ticket: Ticket) -> bool:
    """Whether ``actor`` answers ``ticket`` (rather than asks): platform staff on every ticket, a
    reseller's members and keys on tickets of the reseller's own departments."""
    if actor.is_staff:
        return True
    return (
        actor.is_reseller
        and actor.organisation_id is not None
        and ticket.department.organisation_id == actor.organisation_id
    )


def is_agent_anywhere(actor: Actor) -> bool:
    """Whether the actor answers tickets at all (staff, or a reseller with departments)."""
    if actor.is_staff:
        return True
    if not actor.is_reseller or actor.organisation_id is None:
        return False
    return Department.objects.filter(organisation_id=actor.organisation_id).exists()


def visible_messages(actor: Actor, ticket: Ticket) -> QuerySet[Message]:
    queryset = ticket.messages.select_related("author").prefetch_related("attachments")
    if is_agent(actor, ticket):
        return queryset
    return queryset.filter(is_internal=False)


def visible_attachments(actor: Actor) -> QuerySet[Attachment]:
    """Attachments of visible tickets; those of internal notes for the ticket's agents only."""
    queryset = Attachment.objects.select_related("message__ticket__department").filter(
        message__ticket__in=visible_tickets(actor)
    )
    if actor.is_staff:
        return queryset
    if actor.is_reseller and actor.organisation_id is not None:
        return queryset.filter(
            Q(message__is_internal=False)
            | Q(message__ticket__department__organisation_id=actor.organisation_id)
        )
    return queryset.filter(message__is_internal=False)


def visible_departments(actor: Actor) -> QuerySet[Department]:
    """Staff: every department. A reseller: its own and the platform's (where it asks the
    platform itself). A customer: its reseller's public departments, so its tickets land with
    the reseller, who answers them or escalates them to the platform's staff. Every organisation
    has one (``DEFAULT_DEPARTMENT``, made with it and by migration 0006); only an organisation
    left without any public department of its own sends its customers to the platform's."""
    queryset = Department.objects.all()
    if actor.is_staff:
        return queryset
    if actor.organisation_id is None:
        return queryset.none()
    own = Q(organisation_id=actor.organisation_id)
    if actor.is_customer:
        has_own = Exists(
            Department.objects.filter(organisation_id=actor.organisation_id, is_public=True)
        )
        return queryset.filter(own | (Q(organisation__isnull=True) & ~has_own), is_public=True)
    return queryset.filter(Q(organisation__isnull=True) | own)


def triage_departments(actor: Actor, ticket: Ticket) -> QuerySet[Department]:
    """Where an agent may move ``ticket``: staff anywhere; a reseller's team among its own
    departments (the platform's staff are asked by escalating, not by moving the ticket away)."""
    if actor.is_staff:
        return Department.objects.all()
    return Department.objects.filter(organisation_id=ticket.department.organisation_id)


def visible_canned_replies(actor: Actor) -> QuerySet[CannedReply]:
    if actor.is_staff:
        return CannedReply.objects.filter(organisation__isnull=True)
    if actor.is_reseller and actor.organisation_id is not None:
        return CannedReply.objects.filter(organisation_id=actor.organisation_id)
    return CannedReply.objects.none()


def visible_ticket_messages_all(actor: Actor) -> QuerySet[Message]:
    queryset = Message.objects.filter(ticket__in=visible_tickets(actor))
    return queryset if actor.is_staff else queryset.filter(is_internal=False)


def assignable_agents(ticket: Ticket):
    """Who may be assigned a ticket: staff for platform departments; for a reseller's own
    departments, its members whose role answers tickets (owner, admin, support)."""
    from customers.models import User
    from customers.roles import RIGHTS, Right

    users = User.objects.filter(is_active=True)
    if ticket.department.organisation_id is None:
        return users.filter(is_staff=True)
    roles = [role for role, rights in RIGHTS.items() if Right.SUPPORT in rights]
    return users.filter(
        memberships__organisation_id=ticket.department.organisation_id,
        memberships__role__in=roles,
    ).distinct()


def _median_hours(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return round(statistics.median(d.total_seconds() for d in durations) / 3600, 1)


def response_medians(actor: Actor, *, days: int = 90) -> dict[str, float | None]:
    """Median hours to the first answer and to resolution, over tickets opened in the last
    ``days`` days that the actor sees (system tickets left out: nobody waits on them)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        visible_tickets(actor)
        .filter(created_at__gte=since, is_system=False)
        .order_by()
        .values_list("created_at", "first_response_at", "closed_at", "status")
    )
    first, resolved = [], []
    for created_at, first_response_at, closed_at, status in rows.iterator():
        # A stamp before the opening (imported or hand-made rows) says nothing: left out.
        if first_response_at is not None and first_response_at >= created_at:
            first.append(first_response_at - created_at)
        if closed_at is not None and status == Ticket.Status.CLOSED and closed_at >= created_at:
            resolved.append(closed_at - created_at)
    return {
        "first_response_hours": _median_hours(first),
        "resolution_hours": _median_hours(resolved),
        "days": days,
        "answered": len(first),
        "resolved": len(resolved),
    }

"""Read queries of the support app, always scoped to the actor."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from portal.tenancy import Actor, ActorKind, scope
from support.models import Department, Message, Ticket

OPEN_STATUSES = [
    Ticket.Status.OPEN,
    Ticket.Status.ANSWERED,
    Ticket.Status.CUSTOMER_REPLY,
    Ticket.Status.ON_HOLD,
]


def visible_tickets(actor: Actor) -> QuerySet[Ticket]:
    queryset = scope(
        Ticket.objects.select_related("department", "customer", "assignee"), actor, livemode=None
    )
    if actor.livemode is not None:
        # Tickets have no mode of their own: a customer's ticket follows its customer's mode
        # (a sandbox key never reads a live customer's tickets); customer-less ones show in both.
        queryset = queryset.filter(Q(customer__isnull=True) | Q(customer__livemode=actor.livemode))
    if actor.kind == ActorKind.CONTACT and not actor.can("support", "tickets"):
        queryset = queryset.filter(created_by=actor.user)
    return queryset


def open_tickets(actor: Actor) -> QuerySet[Ticket]:
    return visible_tickets(actor).filter(status__in=OPEN_STATUSES)


def visible_messages(actor: Actor, ticket: Ticket) -> QuerySet[Message]:
    queryset = ticket.messages.select_related("author").prefetch_related("attachments")
    if actor.is_staff:
        return queryset
    return queryset.filter(is_internal=False)


def visible_departments(actor: Actor) -> QuerySet[Department]:
    queryset = Department.objects.all()
    if actor.is_staff:
        return queryset
    if actor.organisation_id is None:
        return queryset.none()
    queryset = queryset.filter(
        Q(organisation__isnull=True) | Q(organisation_id=actor.organisation_id)
    )
    if actor.is_customer:
        queryset = queryset.filter(is_public=True)
    return queryset


def visible_ticket_messages_all(actor: Actor) -> QuerySet[Message]:
    queryset = Message.objects.filter(ticket__in=visible_tickets(actor))
    return queryset if actor.is_staff else queryset.filter(is_internal=False)

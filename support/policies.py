"""Who may do what on the help desk: one rule each, called by the services before they change
anything and by the views and templates to offer only what the actor may do.

Agents (staff on every ticket, a reseller's members and keys on its own departments' tickets)
may do everything on the tickets they answer. Requesters (customers, and contacts within their
seed-003 ``support`` privileges): ``newticket`` opens and replies, ``tickets`` reads the whole
account's tickets and replies, ``closeticket`` closes and re-opens. Only staff retry a ticket's
registry operation, and only staff see a ticket marked staff-only.

A reseller's members act as agents only with the support right of their role (owner, admin,
support: ``customers.roles``); billing and read-only members read the tickets and change
nothing. Staff on every ticket, and a reseller's support team on its own departments' tickets,
triage (status, priority, department, assignee), write internal notes and use canned replies;
the reseller's team also escalates its tickets to the platform's staff, and only staff answer an
escalation (``support.escalation``). Canned replies are managed by whoever uses them: staff the
platform's, a reseller's support team its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from customers.roles import Right, may
from portal.tenancy import Actor
from support.selectors import is_agent

if TYPE_CHECKING:
    from support.models import Ticket


def _may(actor: Actor, *privileges: str) -> bool:
    return actor.is_authenticated and any(actor.can("support", p) for p in privileges)


def _hidden(actor: Actor, ticket: Ticket) -> bool:
    """A staff-only ticket does not exist for anyone but staff (whatever the entry point)."""
    return ticket.staff_only and not actor.is_staff


def _support_right(actor: Actor) -> bool:
    """The role's right to answer or change tickets (customers and contacts always have it; their
    privileges decide)."""
    return may(actor, Right.SUPPORT)


def is_team_agent(actor: Actor, ticket: Ticket) -> bool:
    """An agent of ``ticket`` whose role may act on it."""
    return is_agent(actor, ticket) and _support_right(actor)


def can_open(actor: Actor) -> bool:
    return _may(actor, "newticket") and _support_right(actor)


def can_reply(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket) or not _support_right(actor):
        return False
    return is_agent(actor, ticket) or _may(actor, "newticket", "tickets")


def can_write_internal(actor: Actor, ticket: Ticket) -> bool:
    return is_team_agent(actor, ticket)


def can_close(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket) or not _support_right(actor):
        return False
    return is_agent(actor, ticket) or _may(actor, "closeticket")


def can_reopen(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket) or not _support_right(actor):
        return False
    return is_agent(actor, ticket) or _may(actor, "newticket", "closeticket")


def can_triage(actor: Actor, ticket: Ticket) -> bool:
    """Status, priority, department, assignee."""
    return is_team_agent(actor, ticket)


def can_escalate(actor: Actor, ticket: Ticket) -> bool:
    """A reseller's support team asks the platform's staff about a ticket of its own."""
    return actor.is_reseller and not ticket.staff_only and is_team_agent(actor, ticket)


def can_answer_escalation(actor: Actor, ticket: Ticket) -> bool:
    return actor.is_staff


def can_manage_canned_replies(actor: Actor) -> bool:
    """Staff manage the platform's canned replies, a reseller's support team its own."""
    if actor.is_staff:
        return True
    return actor.is_reseller and actor.organisation_id is not None and _support_right(actor)


def can_retry_operation(actor: Actor, ticket: Ticket) -> bool:
    return actor.is_staff

"""Who may do what on the help desk: one rule each, called by the services before they change
anything and by the views and templates to offer only what the actor may do.

Agents (staff on every ticket, a reseller's members and keys on its own departments' tickets)
may do everything on the tickets they answer. Requesters (customers, and contacts within their
seed-003 ``support`` privileges): ``newticket`` opens and replies, ``tickets`` reads the whole
account's tickets and replies, ``closeticket`` closes and re-opens. Only staff retry a ticket's
registry operation, and only staff see a ticket marked staff-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.tenancy import Actor
from support.selectors import is_agent

if TYPE_CHECKING:
    from support.models import Ticket


def _may(actor: Actor, *privileges: str) -> bool:
    return actor.is_authenticated and any(actor.can("support", p) for p in privileges)


def _hidden(actor: Actor, ticket: Ticket) -> bool:
    """A staff-only ticket does not exist for anyone but staff (whatever the entry point)."""
    return ticket.staff_only and not actor.is_staff


def can_open(actor: Actor) -> bool:
    return _may(actor, "newticket")


def can_reply(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket):
        return False
    return is_agent(actor, ticket) or _may(actor, "newticket", "tickets")


def can_write_internal(actor: Actor, ticket: Ticket) -> bool:
    return is_agent(actor, ticket)


def can_close(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket):
        return False
    return is_agent(actor, ticket) or _may(actor, "closeticket")


def can_reopen(actor: Actor, ticket: Ticket) -> bool:
    if _hidden(actor, ticket):
        return False
    return is_agent(actor, ticket) or _may(actor, "newticket", "closeticket")


def can_triage(actor: Actor, ticket: Ticket) -> bool:
    """Status, priority, department, assignee."""
    return is_agent(actor, ticket)


def can_retry_operation(actor: Actor, ticket: Ticket) -> bool:
    return actor.is_staff

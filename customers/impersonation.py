""" "Sign in as this customer": staff (any customer) and a reseller's owner or admin (its own
customers) see and use the portal as the customer sees it, and return with one click.

While it lasts the request's actor is the customer (``portal.tenancy.actor_for_user`` reads
the session key), with ``Actor.user`` still the real person and ``Actor.impersonator`` the real
person's own actor: every audit row is the real user's and notes the customer
(``portal.audit``). Who may do it is ``portal.tenancy.may_impersonate``, asked again on every
request, so a role taken away or a customer moved ends it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from customers.models import Customer
from portal.audit import audit
from portal.tenancy import SESSION_IMPERSONATE_KEY, Actor, may_impersonate

REFUSAL = (
    "Only staff, and a reseller's owners and admins for their own customers, "
    "may sign in as a customer."
)


def impersonation_start(*, actor: Actor, customer: Customer, session: Any) -> None:
    if not may_impersonate(actor, customer):
        raise PermissionDenied(REFUSAL)
    with transaction.atomic():
        audit(
            actor=actor,
            action="customer.impersonate_start",
            obj=customer,
            organisation=customer.organisation,
            data={"customer": customer.pk, "at": timezone.now().isoformat()},
        )
    session[SESSION_IMPERSONATE_KEY] = customer.pk
    session.cycle_key()


def impersonation_stop(*, actor: Actor, session: Any) -> Customer | None:
    """End it; returns the customer it was (None when nobody was being impersonated)."""
    session.pop(SESSION_IMPERSONATE_KEY, None)
    real = actor.impersonator
    if real is None or actor.customer is None:
        return None
    with transaction.atomic():
        audit(
            actor=real,
            action="customer.impersonate_stop",
            obj=actor.customer,
            organisation=actor.customer.organisation,
            data={"customer": actor.customer_id},
        )
    return actor.customer

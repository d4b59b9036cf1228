"""Write an audit row; call it inside the service's transaction.

"From where": the request being served sets its origin (the client's address as
``portal.auth.client_ip`` reads it, and the channel, ``web`` or ``api``) for the length of the
request (``portal.middleware.AuditOriginMiddleware``); rows written outside a request (workers,
beat, management commands) say ``system`` and have no address.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models

from portal.models import AuditEntry
from portal.tenancy import Actor


@dataclass(frozen=True)
class Origin:
    ip_address: str | None
    channel: str


SYSTEM_ORIGIN = Origin(ip_address=None, channel="system")
_origin: contextvars.ContextVar[Origin] = contextvars.ContextVar(
    "audit_origin", default=SYSTEM_ORIGIN
)


def current_origin() -> Origin:
    return _origin.get()


@contextmanager
def origin(value: Origin):
    """Rows written inside come from ``value``."""
    token = _origin.set(value)
    try:
        yield value
    finally:
        _origin.reset(token)


def _with_impersonation(actor: Actor, data: dict | None) -> dict:
    """Signed in as a customer: the row's user is the real person; the data says as whom."""
    data = dict(data or {})
    if actor.impersonator is not None:
        data["impersonating_customer"] = actor.customer_id
    return data


def audit(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    organisation: Any = None,
    data: dict | None = None,
) -> AuditEntry:
    where = current_origin()
    return AuditEntry.objects.create(
        organisation=organisation if organisation is not None else actor.organisation,
        user=actor.user,
        actor=str(actor)[:200],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=_with_impersonation(actor, data),
        ip_address=where.ip_address,
        origin=where.channel,
    )

"""Write an audit row; call it inside the service's transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.models import AuditEntry
from portal.tenancy import Actor


def audit(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    organisation: Any = None,
    data: dict | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        organisation=organisation if organisation is not None else actor.organisation,
        user=actor.user,
        actor=str(actor)[:200],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )

"""The hooks of dns: what it makes happen in an app beside it, which it never imports.

dns and support sit side by side above domains (DESIGN.md's layers) and do not import each other.
Each hook is a :class:`portal.hooks.Hook`; the app named below registers its implementation in its
``AppConfig.ready()``. Tests replace one with ``hook.replaced(fake)``.

``system_ticket(*, subject: str, body: str, **links) -> Ticket | None``
    Tell staff (and, when ``links`` name one, the customer) about something dns did or could not
    do: a zone push that failed for good (``dns.outbox``), other customers' zones disabled
    because a domain changed hands (``dns.services``). ``links`` are ``organisation_id``,
    ``customer_id``, ``domain`` (a ``domains.models.Domain``) or ``domain_id``, and
    ``staff_only=True`` for a ticket the customer must not see. Registered by support:
    ``support.services.ticket_open_system``. None registered: a warning in the log with the
    subject. Guarded (see ``portal.hooks``): an implementation that raises is logged and rolled
    back to its savepoint, and dns goes on (the push stays failed, the zones stay disabled).
"""

from __future__ import annotations

import logging
from typing import Any

from portal.hooks import Hook

logger = logging.getLogger(__name__)


def _log_only(*, subject: str, body: str, **links: Any) -> None:
    logger.warning("no app opens system tickets; not told: %s", subject)


system_ticket = Hook("dns.system_ticket", default=_log_only, guarded=True)

ALL = (system_ticket,)

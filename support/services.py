"""Every state change of the support app."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from support.models import Department, Message, Ticket

SYSTEM_DEPARTMENT = "Domains"


def new_ticket_number() -> str:
    """A random 6-digit public number not yet used."""
    for _ in range(50):
        number = f"{secrets.randbelow(900000) + 100000}"
        if not Ticket.objects.filter(ticket_number=number).exists():
            return number
    raise RuntimeError("could not find a free ticket number")


def ticket_open_system(
    *, subject: str, body: str, department_name: str = SYSTEM_DEPARTMENT, **links
) -> Ticket:
    """A ticket opened by Nameport itself (failed registry operation, incomplete order...).

    It lands in a platform department for staff; when it concerns a customer, the customer sees
    it in their ticket list too, which is how they are told.
    """
    department, _ = Department.objects.get_or_create(
        organisation=None, name=department_name, defaults={"is_public": False}
    )
    for _ in range(5):
        try:
            with transaction.atomic():
                ticket = Ticket.objects.create(
                    ticket_number=new_ticket_number(),
                    department=department,
                    subject=subject[:200],
                    is_system=True,
                    priority=Ticket.Priority.HIGH,
                    last_reply_at=timezone.now(),
                    **links,
                )
                Message.objects.create(
                    ticket=ticket, author_name="Nameport", body=body, is_staff=True
                )
                return ticket
        except IntegrityError:
            continue
    raise RuntimeError("could not open a ticket")


def ticket_open_for_operation(*, operation) -> Ticket:
    domain = operation.domain
    name = domain.name if domain else "-"
    return ticket_open_system(
        subject=f"{operation.get_kind_display()} of {name} failed at the registry",
        body=(
            f"The registry refused {operation.get_kind_display().lower()} of {name}.\n\n"
            f"Registry message: {operation.last_error}\n\n"
            "Staff can correct the data and retry the operation from the operations queue."
        ),
        organisation_id=operation.organisation_id,
        customer_id=domain.customer_id if domain else None,
        domain=domain,
        operation=operation,
    )

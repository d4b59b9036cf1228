"""Every state change of the support app.

Each service runs in one transaction, writes an audit row in it, and hands e-mail to Celery with
``transaction.on_commit`` (never inside the request). Help-desk rules:

* a requester's reply sets Customer-Reply, an agent's answer sets Answered (and stamps the first
  response), an internal note changes nothing the customer sees and is never e-mailed;
* a requester's reply to a closed ticket re-opens it within ``NAMEPORT_SUPPORT_REOPEN_DAYS``,
  later it opens a new ticket linked to the old one (``follow_up_of``);
* attachments are checked (count, size, extension, and the file's own signature for images,
  PDF and ZIP) before anything is stored.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import get_valid_filename

from customers.models import Customer
from domains.services import operation_retry
from portal.audit import audit
from portal.tenancy import SYSTEM, Actor, ActorKind
from support import policies
from support.models import DEFAULT_DEPARTMENT, Attachment, Department, Message, Ticket, Via
from support.selectors import is_agent, visible_departments

logger = logging.getLogger(__name__)

SYSTEM_DEPARTMENT = "Domains"
Status = Ticket.Status
UNSET: Any = object()

# What the first bytes of a file must be for its extension (None: any content, served as text
# or as a download, never rendered).
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "eml": "message/rfc822",
}


# --- numbers and names ------------------------------------------------------------------------


def new_ticket_number() -> str:
    """A random 6-digit public number not yet used."""
    for _ in range(50):
        number = f"{secrets.randbelow(900000) + 100000}"
        if not Ticket.objects.filter(ticket_number=number).exists():
            return number
    raise RuntimeError("could not find a free ticket number")


def _mode_of(fields: dict) -> bool:
    """A ticket's mode, from what it is about: its customer, domain, operation or invoice."""
    for name in ("customer", "domain", "operation", "invoice", "order"):
        linked = fields.get(name)
        if linked is not None:
            return getattr(linked, "livemode", True)
    if fields.get("customer_id") is not None:
        return Customer.objects.values_list("livemode", flat=True).get(pk=fields["customer_id"])
    return True


def _create_ticket(**fields) -> Ticket:
    """Insert a ticket with a fresh random number; a clash (two openings at once) tries again."""
    fields.setdefault("livemode", _mode_of(fields))
    for _ in range(5):
        try:
            with transaction.atomic():
                return Ticket.objects.create(ticket_number=new_ticket_number(), **fields)
        except IntegrityError:
            continue
    raise RuntimeError("could not open a ticket")


def _author(actor: Actor) -> tuple[str, str]:
    """The name and e-mail address shown on a message written by ``actor``."""
    if actor.contact is not None and actor.kind == ActorKind.CONTACT:
        contact = actor.contact
        return f"{contact.first_name} {contact.last_name}".strip(), contact.email
    if actor.kind == ActorKind.CUSTOMER and actor.customer is not None:
        customer = actor.customer
        if actor.impersonator is not None or actor.user is None:
            # Signed in as the customer: the message is the customer's (answers go to the
            # customer's address); the audit row names the real person.
            return customer.name, customer.email
        return customer.name, actor.user.email
    if actor.user is not None:
        return actor.user.get_full_name() or actor.user.email, actor.user.email
    if actor.api_key is not None:
        organisation = actor.organisation.name if actor.organisation else ""
        return f"{organisation} (API)".strip(), ""
    return "Nameport", ""


def _notify(event: str, ticket: Ticket, message: Message | None = None, **extra) -> None:
    from support.tasks import ticket_notify

    ticket_id, message_id = ticket.pk, (message.pk if message is not None else None)
    transaction.on_commit(lambda: ticket_notify.delay(event, ticket_id, message_id, **extra))


# --- attachments ------------------------------------------------------------------------------


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def clean_filename(name: str) -> str:
    base = PurePath((name or "").replace("\\", "/")).name
    cleaned = get_valid_filename(base) if base.strip(". ") else ""
    return (cleaned or "attachment")[:150]


def validate_attachments(files: Sequence[File]) -> None:
    """Refuse the whole lot (nothing stored) when one file breaks a limit."""
    max_files = settings.NAMEPORT_ATTACHMENT_MAX_FILES
    max_bytes = settings.NAMEPORT_ATTACHMENT_MAX_BYTES
    allowed = [e.lower() for e in settings.NAMEPORT_ATTACHMENT_EXTENSIONS]
    errors = []
    if len(files) > max_files:
        errors.append(f"At most {max_files} attachments per message.")
    for upload in files:
        name = clean_filename(upload.name or "")
        extension = _extension(name)
        if extension not in allowed:
            errors.append(
                f"{name}: this type of file is not accepted (allowed: {', '.join(allowed)})."
            )
            continue
        if (upload.size or 0) > max_bytes:
            errors.append(f"{name} is too large (the limit is {filesizeformat(max_bytes)}).")
            continue
        if not upload.size:
            errors.append(f"{name} is empty.")
            continue
        signatures = SIGNATURES.get(extension)
        if signatures:
            upload.seek(0)
            head = upload.read(16)
            upload.seek(0)
            valid = any(head.startswith(s) for s in signatures)
            if extension == "webp":
                valid = valid and head[8:12] == b"WEBP"
            if not valid:
                errors.append(f"{name} is not a valid .{extension} file.")
    if errors:
        raise ValidationError({"attachments": errors})


def _store_attachments(message: Message, files: Iterable[File]) -> list[Attachment]:
    stored = []
    for upload in files:
        name = clean_filename(upload.name or "")
        extension = _extension(name)
        content_type = CONTENT_TYPES.get(extension) or (
            mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        upload.seek(0)
        attachment = Attachment(
            message=message, filename=name, size=upload.size or 0, content_type=content_type
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


# --- departments ------------------------------------------------------------------------------


def department_ensure_default(*, organisation) -> Department:
    """The organisation's default support department (``DEFAULT_DEPARTMENT``), made when
    missing: its customers' tickets land there, and its members answer them. Called when an
    organisation is made (``customers.hooks.organisation_created``) and, as a safety net, before
    one of its customers opens a ticket."""
    department, created = Department.objects.get_or_create(
        organisation=organisation,
        name=DEFAULT_DEPARTMENT,
        defaults={"is_public": True, "position": 0, "email": ""},
    )
    if created:
        audit(
            actor=SYSTEM,
            action="department.create",
            obj=department,
            organisation=organisation,
            data={"name": department.name},
        )
    return department


# --- opening ----------------------------------------------------------------------------------


def _clean_text(value: str, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"{label} cannot be empty."})
    return value


def ticket_open(
    *,
    actor: Actor,
    department: Department,
    subject: str,
    body: str,
    priority: str = Ticket.Priority.MEDIUM,
    customer=None,
    domain=None,
    invoice=None,
    attachments: Sequence[File] = (),
    via: str = Via.WEB,
    email_message_id: str = "",
    follow_up_of: Ticket | None = None,
) -> Ticket:
    """Open a ticket in ``department`` for ``customer`` (a customer actor's own account)."""
    from billing.selectors import visible_invoices
    from customers.selectors import visible_customers
    from domains.selectors import visible_domains

    if not policies.can_open(actor):
        raise PermissionDenied(_refusal(actor, "You may not open support tickets."))
    errors: dict[str, str] = {}
    subject = (subject or "").strip()
    body = (body or "").strip()
    if not subject:
        errors["subject"] = "Subject cannot be empty."
    if not body:
        errors["body"] = "Message cannot be empty."
    if (
        department is None
        or not visible_departments(actor).filter(pk=department.pk).exists()
        or (
            not actor.is_staff
            and not department.is_public
            and department.organisation_id != actor.organisation_id
        )
    ):
        errors["department"] = "Choose one of the departments offered."
    if priority not in Ticket.Priority.values:
        errors["priority"] = "Unknown priority."
    if actor.is_customer:
        customer = actor.customer
    elif customer is not None and not visible_customers(actor).filter(pk=customer.pk).exists():
        errors["customer"] = "Unknown customer."
    if domain is not None:
        domains = visible_domains(actor)
        if customer is not None:
            domains = domains.filter(customer=customer)
        if not domains.filter(pk=domain.pk).exists():
            errors["domain"] = "Unknown domain."
    if invoice is not None:
        invoices = visible_invoices(actor)
        if customer is not None:
            invoices = invoices.filter(customer=customer)
        if not invoices.filter(pk=invoice.pk).exists():
            errors["invoice"] = "Unknown invoice."
    if errors:
        raise ValidationError(errors)
    validate_attachments(attachments)

    if customer is not None:
        organisation = customer.organisation
    elif actor.organisation is not None:
        organisation = actor.organisation
    else:
        organisation = department.organisation
    author_name, author_email = _author(actor)
    agent_side = actor.is_staff or (
        actor.is_reseller and department.organisation_id == actor.organisation_id
    )
    now = timezone.now()
    with transaction.atomic():
        ticket = _create_ticket(
            organisation=organisation,
            customer=customer,
            livemode=(
                customer.livemode
                if customer is not None
                else (actor.livemode if actor.livemode is not None else True)
            ),
            department=department,
            subject=subject[:200],
            priority=priority,
            status=Status.OPEN,
            client_read=True,
            domain=domain,
            invoice=invoice,
            created_by=actor.user,
            last_reply_at=now,
            follow_up_of=follow_up_of,
        )
        message = Message.objects.create(
            ticket=ticket,
            author=actor.user,
            author_name=author_name[:200],
            author_email=author_email,
            body=body,
            is_staff=agent_side,
            via=via,
            email_message_id=email_message_id[:255],
        )
        _store_attachments(message, attachments)
        audit(
            actor=actor,
            action="ticket.open",
            obj=ticket,
            organisation=organisation,
            data={
                "ticket_number": ticket.ticket_number,
                "department": department.name,
                "via": via,
                "attachments": len(attachments),
                **({"follow_up_of": follow_up_of.ticket_number} if follow_up_of else {}),
            },
        )
        _notify("opened", ticket, message)
    return ticket


# --- replies ----------------------------------------------------------------------------------


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("department").get(pk=ticket.pk)


def reopen_window() -> timedelta:
    return timedelta(days=settings.NAMEPORT_SUPPORT_REOPEN_DAYS)


def _within_reopen_window(ticket: Ticket) -> bool:
    return ticket.closed_at is None or timezone.now() - ticket.closed_at <= reopen_window()


def ticket_reply(
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    internal: bool = False,
    attachments: Sequence[File] = (),
    via: str = Via.WEB,
    email_message_id: str = "",
) -> Message:
    """Add a reply (or, for agents, an internal note). Returns the message; ``message.ticket``
    is a new follow-up ticket when the requester wrote to a ticket closed too long ago."""
    agent = is_agent(actor, ticket)
    if not policies.can_reply(actor, ticket):
        raise PermissionDenied(_refusal(actor, "You may not reply to support tickets."))
    if internal and not policies.can_write_internal(actor, ticket):
        raise PermissionDenied(_refusal(actor, "Only the support team writes internal notes."))
    body = _clean_text(body, "body", "Message")
    validate_attachments(attachments)

    author_name, author_email = _author(actor)
    now = timezone.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        if not agent and ticket.status == Status.CLOSED and not _within_reopen_window(ticket):
            new_ticket = ticket_open(
                actor=actor,
                department=ticket.department,
                subject=ticket.subject,
                body=body,
                priority=ticket.priority,
                customer=ticket.customer,
                domain=ticket.domain,
                invoice=ticket.invoice,
                attachments=attachments,
                via=via,
                email_message_id=email_message_id,
                follow_up_of=ticket,
            )
            return new_ticket.messages.get()
        previous = ticket.status
        message = Message.objects.create(
            ticket=ticket,
            author=actor.user,
            author_name=author_name[:200],
            author_email=author_email,
            body=body,
            is_staff=agent,
            is_internal=internal,
            via=via,
            email_message_id=email_message_id[:255],
        )
        _store_attachments(message, attachments)
        fields = ["updated_at"]
        if not internal:
            ticket.last_reply_at = now
            fields.append("last_reply_at")
            if agent:
                ticket.status = Status.ANSWERED
                ticket.client_read = False
                fields += ["status", "client_read"]
                if ticket.first_response_at is None:
                    ticket.first_response_at = now
                    fields.append("first_response_at")
            else:
                ticket.status = Status.CUSTOMER_REPLY
                ticket.client_read = True
                fields += ["status", "client_read"]
            if previous == Status.CLOSED:
                ticket.closed_at = None
                fields.append("closed_at")
        ticket.save(update_fields=fields)
        audit(
            actor=actor,
            action="ticket.note" if internal else "ticket.reply",
            obj=ticket,
            organisation=ticket.organisation,
            data={
                "ticket_number": ticket.ticket_number,
                "message": message.pk,
                "via": via,
                "attachments": len(attachments),
                **({"reopened": True} if previous == Status.CLOSED and not internal else {}),
            },
        )
        if not internal:
            _notify("reply", ticket, message)
    message.ticket = ticket
    return message


# --- status -----------------------------------------------------------------------------------


def _change_status(*, actor: Actor, ticket: Ticket, to: str, action: str) -> Ticket:
    """Inside a transaction, on a locked ticket."""
    previous = ticket.status
    ticket.status = to
    fields = ["status", "updated_at"]
    if to == Status.CLOSED:
        ticket.closed_at = timezone.now()
        fields.append("closed_at")
    elif previous == Status.CLOSED:
        ticket.closed_at = None
        fields.append("closed_at")
    ticket.full_clean(exclude=["ticket_number"], validate_unique=False)
    ticket.save(update_fields=fields)
    audit(
        actor=actor,
        action=action,
        obj=ticket,
        organisation=ticket.organisation,
        data={"ticket_number": ticket.ticket_number, "from": previous, "to": to},
    )
    _notify("status", ticket, None, previous=previous)
    return ticket


def ticket_close(*, actor: Actor, ticket: Ticket) -> Ticket:
    if not policies.can_close(actor, ticket):
        raise PermissionDenied(_refusal(actor, "You may not close support tickets."))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status == Status.CLOSED:
            raise ValidationError("This ticket is already closed.")
        return _change_status(actor=actor, ticket=ticket, to=Status.CLOSED, action="ticket.close")


def ticket_reopen(*, actor: Actor, ticket: Ticket) -> Ticket:
    """Re-open a closed ticket: agents always, requesters within the re-open window."""
    agent = is_agent(actor, ticket)
    if not policies.can_reopen(actor, ticket):
        raise PermissionDenied(_refusal(actor, "You may not re-open support tickets."))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status != Status.CLOSED:
            raise ValidationError("This ticket is not closed.")
        if not agent and not _within_reopen_window(ticket):
            days = settings.NAMEPORT_SUPPORT_REOPEN_DAYS
            raise ValidationError(
                f"This ticket was closed more than {days} days ago; please open a new ticket."
            )
        to = Status.OPEN if agent else Status.CUSTOMER_REPLY
        return _change_status(actor=actor, ticket=ticket, to=to, action="ticket.reopen")


def ticket_update(
    *,
    actor: Actor,
    ticket: Ticket,
    status: str | None = None,
    priority: str | None = None,
    department: Department | None = None,
    assignee: Any = UNSET,
) -> Ticket:
    """Agents triage a ticket: status (On Hold...), priority, department, assignee."""
    from support.selectors import assignable_agents, triage_departments

    if not policies.can_triage(actor, ticket):
        raise PermissionDenied(_refusal(actor, "Only the support team changes these."))
    errors = {}
    if status is not None and status not in Status.values:
        errors["status"] = "Unknown status."
    if priority is not None and priority not in Ticket.Priority.values:
        errors["priority"] = "Unknown priority."
    if (
        department is not None
        and not triage_departments(actor, ticket).filter(pk=department.pk).exists()
    ):
        errors["department"] = "Choose one of your own departments."
    if (
        assignee is not UNSET
        and assignee is not None
        and not assignable_agents(ticket).filter(pk=assignee.pk).exists()
    ):
        errors["assignee"] = assignee_refusal(ticket)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ticket = _locked(ticket)
        changes: dict[str, Any] = {}
        if priority is not None and priority != ticket.priority:
            changes["priority"] = [ticket.priority, priority]
            ticket.priority = priority
        if department is not None and department.pk != ticket.department_id:
            changes["department"] = [ticket.department.name, department.name]
            ticket.department = department
        if assignee is not UNSET and getattr(assignee, "pk", None) != ticket.assignee_id:
            changes["assignee"] = [
                ticket.assignee.email if ticket.assignee else None,
                assignee.email if assignee else None,
            ]
            ticket.assignee = assignee
        if changes:
            ticket.save(update_fields=["priority", "department", "assignee", "updated_at"])
            audit(
                actor=actor,
                action="ticket.update",
                obj=ticket,
                organisation=ticket.organisation,
                data={"ticket_number": ticket.ticket_number, **changes},
            )
        if status is not None and status != ticket.status:
            ticket = _change_status(actor=actor, ticket=ticket, to=status, action="ticket.status")
    return ticket


def assignee_refusal(ticket: Ticket) -> str:
    """Why someone cannot be assigned ``ticket`` (the same words whoever it was)."""
    if ticket.department.organisation_id is None:
        return "Only the platform's staff can be assigned tickets of this department."
    return (
        f"Only members of {ticket.department.organisation} who answer tickets (owner, admin "
        "or support role) can be assigned this ticket."
    )


def _refusal(actor: Actor, default: str) -> str:
    """Why the actor may not act on a ticket: its role's reason when that is it."""
    from customers.roles import Right, may, refusal

    return default if may(actor, Right.SUPPORT) else refusal(actor, Right.SUPPORT)


def ticket_mark_read(*, actor: Actor, ticket: Ticket) -> Ticket:
    """The requester has seen the latest answer (seed 003's ``client_read``)."""
    if is_agent(actor, ticket) or ticket.client_read:
        return ticket
    with transaction.atomic():
        if Ticket.objects.filter(pk=ticket.pk, client_read=False).update(client_read=True):
            audit(
                actor=actor,
                action="ticket.read",
                obj=ticket,
                organisation=ticket.organisation,
                data={"ticket_number": ticket.ticket_number},
            )
    ticket.client_read = True
    return ticket


def ticket_retry_operation(*, actor: Actor, ticket: Ticket):
    """Staff put the ticket's failed registry operation back in the queue."""
    if not policies.can_retry_operation(actor, ticket):
        raise PermissionDenied("Only staff retry registry operations.")
    if ticket.operation_id is None:
        raise ValidationError("This ticket has no registry operation.")
    with transaction.atomic():
        operation = operation_retry(actor=actor, operation=ticket.operation)
        author_name, author_email = _author(actor)
        Message.objects.create(
            ticket=ticket,
            author=actor.user,
            author_name=author_name,
            author_email=author_email,
            body=f"{author_name} put the operation back in the registry queue.",
            is_staff=True,
            is_internal=True,
            via=Via.SYSTEM,
        )
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        audit(
            actor=actor,
            action="ticket.retry_operation",
            obj=ticket,
            organisation=ticket.organisation,
            data={"ticket_number": ticket.ticket_number, "operation": operation.pk},
        )
    return operation


# --- tickets opened by Nameport itself --------------------------------------------------------


def ticket_open_system(
    *, subject: str, body: str, department_name: str = SYSTEM_DEPARTMENT, **links
) -> Ticket:
    """A ticket opened by Nameport itself (failed registry operation, incomplete order...).

    It lands in a platform department for staff; when it concerns a customer, the customer sees
    it in their ticket list too, which is how they are told, unless it is ``staff_only=True``
    (then the text is for staff, and the customer is told in a ticket of their own).
    """
    department, _ = Department.objects.get_or_create(
        organisation=None, name=department_name, defaults={"is_public": False}
    )
    with transaction.atomic():
        ticket = _create_ticket(
            department=department,
            subject=subject[:200],
            is_system=True,
            priority=Ticket.Priority.HIGH,
            last_reply_at=timezone.now(),
            **links,
        )
        message = Message.objects.create(
            ticket=ticket, author_name="Nameport", body=body, is_staff=True, via=Via.SYSTEM
        )
        audit(
            actor=SYSTEM,
            action="ticket.open_system",
            obj=ticket,
            organisation=ticket.organisation,
            data={"ticket_number": ticket.ticket_number, "subject": ticket.subject},
        )
        _notify("opened", ticket, message)
    return ticket


# What a customer reads about an operation: "the {phrase} of example.com".
CUSTOMER_PHRASES = {
    "register": "registration of {name}",
    "transfer": "transfer of {name} to us",
    "renew": "renewal of {name}",
    "nameservers": "nameserver change for {name}",
    "lock": "registrar lock change for {name}",
    "privacy": "ID protection change for {name}",
    "contacts": "contact update for {name}",
    "auth_code": "transfer code request for {name}",
    "host_create": "glue host change for {name}",
    "host_update": "glue host change for {name}",
    "host_delete": "glue host change for {name}",
    "dnssec": "DNSSEC change for {name}",
    "autorenew": "auto-renew change for {name}",
}


def _staff_note(ticket: Ticket, body: str, *, internal: bool) -> Message:
    return Message.objects.create(
        ticket=ticket,
        author_name="Nameport",
        body=body,
        is_staff=True,
        is_internal=internal,
        via=Via.SYSTEM,
    )


def ticket_open_for_operation(*, operation) -> Ticket:
    """A registry operation stopped (failed for good, or held for staff). Returns the staff
    ticket.

    Two tickets, as a help desk keeps a problem apart from the customer's incident (Zendesk's
    problem and incident tickets): the staff ticket, marked ``staff_only``, carries the
    registry's own message and the retry button, and is never shown to the customer, their
    contacts or the reseller (its text can name the registry's price); the customer gets a
    ticket written for them that says what happened and what comes next, without registry
    internals. When the operation stops again while its staff ticket is open, that ticket gets
    a note instead of a second pair. A successful retry closes both
    (``ticket_close_for_operations``). A failed sync concerns only staff: no customer ticket.
    """
    domain = operation.domain
    name = domain.name if domain else "-"
    kind = operation.get_kind_display()
    held = operation.status == "held"
    with transaction.atomic():
        staff_ticket = (
            Ticket.objects.select_for_update()
            .filter(operation_id=operation.pk, staff_only=True)
            .exclude(status=Status.CLOSED)
            .first()
        )
        if staff_ticket is not None:
            _staff_note(
                staff_ticket,
                f"It stopped again ({operation.get_status_display().lower()}).\n\n"
                f"Registry message: {operation.last_error}",
                internal=True,
            )
            Ticket.objects.filter(pk=staff_ticket.pk).update(
                status=Status.OPEN, updated_at=timezone.now(), last_reply_at=timezone.now()
            )
            return staff_ticket
        if held:
            subject = f"{kind} of {name} is waiting for our team"
            opening = f"{kind} of {name} was stopped before it reached the registry."
        else:
            subject = f"{kind} of {name} failed at the registry"
            opening = f"The registry refused {kind.lower()} of {name}."
        customer_id = domain.customer_id if domain else None
        staff_ticket = ticket_open_system(
            subject=subject,
            body=(
                f"{opening}\n\nRegistry message: {operation.last_error}\n\n"
                "Correct the data and retry the operation from this ticket. The customer does not "
                "see this ticket: they were told in a ticket of their own, which closes with this "
                "one when the retry succeeds."
            ),
            organisation_id=operation.organisation_id,
            customer_id=customer_id,
            domain=domain,
            operation=operation,
            staff_only=True,
        )
        phrase = CUSTOMER_PHRASES.get(operation.kind)
        if customer_id is not None and phrase is not None:
            what = phrase.format(name=name)
            if held:
                customer_subject = f"The {what} is waiting for a check by our team"
                body = (
                    f"The {what} is waiting for our team to check it before it is sent to the "
                    "registry, so it has not been made yet. There is nothing you need to do now: "
                    "we will write here as soon as it goes ahead, or if we need you to confirm "
                    "anything."
                )
            else:
                customer_subject = f"The {what} did not go through yet"
                body = (
                    f"The registry did not accept the {what}, so the change has not been made "
                    "yet. Our team has been told and is looking into it; there is nothing you "
                    "need to do now. We will write here when it is done, or if we need anything "
                    "from you."
                )
            ticket_open_system(
                subject=customer_subject,
                body=body,
                organisation_id=operation.organisation_id,
                customer_id=customer_id,
                domain=domain,
                operation=operation,
            )
    return staff_ticket


def ticket_close_for_operations(*, operation_ids: list[int]) -> int:
    """Operations that had stopped succeeded after a retry: close their open tickets with a
    note (internal on the staff ticket; on the customer's, a message written for them, which
    is e-mailed). One query when none of them has a ticket. Returns how many were closed."""
    if not operation_ids:
        return 0
    with transaction.atomic():
        tickets = list(
            Ticket.objects.select_for_update(of=("self",))
            .filter(operation_id__in=operation_ids)
            .exclude(status=Status.CLOSED)
            .select_related("operation__domain")
        )
        now = timezone.now()
        for ticket in tickets:
            operation = ticket.operation
            name = operation.domain.name if operation.domain_id else "-"
            if ticket.staff_only:
                message = _staff_note(
                    ticket,
                    f"{operation.get_kind_display()} of {name} succeeded after the retry "
                    f"(attempt {operation.attempts}); closed by Nameport.",
                    internal=True,
                )
            else:
                what = CUSTOMER_PHRASES.get(operation.kind, "change of {name}").format(name=name)
                message = _staff_note(
                    ticket,
                    f"Good news: the {what} is done. Thank you for your patience; this ticket "
                    "is now closed, and you can write here within a few days if anything is "
                    "still wrong.",
                    internal=False,
                )
            previous = ticket.status
            Ticket.objects.filter(pk=ticket.pk).update(
                status=Status.CLOSED,
                closed_at=now,
                updated_at=now,
                last_reply_at=now,
                client_read=ticket.staff_only,
            )
            audit(
                actor=SYSTEM,
                action="ticket.close_system",
                obj=ticket,
                organisation=ticket.organisation,
                data={
                    "ticket_number": ticket.ticket_number,
                    "from": previous,
                    "operation": operation.pk,
                },
            )
            if not ticket.staff_only:
                _notify("reply", ticket, message)
    return len(tickets)


def ticket_open_for_order(*, order, reason: str) -> Ticket:
    """An order that cannot be completed automatically: routed to support for completion."""
    return ticket_open_system(
        subject=f"Order {order.pk} needs our team to complete it",
        body=(
            f"Order {order.pk} could not be completed automatically.\n\nReason: {reason}\n\n"
            "Our team will complete it and answer here."
        ),
        department_name="Billing",
        organisation_id=order.organisation_id,
        customer_id=order.customer_id,
        order=order,
    )


def ticket_open_for_dispute(*, invoice, reason: str) -> Ticket:
    """The payment gateway disputes a payment of ``invoice`` (chargeback, fraud review...)."""
    number = getattr(invoice, "number", "") or invoice.pk
    return ticket_open_system(
        subject=f"Payment of invoice {number} is disputed",
        body=(
            f"The payment gateway reported a dispute on invoice {number}.\n\n"
            f"Gateway message: {reason}\n\nOur billing team will look into it and answer here."
        ),
        department_name="Billing",
        organisation_id=invoice.organisation_id,
        customer_id=invoice.customer_id,
        invoice=invoice,
    )

"""Support pages: the ticket list (the staff queue, which refreshes itself), a ticket with its
conversation and reply box (HTMX, no page reload), opening a ticket, and attachments served only
to actors who see their ticket."""

from __future__ import annotations

import json
import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from portal.views import htmx_partial, list_context, render_htmx
from support import escalation, policies, services
from support.filtersets import TicketFilterSet
from support.forms import (
    EscalateForm,
    EscalationAnswerForm,
    ReplyForm,
    TicketManageForm,
    TicketOpenForm,
)
from support.models import Ticket
from support.selectors import (
    is_agent,
    is_agent_anywhere,
    visible_attachments,
    visible_canned_replies,
    visible_messages,
    visible_tickets,
)

TICKET_SORT = {
    "number": ("ticket_number",),
    "subject": ("subject",),
    "status": ("status",),
    "priority": ("priority",),
    "opened": ("created_at",),
    "updated": ("updated_at",),
}
QUEUE_POLL_SECONDS = 30


def _may_open(actor) -> bool:
    return policies.can_open(actor)


def _add_errors(form, exc: ValidationError, default: str = "body") -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = key if key in form.fields else None
            if key == NON_FIELD_ERRORS:
                field = None
            for error in errors:
                form.add_error(field, error)
    else:
        for error in exc.messages:
            form.add_error(default if default in form.fields else None, error)


# --- list -----------------------------------------------------------------------------------


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    agent = is_agent_anywhere(actor)
    queryset = visible_tickets(actor).select_related("organisation")
    fields = ["q", "status", "priority"]
    if agent:
        fields += ["department", "assignee", "age", "escalation"]
    context = list_context(
        request,
        queryset,
        TicketFilterSet,
        sort_columns=TICKET_SORT,
        fields=fields,
        hidden=tuple(
            n for n in ("department", "assignee", "escalation", "is_system") if n not in fields
        ),
    )
    context.update(is_queue=agent, poll_seconds=QUEUE_POLL_SECONDS, may_open=_may_open(actor))
    if actor.is_staff and not htmx_partial(request):
        # Escalations waiting for the platform's staff (support.escalation), one click away.
        context["escalations_waiting"] = (
            visible_tickets(actor)
            .filter(escalated_at__isnull=False, escalation_answered_at__isnull=True)
            .count()
        )
    return render_htmx(request, "support/ticket_list.html", "support/_ticket_results.html", context)


# --- opening ----------------------------------------------------------------------------------


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not _may_open(actor):
        raise PermissionDenied("You may not open support tickets.")
    form = TicketOpenForm(request.POST or None, request.FILES or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = services.ticket_open(
                    actor=actor,
                    department=data["department"],
                    subject=data["subject"],
                    body=data["body"],
                    priority=data["priority"],
                    customer=data.get("customer"),
                    domain=data.get("domain"),
                    attachments=data["attachments"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Ticket #{ticket.ticket_number} is open.")
                return redirect("support:ticket_detail", ticket.ticket_number)
        status = 400
    return render(request, "support/ticket_new.html", {"form": form}, status=status)


# --- one ticket -------------------------------------------------------------------------------


def _ticket(request: HttpRequest, ticket_number: str) -> Ticket:
    return get_object_or_404(
        visible_tickets(request.actor).select_related(
            "organisation", "domain", "invoice", "operation", "follow_up_of", "escalated_by"
        ),
        ticket_number=ticket_number,
    )


def _may_reply(actor, ticket: Ticket) -> bool:
    return policies.can_reply(actor, ticket)


def _conversation_context(request, ticket: Ticket, reply_form: ReplyForm | None = None) -> dict:
    actor = request.actor
    agent = is_agent(actor, ticket)
    if reply_form is None:
        reply_form = ReplyForm(agent=agent)
    return {
        "ticket": ticket,
        "agent": agent,
        "messages_list": list(visible_messages(actor, ticket)),
        "reply_form": reply_form,
        "may_reply": _may_reply(actor, ticket),
        "canned_replies": list(visible_canned_replies(actor)) if agent else [],
    }


@login_required
def ticket_detail(request: HttpRequest, ticket_number: str) -> HttpResponse:
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    ticket = services.ticket_mark_read(actor=actor, ticket=ticket)
    context = _conversation_context(request, ticket)
    agent = context["agent"]
    context.update(
        manage_form=TicketManageForm(actor=actor, ticket=ticket) if agent else None,
        may_close=ticket.status != Ticket.Status.CLOSED and policies.can_close(actor, ticket),
        may_reopen=ticket.status == Ticket.Status.CLOSED and policies.can_reopen(actor, ticket),
        may_retry=policies.can_retry_operation(actor, ticket)
        and ticket.operation_id is not None
        and ticket.operation.status in {"failed", "held", "cancelled"},
        follow_ups=list(visible_tickets(actor).filter(follow_up_of=ticket)),
        may_escalate=policies.can_escalate(actor, ticket)
        and not ticket.is_escalated
        and ticket.status != Ticket.Status.CLOSED,
        escalate_form=EscalateForm(),
        may_answer_escalation=ticket.is_escalated and policies.can_answer_escalation(actor, ticket),
        escalation_answer_form=EscalationAnswerForm(),
    )
    return render_htmx(request, "support/ticket_detail.html", "support/_conversation.html", context)


@login_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_number: str) -> HttpResponse:
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    agent = is_agent(actor, ticket)
    form = ReplyForm(request.POST, request.FILES, agent=agent)
    message = None
    if form.is_valid():
        try:
            message = services.ticket_reply(
                actor=actor,
                ticket=ticket,
                body=form.cleaned_data["body"],
                internal=bool(form.cleaned_data.get("internal")),
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
    if message is not None and message.ticket.pk != ticket.pk:
        # Closed too long ago: the reply opened a new ticket, linked to this one.
        text = (
            f"This ticket was closed, so your message opened ticket "
            f"#{message.ticket.ticket_number}."
        )
        messages.info(request, text)
        url = reverse("support:ticket_detail", args=[message.ticket.ticket_number])
        if htmx_partial(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect("support:ticket_detail", message.ticket.ticket_number)
    if not htmx_partial(request):
        if message is not None:
            messages.success(request, "Internal note added." if message.is_internal else "Sent.")
            return redirect("support:ticket_detail", ticket.ticket_number)
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("support:ticket_detail", ticket.ticket_number)
    ticket.refresh_from_db()
    context = _conversation_context(
        request, ticket, reply_form=None if message is not None else form
    )
    context["oob_status"] = True
    response = render(request, "support/_conversation.html", context)
    patch_vary_headers(response, ("HX-Request",))
    if message is not None:
        response["HX-Trigger"] = json.dumps(
            {"np-toast": {"message": "Internal note added." if message.is_internal else "Sent."}}
        )
    return response


@login_required
@require_GET
def ticket_reply_form(request: HttpRequest, ticket_number: str) -> HttpResponse:
    """The reply box again, its text taken from a canned reply (agents pick one from a list)."""
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    agent = is_agent(actor, ticket)
    initial = {}
    canned_id = request.GET.get("canned", "")
    if agent and canned_id.isdigit():
        canned = visible_canned_replies(actor).filter(pk=int(canned_id)).first()
        if canned is not None:
            initial["body"] = canned.body
    context = _conversation_context(request, ticket, ReplyForm(agent=agent, initial=initial))
    response = render(request, "support/_reply_form.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _action(request, ticket_number: str, do, done: str) -> HttpResponse:
    ticket = _ticket(request, ticket_number)
    try:
        do(request.actor, ticket)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("support:ticket_detail", ticket.ticket_number)


@login_required
@require_POST
def ticket_close(request: HttpRequest, ticket_number: str) -> HttpResponse:
    return _action(
        request,
        ticket_number,
        lambda actor, ticket: services.ticket_close(actor=actor, ticket=ticket),
        "The ticket is closed.",
    )


@login_required
@require_POST
def ticket_reopen(request: HttpRequest, ticket_number: str) -> HttpResponse:
    return _action(
        request,
        ticket_number,
        lambda actor, ticket: services.ticket_reopen(actor=actor, ticket=ticket),
        "The ticket is open again.",
    )


@login_required
@require_POST
def ticket_retry(request: HttpRequest, ticket_number: str) -> HttpResponse:
    return _action(
        request,
        ticket_number,
        lambda actor, ticket: services.ticket_retry_operation(actor=actor, ticket=ticket),
        "The operation is back in the registry queue.",
    )


@login_required
@require_POST
def ticket_update(request: HttpRequest, ticket_number: str) -> HttpResponse:
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    if not policies.can_triage(actor, ticket):
        raise PermissionDenied("Only the support team changes these.")
    form = TicketManageForm(request.POST, actor=actor, ticket=ticket)
    return _form_action(
        request,
        ticket,
        form,
        lambda data: services.ticket_update(
            actor=actor,
            ticket=ticket,
            status=data["status"],
            priority=data["priority"],
            department=data["department"],
            assignee=data["assignee"],
        ),
        "Ticket updated.",
    )


def _form_action(request, ticket, form, perform, success: str) -> HttpResponse:
    """Run ``perform(cleaned_data)`` for a valid form; the form's or the service's refusal, or
    ``success``, is a message on the ticket page the answer goes back to."""
    if form.is_valid():
        try:
            perform(form.cleaned_data)
        except ValidationError as exc:
            for error in exc.messages:
                messages.error(request, error)
        else:
            messages.success(request, success)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("support:ticket_detail", ticket.ticket_number)


@login_required
@require_POST
def ticket_escalate(request: HttpRequest, ticket_number: str) -> HttpResponse:
    """A reseller's support team asks the platform's staff (support.escalation)."""
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    return _form_action(
        request,
        ticket,
        EscalateForm(request.POST),
        lambda data: escalation.ticket_escalate(actor=actor, ticket=ticket, reason=data["reason"]),
        "Escalated: the platform's staff will answer you here.",
    )


@login_required
@require_POST
def ticket_escalation_answer(request: HttpRequest, ticket_number: str) -> HttpResponse:
    """Staff answer an escalation: an internal note to the reseller's team."""
    actor = request.actor
    ticket = _ticket(request, ticket_number)
    return _form_action(
        request,
        ticket,
        EscalationAnswerForm(request.POST),
        lambda data: escalation.ticket_escalation_answer(
            actor=actor, ticket=ticket, body=data["body"]
        ),
        "Answered: the reseller's team reads it as an internal note.",
    )


# --- attachments ------------------------------------------------------------------------------


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, to actors who see its message: images inline (previews), the rest as a
    download, never sniffed or run by the browser."""
    item = get_object_or_404(visible_attachments(request.actor), pk=pk)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file is missing.") from exc
    inline = item.is_image and request.GET.get("download") != "1"
    content_type = item.content_type or mimetypes.guess_type(item.filename)[0]
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.filename,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response

"""Read-only pages of the support app: tickets and their threads."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from portal.views import list_context, render_htmx
from support.filtersets import TicketFilterSet
from support.selectors import visible_messages, visible_tickets

TICKET_SORT = {
    "number": ("ticket_number",),
    "subject": ("subject",),
    "status": ("status",),
    "priority": ("priority",),
    "updated": ("updated_at",),
}


@login_required
def ticket_list(request: HttpRequest) -> HttpResponse:
    queryset = visible_tickets(request.actor).select_related("organisation")
    context = list_context(
        request,
        queryset,
        TicketFilterSet,
        sort_columns=TICKET_SORT,
        fields=["q", "status", "priority"],
        hidden=("department", "assignee"),
    )
    return render_htmx(request, "support/ticket_list.html", "support/_ticket_results.html", context)


@login_required
def ticket_detail(request: HttpRequest, ticket_number: str) -> HttpResponse:
    actor = request.actor
    ticket = get_object_or_404(
        visible_tickets(actor).select_related("organisation", "domain", "invoice"),
        ticket_number=ticket_number,
    )
    context = {"ticket": ticket, "messages_list": list(visible_messages(actor, ticket))}
    return render(request, "support/ticket_detail.html", context)

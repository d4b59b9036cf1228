"""One registry operation's page: what it is, where it stands, and each attempt (when, what was
sent without secrets, what came back, the next retry). Staff and the organisation's reseller
members (who run the queue) see it; everyone else gets 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from domains import policies
from domains.attempts import scrub
from domains.selectors import visible_operations
from portal.views import render_htmx

ATTEMPTS_SHOWN = 50


@login_required
@require_GET
def operation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    if not policies.can_manage_operations(actor):
        raise Http404
    operation = get_object_or_404(
        visible_operations(actor).select_related(
            "organisation", "registrar_account", "created_by", "domain"
        ),
        pk=pk,
    )
    recorded = list(operation.attempt_log.order_by("-started_at", "-id")[:ATTEMPTS_SHOWN])
    attempts = [
        {"row": attempt, **policies.attempt_view_for(actor, attempt)} for attempt in recorded
    ]
    context = {
        "op": operation,
        "attempts": attempts,
        "attempt_total": operation.attempt_log.count(),
        "message": policies.operation_message_for(actor, operation),
        "payload": scrub(policies.operation_payload_for(actor, operation)),
        "polling": operation.status in {"pending", "running"},
        "can_retry": operation.status in {"failed", "held", "cancelled"},
        "can_cancel": operation.status in {"pending", "held", "failed", "awaiting_funds"},
        "log": (operation.result or {}).get("log", []) if actor.is_staff else [],
    }
    return render_htmx(
        request, "domains/operation_detail.html", "domains/_operation_detail.html", context
    )

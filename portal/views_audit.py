"""The audit log page: every change made by a person or a key (who, when, what, from where),
filtered and paginated; staff see the platform, a reseller's owner or admin its organisation."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from portal.audit_log import AuditEntryFilterSet, can_read_audit_log, visible_audit_entries
from portal.views import list_context, render_htmx

AUDIT_SORT = {"when": ("created_at", "id")}


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not can_read_audit_log(actor):
        raise Http404
    context = list_context(
        request, visible_audit_entries(actor), AuditEntryFilterSet, sort_columns=AUDIT_SORT
    )
    return render_htmx(request, "portal/audit_log.html", "portal/_audit_results.html", context)

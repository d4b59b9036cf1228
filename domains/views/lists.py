"""Lists of domains and of registry operations: filters, CSV export, bulk actions, and the
operations queue with retry and cancel."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from domains import dispatch, policies, services
from domains.filtersets import DomainFilterSet, RegistrarOperationFilterSet
from domains.forms import BulkForm
from domains.selectors import visible_domains, visible_operations
from domains.views._common import (
    INVALID,
    OPERATIONS_CHANGED,
    is_htmx,
    toast,
    trigger,
    vary_on_htmx,
)
from portal.views import list_context, render_htmx, sort_queryset

DOMAIN_SORT = {
    "name": ("name_puny",),
    "status": ("status",),
    "expires": ("expires_at",),
    "customer": ("customer__last_name", "customer__first_name"),
    "created": ("created_at",),
}
OPERATION_SORT = {
    "created": ("created_at",),
    "updated": ("updated_at",),
    "kind": ("kind",),
    "status": ("status",),
    "attempts": ("attempts",),
}
EXPORT_CHUNK = 2000


@login_required
def domain_list(request: HttpRequest) -> HttpResponse:
    queryset = visible_domains(request.actor).select_related("organisation").defer("auth_code")
    context = list_context(
        request,
        queryset,
        DomainFilterSet,
        sort_columns=DOMAIN_SORT,
        fields=["q", "status", "tld", "autorenew", "expires_before", "expiring_within"],
        hidden=("customer",),
    )
    context["bulk_form"] = BulkForm()
    context["export_query"] = request.GET.urlencode()
    return render_htmx(request, "domains/domain_list.html", "domains/_domain_results.html", context)


# --- CSV export ---------------------------------------------------------------------------------
EXPORT_COLUMNS = [
    ("domain", "name"),
    ("domain_ascii", "name_puny"),
    ("status", "status"),
    ("registered_at", "registered_at"),
    ("expires_at", "expires_at"),
    ("autorenew", "autorenew"),
    ("registrar_lock", "registrar_lock"),
    ("id_protection", "id_protection"),
    ("customer_id", "customer_id"),
    ("customer_first_name", "customer__first_name"),
    ("customer_last_name", "customer__last_name"),
    ("customer_company", "customer__company"),
    ("customer_email", "customer__email"),
    ("livemode", "livemode"),
    ("id", "pk"),
]
STAFF_COLUMNS = [("reseller", "organisation__name")]


class _Echo:
    """A file-like object whose ``write`` hands the line back (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    # Spreadsheets run cells that start like a formula: keep them text.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@"} else text


@login_required
@require_GET
def domain_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered list as CSV, streamed: rows come from the database in chunks, so a million
    domains never sit in memory at once."""
    actor = request.actor
    filterset = DomainFilterSet(
        request.GET or None, queryset=visible_domains(actor), request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        # An export of everything is not what a refused filter asked for: say why instead.
        reasons = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in filterset.errors.items())
        return HttpResponseBadRequest(
            f"Invalid filter: {reasons}", content_type="text/plain; charset=utf-8"
        )
    queryset = filterset.qs
    queryset, _, _ = sort_queryset(request, queryset, DOMAIN_SORT)
    columns = EXPORT_COLUMNS + (STAFF_COLUMNS if actor.is_staff else [])
    rows = queryset.values_list(*(lookup for _, lookup in columns)).iterator(
        chunk_size=EXPORT_CHUNK
    )
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow([header for header, _ in columns])
        for row in rows:
            yield writer.writerow([_csv_value(v) for v in row])

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="domains-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- bulk actions -------------------------------------------------------------------------------
def _bulk_one(actor, domain, action: str, data: dict) -> str:
    """One service call per domain (each in its own transaction): queued or refused whole."""
    if action == "renew":
        services.domain_renew(actor=actor, domain=domain, years=data["years"])
        return f"Renewal for {data['years']} year{'s' if data['years'] > 1 else ''} queued"
    if action in {"autorenew_on", "autorenew_off"}:
        enabled = action == "autorenew_on"
        services.domain_set_autorenew(actor=actor, domain=domain, enabled=enabled)
        return f"Auto-renew {'on' if enabled else 'off'}"
    if action == "nameservers":
        services.domain_set_nameservers(actor=actor, domain=domain, nameservers=data["nameservers"])
        return "Nameservers queued"
    locked = action == "lock"
    services.domain_set_lock(actor=actor, domain=domain, locked=locked)
    return "Locked" if locked else "Unlocked"


@login_required
@require_POST
def domain_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the selected domains the actor can see; report each one."""
    actor = request.actor
    form = BulkForm(request.POST)
    context: dict = {"bulk_form": form, "results": [], "missing": 0}
    if form.is_valid():
        data = form.cleaned_data
        ids = data["ids"]
        domains = list(
            visible_domains(actor).filter(pk__in=ids).select_related("tld").order_by("name_puny")
        )
        with dispatch.burst():  # the queued operations reach the workers together
            for domain in domains:
                try:
                    outcome = _bulk_one(actor, domain, data["action"], data)
                except (ValidationError, PermissionDenied) as exc:
                    reason = (
                        " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    )
                    context["results"].append({"domain": domain, "ok": False, "text": reason})
                else:
                    context["results"].append({"domain": domain, "ok": True, "text": outcome})
        context["missing"] = len(ids) - len(domains)
        context["queued"] = sum(1 for r in context["results"] if r["ok"])
        context["refused"] = len(context["results"]) - context["queued"]
        context["action_label"] = dict(BulkForm.ACTIONS)[data["action"]]
        status = 200
    else:
        status = INVALID
    if is_htmx(request):
        response = render(request, "domains/_bulk_report.html", context, status=status)
        if status == 200 and context["queued"]:
            toast(response, f"{context['action_label']}: {context['queued']} queued.")
            trigger(response, **{OPERATIONS_CHANGED.replace("-", "_"): True})
        return vary_on_htmx(response)
    return render(request, "domains/bulk_result.html", context, status=status)


# --- the operations queue -----------------------------------------------------------------------
def _staff_or_reseller(actor) -> None:
    if not policies.can_manage_operations(actor):
        raise PermissionDenied("Only staff and resellers can retry or cancel operations.")


@login_required
def operation_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not policies.can_manage_operations(actor):
        raise Http404
    queryset = visible_operations(actor).select_related("organisation", "registrar_account")
    context = list_context(
        request,
        queryset,
        RegistrarOperationFilterSet,
        sort_columns=OPERATION_SORT,
        fields=["status", "kind"],
        hidden=("domain",),
    )
    context["polling"] = any(op.status in {"pending", "running"} for op in context["rows"])
    return render_htmx(
        request, "domains/operation_list.html", "domains/_operation_results.html", context
    )


def _operation_action(request: HttpRequest, pk: int, *, retry: bool) -> HttpResponse:
    actor = request.actor
    operation = get_object_or_404(
        visible_operations(actor).select_related("organisation", "registrar_account"), pk=pk
    )
    _staff_or_reseller(actor)
    try:
        if retry:
            operation = services.operation_retry(actor=actor, operation=operation)
        else:
            operation = services.operation_cancel(actor=actor, operation=operation)
    except ValidationError as exc:
        message, ok = " ".join(exc.messages), False
    else:
        label = f"{operation.get_kind_display()} of {operation.domain or '—'}"
        message = f"{label} {'queued again' if retry else 'cancelled'}."
        ok = True
    if is_htmx(request):
        if request.POST.get("from") == "history":
            response = HttpResponse(status=204 if ok else INVALID)
        else:
            response = render(
                request,
                "domains/_operation_row.html",
                {
                    "op": operation,
                    "row_error": "" if ok else message,
                    "next_url": _safe_next(request),
                },
                status=200 if ok else INVALID,
            )
        toast(response, message, "success" if ok else "danger")
        if ok:
            trigger(response, **{OPERATIONS_CHANGED.replace("-", "_"): True})
        return vary_on_htmx(response)
    (messages.success if ok else messages.error)(request, message)
    return redirect(_safe_next(request) or "domains:operation_list")


def _safe_next(request: HttpRequest) -> str:
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return ""


@login_required
@require_POST
def operation_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _operation_action(request, pk, retry=True)


@login_required
@require_POST
def operation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _operation_action(request, pk, retry=False)

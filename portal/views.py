"""The portal shell: the HTMX helpers every page uses, dashboards, the mode switch and the error
handlers (the two-factor pages are customers.account_views)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_filters import FilterSet

from portal.forms import style_form
from portal.pagination import CappedPaginator, cap_for
from portal.tenancy import SESSION_LIVEMODE_KEY, ActorKind

PAGE_SIZE = 50

# --- HTMX -----------------------------------------------------------------------------------


def htmx_partial(request: HttpRequest) -> bool:
    """True when the request wants only a fragment: an htmx request that is neither boosted nor
    htmx restoring its history (both of those swap the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_htmx(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """The whole page for a normal request, only ``partial`` for an htmx one; both vary on the
    ``HX-Request`` header so caches never mix them up."""
    chosen = partial if htmx_partial(request) else template
    response = render(request, chosen, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- Lists ----------------------------------------------------------------------------------


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> Page:
    if not queryset.ordered:  # e.g. Meta.ordering is dropped by GROUP BY queries
        queryset = queryset.order_by("-pk")
    paginator = CappedPaginator(queryset, per_page, cap=cap_for(request))
    return paginator.get_page(request.GET.get("page"))


def sort_queryset(
    request: HttpRequest, queryset: QuerySet, columns: dict[str, tuple[str, ...]]
) -> tuple[QuerySet, str, dict[str, str]]:
    """Order by ``?sort=<column>`` or ``?sort=-<column>`` when the column is known.

    Returns the queryset, the current sort key and, for each column, the sort value its header
    link should carry (the same column toggles between ascending and descending).
    """
    current = request.GET.get("sort", "")
    key = current.removeprefix("-")
    if key in columns:
        fields = columns[key]
        if current.startswith("-"):
            fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
        queryset = queryset.order_by(*fields, "-pk" if current.startswith("-") else "pk")
    else:
        current = ""
    next_sort = {name: (f"-{name}" if current == name else name) for name in columns}
    return queryset, current, next_sort


def _friendly_filter_widgets(form) -> None:
    """Blank choices read "Any" and dates get the browser's date picker."""
    for name, field in form.fields.items():
        widget = field.widget
        classes = widget.attrs.get("class", "").split()
        for base in ("form-control", "form-select"):
            if base in classes:
                classes.append(f"{base}-sm")
        widget.attrs["class"] = " ".join(classes)
        if name == "q":
            widget.input_type = "search"
            widget.attrs.setdefault("placeholder", field.label or "Search")
        if isinstance(widget, forms.NullBooleanSelect):
            widget.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]
        elif isinstance(field, forms.ChoiceField) and not isinstance(
            field, forms.MultipleChoiceField
        ):
            field.choices = [
                ("", "Any") if value == "" else (value, label) for value, label in field.choices
            ]
        elif isinstance(field, forms.DateField | forms.DateTimeField):
            # A date-time filter takes a date alone too (the start of the day, UTC).
            widget.input_type = "date"
            if isinstance(field, forms.DateTimeField):
                widget.format = "%Y-%m-%d"


def list_context(
    request: HttpRequest,
    queryset: QuerySet,
    filterset_class: type[FilterSet],
    *,
    sort_columns: dict[str, tuple[str, ...]] | None = None,
    fields: list[str] | None = None,
    hidden: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Filter (the app's FilterSet), sort and paginate ``queryset`` for a list page.

    ``fields`` are the filters shown in the filter bar (all but ``hidden`` when None);
    ``hidden`` ones are only carried along when a link set them (e.g. ``?customer=12``).
    """
    filterset = filterset_class(request.GET or None, queryset=queryset, request=request)
    form = filterset.form
    style_form(form)
    _friendly_filter_widgets(form)
    rows = filterset.qs
    current_sort, next_sort = "", {}
    if sort_columns:
        rows, current_sort, next_sort = sort_queryset(request, rows, sort_columns)
    page_obj = paginate(request, rows)
    names = fields if fields is not None else [n for n in form.fields if n not in hidden]
    filtered = any(
        value not in {"", "unknown"}
        for name, values in request.GET.lists()
        if name not in {"page", "sort"}
        for value in values
    )
    return {
        "filter": filterset,
        "form": form,
        "filter_fields": [form[name] for name in names],
        "hidden_filters": [form[name] for name in hidden if form[name].value() not in (None, "")],
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "sort": current_sort,
        "next_sort": next_sort,
        "is_filtered": filtered,
    }


# --- Dashboard ------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    from billing.selectors import credit_balance, unpaid_invoices
    from customers.selectors import visible_customers
    from domains.models import RegistrarOperation
    from domains.selectors import domains_expiring, visible_domains, visible_operations
    from support.selectors import open_tickets

    actor = request.actor
    days = settings.NAMEPORT_EXPIRY_WARNING_DAYS
    expiring = domains_expiring(actor, days).order_by("expires_at", "pk")
    show_billing = actor.can("billing", "payinvoice")
    show_support = actor.can("support", "tickets") or actor.can("support", "newticket")
    show_operations = actor.is_staff or actor.is_reseller
    context: dict[str, Any] = {
        "days": days,
        "domain_count": visible_domains(actor).count(),
        "expiring_count": expiring.count(),
        "next_expiring": list(expiring[:5]),
        "expiring_empty_text": f"No domain expires in the next {days} days.",
        "show_billing": show_billing,
        "show_support": show_support,
        "show_operations": show_operations,
        "show_customers": actor.is_staff or actor.is_reseller,
    }
    if context["show_customers"]:
        context["customer_count"] = visible_customers(actor).count()
    if show_billing:
        context["unpaid_count"] = unpaid_invoices(actor).count()
    if actor.is_customer:
        # A customer (or a contact allowed to see it) sees its account credit; the template
        # adds the prompt to register a name when the actor may order (``may_order``).
        customer = actor.customer
        if actor.can("billing", "balance"):
            context["credit"] = {
                "amount": credit_balance(
                    actor, customer_id=customer.pk, currency=customer.currency
                ),
                "currency": customer.currency,
            }
    if show_support:
        context["open_ticket_count"] = open_tickets(actor).count()
    if show_operations:
        failed = visible_operations(actor).filter(status=RegistrarOperation.Status.FAILED)
        context["failed_count"] = failed.count()
        context["recent_failed"] = list(failed.order_by("-updated_at", "-pk")[:5])
    if actor.is_staff:
        from support.selectors import response_medians

        context["support_medians"] = response_medians(actor)
    return render(request, "portal/dashboard.html", context)


# --- Sandbox / live switch for reseller members ---------------------------------------------


@login_required
@require_POST
def set_mode(request: HttpRequest) -> HttpResponse:
    if request.actor.kind != ActorKind.RESELLER:
        return page_not_found(request)
    livemode = request.POST.get("livemode") in {"1", "true", "live"}
    request.session[SESSION_LIVEMODE_KEY] = livemode
    if livemode:
        messages.success(request, "You are now working with live data.")
    else:
        messages.warning(
            request, "Sandbox mode: you see and change sandbox data only. Nothing is billed."
        )
    return redirect("dashboard")


# --- Error handlers -------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The refusal's reason (the ``PermissionDenied`` message a service or view gave) is shown
    on the page, escaped, and is the JSON ``message``."""
    reason = str(exception or "").strip()
    if _wants_json(request):
        return JsonResponse({"message": reason or "Permission denied."}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"message": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """No request context and no database: whatever broke may be one of them."""
    if _wants_json(request):
        return JsonResponse({"message": "Server error."}, status=500)
    return HttpResponseServerError(loader.get_template("500.html").render())

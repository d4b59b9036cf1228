"""Zone pages: the list, a new zone, the editor page, its publishing status, export, import with
a preview, history with rollback, publish again and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from customers.selectors import visible_customers
from dns import services
from dns.filtersets import RecordFilterSet, ZoneFilterSet
from dns.forms import ImportForm, RecordForm, ZoneCreateForm, add_service_errors
from dns.models import ZoneChange
from dns.selectors import (
    visible_changes,
    visible_records,
    visible_templates,
    visible_zones,
    zone_record_rows,
)
from dns.views._common import can_manage_zones, go, zone_for, zone_tabs, zone_url
from dns.zonefile import export
from portal.tenancy import ActorKind
from portal.views import htmx_partial, list_context, paginate, render_htmx

ZONE_SORT = {
    "name": ("name",),
    "customer": ("customer__last_name", "customer__first_name"),
    "status": ("push_status",),
    "updated": ("updated_at",),
}
RECORD_SORT = {
    "name": ("name", "type"),
    "type": ("type", "name"),
    "ttl": ("ttl",),
}


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    queryset = visible_zones(request.actor).select_related("organisation")
    context = list_context(
        request,
        queryset,
        ZoneFilterSet,
        sort_columns=ZONE_SORT,
        fields=["q", "push_status"],
        hidden=("customer",),
    )
    context["can_manage_zones"] = can_manage_zones(request)
    context["can_edit_templates"] = request.actor.kind in {ActorKind.STAFF, ActorKind.RESELLER}
    return render_htmx(request, "dns/zone_list.html", "dns/_zone_results.html", context)


@login_required
def zone_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not can_manage_zones(request):
        raise Http404
    customers = visible_customers(actor).order_by("last_name", "first_name", "pk")
    is_customer = actor.kind == ActorKind.CUSTOMER
    form = ZoneCreateForm(
        request.POST or None,
        customers=customers,
        templates=visible_templates(actor),
        show_customer=not is_customer,
        show_backend=actor.kind == ActorKind.STAFF,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            customer = actor.customer if is_customer else data["customer"]
            try:
                zone = services.zone_create(
                    actor=actor,
                    customer=customer,
                    name=data["name"],
                    template=data.get("template"),
                    backend=data.get("backend") or None,
                    empty=data.get("empty", False),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Zone {zone.name} created.")
                return go(request, zone_url(zone))
        status = 422
    return render(request, "dns/zone_create.html", {"form": form}, status=status)


def _record_context(request: HttpRequest, zone) -> dict:
    records = visible_records(request.actor).filter(zone=zone)
    context = list_context(request, records, RecordFilterSet, sort_columns=RECORD_SORT)
    context.update(zone_tabs(request, zone, "records"))
    return context


@login_required
def zone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The zone editor: records (filter, add, edit and delete in place) and the push status."""
    zone = zone_for(request, pk)
    context = _record_context(request, zone)
    context["record_total"] = zone.records.count()
    context["add_form"] = RecordForm(initial={"type": "A"}, prefix="new")
    return render_htmx(request, "dns/zone_detail.html", "dns/_record_results.html", context)


@login_required
def zone_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The publishing badge (polled by the editor while a push is pending)."""
    zone = zone_for(request, pk)
    last_push = zone.pushes.order_by("-pk").first()
    response = render(request, "dns/_zone_status.html", {"zone": zone, "last_push": last_push})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def zone_export(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    rendered = request.GET.get("rendered") == "1"
    text = export(zone, zone_record_rows(zone), rendered=rendered)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    suffix = ".served" if rendered else ""
    if request.GET.get("inline") != "1":
        response["Content-Disposition"] = f'attachment; filename="{zone.name}{suffix}.zone"'
    return response


@login_required
def zone_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Paste or upload a zone file; "Preview" shows every rejected line and what would change,
    "Import" applies it (nothing when a line is rejected, unless the good lines are asked for)."""
    zone = zone_for(request, pk)
    context = zone_tabs(request, zone, "import")
    if not context["can_edit"]:
        raise PermissionDenied("You may not change this zone's DNS.")
    form = ImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            apply = request.POST.get("action") == "import"
            plan = services.zone_import(
                actor=request.actor,
                zone=zone,
                text=data["text"],
                mode=data["mode"],
                good_lines_only=data["good_lines_only"],
                dry_run=not apply,
            )
            if plan.applied:
                messages.success(
                    request,
                    f"Imported: {len(plan.create)} added, {len(plan.delete)} deleted, "
                    f"{len(plan.update)} changed; serial {plan.change.serial}.",
                )
                return go(request, zone_url(zone))
            if apply and not plan.errors and not plan.has_changes:
                messages.info(request, "The file holds exactly the zone's records; nothing to do.")
                return go(request, zone_url(zone))
            # Carry the text on (an upload is not sent twice) for the next press.
            form = ImportForm(
                initial={
                    "text": data["text"],
                    "mode": data["mode"],
                    "good_lines_only": data["good_lines_only"],
                }
            )
            context["plan"] = plan
            context["preview"] = plan.as_dict(limit=200)
            if apply and plan.errors:
                status = 422
        else:
            status = 422
    context["form"] = form
    template = "dns/_import.html" if htmx_partial(request) else "dns/zone_import.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def zone_history(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    changes = visible_changes(request.actor).filter(zone=zone).order_by("-pk")
    page_obj = paginate(request, changes, per_page=25)
    context = zone_tabs(request, zone, "history")
    context.update({"page_obj": page_obj, "rows": page_obj.object_list})
    newest = changes.values_list("pk", flat=True).first()
    context["newest_change"] = newest
    return render_htmx(request, "dns/zone_history.html", "dns/_history_results.html", context)


@login_required
@require_POST
def zone_rollback(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    change = get_object_or_404(ZoneChange.objects.filter(zone=zone), pk=change_pk)
    try:
        rolled = services.zone_rollback(actor=request.actor, zone=zone, change=change)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Rolled back to serial {change.serial}; the zone is now {rolled.serial}."
        )
    return go(request, reverse("dns:zone_history", args=[zone.pk]))


@login_required
@require_POST
def zone_publish(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    push = services.zone_republish(actor=request.actor, zone=zone)
    if push is None:
        messages.info(request, "This zone is served from the database; nothing to publish.")
    else:
        messages.success(request, "The whole zone is being published again.")
    return go(request, zone_url(zone))


@login_required
@require_POST
def zone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    services.zone_delete(actor=request.actor, zone=zone)
    messages.success(request, f"Zone {zone.name} deleted.")
    return go(request, reverse("dns:zone_list"))

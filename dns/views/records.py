"""The in-place record editor: add, edit and delete rows; refused input comes back as the same
row with the reasons next to the fields (422)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from dns import services
from dns.forms import RecordForm, add_service_errors
from dns.models import Record
from dns.selectors import visible_records
from dns.views._common import can_edit, go, trigger, zone_for, zone_url


def _record(request: HttpRequest, zone, record_pk: int) -> Record:
    return get_object_or_404(visible_records(request.actor).filter(zone=zone), pk=record_pk)


def _render(request, template, context, status=200) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _editable(request: HttpRequest, zone) -> None:
    if not can_edit(request, zone):
        raise PermissionDenied("You may not change this zone's DNS.")


@login_required
@require_POST
def record_add(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    _editable(request, zone)
    form = RecordForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            record = services.record_create(actor=request.actor, zone=zone, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not getattr(request, "htmx", False):
                messages.success(request, f"Added {record.name} {record.type}.")
                return go(request, zone_url(zone))
            fresh = RecordForm(initial={"type": record.type}, prefix="new")
            response = _render(request, "dns/_record_add.html", {"zone": zone, "add_form": fresh})
            return trigger(response, "dns-records-changed", f"Added {record.name} {record.type}.")
    context = {"zone": zone, "add_form": form}
    if not getattr(request, "htmx", False):
        return _render(request, "dns/record_form_page.html", context, status=422)
    return _render(request, "dns/_record_add.html", context, status=422)


@login_required
def record_row(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    record = _record(request, zone, record_pk)
    return _render(
        request,
        "dns/_record_row.html",
        {"zone": zone, "record": record, "can_edit": can_edit(request, zone)},
    )


@login_required
def record_edit(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    record = _record(request, zone, record_pk)
    _editable(request, zone)
    form_id = f"record-form-{record.pk}"
    if request.method != "POST":
        form = RecordForm(
            initial={
                "name": record.name,
                "type": record.type,
                "ttl": record.ttl,
                "priority": "" if record.priority is None else record.priority,
                "content": record.content,
            },
            prefix=f"r{record.pk}",
            prefix_id=form_id,
        )
        return _render(
            request,
            "dns/_record_edit_row.html",
            {"zone": zone, "record": record, "form": form, "form_id": form_id},
        )
    form = RecordForm(request.POST, prefix=f"r{record.pk}", prefix_id=form_id)
    if form.is_valid():
        try:
            record = services.record_update(actor=request.actor, record=record, **form.values())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not getattr(request, "htmx", False):
                messages.success(request, "Record saved.")
                return go(request, zone_url(zone))
            response = _render(
                request,
                "dns/_record_row.html",
                {"zone": zone, "record": record, "can_edit": True, "just_saved": True},
            )
            return trigger(response, "dns-zone-changed", "Record saved.")
    return _render(
        request,
        "dns/_record_edit_row.html",
        {"zone": zone, "record": record, "form": form, "form_id": form_id},
        status=422,
    )


@login_required
@require_POST
def record_delete(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    record = _record(request, zone, record_pk)
    _editable(request, zone)
    try:
        services.record_delete(actor=request.actor, record=record)
    except ValidationError as exc:
        if not getattr(request, "htmx", False):
            messages.error(request, " ".join(exc.messages))
            return go(request, zone_url(zone))
        return _render(
            request,
            "dns/_record_row.html",
            {"zone": zone, "record": record, "can_edit": True, "row_error": " ".join(exc.messages)},
            status=422,
        )
    if not getattr(request, "htmx", False):
        messages.success(request, "Record deleted.")
        return go(request, zone_url(zone))
    return trigger(HttpResponse(""), "dns-zone-changed", "Record deleted.")

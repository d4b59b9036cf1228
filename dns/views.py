"""Read-only pages of the DNS app: zones and their records."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from dns.filtersets import RecordFilterSet, ZoneFilterSet
from dns.selectors import visible_records, visible_zones
from portal.views import list_context, render_htmx

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
    return render_htmx(request, "dns/zone_list.html", "dns/_zone_results.html", context)


@login_required
def zone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    zone = get_object_or_404(visible_zones(actor).select_related("organisation"), pk=pk)
    records = visible_records(actor).filter(zone=zone)
    context = list_context(request, records, RecordFilterSet, sort_columns=RECORD_SORT)
    context["zone"] = zone
    context["record_total"] = zone.records.count()
    return render_htmx(request, "dns/zone_detail.html", "dns/_record_results.html", context)

"""Read-only pages of the domains app: the domain list and page, and registry operations."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from domains.filtersets import DomainFilterSet, RegistrarOperationFilterSet
from domains.selectors import visible_domains, visible_operations
from portal.views import list_context, render_htmx

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


@login_required
def domain_list(request: HttpRequest) -> HttpResponse:
    queryset = visible_domains(request.actor).select_related("organisation")
    context = list_context(
        request,
        queryset,
        DomainFilterSet,
        sort_columns=DOMAIN_SORT,
        fields=["q", "status", "tld", "autorenew", "expiring_within"],
        hidden=("customer",),
    )
    return render_htmx(request, "domains/domain_list.html", "domains/_domain_results.html", context)


@login_required
def domain_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    domain = get_object_or_404(
        visible_domains(actor).select_related("organisation", "registrar_account"), pk=pk
    )
    operations = visible_operations(actor).filter(domain=domain).select_related("created_by")
    context = {
        "domain": domain,
        "nameservers": list(domain.nameservers.all()),
        "contacts": list(domain.contacts.all()),
        "hosts": list(domain.hosts.all()),
        "ds_records": list(domain.ds_records.all()),
        "operations": list(operations[:10]),
        "status_changes": list(domain.status_changes.all()[:20]),
    }
    return render(request, "domains/domain_detail.html", context)


@login_required
def operation_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if not (actor.is_staff or actor.is_reseller):
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
    return render_htmx(
        request, "domains/operation_list.html", "domains/_operation_results.html", context
    )

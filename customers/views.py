"""Pages of the customers app (staff and reseller members only; customers get 404)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from billing.selectors import visible_invoices
from customers.filtersets import CustomerFilterSet
from customers.selectors import visible_contacts, visible_customers
from dns.selectors import visible_zones
from domains.selectors import visible_domains
from portal.tenancy import Actor
from portal.views import list_context, render_htmx
from support.selectors import visible_tickets

SORT_COLUMNS = {
    "name": ("last_name", "first_name"),
    "email": ("email",),
    "company": ("company",),
    "domains": ("domain_count",),
    "created": ("created_at",),
}


def _require_reseller_or_staff(actor: Actor) -> None:
    if not (actor.is_staff or actor.is_reseller):
        raise Http404


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    _require_reseller_or_staff(actor)
    queryset = (
        visible_customers(actor)
        .annotate(domain_count=Count("domains", distinct=True))
        .order_by("-created_at", "-pk")
    )
    context = list_context(request, queryset, CustomerFilterSet, sort_columns=SORT_COLUMNS)
    return render_htmx(
        request, "customers/customer_list.html", "customers/_customer_results.html", context
    )


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    _require_reseller_or_staff(actor)
    customer = get_object_or_404(visible_customers(actor), pk=pk)
    domains = visible_domains(actor).filter(customer=customer)
    zones = visible_zones(actor).filter(customer=customer)
    invoices = visible_invoices(actor).filter(customer=customer)
    tickets = visible_tickets(actor).filter(customer=customer)
    context = {
        "customer": customer,
        "contacts": visible_contacts(actor).filter(customer=customer),
        "domains": domains.order_by("expires_at", "pk")[:10],
        "domain_count": domains.count(),
        "zones": zones[:10],
        "zone_count": zones.count(),
        "invoices": invoices[:10],
        "invoice_count": invoices.count(),
        "tickets": tickets[:10],
        "ticket_count": tickets.count(),
    }
    return render(request, "customers/customer_detail.html", context)

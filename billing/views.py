"""Read-only pages of the billing app: invoices."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from billing.filtersets import InvoiceFilterSet
from billing.selectors import visible_invoices
from portal.views import list_context, render_htmx

INVOICE_SORT = {
    "number": ("number",),
    "date": ("date",),
    "due": ("duedate",),
    "total": ("total",),
    "status": ("status",),
    "customer": ("customer__last_name", "customer__first_name"),
}


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    queryset = visible_invoices(request.actor).select_related("organisation")
    context = list_context(
        request,
        queryset,
        InvoiceFilterSet,
        sort_columns=INVOICE_SORT,
        fields=["q", "status", "currency", "date_from", "date_to"],
        hidden=("customer",),
    )
    return render_htmx(
        request, "billing/invoice_list.html", "billing/_invoice_results.html", context
    )


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(
        visible_invoices(request.actor).select_related("organisation", "order"), pk=pk
    )
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.select_related("method")),
    }
    return render(request, "billing/invoice_detail.html", context)

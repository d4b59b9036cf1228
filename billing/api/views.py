from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from billing.api.serializers import InvoiceDetailSerializer, InvoiceSerializer
from billing.filtersets import InvoiceFilterSet
from billing.models import Invoice, InvoiceLine
from billing.selectors import visible_invoices
from portal.api.views import ScopedReadOnlyViewSet


class InvoiceViewSet(ScopedReadOnlyViewSet):
    """The caller's invoices; an invoice's detail includes its lines."""

    filterset_class = InvoiceFilterSet
    ordering_fields = ("date", "duedate", "number", "total", "status", "created_at")

    def get_serializer_class(self):
        return InvoiceDetailSerializer if self.action == "retrieve" else InvoiceSerializer

    def scoped_queryset(self) -> QuerySet[Invoice]:
        queryset = visible_invoices(self.actor)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("id"))
            )
        return queryset

from __future__ import annotations

from django.db.models import QuerySet

from customers.api.serializers import CustomerSerializer
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from customers.selectors import visible_customers
from portal.api.views import ScopedReadOnlyViewSet


class CustomerViewSet(ScopedReadOnlyViewSet):
    """The caller's customers: a reseller's (or key's) customers of its mode, staff all of them,
    a customer user or contact only its own customer record."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ("created_at", "last_name", "email", "country")

    def scoped_queryset(self) -> QuerySet[Customer]:
        return visible_customers(self.actor)

"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters

from billing.models import Invoice
from portal.filtersets import FilterSet, IdFilter


class InvoiceFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="number", lookup_expr="icontains", label="Number")
    status = django_filters.MultipleChoiceFilter(choices=Invoice.Status.choices, distinct=False)
    customer = IdFilter(field_name="customer_id")
    currency = django_filters.CharFilter(lookup_expr="iexact")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = ["q", "status", "customer", "currency", "date_from", "date_to"]

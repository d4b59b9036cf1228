"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters
from django.db.models import Q

from customers.models import Customer
from portal.filtersets import FilterSet


class CustomerFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Customer
        fields = ["q", "country", "created_after"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(company__icontains=value)
        )

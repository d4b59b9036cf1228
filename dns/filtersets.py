"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters

from dns.models import Record, Zone
from portal.filtersets import FilterSet, IdFilter


class ZoneFilterSet(FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")
    customer = IdFilter(field_name="customer_id")
    push_status = django_filters.ChoiceFilter(choices=Zone.PushStatus.choices)

    class Meta:
        model = Zone
        fields = ["q", "customer", "push_status"]


class RecordFilterSet(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    type = django_filters.MultipleChoiceFilter(choices=Record.Type.choices, distinct=False)

    class Meta:
        model = Record
        fields = ["name", "type"]

"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters
from django.db.models import Q

from customers.models import Customer
from portal.filtersets import FilterSet


class CustomerFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created after"
    )
    archived = django_filters.ChoiceFilter(
        choices=[("archived", "Archived only"), ("all", "Active and archived")],
        empty_label="Active only",
        method="filter_archived",
        label="Archived",
    )

    class Meta:
        model = Customer
        fields = ["q", "country", "created_after", "archived"]

    def filter_archived(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also sees the empty (default) value

    def filter_queryset(self, queryset):
        """Archived customers are hidden unless ``archived`` asks for them."""
        queryset = super().filter_queryset(queryset)
        wanted = self.form.cleaned_data.get("archived") or ""
        if wanted == "archived":
            return queryset.filter(archived_at__isnull=False)
        if wanted == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)

    def __init__(self, data=None, *args, **kwargs):
        # A list page without query parameters is the default view: active customers only.
        super().__init__({} if data is None else data, *args, **kwargs)

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

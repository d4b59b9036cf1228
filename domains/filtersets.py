"""One FilterSet per model, shared by the list page and the API viewset."""

from datetime import timedelta

import django_filters
from django.utils import timezone

from domains.models import Domain, DomainStatus, RegistrarOperation


class DomainFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Name contains")
    status = django_filters.MultipleChoiceFilter(choices=DomainStatus.choices)
    tld = django_filters.CharFilter(field_name="tld__name", lookup_expr="iexact", label="TLD")
    customer = django_filters.NumberFilter(field_name="customer_id")
    autorenew = django_filters.BooleanFilter()
    expiring_within = django_filters.NumberFilter(
        method="expiring", label="Expiring within (days)", min_value=0
    )

    class Meta:
        model = Domain
        fields = ["q", "status", "tld", "customer", "autorenew", "expiring_within"]

    def search(self, queryset, name, value):
        value = value.strip().lower()
        if not value:
            return queryset
        try:
            puny = value.encode("idna").decode("ascii")
        except UnicodeError:
            puny = value
        return queryset.filter(name_puny__contains=puny)

    def expiring(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.filter(
            expires_at__gte=now, expires_at__lte=now + timedelta(days=float(value))
        )


class RegistrarOperationFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RegistrarOperation.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=RegistrarOperation.Kind.choices)
    domain = django_filters.NumberFilter(field_name="domain_id")

    class Meta:
        model = RegistrarOperation
        fields = ["status", "kind", "domain"]

"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters
from django import forms
from django.conf import settings

from billing.models import Invoice
from portal.filtersets import FilterSet, IdFilter


def _currency_choices() -> list[tuple[str, str]]:
    return [("", "Any"), *((code, code) for code in settings.NAMEPORT_CURRENCIES)]


class InvoiceFilterSet(FilterSet):
    q = django_filters.CharFilter(
        field_name="number", lookup_expr="icontains", label="Invoice number"
    )
    status = django_filters.MultipleChoiceFilter(choices=Invoice.Status.choices, distinct=False)
    customer = IdFilter(field_name="customer_id")
    # Any code is accepted (the API too, in any case); the filter bar offers the currencies on
    # sale (settings.NAMEPORT_CURRENCIES) in a select.
    currency = django_filters.CharFilter(
        lookup_expr="iexact", label="Currency", widget=forms.Select(choices=_currency_choices)
    )
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="Dated from")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="Dated until")

    class Meta:
        model = Invoice
        fields = ["q", "status", "customer", "currency", "date_from", "date_to"]

"""One FilterSet per model, shared by the list page and the API viewset."""

import django_filters
from django.db.models import Q

from support.models import Ticket


class TicketFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Subject or number")
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Ticket.Priority.choices, distinct=False)
    department = django_filters.NumberFilter(field_name="department_id")
    assignee = django_filters.NumberFilter(field_name="assignee_id")

    class Meta:
        model = Ticket
        fields = ["q", "status", "priority", "department", "assignee"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(subject__icontains=value) | Q(ticket_number=value))

"""One FilterSet per model, shared by the list page (the staff queue) and the API viewset."""

from datetime import timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from portal.filtersets import FilterSet, IdFilter, is_id
from portal.tenancy import ANONYMOUS
from support.models import Ticket

AGE_CHOICES = [
    ("1", "Older than a day"),
    ("3", "Older than 3 days"),
    ("7", "Older than a week"),
    ("30", "Older than 30 days"),
]

ESCALATION_CHOICES = [
    ("waiting", "Escalated, waiting for staff"),
    ("answered", "Escalation answered"),
    ("any", "Ever escalated"),
]


def actor_of(request):
    """The actor of a page request or of an API request (set by the API's ActorMixin)."""
    if request is None:
        return ANONYMOUS
    return getattr(request, "_nameport_actor", None) or getattr(request, "actor", ANONYMOUS)


def validate_assignee(value: str) -> None:
    if value.strip().lower() not in {"", "me", "none"} and not is_id(value):
        raise ValidationError('Give a user id, "me" or "none".', code="invalid")


class TicketFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Subject or number")
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices, distinct=False)
    priority = django_filters.MultipleChoiceFilter(choices=Ticket.Priority.choices, distinct=False)
    department = IdFilter(field_name="department_id", label="Department")
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        label="Assignee",
        help_text='A user id, "me" or "none" (unassigned).',
        validators=[validate_assignee],
    )
    age = django_filters.ChoiceFilter(
        choices=AGE_CHOICES,
        empty_label="Any",
        method="filter_age",
        label="Age",
        help_text="Opened more than N days ago",
    )
    is_system = django_filters.BooleanFilter(label="Opened by Nameport")
    escalation = django_filters.ChoiceFilter(
        choices=ESCALATION_CHOICES,
        empty_label="Any",
        method="filter_escalation",
        label="Escalation",
        help_text="Escalated by a reseller to the platform's staff (support.escalation)",
    )

    class Meta:
        model = Ticket
        fields = [
            "q",
            "status",
            "priority",
            "department",
            "assignee",
            "age",
            "escalation",
            "is_system",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from support.selectors import visible_departments

        actor = actor_of(self.request)

        def departments():  # evaluated only when the filter bar is drawn (not for the API)
            rows = visible_departments(actor).values_list("pk", "name")
            return [("", "Any"), *rows]

        self.filters["department"].extra["widget"] = forms.Select(choices=departments)
        self.filters["assignee"].extra["widget"] = forms.Select(
            choices=[("", "Anyone"), ("me", "Me"), ("none", "Unassigned")]
        )

    def search(self, queryset, name, value):
        value = value.strip().lstrip("#")
        if not value:
            return queryset
        return queryset.filter(Q(subject__icontains=value) | Q(ticket_number=value))

    def filter_assignee(self, queryset, name, value):
        value = (value or "").strip().lower()
        if not value:
            return queryset
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "me":
            user = actor_of(self.request).user
            return queryset.filter(assignee=user) if user else queryset.none()
        return queryset.filter(assignee_id=int(value))  # an id (validate_assignee)

    def filter_escalation(self, queryset, name, value):
        if value == "waiting":
            return queryset.filter(escalated_at__isnull=False, escalation_answered_at__isnull=True)
        if value == "answered":
            return queryset.filter(escalation_answered_at__isnull=False)
        if value == "any":
            return queryset.filter(escalated_at__isnull=False)
        return queryset

    def filter_age(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(created_at__lt=timezone.now() - timedelta(days=int(value)))

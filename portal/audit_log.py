"""Reading the audit trail: who may see which entries, and the filters of the audit log page.

Staff see every entry on the platform. A reseller's owner or admin sees its organisation's
entries (those written with that organisation: its members' and keys' changes, and staff's
changes to its objects). Everyone else sees none (the page answers 404).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from portal.filtersets import FilterSet
from portal.models import AuditEntry
from portal.tenancy import Actor, ActorKind

AUDIT_ROLES = frozenset({"owner", "admin"})


def can_read_audit_log(actor: Actor) -> bool:
    if actor.is_staff:
        return True
    return actor.kind == ActorKind.RESELLER and actor.membership_role in AUDIT_ROLES


def visible_audit_entries(actor: Actor) -> QuerySet[AuditEntry]:
    queryset = AuditEntry.objects.select_related("organisation", "user")
    if actor.is_staff:
        return queryset
    if can_read_audit_log(actor) and actor.organisation_id is not None:
        return queryset.filter(organisation_id=actor.organisation_id)
    return queryset.none()


class AuditEntryFilterSet(FilterSet):
    """By who (actor label or user e-mail), what (action, object type and id), when (dates,
    UTC, both ends included) and from where (address)."""

    who = django_filters.CharFilter(field_name="actor", lookup_expr="icontains", label="Who")
    action = django_filters.ChoiceFilter(label="Action", choices=[])
    object_type = django_filters.ChoiceFilter(label="Object type", choices=[])
    object_id = django_filters.CharFilter(label="Object id", max_length=64)
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From"
    )
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="To")
    ip = django_filters.CharFilter(method="by_ip", label="From address", max_length=45)

    class Meta:
        model = AuditEntry
        fields = ["who", "action", "object_type", "object_id", "since", "until", "ip"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        base = self.queryset.order_by()
        actions = base.values_list("action", flat=True).distinct().order_by("action")[:500]
        types = base.exclude(object_type="").values_list("object_type", flat=True)
        types = types.distinct().order_by("object_type")[:200]
        self.filters["action"].extra["choices"] = [(a, a) for a in actions]
        self.filters["object_type"].extra["choices"] = [(t, t) for t in types]

    def by_ip(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(ip_address__startswith=value) if value else queryset

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from domains.api.serializers import DomainSerializer
from domains.filtersets import DomainFilterSet
from domains.models import Domain, Nameserver
from domains.selectors import visible_domains
from portal.api.views import ScopedReadOnlyViewSet


class DomainViewSet(ScopedReadOnlyViewSet):
    """The caller's domains (never their auth codes)."""

    serializer_class = DomainSerializer
    filterset_class = DomainFilterSet
    ordering_fields = ("name_puny", "status", "expires_at", "registered_at", "created_at")

    def scoped_queryset(self) -> QuerySet[Domain]:
        return visible_domains(self.actor).prefetch_related(
            Prefetch("nameservers", queryset=Nameserver.objects.order_by("position"))
        )

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from dns.api.serializers import RecordSerializer, ZoneDetailSerializer, ZoneSerializer
from dns.filtersets import RecordFilterSet, ZoneFilterSet
from dns.models import Record, Zone
from dns.selectors import visible_records, visible_zones
from portal.api.views import ScopedReadOnlyViewSet


class ZoneViewSet(ScopedReadOnlyViewSet):
    """The caller's DNS zones; a zone's detail includes its records."""

    filterset_class = ZoneFilterSet
    ordering_fields = ("name", "created_at", "updated_at", "serial")

    def get_serializer_class(self):
        return ZoneDetailSerializer if self.action == "retrieve" else ZoneSerializer

    def scoped_queryset(self) -> QuerySet[Zone]:
        queryset = visible_zones(self.actor)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("records", queryset=Record.objects.order_by("name", "type", "id"))
            )
        return queryset


ZONE_PARAMETER = OpenApiParameter(
    "zone_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The zone's id"
)


@extend_schema_view(
    list=extend_schema(parameters=[ZONE_PARAMETER]),
    retrieve=extend_schema(parameters=[ZONE_PARAMETER]),
)
class ZoneRecordViewSet(ScopedReadOnlyViewSet):
    """The records of one of the caller's zones (404 when the zone is not the caller's)."""

    serializer_class = RecordSerializer
    filterset_class = RecordFilterSet
    ordering_fields = ("name", "type", "ttl", "created_at")

    def zone(self) -> Zone:
        zone = getattr(self, "_zone", None)
        if zone is None:
            zone_pk = str(self.kwargs["zone_pk"])
            if not zone_pk.isdigit():
                raise Http404
            zone = get_object_or_404(visible_zones(self.actor), pk=int(zone_pk))
            self._zone = zone
        return zone

    def scoped_queryset(self) -> QuerySet[Record]:
        if getattr(self, "swagger_fake_view", False):
            return Record.objects.none()
        return visible_records(self.actor).filter(zone=self.zone()).order_by("name", "type", "id")

"""The native DNS API: zones with their records nested, import/export, history and rollback,
forwarding, e-mail forwarding rules, DNSSEC keys and zone templates. Every write calls the same
service as the pages; every read starts from the app's selectors."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.selectors import visible_customers
from dns import services
from dns.api.serializers import (
    DnssecKeySerializer,
    EmailForwardSerializer,
    ForwardingSerializer,
    ImportResultSerializer,
    RecordSerializer,
    RecordWriteSerializer,
    RollbackSerializer,
    ZoneChangeSerializer,
    ZoneCreateSerializer,
    ZoneDetailSerializer,
    ZoneImportSerializer,
    ZoneSerializer,
    ZoneTemplateSerializer,
)
from dns.filtersets import RecordFilterSet, ZoneFilterSet
from dns.models import Record, Zone, ZoneChange
from dns.rdata import TYPES
from dns.selectors import (
    editable_templates,
    visible_changes,
    visible_dnssec_keys,
    visible_email_forwards,
    visible_records,
    visible_templates,
    visible_zones,
    zone_record_rows,
)
from domains.selectors import visible_domains
from portal.api.views import ActorMixin
from portal.tenancy import ActorKind

ERROR = OpenApiResponse(description='{"message": ..., "errors": {field: [...]}}')


@extend_schema_view(
    list=extend_schema(summary="List zones"),
    retrieve=extend_schema(summary="A zone with its records"),
    create=extend_schema(
        summary="Create a zone (from the default template unless told otherwise)",
        request=ZoneCreateSerializer,
        responses={201: ZoneDetailSerializer, 400: ERROR},
    ),
    destroy=extend_schema(summary="Delete a zone (and unpublish it)"),
)
class ZoneViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's DNS zones; a zone's detail includes its records."""

    filterset_class = ZoneFilterSet
    ordering_fields = ("name", "created_at", "updated_at", "serial")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ZoneDetailSerializer
        if self.action == "create":
            return ZoneCreateSerializer
        return ZoneSerializer

    def get_queryset(self) -> QuerySet[Zone]:
        queryset = visible_zones(self.actor)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("records", queryset=Record.objects.order_by("name", "type", "id"))
            )
        return queryset

    def create(self, request, *args, **kwargs):
        serializer = ZoneCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = self.actor
        if actor.kind == ActorKind.CUSTOMER:
            customer = actor.customer
        else:
            if "customer" not in data:
                raise serializers.ValidationError({"customer": ["Give the customer's id."]})
            customer = visible_customers(actor).filter(pk=data["customer"]).first()
            if customer is None:
                raise serializers.ValidationError({"customer": ["No such customer."]})
        domain = None
        if data.get("domain"):
            domain = visible_domains(actor).filter(pk=data["domain"]).first()
            if domain is None:
                raise serializers.ValidationError({"domain": ["No such domain."]})
        template = None
        if data.get("template"):
            template = visible_templates(actor).filter(pk=data["template"]).first()
            if template is None:
                raise serializers.ValidationError({"template": ["No such template."]})
        backend = data.get("backend") if actor.kind == ActorKind.STAFF else None
        zone = services.zone_create(
            actor=actor,
            customer=customer,
            name=data["name"],
            domain=domain,
            template=template,
            backend=backend,
            empty=data["empty"],
        )
        zone = self.get_queryset().filter(pk=zone.pk).first() or zone
        body = ZoneDetailSerializer(zone, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.zone_delete(actor=self.actor, zone=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Export the zone as a BIND file",
        parameters=[
            OpenApiParameter(
                "rendered",
                OpenApiTypes.BOOL,
                description="Write what the name servers serve (URL/FRAME/MXE as A and MX)",
            )
        ],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        from dns.zonefile import export

        zone = self.get_object()
        rendered = request.query_params.get("rendered") in {"1", "true"}
        text = export(zone, zone_record_rows(zone), rendered=rendered)
        return HttpResponse(text, content_type="text/plain; charset=utf-8")

    @extend_schema(
        summary="Import a BIND zone file",
        description=(
            "Every rejected line is reported with its number; nothing is imported while a line "
            "is rejected, unless `good_lines_only`. `dry_run` reports what would change. "
            "`replace` makes the zone the file (apex NS kept when the file has none); `merge` "
            "adds the file's records."
        ),
        request=ZoneImportSerializer,
        responses={200: ImportResultSerializer, 400: ImportResultSerializer},
    )
    @action(detail=True, methods=["post"], url_path="import", url_name="import")
    def import_(self, request, pk=None):
        zone = self.get_object()
        serializer = ZoneImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = services.zone_import(
            actor=self.actor,
            zone=zone,
            text=data["content"],
            mode=data["mode"],
            good_lines_only=data["good_lines_only"],
            dry_run=data["dry_run"],
        )
        body = plan.as_dict()
        if plan.errors and not data["good_lines_only"] and not data["dry_run"]:
            count = len(plan.errors)
            body["message"] = f"{count} line{'s' if count > 1 else ''} rejected; nothing imported."
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body)

    @extend_schema(summary="The zone's history", responses=ZoneChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        zone = self.get_object()
        changes = visible_changes(self.actor).filter(zone=zone).order_by("-pk")
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(ZoneChangeSerializer(page, many=True).data)

    @extend_schema(
        summary="Roll the records back to how they were after a history entry",
        request=RollbackSerializer,
        responses={200: ZoneChangeSerializer, 400: ERROR},
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        zone = self.get_object()
        serializer = RollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = ZoneChange.objects.filter(
            zone=zone, pk=serializer.validated_data["change"]
        ).first()
        if change is None:
            raise serializers.ValidationError({"change": ["No such entry in this zone's history."]})
        rolled = services.zone_rollback(actor=self.actor, zone=zone, change=change)
        return Response(ZoneChangeSerializer(rolled).data)

    @extend_schema(
        summary="Publish the whole zone again",
        request=None,
        responses={202: ZoneSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        zone = self.get_object()
        services.zone_republish(actor=self.actor, zone=zone)
        zone.refresh_from_db()
        return Response(ZoneSerializer(zone).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Forward a name of the zone (seed 003 PUT /domain/@id/forwarding)",
        request=ForwardingSerializer,
        responses={200: RecordSerializer, 204: None, 400: ERROR},
    )
    @action(detail=True, methods=["put", "delete"])
    def forwarding(self, request, pk=None):
        zone = self.get_object()
        if request.method == "DELETE":
            services.forwarding_clear(
                actor=self.actor, zone=zone, name=request.query_params.get("name", "@")
            )
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = ForwardingSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        record = services.forwarding_set(
            actor=self.actor,
            zone=zone,
            name=data["name"],
            kind=data["type"],
            target=data["target"],
            ttl=data.get("ttl"),
        )
        return Response(RecordSerializer(record).data)

    @extend_schema(
        summary="The record types a zone takes (seed 003 /dns/types)",
        responses=inline_serializer(
            "RecordTypes", {"types": serializers.ListField(child=serializers.CharField())}
        ),
    )
    @action(detail=False, methods=["get"], url_path="record-types")
    def record_types(self, request):
        return Response({"types": list(TYPES)})

    @extend_schema(
        summary="The DNSSEC key flags (seed 003 /dnssec/flags)",
        responses=inline_serializer(
            "DnssecFlags", {"flags": serializers.DictField(child=serializers.CharField())}
        ),
    )
    @action(detail=False, methods=["get"], url_path="dnssec-flags")
    def dnssec_flags(self, request):
        return Response({"flags": {str(k): v for k, v in services.DNSSEC_FLAGS.items()}})


ZONE_PARAMETER = OpenApiParameter(
    "zone_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The zone's id"
)


class ZoneChildMixin(ActorMixin):
    """A child of one of the caller's zones (404 when the zone is not the caller's)."""

    def zone(self) -> Zone:
        zone = getattr(self, "_zone", None)
        if zone is None:
            zone_pk = str(self.kwargs["zone_pk"])
            if not zone_pk.isdigit():
                raise Http404
            zone = get_object_or_404(visible_zones(self.actor), pk=int(zone_pk))
            self._zone = zone
        return zone


def _zone_schema(views=("list", "retrieve", "create", "destroy"), **extra):
    return extend_schema_view(
        **{v: extend_schema(parameters=[ZONE_PARAMETER], **extra.get(v, {})) for v in views}
    )


@_zone_schema(
    ("list", "retrieve", "create", "update", "partial_update", "destroy"),
    create={"request": RecordWriteSerializer, "responses": {201: RecordSerializer, 400: ERROR}},
    update={"request": RecordWriteSerializer, "responses": {200: RecordSerializer, 400: ERROR}},
    partial_update={
        "request": RecordWriteSerializer,
        "responses": {200: RecordSerializer, 400: ERROR},
    },
)
class ZoneRecordViewSet(ZoneChildMixin, viewsets.ModelViewSet):
    """The records of one of the caller's zones. Writes are validated by the same rules as the
    editor; a refused record answers 400 with the reason per field."""

    serializer_class = RecordSerializer
    filterset_class = RecordFilterSet
    ordering_fields = ("name", "type", "ttl", "created_at")

    def get_queryset(self) -> QuerySet[Record]:
        if getattr(self, "swagger_fake_view", False):
            return Record.objects.none()
        return visible_records(self.actor).filter(zone=self.zone()).order_by("name", "type", "id")

    def _write(self, partial: bool) -> dict:
        serializer = RecordWriteSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._write(partial=False)
        data.setdefault("name", "@")
        for required in ("type", "content"):
            if required not in data:
                raise serializers.ValidationError({required: ["This field is required."]})
        record = services.record_create(actor=self.actor, zone=self.zone(), **data)
        return Response(RecordSerializer(record).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        data = self._write(partial=True)
        record = services.record_update(actor=self.actor, record=record, **data)
        return Response(RecordSerializer(record).data)

    def destroy(self, request, *args, **kwargs):
        services.record_delete(actor=self.actor, record=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@_zone_schema()
class ZoneEmailForwardViewSet(
    ZoneChildMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """E-mail forwarding rules (seed 003 ``emforwarding``): stored and listed; delivery is not
    active yet (``delivery_active`` is false)."""

    serializer_class = EmailForwardSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return visible_email_forwards(self.actor).none()
        return visible_email_forwards(self.actor).filter(zone=self.zone())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        forward = services.email_forward_add(
            actor=self.actor, zone=self.zone(), **serializer.validated_data
        )
        return Response(self.get_serializer(forward).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.email_forward_delete(actor=self.actor, forward=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@_zone_schema()
class ZoneDnssecKeyViewSet(
    ZoneChildMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A zone's DNSSEC keys with their DS records (flags 256 ZSK / 257 KSK, as in seed 003)."""

    serializer_class = DnssecKeySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return visible_dnssec_keys(self.actor).none()
        return visible_dnssec_keys(self.actor).filter(zone=self.zone())

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = services.dnssec_key_add(
            actor=self.actor,
            zone=self.zone(),
            flags=data["flags"],
            algorithm=data["algorithm"],
            public_key=data["public_key"],
        )
        return Response(self.get_serializer(key).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.dnssec_key_delete(actor=self.actor, key=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ZoneTemplateViewSet(ActorMixin, viewsets.ModelViewSet):
    """Zone templates: staff edit the platform's, resellers their organisation's; a reseller also
    sees the platform's (read only). Customers see none."""

    serializer_class = ZoneTemplateSerializer

    def get_queryset(self):
        if self.action in {"update", "partial_update", "destroy"}:
            return editable_templates(self.actor)
        return visible_templates(self.actor)

    def perform_create(self, serializer):
        actor = self.actor
        if actor.kind not in {ActorKind.STAFF, ActorKind.RESELLER, ActorKind.API_KEY}:
            raise Http404
        data = serializer.validated_data
        organisation = None if actor.kind == ActorKind.STAFF else actor.organisation
        try:
            serializer.instance = services.template_save(
                actor=actor,
                organisation=organisation,
                name=data["name"],
                body=data["body"],
                is_default=data.get("is_default", False),
                livemode=data.get("livemode"),
            )
        except PermissionDenied:
            raise Http404 from None

    def perform_update(self, serializer):
        template = serializer.instance
        data = serializer.validated_data
        try:
            serializer.instance = services.template_save(
                actor=self.actor,
                template=template,
                name=data.get("name", template.name),
                body=data.get("body", template.body),
                is_default=data.get("is_default", template.is_default),
                livemode=data.get("livemode"),
            )
        except PermissionDenied:
            raise Http404 from None

    def perform_destroy(self, instance):
        try:
            services.template_delete(actor=self.actor, template=instance)
        except PermissionDenied:
            raise Http404 from None

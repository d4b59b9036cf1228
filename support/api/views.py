"""Native API of the help desk: tickets (by their six-digit number), replies, attachments,
open/close, triage, departments and canned replies. Every write calls the same service as the
pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from billing.selectors import visible_invoices
from customers.selectors import visible_customers
from domains.selectors import visible_domains
from portal.api.idempotency import run_idempotent
from portal.api.parsers import FormParser, JSONParser, MultiPartParser
from portal.api.views import ActorMixin, ScopedReadOnlyViewSet
from support import escalation, services
from support.api import serializers as s
from support.filtersets import TicketFilterSet
from support.models import Department, Ticket
from support.selectors import (
    assignable_agents,
    visible_attachments,
    visible_canned_replies,
    visible_departments,
    visible_tickets,
)

PARSERS = [JSONParser, MultiPartParser, FormParser]


def _pick(queryset, pk, field: str):
    """A related object by id from a scoped queryset; an unknown id is a 400 on ``field``."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [f"Unknown {field}."]})
    return found


class TicketViewSet(ScopedReadOnlyViewSet):
    """The caller's support tickets, looked up by their six-digit ticket number."""

    lookup_field = "ticket_number"
    filterset_class = TicketFilterSet
    parser_classes = PARSERS
    ordering_fields = ("updated_at", "created_at", "last_reply_at", "priority", "status")

    def get_serializer_class(self):
        return s.TicketDetailSerializer if self.action == "retrieve" else s.TicketSerializer

    def scoped_queryset(self) -> QuerySet[Ticket]:
        return visible_tickets(self.actor)

    def _detail(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        ticket = self.scoped_queryset().get(pk=ticket.pk)
        context = self.get_serializer_context()
        return Response(s.TicketDetailSerializer(ticket, context=context).data, status=code)

    def _body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        request={
            "application/json": s.TicketCreateSerializer,
            "multipart/form-data": s.TicketCreateSerializer,
        },
        responses={201: s.TicketDetailSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Open a ticket (attachments: send multipart/form-data with ``attachments`` files).
        Accepts an ``Idempotency-Key`` header."""
        actor = self.actor

        def handler():
            data = self._body(s.TicketCreateSerializer)
            ticket = services.ticket_open(
                actor=actor,
                department=_pick(visible_departments(actor), data["department"], "department"),
                subject=data["subject"],
                body=data["body"],
                priority=data["priority"],
                customer=_pick(visible_customers(actor), data.get("customer"), "customer"),
                domain=_pick(visible_domains(actor), data.get("domain"), "domain"),
                invoice=_pick(visible_invoices(actor), data.get("invoice"), "invoice"),
                attachments=data["attachments"],
                via="api",
            )
            return self._detail(ticket, status.HTTP_201_CREATED)

        return run_idempotent(request, actor, handler)

    @extend_schema(request=s.TicketUpdateSerializer, responses={200: s.TicketDetailSerializer})
    def partial_update(self, request, *args, **kwargs):
        """Triage (support team only): status (e.g. On Hold), priority, department, assignee."""
        ticket = self.get_object()
        data = self._body(s.TicketUpdateSerializer)
        extra = {}
        if "assignee" in data:
            pk = data["assignee"]
            assignee = assignable_agents(ticket).filter(pk=pk).first() if pk is not None else None
            if pk is not None and assignee is None:
                raise ValidationError({"assignee": [services.assignee_refusal(ticket)]})
            extra["assignee"] = assignee
        ticket = services.ticket_update(
            actor=self.actor,
            ticket=ticket,
            status=data.get("status"),
            priority=data.get("priority"),
            department=_pick(visible_departments(self.actor), data.get("department"), "department"),
            **extra,
        )
        return self._detail(ticket)

    @extend_schema(
        request={
            "application/json": s.ReplyCreateSerializer,
            "multipart/form-data": s.ReplyCreateSerializer,
        },
        responses={201: s.MessageSerializer},
    )
    @action(detail=True, methods=["post"])
    def replies(self, request, ticket_number=None):
        """Reply to the ticket (or, for the support team, add an internal note). A reply to a
        ticket closed longer than the re-open window opens a new ticket: see
        ``ticket_number`` in the answer. Accepts an ``Idempotency-Key`` header."""
        ticket = self.get_object()
        actor = self.actor

        def handler():
            data = self._body(s.ReplyCreateSerializer)
            message = services.ticket_reply(
                actor=actor,
                ticket=ticket,
                body=data["body"],
                internal=data["internal"],
                attachments=data["attachments"],
                via="api",
            )
            context = self.get_serializer_context()
            return Response(
                s.MessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED
            )

        return run_idempotent(request, actor, handler)

    @extend_schema(request=None, responses={200: s.TicketDetailSerializer})
    @action(detail=True, methods=["post", "put"], url_path="open", url_name="open")
    def reopen(self, request, ticket_number=None):
        """Re-open a closed ticket (seed 003 ``PUT /tickets/@number/open``): the support team
        always, customers within the re-open window."""
        ticket = services.ticket_reopen(actor=self.actor, ticket=self.get_object())
        return self._detail(ticket)

    @extend_schema(request=None, responses={200: s.TicketDetailSerializer})
    @action(detail=True, methods=["post", "put"])
    def close(self, request, ticket_number=None):
        """Close the ticket (seed 003 ``PUT /tickets/@number/close``)."""
        ticket = services.ticket_close(actor=self.actor, ticket=self.get_object())
        return self._detail(ticket)

    @extend_schema(request=s.EscalateSerializer, responses={200: s.TicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request, ticket_number=None):
        """The reseller's support team asks the platform's staff about one of its tickets
        (``support.escalation``): the ticket stays with the reseller, flagged, with an internal
        note giving the reason; staff answer in an internal note."""
        ticket = self.get_object()
        data = self._body(s.EscalateSerializer)
        ticket = escalation.ticket_escalate(actor=self.actor, ticket=ticket, reason=data["reason"])
        return self._detail(ticket)

    @extend_schema(request=None, responses={200: s.TicketDetailSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, ticket_number=None):
        """Staff: put the ticket's failed registry operation back in the queue."""
        ticket = self.get_object()
        services.ticket_retry_operation(actor=self.actor, ticket=ticket)
        return self._detail(ticket)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file"
            )
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment(self, request, ticket_number=None, attachment_id=None):
        """Download an attachment of the ticket (seed 003 ``GET /ticket/attachment/@file``)."""
        ticket = self.get_object()
        item = (
            visible_attachments(self.actor).filter(pk=attachment_id, message__ticket=ticket).first()
        )
        if item is None:
            raise NotFound("Not found.")
        try:
            handle = item.file.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise NotFound("The file is missing.") from exc
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=item.filename,
            content_type=item.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ListOnlyViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A list without detail URLs: these rows are shared by the whole organisation (or the
    platform), not objects of one customer."""

    ordering_fields: tuple[str, ...] = ()

    def scoped_queryset(self) -> QuerySet:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.scoped_queryset()


class DepartmentViewSet(ListOnlyViewSet):
    """Departments the caller may open tickets in (seed 003 ``GET /ticket/departments``)."""

    serializer_class = s.DepartmentSerializer
    filterset_class = None
    ordering_fields = ("position", "name")

    def scoped_queryset(self) -> QuerySet[Department]:
        queryset = visible_departments(self.actor)
        if not self.actor.is_staff:
            queryset = queryset.filter(is_public=True)
        return queryset


class CannedReplyViewSet(ListOnlyViewSet):
    """Ready answers for the support team (empty for everyone else)."""

    serializer_class = s.CannedReplySerializer
    filterset_class = None
    ordering_fields = ("position", "title")

    def scoped_queryset(self):
        return visible_canned_replies(self.actor)

"""The registrant API (seed 004): read-only, for the holder of the domains.

``GET /api/v1/registrant/domains`` and ``GET /api/v1/registrant/domains/<uuid>``, exactly as the
document's paths (no trailing slash). The caller is the token's customer
(``portal.tenancy.actor_for_registrant_token``); what it sees is ``visible_domains(actor)``: that
customer's domains in its mode that it still holds. Every refusal is ``{"errors": ["..."]}``
with a 4xx (``error_response``).
"""

from __future__ import annotations

import uuid

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from domains.models import RegistrarOperation
from domains.selectors import visible_domains
from domains.services import domain_transfer_codes
from portal.compat.base import CompatAPIView
from portal.compat.registrant.authentication import RegistrantTokenAuthentication
from portal.compat.registrant.serializers import RegistrantDomainSerializer
from portal.tenancy import Actor, actor_for_registrant_token

MAX_LIMIT = 200
MAX_OFFSET = 2_147_483_647  # past it no customer has domains; bigger would overflow the query
LIMIT_ERROR = f"limit must be an integer between 1 and {MAX_LIMIT}"
OFFSET_ERROR = f"offset must be an integer between 0 and {MAX_OFFSET}"
NOT_FOUND = "Domain not found"


class JSONOnly(BaseContentNegotiation):
    """The document answers JSON whatever the Accept header says."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RegistrantAPIView(CompatAPIView):
    authentication_classes = [RegistrantTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    def error_response(self, status: int, message: str) -> Response:
        return Response({"errors": [message]}, status=status)

    @property
    def actor(self) -> Actor:
        return actor_for_registrant_token(self.request.auth)

    def domains(self):
        """The caller's domains with what the document shows (one query for any number)."""
        lock_set = (
            RegistrarOperation.objects.filter(
                domain=OuterRef("pk"), kind=RegistrarOperation.Kind.LOCK, payload__value=True
            )
            .exclude(
                status__in=[RegistrarOperation.Status.FAILED, RegistrarOperation.Status.CANCELLED]
            )
            .order_by("-created_at", "-id")
        )
        return (
            visible_domains(self.actor)
            .select_related("organisation")
            .annotate(
                locked_since=Coalesce(
                    Subquery(lock_set.values("finished_at")[:1]),
                    Subquery(lock_set.values("created_at")[:1]),
                    "registered_at",
                )
            )
            .order_by("name_puny", "id")
        )

    def represent(self, domains: list, *, many: bool):
        codes = domain_transfer_codes(actor=self.actor, domains=domains)
        context = {"transfer_codes": codes}
        if many:
            return RegistrantDomainSerializer(domains, many=True, context=context).data
        return RegistrantDomainSerializer(domains[0], context=context).data


def _integer(value: str | None, default: int, low: int, high: int, message: str) -> int:
    if value is None:
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise exceptions.ValidationError(message)
    number = int(text)
    if not low <= number <= high:
        raise exceptions.ValidationError(message)
    return number


UNAUTHORIZED = {401: OpenApiResponse(description="No token, or a wrong or revoked one")}

DOMAIN_FIELDS = (
    "Every field of the document, Nameport's data mapped into each (see the schema's field "
    "descriptions). The list's example shows `valid_from` and the detail's `registered_at`: "
    "both answers carry both fields, with the same value. Times are UTC with milliseconds and "
    'a "Z", as the document shows them; null where Nameport has no such time.'
)


class DomainList(RegistrantAPIView):
    @extend_schema(
        operation_id="registrant_domains_list",
        summary="Domains of the current registrant",
        description=(
            "The token's customer's domains in its mode (sandbox or live) that it still holds "
            "(not deleted or transferred away), ordered by name (ASCII form), then by id. "
            "The document writes the body as `{ [ ... ] }`, which is not JSON: the answer is a "
            "JSON array of domain objects (empty past the last one). " + DOMAIN_FIELDS
        ),
        parameters=[
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": MAX_LIMIT},
                description=f"How many domains to show: 1 to {MAX_LIMIT} (default {MAX_LIMIT})",
                required=False,
            ),
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                description="Domain number to start at, from 0 (default 0)",
                required=False,
            ),
        ],
        responses={
            200: RegistrantDomainSerializer(many=True),
            400: OpenApiResponse(description="A bad `limit` or `offset`"),
            **UNAUTHORIZED,
        },
    )
    def get(self, request):
        params = request.query_params
        limit = _integer(params.get("limit"), MAX_LIMIT, 1, MAX_LIMIT, LIMIT_ERROR)
        offset = _integer(params.get("offset"), 0, 0, MAX_OFFSET, OFFSET_ERROR)
        domains = list(self.domains()[offset : offset + limit])
        return Response(self.represent(domains, many=True))


class DomainDetail(RegistrantAPIView):
    @extend_schema(
        operation_id="registrant_domains_retrieve",
        summary="A single domain of the current registrant",
        description=(
            "One of the token's customer's domains by its UUID. An unknown or malformed UUID, "
            "another customer's domain, one of the other mode or one no longer held answers 404 "
            '`{"errors": ["Domain not found"]}`. ' + DOMAIN_FIELDS
        ),
        parameters=[
            OpenApiParameter("uuid", str, OpenApiParameter.PATH, description="The domain's UUID")
        ],
        responses={
            200: RegistrantDomainSerializer,
            **UNAUTHORIZED,
            404: OpenApiResponse(description="Domain not found"),
        },
    )
    def get(self, request, uuid: str):
        try:
            wanted = _uuid(uuid)
        except ValueError:
            raise exceptions.NotFound(NOT_FOUND) from None
        domain = self.domains().filter(uuid=wanted).first()
        if domain is None:
            raise exceptions.NotFound(NOT_FOUND)
        return Response(self.represent([domain], many=False))


def _uuid(value: str) -> uuid.UUID:
    if len(value) > 36:
        raise ValueError(value)
    return uuid.UUID(value)


class NotFoundView(RegistrantAPIView):
    """Any other path under /api/v1/registrant/ (a trailing slash too): 404 in the document's
    shape, for a caller with a token as for one without."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        raise exceptions.NotFound("Not found")

    post = put = patch = delete = get

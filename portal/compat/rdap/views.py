"""RDAP (RFC 7480, 9082, 9083) for the names Nameport sponsors, as their registrar.

``GET /rdap/domain/<name>``, ``GET /rdap/nameserver/<name>`` and ``GET /rdap/help`` (HEAD too):
public, no authentication, ``application/rdap+json`` whatever the Accept header says,
``Access-Control-Allow-Origin: *`` on every answer, rate-limited per client address
(``throttling.RdapRateThrottle``). Every refusal is an RFC 9083 error body with the same status
(``error_response``): 400 for a malformed name, 404 for a name Nameport does not sponsor (a
sandbox or released domain included), 405, 429 with Retry-After, and 501 for the RDAP query types
this server does not answer (ip, autnum, entity, searches).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from portal.compat.base import CompatAPIView

from . import build, lookups, schema
from .throttling import RdapRateThrottle

# Query types of RFC 9082 this server recognises but does not answer (501).
UNSUPPORTED = {"ip", "autnum", "entity", "domains", "nameservers", "entities"}


class RdapRenderer(JSONRenderer):
    media_type = build.MEDIA_TYPE
    format = "rdap"


class RdapOnly(BaseContentNegotiation):
    """RFC 7480 section 4.2: the answer is application/rdap+json, also to a client that asked
    for application/json (or anything else)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class NotImplementedQuery(exceptions.APIException):
    status_code = 501
    default_detail = "This server answers domain and nameserver queries only."


class RdapView(CompatAPIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [RdapRateThrottle]
    renderer_classes = [RdapRenderer]
    content_negotiation_class = RdapOnly

    def error_response(self, status: int, message: str) -> Response:
        return Response(build.error_body(status, message), status=status)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"  # RFC 7480 section 5.6
        return response

    # What every answer links to, with the host the request named.
    @property
    def base_url(self) -> str:
        return self.request.build_absolute_uri(reverse("compat-rdap:help")).removesuffix("help")

    @property
    def self_url(self) -> str:
        return self.request.build_absolute_uri(self.request.path)

    @property
    def terms_url(self) -> str:
        return settings.NAMEPORT_RDAP_TERMS_URL or f"{self.base_url}help"


NAME = OpenApiParameter(
    "name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The name in its ASCII (punycode) or Unicode form, any case, a trailing dot "
    "ignored.",
)
ERRORS = {
    400: OpenApiResponse(schema.ERROR, description="A malformed name"),
    404: OpenApiResponse(schema.ERROR, description="No such name here"),
    429: OpenApiResponse(schema.ERROR, description="Rate limit reached; see Retry-After"),
}


class DomainView(RdapView):
    @extend_schema(
        operation_id="rdap_domain",
        summary="Domain lookup (RFC 9082 section 3.1.3)",
        description=(
            "The live domains Nameport holds (sandbox domains and released names are 404). "
            "`status` maps the EPP statuses the registry last reported (RFC 8056); without any, "
            "Nameport's own state (pending registration, grace, redemption, pending delete, "
            "pending transfer and suspended as their EPP counterparts, the registrar lock as "
            "`client transfer prohibited`, else `active`). `nameservers` carry `ipAddresses` "
            "for the glue hosts the domain holds. Entities: the registrar (with its abuse "
            "contact), the reseller, and the registrant, administrative and technical contacts "
            "with only their state and country; every other field of theirs is redacted and "
            "listed in `redacted` (RFC 9537). Billing contacts are not shown."
        ),
        parameters=[NAME],
        responses={200: OpenApiResponse(schema.DOMAIN, description="The domain object"), **ERRORS},
    )
    def get(self, request, name: str):
        ascii_name = lookups.query_name(name)
        domain = lookups.served_domain(ascii_name)
        if domain is None:
            raise exceptions.NotFound(f"{ascii_name} is not a domain this registrar sponsors.")
        return Response(
            build.domain_object(
                domain, base_url=self.base_url, self_url=self.self_url, terms_url=self.terms_url
            )
        )


class NameserverView(RdapView):
    @extend_schema(
        operation_id="rdap_nameserver",
        summary="Nameserver lookup (RFC 9082 section 3.1.4)",
        description=(
            "A host that a domain of the domain lookup names as a nameserver, or holds as a glue "
            "host (then with its `ipAddresses`)."
        ),
        parameters=[NAME],
        responses={
            200: OpenApiResponse(schema.NAMESERVER_ANSWER, description="The nameserver object"),
            **ERRORS,
        },
    )
    def get(self, request, name: str):
        ascii_name = lookups.query_name(name)
        hosts = lookups.served_nameserver(ascii_name)
        if hosts is None:
            raise exceptions.NotFound(f"{ascii_name} is not a nameserver of a domain here.")
        return Response(
            build.nameserver_answer(
                ascii_name,
                hosts=hosts,
                base_url=self.base_url,
                self_url=self.self_url,
                terms_url=self.terms_url,
            )
        )


class HelpView(RdapView):
    @extend_schema(
        operation_id="rdap_help",
        summary="Help (RFC 9082 section 3.1.6)",
        description="What this server answers, its terms of use and its rate limit.",
        responses={
            200: OpenApiResponse(schema.HELP, description="The help object (notices)"),
            429: ERRORS[429],
        },
    )
    def get(self, request):
        return Response(
            build.help_answer(
                base_url=self.base_url,
                self_url=self.self_url,
                terms_url=self.terms_url,
                rate=settings.NAMEPORT_RDAP_THROTTLE,
            )
        )


class OtherView(RdapView):
    """Anything else under /rdap/: 501 for RDAP's other query types, 404 otherwise."""

    @extend_schema(exclude=True)
    def get(self, request, rest: str = ""):
        if rest.split("/", 1)[0] in UNSUPPORTED:
            raise NotImplementedQuery()
        raise exceptions.NotFound("Not found.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == NotImplementedQuery.status_code:
            # An answer by design, not a server fault: Django would log every such query as
            # an error (django.utils.log.log_response skips a response already logged).
            response._has_been_logged = True
        return response

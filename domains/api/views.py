"""Domains in the native API: the same services as the pages, scoped to the caller.

Writes accept an ``Idempotency-Key`` header (portal.api.idempotency). Changes that reach a
registry answer 202 with the queued operation; its progress is at /api/v1/operations/{id}/.
"""

from __future__ import annotations

from dataclasses import asdict

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from customers.selectors import visible_customers
from domains import availability, policies, services
from domains.api import serializers as s
from domains.filtersets import DomainFilterSet, RegistrarOperationFilterSet
from domains.models import Domain, RegistrarOperation
from domains.selectors import visible_domains, visible_operations
from portal.api.idempotency import run_idempotent
from portal.api.views import ScopedReadOnlyViewSet

QUEUED = inline_serializer(
    "QueuedOperation",
    {"domain": s.DomainSerializer(), "operation": s.OperationSerializer()},
)


def _availability_data(results) -> list:
    return s.AvailabilitySerializer(
        [{**asdict(r), "status": r.status} for r in results], many=True
    ).data


def _customer(actor, customer_id: int):
    customer = visible_customers(actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound("Customer not found.")
    return customer


# The error body itself is added to every 4xx by portal.api.schema.add_error_responses.
NO_CUSTOMER = OpenApiResponse(description="`customer` is not one of the caller's customers")

# Actions that answer a whole (short) list as a bare array: no pages and no list filters, and
# the OpenAPI document says so (drf-spectacular otherwise documents them as paginated).
BARE_LIST = {"pagination_class": None, "filter_backends": []}
CUSTOMERS_ORDER = (
    "Customers order through POST /api/v1/orders/: the order is invoiced, and the registry "
    "is asked once the invoice is paid."
)


# The columns a page of domains reads: what DomainSerializer shows (the TLD by name, the
# customer by id, nameservers from their own table).
LIST_COLUMNS = (
    *(f for f in s.DomainSerializer.Meta.fields if f not in {"tld", "customer", "nameservers"}),
    "tld__name",
    "customer_id",
)


class DomainViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """The caller's domains (never their auth codes), and every action on them."""

    serializer_class = s.DomainSerializer
    filterset_class = DomainFilterSet
    ordering_fields = ("name_puny", "status", "expires_at", "registered_at", "created_at")

    def scoped_queryset(self) -> QuerySet[Domain]:
        # Only what the serializer shows: the customer's row is not needed (its id is on the
        # domain) and the encrypted auth code is never read.
        return (
            visible_domains(self.actor)
            .select_related(None)
            .select_related("tld")
            .defer("auth_code", "registry_reference", "tld__registrar_account_id")
        )

    def get_queryset(self) -> QuerySet[Domain]:
        queryset = super().get_queryset()
        if self.action == "list":
            # A page reads only the columns it shows (each timestamp costs a conversion).
            queryset = queryset.only(*LIST_COLUMNS)
        return queryset

    # --- helpers --------------------------------------------------------------------------
    def _body(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _queued(self, domain: Domain, operation: RegistrarOperation) -> Response:
        domain = self.scoped_queryset().get(pk=domain.pk)
        return Response(
            {
                "domain": s.DomainSerializer(domain).data,
                "operation": s.OperationSerializer(operation, context={"actor": self.actor}).data,
            },
            status=status.HTTP_202_ACCEPTED,
        )

    def _refuse_customers(self) -> None:
        """Resellers and staff register and transfer here, at cost, without invoicing the
        customer; a customer's own order is invoiced and goes through ``/api/v1/orders/``."""
        if self.actor.is_customer:
            if not policies.can_order(self.actor):
                raise PermissionDenied(policies.order_refusal(self.actor))
            raise ValidationError(CUSTOMERS_ORDER)

    def _idempotent(self, handler) -> Response:
        return run_idempotent(self.request, self.actor, handler)

    # --- register, transfer ---------------------------------------------------------------
    @extend_schema(request=s.RegisterSerializer, responses={202: QUEUED, 404: NO_CUSTOMER})
    def create(self, request, *args, **kwargs):
        """Register a domain for one of your customers (queued to the registry)."""

        def handler():
            self._refuse_customers()
            data = self._body(s.RegisterSerializer)
            domain = services.domain_register(
                actor=self.actor,
                customer=_customer(self.actor, data["customer"]),
                name=data["name"],
                years=data["years"],
                nameservers=data.get("nameservers") or None,
                id_protection=data["id_protection"],
                autorenew=data["autorenew"],
            )
            return self._queued(domain, domain.operations.get())

        return self._idempotent(handler)

    @extend_schema(request=s.TransferSerializer, responses={202: QUEUED, 404: NO_CUSTOMER})
    @action(detail=False, methods=["post"])
    def transfer(self, request):
        """Transfer a domain in with its auth code (queued to the registry)."""

        def handler():
            self._refuse_customers()
            data = self._body(s.TransferSerializer)
            domain = services.domain_transfer_in(
                actor=self.actor,
                customer=_customer(self.actor, data["customer"]),
                name=data["name"],
                auth_code=data["auth_code"],
                years=data["years"],
            )
            return self._queued(domain, domain.operations.get())

        return self._idempotent(handler)

    # --- availability, suggestions --------------------------------------------------------
    @extend_schema(
        request=s.AvailabilityRequestSerializer,
        responses={200: s.AvailabilitySerializer(many=True)},
    )
    @action(detail=False, methods=["post"], **BARE_LIST)
    def availability(self, request):
        """Check full names (`names`) or one label across TLDs (`name` + `tlds`)."""
        data = self._body(s.AvailabilityRequestSerializer)
        if data.get("names"):
            results = availability.check_names(self.actor, data["names"])
        else:
            results = availability.check_across_tlds(self.actor, data["name"], data.get("tlds"))
        return Response(_availability_data(results))

    @extend_schema(
        request=s.SuggestionRequestSerializer,
        responses={200: s.AvailabilitySerializer(many=True)},
    )
    @action(detail=False, methods=["post"], **BARE_LIST)
    def suggestions(self, request):
        """Available variants of a keyword (prefixes, suffixes, hyphenation, other TLDs)."""
        data = self._body(s.SuggestionRequestSerializer)
        results = availability.suggest(self.actor, data["keyword"], data["limit"])
        return Response(_availability_data(results))

    # --- actions on one domain --------------------------------------------------------------
    @extend_schema(request=s.YearsSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        domain = self.get_object()

        def handler():
            data = self._body(s.YearsSerializer)
            operation = services.domain_renew(actor=self.actor, domain=domain, years=data["years"])
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=s.NameserversSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["put"])
    def nameservers(self, request, pk=None):
        domain = self.get_object()

        def handler():
            data = self._body(s.NameserversSerializer)
            operation = services.domain_set_nameservers(
                actor=self.actor, domain=domain, nameservers=data["nameservers"]
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=s.LockSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["put"])
    def lock(self, request, pk=None):
        domain = self.get_object()

        def handler():
            data = self._body(s.LockSerializer)
            operation = services.domain_set_lock(
                actor=self.actor, domain=domain, locked=data["locked"]
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=s.EnabledSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["put"])
    def privacy(self, request, pk=None):
        domain = self.get_object()

        def handler():
            data = self._body(s.EnabledSerializer)
            operation = services.domain_set_privacy(
                actor=self.actor, domain=domain, enabled=data["enabled"]
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=s.EnabledSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["put"])
    def autorenew(self, request, pk=None):
        domain = self.get_object()

        def handler():
            data = self._body(s.EnabledSerializer)
            operation = services.domain_set_autorenew(
                actor=self.actor, domain=domain, enabled=data["enabled"]
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(methods=["get"], request=None, responses={200: s.ContactSerializer(many=True)})
    @extend_schema(methods=["put"], request=s.ContactsUpdateSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["get", "put"], **BARE_LIST)
    def contacts(self, request, pk=None):
        domain = self.get_object()
        if request.method == "GET":
            return Response(s.ContactSerializer(domain.contacts.all(), many=True).data)

        def handler():
            data = self._body(s.ContactsUpdateSerializer)
            operation = services.domain_set_contacts(
                actor=self.actor, domain=domain, contacts=dict(data)
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(methods=["get"], request=None, responses={200: s.AuthCodeSerializer})
    @extend_schema(methods=["post"], request=None, responses={202: QUEUED})
    @action(detail=True, methods=["get", "post"], url_path="auth-code")
    def auth_code(self, request, pk=None):
        """POST asks the registry for the transfer code; GET shows it (audited)."""
        domain = self.get_object()
        if request.method == "GET":
            code = services.domain_reveal_auth_code(actor=self.actor, domain=domain)
            return Response({"auth_code": code})
        operation = services.domain_request_auth_code(actor=self.actor, domain=domain)
        return self._queued(domain, operation)

    @extend_schema(request=s.RestoreSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Restore a domain in its redemption period (queued to the registry; the registry's
        restore report is sent where it requires one)."""
        domain = self.get_object()

        def handler():
            data = self._body(s.RestoreSerializer)
            operation = services.domain_restore(
                actor=self.actor, domain=domain, reason=data.get("reason", "")
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=None, responses={202: QUEUED})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Read the registry's view and record differences (see `drifts`)."""
        domain = self.get_object()
        return self._queued(domain, services.domain_sync(actor=self.actor, domain=domain))

    @extend_schema(request=None, responses={200: s.TransferRequestSerializer})
    @action(detail=True, methods=["get"], url_path="transfer-request")
    def transfer_request(self, request, pk=None):
        """Another registrar's latest request to transfer this domain away (open or answered)."""
        domain = self.get_object()
        found = domain.transfer_requests.select_related("domain__tld").first()
        if found is None:
            raise NotFound("No other registrar has asked for this domain.")
        return Response(s.TransferRequestSerializer(found).data)

    def _transfer_answer(self, approve: bool) -> Response:
        domain = self.get_object()

        def handler():
            operation = services.transfer_request_answer(
                actor=self.actor, domain=domain, approve=approve
            )
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=None, responses={202: QUEUED})
    @action(detail=True, methods=["post"], url_path="transfer-request/approve")
    def transfer_request_approve(self, request, pk=None):
        """Let the other registrar have the domain (sent to the registry)."""
        return self._transfer_answer(True)

    @extend_schema(request=None, responses={202: QUEUED})
    @action(detail=True, methods=["post"], url_path="transfer-request/reject")
    def transfer_request_reject(self, request, pk=None):
        """Keep the domain: refuse the other registrar's request (sent to the registry)."""
        return self._transfer_answer(False)

    @extend_schema(request=None, responses={202: QUEUED})
    @action(detail=True, methods=["post"], url_path="transfer-cancel")
    def transfer_cancel(self, request, pk=None):
        """Withdraw this domain's pending transfer in (sent to the registry)."""
        domain = self.get_object()

        def handler():
            operation = services.domain_transfer_cancel(actor=self.actor, domain=domain)
            return self._queued(domain, operation)

        return self._idempotent(handler)

    @extend_schema(request=None, responses={200: s.DriftSerializer(many=True)})
    @action(detail=True, methods=["get"], **BARE_LIST)
    def drifts(self, request, pk=None):
        domain = self.get_object()
        return Response(s.DriftSerializer(domain.drifts.all()[:100], many=True).data)

    @extend_schema(methods=["get"], request=None, responses={200: s.HostSerializer(many=True)})
    @extend_schema(methods=["post"], request=s.HostSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["get", "post"], **BARE_LIST)
    def hosts(self, request, pk=None):
        """Glue hosts under this domain."""
        domain = self.get_object()
        if request.method == "GET":
            return Response(s.HostSerializer(domain.hosts.all(), many=True).data)

        def handler():
            data = self._body(s.HostSerializer)
            services.host_create(
                actor=self.actor,
                domain=domain,
                hostname=data["hostname"],
                ipv4=data.get("ipv4", []),
                ipv6=data.get("ipv6", []),
            )
            return self._queued(domain, domain.operations.order_by("-pk").first())

        return self._idempotent(handler)

    @extend_schema(methods=["put"], request=s.HostAddressesSerializer, responses={202: QUEUED})
    @extend_schema(methods=["delete"], request=None, responses={202: QUEUED})
    @action(detail=True, methods=["put", "delete"], url_path=r"hosts/(?P<host_id>[0-9]+)")
    def host(self, request, pk=None, host_id=None):
        domain = self.get_object()
        host = get_object_or_404(domain.hosts, pk=host_id)

        def handler():
            if request.method == "DELETE":
                services.host_delete(actor=self.actor, host=host)
            else:
                data = self._body(s.HostAddressesSerializer)
                services.host_set_addresses(
                    actor=self.actor, host=host, ipv4=data["ipv4"], ipv6=data["ipv6"]
                )
            return self._queued(domain, domain.operations.order_by("-pk").first())

        return self._idempotent(handler)

    @extend_schema(methods=["get"], request=None, responses={200: s.DsSerializer(many=True)})
    @extend_schema(methods=["post"], request=s.DsSerializer, responses={202: QUEUED})
    @action(detail=True, methods=["get", "post"], **BARE_LIST)
    def dnssec(self, request, pk=None):
        """DS records published at the registry."""
        domain = self.get_object()
        if request.method == "GET":
            return Response(s.DsSerializer(domain.ds_records.all(), many=True).data)

        def handler():
            data = self._body(s.DsSerializer)
            services.ds_add(actor=self.actor, domain=domain, **data)
            return self._queued(domain, domain.operations.order_by("-pk").first())

        return self._idempotent(handler)

    @extend_schema(request=None, responses={202: QUEUED})
    @action(detail=True, methods=["delete"], url_path=r"dnssec/(?P<ds_id>[0-9]+)")
    def dnssec_remove(self, request, pk=None, ds_id=None):
        domain = self.get_object()
        ds = get_object_or_404(domain.ds_records, pk=ds_id)
        services.ds_remove(actor=self.actor, ds=ds)
        return self._queued(domain, domain.operations.order_by("-pk").first())


class OperationViewSet(ScopedReadOnlyViewSet):
    """Registry operations (the outbox) of the caller's domains, with retry and cancel."""

    serializer_class = s.OperationSerializer
    filterset_class = RegistrarOperationFilterSet
    ordering_fields = ("created_at", "status", "kind", "next_attempt_at")

    def scoped_queryset(self) -> QuerySet[RegistrarOperation]:
        return visible_operations(self.actor)

    def _staff_or_reseller(self):
        if not policies.can_manage_operations(self.actor):
            raise PermissionDenied("Only staff and resellers can retry or cancel operations.")

    @extend_schema(request=None, responses={200: s.OperationSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        operation = self.get_object()
        self._staff_or_reseller()
        operation = services.operation_retry(actor=self.actor, operation=operation)
        return Response(s.OperationSerializer(operation, context={"actor": self.actor}).data)

    @extend_schema(request=None, responses={200: s.OperationSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        operation = self.get_object()
        self._staff_or_reseller()
        operation = services.operation_cancel(actor=self.actor, operation=operation)
        return Response(s.OperationSerializer(operation, context={"actor": self.actor}).data)

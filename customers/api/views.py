from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import accounts
from customers.api.serializers import CustomerSerializer, CustomerWriteSerializer
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from customers.selectors import visible_customers, visible_organisations
from portal.api.views import ScopedReadOnlyViewSet


class CustomerViewSet(ScopedReadOnlyViewSet):
    """The caller's customers: a reseller's (or key's) customers of its mode, staff all of them,
    a customer user or contact only its own customer record. Archived customers are left out of
    the list unless ``archived`` asks for them; a reseller and staff create, change (PATCH),
    archive and unarchive them."""

    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ("created_at", "last_name", "email", "country")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self) -> QuerySet[Customer]:
        return visible_customers(self.actor)

    def filter_queryset(self, queryset):
        if self.action != "list":  # an archived customer is still there by its id
            return queryset
        return super().filter_queryset(queryset)

    def _require_manager(self) -> None:
        if not (self.actor.is_staff or self.actor.is_reseller):
            raise Http404

    def _answer(self, customer: Customer, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            CustomerSerializer(customer, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=CustomerWriteSerializer, responses={201: CustomerSerializer})
    def create(self, request, *args, **kwargs):
        self._require_manager()
        actor = self.actor
        incoming = CustomerWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        organisation_id = data.pop("organisation", None)
        livemode = data.pop("livemode", None)
        if actor.is_staff:
            if organisation_id is None:
                raise serializers.ValidationError({"organisation": "Staff name the reseller."})
            organisation = visible_organisations(actor).filter(pk=organisation_id).first()
            if organisation is None:
                raise serializers.ValidationError({"organisation": "No such organisation."})
            livemode = True if livemode is None else livemode
        else:
            if organisation_id not in (None, actor.organisation_id):
                raise serializers.ValidationError({"organisation": "No such organisation."})
            if livemode not in (None, actor.livemode):
                raise serializers.ValidationError(
                    {"livemode": "Customers are created in the mode of your key or session."}
                )
            organisation = actor.organisation
            livemode = actor.livemode
        customer = accounts.customer_create(
            actor=actor, organisation=organisation, livemode=bool(livemode), values=data
        )
        return self._answer(customer, status.HTTP_201_CREATED)

    @extend_schema(request=CustomerWriteSerializer, responses={200: CustomerSerializer})
    def partial_update(self, request, *args, **kwargs):
        self._require_manager()
        customer = self.get_object()
        incoming = CustomerWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        if "organisation" in data or "livemode" in data:
            raise serializers.ValidationError(
                {"organisation": "A customer stays with its organisation and mode."}
            )
        customer = accounts.customer_update(actor=self.actor, customer=customer, values=data)
        return self._answer(customer)

    @extend_schema(request=None, responses={200: CustomerSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive the customer: its domains, invoices, tickets and history stay; it places no
        new orders (registrations, transfers, renewals) until unarchived."""
        self._require_manager()
        customer = accounts.customer_archive(actor=self.actor, customer=self.get_object())
        return self._answer(customer)

    @extend_schema(request=None, responses={200: CustomerSerializer})
    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        self._require_manager()
        customer = accounts.customer_unarchive(actor=self.actor, customer=self.get_object())
        return self._answer(customer)

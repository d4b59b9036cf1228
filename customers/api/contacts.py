"""Contacts on a customer account (seed 003's ``/contact``) in the native API.

A reseller (its members with the customers right, or its keys) and staff list, add, change,
remove and invite the contacts of their customers; a customer or contact reads the ones it may
see. The rules (one address per customer, the seed-003 privilege shape, per-domain lists naming
only the customer's own domains, who may manage) are ``customers.contacts``'.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import contacts
from customers.models import DOMAIN_PRIVILEGES, PRIVILEGE_CATALOGUE, SERVICE_PRIVILEGES, Contact
from customers.selectors import visible_contacts, visible_customers
from domains.selectors import visible_domains
from portal.api.views import ScopedReadOnlyViewSet
from portal.filtersets import ID_MESSAGE, MAX_ID, is_id


class ContactSerializer(serializers.ModelSerializer):
    has_login = serializers.SerializerMethodField(help_text="Whether the contact can sign in")

    class Meta:
        model = Contact
        # The contact's own fields are customers.contacts.FIELDS, the ones its services set.
        fields = [
            "id",
            "customer",
            *contacts.FIELDS,
            "privileges",
            "has_login",
            "last_login",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_login(self, contact: Contact) -> bool:
        return contact.user_id is not None


class ContactWriteSerializer(serializers.Serializer):
    """What a reseller sets on a contact; a PATCH sends only what changes. ``privileges`` is
    seed 003's object: ``billing``, ``support`` and ``misc`` are lists of names; ``domains`` and
    ``services`` map a domain id (or ``full``) to a list of names (``{"full": true}`` for all)."""

    customer = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The customer the contact belongs to"
    )
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address1 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    address2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    post_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="e.g. +234.8012345678"
    )
    type = serializers.ChoiceField(choices=Contact.Type.choices, required=False)
    privileges = serializers.DictField(required=False, help_text="Seed 003's privileges object")
    invite = serializers.BooleanField(
        required=False,
        default=False,
        help_text="E-mail the contact a link to set a password and sign in",
    )


class PrivilegeCatalogueSerializer(serializers.Serializer):
    billing = serializers.ListField(child=serializers.CharField())
    support = serializers.ListField(child=serializers.CharField())
    misc = serializers.ListField(child=serializers.CharField())
    domains = serializers.ListField(child=serializers.CharField())
    services = serializers.ListField(child=serializers.CharField())


@extend_schema(
    parameters=[OpenApiParameter("customer", int, description="Only this customer's contacts")]
)
class ContactViewSet(ScopedReadOnlyViewSet):
    """The contacts of the caller's customers (staff: all; a customer or contact: its own
    account's, as its privileges allow)."""

    serializer_class = ContactSerializer
    ordering_fields = ("created_at", "last_name", "email")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self) -> QuerySet[Contact]:
        queryset = visible_contacts(self.actor)
        customer = self.request.query_params.get("customer")
        if self.action == "list" and customer:
            if not is_id(customer):
                raise serializers.ValidationError({"customer": ID_MESSAGE})
            queryset = queryset.filter(customer_id=int(customer))
        return queryset

    def _require_manager(self) -> None:
        if not (self.actor.is_staff or self.actor.is_reseller):
            raise Http404

    def _domain_ids(self, customer) -> list[int]:
        return list(
            visible_domains(self.actor).filter(customer=customer).values_list("pk", flat=True)
        )

    def _answer(self, contact: Contact, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            ContactSerializer(contact, context=self.get_serializer_context()).data, status=code
        )

    def _invite(self, contact: Contact) -> Contact:
        return contacts.contact_invite(
            actor=self.actor, contact=contact, base_url=self.request.build_absolute_uri("/")
        )

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer})
    def create(self, request, *args, **kwargs):
        self._require_manager()
        incoming = ContactWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        customer = visible_customers(self.actor).filter(pk=data.pop("customer")).first()
        if customer is None:
            raise serializers.ValidationError({"customer": "No such customer."})
        invite = data.pop("invite", False)
        privileges = data.pop("privileges", {})
        contact = contacts.contact_create(
            actor=self.actor,
            customer=customer,
            values=data,
            privileges=privileges,
            allowed_domain_ids=self._domain_ids(customer),
        )
        if invite:
            contact = self._invite(contact)
        return self._answer(contact, status.HTTP_201_CREATED)

    @extend_schema(request=ContactWriteSerializer, responses={200: ContactSerializer})
    def partial_update(self, request, *args, **kwargs):
        self._require_manager()
        contact = self.get_object()
        incoming = ContactWriteSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        data = dict(incoming.validated_data)
        if "customer" in data and data["customer"] != contact.customer_id:
            raise serializers.ValidationError({"customer": "A contact stays with its customer."})
        data.pop("customer", None)
        invite = data.pop("invite", False)
        privileges = data.pop("privileges", None)
        contact = contacts.contact_update(
            actor=self.actor,
            contact=contact,
            values=data,
            privileges=privileges,
            allowed_domain_ids=self._domain_ids(contact.customer),
        )
        if invite:
            contact = self._invite(contact)
        return self._answer(contact)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        self._require_manager()
        contacts.contact_delete(actor=self.actor, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """E-mail the contact a link to set a password and sign in (again: a new link)."""
        self._require_manager()
        return self._answer(self._invite(self.get_object()))

    @extend_schema(responses={200: PrivilegeCatalogueSerializer})
    @action(detail=False, methods=["get"])
    def privileges(self, request):
        """Seed 003's ``/contact/privileges``: every privilege a contact may be given."""
        return Response(
            {
                **{section: list(names) for section, names in PRIVILEGE_CATALOGUE.items()},
                "domains": list(DOMAIN_PRIVILEGES),
                "services": list(SERVICE_PRIVILEGES),
            }
        )

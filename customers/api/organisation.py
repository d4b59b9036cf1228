"""``/api/v1/organisation/``: the caller's organisation settings and brand, as /settings/ shows
them. Every member and key of the organisation reads them; owners and admins signed in change
them with PATCH (JSON, or multipart with a ``logo`` file); keys do not change settings
(``customers.roles``). The rules are ``customers.org_settings``'."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import org_settings
from customers.models import Organisation
from portal.api.views import ActorMixin


class OrganisationSettingsSerializer(serializers.ModelSerializer):
    has_logo = serializers.SerializerMethodField(help_text="Whether a logo is uploaded")
    # Empty when not set (an e-mail format would refuse "").
    invoice_email = serializers.CharField(read_only=True)
    support_email = serializers.CharField(read_only=True)

    class Meta:
        model = Organisation
        # The settings are customers.org_settings.SETTINGS_FIELDS, the ones its service sets.
        fields = ["id", "slug", *org_settings.SETTINGS_FIELDS, "has_logo", "custom_host"]
        read_only_fields = fields

    def get_has_logo(self, organisation: Organisation) -> bool:
        return bool(organisation.logo)


class OrganisationSettingsWriteSerializer(serializers.Serializer):
    """Send only what changes."""

    name = serializers.CharField(max_length=200, required=False)
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    tax_number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    invoice_email = serializers.EmailField(required=False, allow_blank=True)
    default_currency = serializers.CharField(max_length=3, required=False)
    default_nameservers = serializers.ListField(
        child=serializers.CharField(max_length=253), required=False, max_length=13
    )
    renewal_invoice_days = serializers.IntegerField(min_value=1, max_value=120, required=False)
    reminder_days = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=120), required=False, max_length=10
    )
    support_email = serializers.EmailField(required=False, allow_blank=True)
    portal_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    accent_colour = serializers.CharField(max_length=7, required=False, allow_blank=True)
    logo = serializers.ImageField(required=False, help_text="PNG, JPEG, GIF or WebP")
    remove_logo = serializers.BooleanField(required=False, default=False)


class OrganisationSettingsView(ActorMixin, APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _organisation(self) -> Organisation:
        actor = self.actor
        if actor.is_staff or actor.organisation_id is None or not actor.is_reseller:
            raise Http404
        return Organisation.objects.get(pk=actor.organisation_id)

    def _answer(self, organisation: Organisation) -> Response:
        return Response(OrganisationSettingsSerializer(organisation).data)

    @extend_schema(responses={200: OrganisationSettingsSerializer})
    def get(self, request):
        return self._answer(self._organisation())

    @extend_schema(
        request={
            "application/json": OrganisationSettingsWriteSerializer,
            "multipart/form-data": OrganisationSettingsWriteSerializer,
        },
        responses={200: OrganisationSettingsSerializer},
    )
    def patch(self, request):
        organisation = self._organisation()
        incoming = OrganisationSettingsWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        values = dict(incoming.validated_data)
        logo = values.pop("logo", None)
        remove_logo = values.pop("remove_logo", False)
        organisation, _changed = org_settings.organisation_update_settings(
            actor=self.actor,
            organisation=organisation,
            values=values,
            logo=logo,
            remove_logo=remove_logo,
        )
        return self._answer(organisation)

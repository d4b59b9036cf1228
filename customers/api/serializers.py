from __future__ import annotations

from rest_framework import serializers

from customers.models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    archived = serializers.BooleanField(
        source="is_archived", read_only=True, help_text="Archived: kept, but no new orders"
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "organisation",
            "livemode",
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "address",
            "address2",
            "city",
            "state",
            "post_code",
            "country",
            "currency",
            "archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    """What a reseller sets on a customer (seed 000's customer and contact fields). The rules
    (required fields, the phone's international form, one customer per e-mail address in an
    organisation and mode) are customers.accounts'; a PATCH sends only what changes."""

    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254)
    phone = serializers.CharField(
        max_length=32, help_text="International form with the country code, e.g. +234.8012345678"
    )
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255)
    address2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    post_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, min_length=2, help_text="ISO 3166 code, e.g. NG")
    currency = serializers.CharField(
        max_length=3,
        min_length=3,
        required=False,
        help_text="ISO 4217 code; the organisation's default currency when left out",
    )
    organisation = serializers.IntegerField(
        required=False, help_text="Staff only: the reseller the customer belongs to"
    )
    livemode = serializers.BooleanField(
        required=False, help_text="Staff only: live (default) or sandbox; others get their mode"
    )

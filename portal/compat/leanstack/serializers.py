"""The request and response bodies of the Leanstack documents (seeds 000 and 001).

Request fields are strict about JSON types (a string is a string, ``1`` is not ``true``, ``"1"``
is not a number): the documents show each field's type, and software that sends another type
is told so (400) instead of having its value reinterpreted. Response serializers are for the
OpenAPI document only; the views write the documents' shapes directly.
"""

from __future__ import annotations

from rest_framework import serializers

from portal.compat.leanstack.helpers import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE
from portal.filtersets import MAX_ID


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}
    default_empty_html = serializers.empty

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def _id_field(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- customers ----------------------------------------------------------------------------------
class CustomerPartSerializer(serializers.Serializer):
    first_name = StrictCharField(max_length=100)
    last_name = StrictCharField(max_length=100)
    email = StrictCharField(max_length=254)
    phone = StrictCharField(
        max_length=32,
        help_text="With the country code (2349018191818 or +2349018191818), or a national "
        "number starting with 0 (090383938393) read with the contact's country.",
    )


class ContactPartSerializer(serializers.Serializer):
    address = StrictCharField(max_length=255)
    country = StrictCharField(max_length=2, min_length=2, help_text="ISO 3166 code, e.g. NG")
    city = StrictCharField(max_length=100)
    post_code = StrictCharField(
        max_length=20, allow_blank=True, help_text="Seed 001 spells it `postcode`: both are read."
    )


class CustomerWriteSerializer(serializers.Serializer):
    customer = CustomerPartSerializer()
    contact = ContactPartSerializer()


class CustomerReadCustomerSerializer(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(help_text="Digits with the country code, e.g. 2349018191818")


class CustomerReadContactSerializer(serializers.Serializer):
    address = serializers.CharField()
    country = serializers.CharField()
    city = serializers.CharField()
    post_code = serializers.CharField()


class CustomerReadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = CustomerReadCustomerSerializer()
    contact = CustomerReadContactSerializer()


class PaginationSerializer(serializers.Serializer):
    page = StrictIntegerField(min_value=1, max_value=MAX_PAGE, required=False, default=1)
    page_size = StrictIntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, required=False, default=DEFAULT_PAGE_SIZE
    )


class CustomerListRequestSerializer(serializers.Serializer):
    query = StrictCharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=200,
        help_text="Part of the first or last name, e-mail or phone (any case)",
    )
    pagination = PaginationSerializer(required=False)


class CustomerRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    created_at = serializers.CharField(help_text="UTC with milliseconds: 2019-01-05T13:04:33.000Z")


class MetaDataSerializer(serializers.Serializer):
    query = serializers.CharField()
    total_count = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()


class CustomerListSerializer(serializers.Serializer):
    data = CustomerRowSerializer(many=True)
    meta_data = MetaDataSerializer()


# --- availability, suggestion, order --------------------------------------------------------------
class AvailabilityRequestSerializer(serializers.Serializer):
    domain_name = StrictCharField(max_length=63, help_text="The label without the TLD: tunji")
    tld = StrictCharField(max_length=63, help_text="com, com.ng")


class AvailabilitySerializer(serializers.Serializer):
    tld_available = serializers.BooleanField()
    dollar_price = serializers.CharField(required=False, allow_null=True)
    naira_price = serializers.CharField(required=False, allow_null=True)
    domain_name_available = serializers.BooleanField(required=False)


class SuggestionRequestSerializer(serializers.Serializer):
    domain_name = StrictCharField(max_length=63, help_text="A keyword: tunji")


class SuggestionSerializer(serializers.Serializer):
    domain_name = serializers.CharField(help_text="The label without the TLD")
    tld = serializers.CharField()
    dollar_price = serializers.CharField(allow_null=True)
    naira_price = serializers.CharField(allow_null=True)


class OrderRequestSerializer(serializers.Serializer):
    domain_name = StrictCharField(max_length=63, help_text="The label without the TLD")
    tld = StrictCharField(max_length=63)
    duration = StrictIntegerField(min_value=1, max_value=10, help_text="Years")
    customer_id = _id_field()
    domain_privacy = StrictBooleanField()


class OrderAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success", "incomplete"])
    message = serializers.CharField(required=False)
    domain_name = serializers.CharField()


# --- domains --------------------------------------------------------------------------------------
class DomainListRequestSerializer(serializers.Serializer):
    domain_name = StrictCharField(required=False, allow_blank=True, allow_null=True, max_length=253)
    customer_id = _id_field(required=False, allow_null=True)
    pagination = PaginationSerializer(required=False)


class DomainRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    current_status = serializers.CharField(help_text="The status code (see the table above)")
    domain_name = serializers.CharField()
    expiry = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    customer_id = serializers.IntegerField()


class DomainListSerializer(serializers.Serializer):
    data = DomainRowSerializer(many=True)
    meta_data = MetaDataSerializer()


class NameserversSerializer(serializers.Serializer):
    ns1 = serializers.CharField(allow_null=True)
    ns2 = serializers.CharField(allow_null=True)
    ns3 = serializers.CharField(allow_null=True)
    ns4 = serializers.CharField(allow_null=True)


class DomainReadSerializer(serializers.Serializer):
    domain_name = serializers.CharField()
    current_status = serializers.CharField(help_text="The status label (see the table above)")
    registrar_lock = serializers.BooleanField(allow_null=True)
    expiry = serializers.CharField(allow_null=True)
    customer_id = serializers.IntegerField()
    customer_name = serializers.CharField()
    nameservers = NameserversSerializer()


class NameserversRequestSerializer(serializers.Serializer):
    ns1 = StrictCharField(max_length=253)
    ns2 = StrictCharField(max_length=253)
    ns3 = StrictCharField(max_length=253, required=False, allow_null=True, allow_blank=True)
    ns4 = StrictCharField(max_length=253, required=False, allow_null=True, allow_blank=True)


class RegistrarLockRequestSerializer(serializers.Serializer):
    enable_registrar_lock = StrictBooleanField()


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()

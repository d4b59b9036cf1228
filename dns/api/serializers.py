"""Shapes of the native DNS API. Serializers check shape only; dns.services decides."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dns.models import DnssecKey, EmailForward, Record, Zone, ZoneChange, ZoneTemplate
from dns.rdata import TYPES
from dns.services import IMPORT_MODES, MAX_DNSKEY_TEXT
from portal.api.fields import BooleanField


class RecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = Record
        fields = ["id", "zone", "name", "type", "ttl", "priority", "content", "created_at"]
        read_only_fields = fields


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
        ],
        "description": "The record's data, e.g. 192.0.2.10; an SRV record may give "
        "[weight, port, target] as in seed 003.",
    }
)
class ContentField(serializers.Field):
    def to_internal_value(self, data):
        if isinstance(data, list):
            if not all(isinstance(item, str | int) for item in data):
                raise serializers.ValidationError("Give text, or a list of numbers and names.")
            return " ".join(str(item) for item in data)
        if isinstance(data, str | int):
            return str(data)
        raise serializers.ValidationError("Give the record's data as text.")

    def to_representation(self, value):
        return value


class RecordWriteSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, allow_blank=True, help_text="@ or empty for the apex; relative or absolute"
    )
    type = serializers.ChoiceField(choices=TYPES, required=False)
    ttl = serializers.IntegerField(required=False, allow_null=True)
    priority = serializers.IntegerField(required=False, allow_null=True)
    content = ContentField(required=False)


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = [
            "id",
            "name",
            "customer",
            "domain",
            "livemode",
            "serial",
            "default_ttl",
            "backend",
            "push_status",
            "last_pushed_at",
            "enabled",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ZoneDetailSerializer(ZoneSerializer):
    records = RecordSerializer(many=True, read_only=True)

    class Meta(ZoneSerializer.Meta):
        fields = [*ZoneSerializer.Meta.fields, "records"]
        read_only_fields = fields


class ZoneCreateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The domain name, e.g. example.com")
    customer = serializers.IntegerField(
        required=False, help_text="The customer's id (customers leave it out)"
    )
    domain = serializers.IntegerField(required=False, allow_null=True)
    template = serializers.IntegerField(required=False, allow_null=True)
    empty = serializers.BooleanField(required=False, default=False)
    backend = serializers.ChoiceField(
        choices=Zone.Backend.choices, required=False, help_text="Staff only"
    )


class ZoneImportSerializer(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=False, help_text="A BIND zone file")
    mode = serializers.ChoiceField(choices=IMPORT_MODES, default="replace")
    good_lines_only = BooleanField(default=False)
    dry_run = BooleanField(default=False, help_text="Only report what would change")


class LineErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()
    text = serializers.CharField()


class RecordDataSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    ttl = serializers.IntegerField()
    priority = serializers.IntegerField(allow_null=True)
    content = serializers.CharField()


class RecordChangeSerializer(serializers.Serializer):
    before = RecordDataSerializer()
    after = RecordDataSerializer()


class ImportResultSerializer(serializers.Serializer):
    applied = serializers.BooleanField()
    serial = serializers.IntegerField(allow_null=True)
    errors = LineErrorSerializer(many=True)
    error_count = serializers.IntegerField()
    create = RecordDataSerializer(many=True)
    create_count = serializers.IntegerField()
    delete = RecordDataSerializer(many=True)
    delete_count = serializers.IntegerField()
    update = RecordChangeSerializer(many=True)
    update_count = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ZoneChangeSerializer(serializers.ModelSerializer):
    before = RecordDataSerializer(many=True, read_only=True)
    after = RecordDataSerializer(many=True, read_only=True)

    class Meta:
        model = ZoneChange
        fields = ["id", "serial", "action", "summary", "actor", "created_at", "before", "after"]
        read_only_fields = fields


class RollbackSerializer(serializers.Serializer):
    change = serializers.IntegerField(help_text="The history entry to go back to")


class ForwardingSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, default="@")
    type = serializers.ChoiceField(choices=["URL", "FRAME"], default="URL")
    target = serializers.CharField(help_text="http(s) address to forward to")
    ttl = serializers.IntegerField(required=False, allow_null=True)


class EmailForwardSerializer(serializers.ModelSerializer):
    delivery_active = serializers.SerializerMethodField()

    class Meta:
        model = EmailForward
        fields = ["id", "source", "destination", "created_at", "delivery_active"]
        read_only_fields = ["id", "created_at", "delivery_active"]
        extra_kwargs = {"destination": {"validators": []}}

    def get_delivery_active(self, obj) -> bool:
        return False


class DnssecKeySerializer(serializers.ModelSerializer):
    ds = serializers.SerializerMethodField()
    # Required on a write: the model's defaults are not a key's (a KeyError, then a 500, when
    # they were left out). The service checks the values.
    flags = serializers.ChoiceField(choices=DnssecKey.Flags.choices, help_text="256 ZSK, 257 KSK")
    algorithm = serializers.IntegerField(
        min_value=0, max_value=255, help_text="The DNSKEY algorithm number, e.g. 13"
    )
    public_key = serializers.CharField(
        max_length=MAX_DNSKEY_TEXT,
        help_text="Base64, as in the DNSKEY record (whitespace is ignored)",
    )

    class Meta:
        model = DnssecKey
        fields = [
            "id",
            "flags",
            "protocol",
            "algorithm",
            "public_key",
            "key_tag",
            "digest_type",
            "digest",
            "ds",
            "created_at",
        ]
        read_only_fields = ["id", "protocol", "key_tag", "digest_type", "digest", "created_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_ds(self, obj) -> str:
        return (
            f"{obj.zone.name}. IN DS {obj.key_tag} {obj.algorithm} {obj.digest_type} {obj.digest}"
        )


class ZoneTemplateSerializer(serializers.ModelSerializer):
    is_default = BooleanField(required=False, help_text="The template new zones start from")
    livemode = BooleanField(
        required=False,
        help_text="The zones it is for: a template is made in the caller's mode (a sandbox key "
        "makes sandbox templates, used only by sandbox zones); staff choose, live by default. "
        "It never changes.",
    )

    class Meta:
        model = ZoneTemplate
        fields = [
            "id",
            "organisation",
            "livemode",
            "name",
            "body",
            "is_default",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "organisation", "created_at", "updated_at"]
        validators: list = []  # a name taken in the same set is the service's answer

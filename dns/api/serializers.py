from __future__ import annotations

from rest_framework import serializers

from dns.models import Record, Zone


class RecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = Record
        fields = ["id", "zone", "name", "type", "ttl", "priority", "content", "created_at"]
        read_only_fields = fields


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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ZoneDetailSerializer(ZoneSerializer):
    records = RecordSerializer(many=True, read_only=True)

    class Meta(ZoneSerializer.Meta):
        fields = [*ZoneSerializer.Meta.fields, "records"]
        read_only_fields = fields

from __future__ import annotations

from rest_framework import serializers

from domains.models import Domain


class DomainSerializer(serializers.ModelSerializer):
    """A domain as the API shows it. The transfer auth code is never part of it."""

    tld = serializers.SlugRelatedField(slug_field="name", read_only=True)
    epp_statuses = serializers.ListField(child=serializers.CharField(), read_only=True)
    nameservers = serializers.SlugRelatedField(
        slug_field="hostname", many=True, read_only=True, help_text="In delegation order"
    )

    class Meta:
        model = Domain
        fields = [
            "id",
            "uuid",
            "name",
            "name_puny",
            "tld",
            "customer",
            "livemode",
            "status",
            "epp_statuses",
            "registered_at",
            "expires_at",
            "period",
            "autorenew",
            "registrar_lock",
            "id_protection",
            "nameservers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

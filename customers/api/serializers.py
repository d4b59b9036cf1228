from __future__ import annotations

from rest_framework import serializers

from customers.models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

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
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

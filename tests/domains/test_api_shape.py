"""The domain serializer's fast path gives exactly what DRF's field-by-field path gives."""

import pytest
from rest_framework import serializers

from domains.api.serializers import DomainSerializer
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db


def test_the_fast_representation_equals_the_declared_fields():
    domain = DomainFactory(epp_statuses=["ok", "clientTransferProhibited"])
    domain.nameservers.create(position=2, hostname="ns2.example.net")
    domain.nameservers.create(position=1, hostname="ns1.example.net")
    slow = serializers.ModelSerializer.to_representation(DomainSerializer(), domain)
    fast = DomainSerializer(domain).data
    assert dict(fast) == dict(slow)
    assert fast["nameservers"] == ["ns1.example.net", "ns2.example.net"]

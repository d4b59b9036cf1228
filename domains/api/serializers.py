from __future__ import annotations

from rest_framework import serializers

from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainDrift,
    HostRecord,
    Nameserver,
    RegistrarOperation,
    TransferRequest,
)
from domains.policies import operation_message_for, operation_payload_for
from portal.api.fields import BooleanField
from portal.tenancy import ANONYMOUS


class DomainListSerializer(serializers.ListSerializer):
    """A page of domains: their nameservers come in one query of plain tuples, not through
    ``prefetch_related``, whose per-row set-up costs more than the rest of a 200-row page."""

    def to_representation(self, data):
        domains = list(data.all() if hasattr(data, "all") else data)
        hosts: dict[int, list[str]] = {domain.pk: [] for domain in domains}
        rows = (
            Nameserver.objects.filter(domain_id__in=list(hosts))
            .order_by("domain_id", "position")
            .values_list("domain_id", "hostname")
        )
        for domain_id, hostname in rows:
            hosts[domain_id].append(hostname)
        for domain in domains:
            domain.nameserver_names = hosts[domain.pk]
        return super().to_representation(domains)


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
        list_serializer_class = DomainListSerializer

    def to_representation(self, instance: Domain) -> dict:
        """The same fields, built directly: DRF's field-by-field path costs ~0.1 ms a row, which
        is most of a 200-row page. The declared fields above still describe it in OpenAPI."""

        def stamp(value):
            return value.isoformat().replace("+00:00", "Z") if value else None

        nameservers = getattr(instance, "nameserver_names", None)  # set for a page of domains
        if nameservers is None:
            nameservers = [ns.hostname for ns in instance.nameservers.order_by("position")]

        return {
            "id": instance.pk,
            "uuid": str(instance.uuid),
            "name": instance.name,
            "name_puny": instance.name_puny,
            "tld": instance.tld.name,
            "customer": instance.customer_id,
            "livemode": instance.livemode,
            "status": instance.status,
            "epp_statuses": list(instance.epp_statuses or []),
            "registered_at": stamp(instance.registered_at),
            "expires_at": stamp(instance.expires_at),
            "period": instance.period,
            "autorenew": instance.autorenew,
            "registrar_lock": instance.registrar_lock,
            "id_protection": instance.id_protection,
            "nameservers": nameservers,
            "created_at": stamp(instance.created_at),
            "updated_at": stamp(instance.updated_at),
        }


# --- requests (shape only: the services decide) ---------------------------------------------
class RegisterSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="Id of one of your customers")
    name = serializers.CharField(max_length=253, help_text="Unicode or punycode, e.g. bücher.de")
    years = serializers.IntegerField(min_value=1, max_value=10, default=1)
    nameservers = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=13,
        help_text="2 to 13 host names; the platform's defaults when left out",
    )
    id_protection = BooleanField(default=False)
    autorenew = BooleanField(default=True)


class TransferSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    name = serializers.CharField(max_length=253)
    auth_code = serializers.CharField(max_length=64, trim_whitespace=True)
    years = serializers.IntegerField(min_value=1, max_value=10, default=1)


class AvailabilityRequestSerializer(serializers.Serializer):
    names = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=100,
        help_text="Full names to check",
    )
    name = serializers.CharField(
        required=False, max_length=63, help_text="A label to check across TLDs"
    )
    tlds = serializers.ListField(
        child=serializers.CharField(max_length=63),
        required=False,
        max_length=100,
        help_text="With `name`: the TLDs (all offered TLDs when left out)",
    )

    def validate(self, attrs):
        if not attrs.get("names") and not attrs.get("name"):
            raise serializers.ValidationError("Give `names` (full names) or `name` (a label).")
        return attrs


class SuggestionRequestSerializer(serializers.Serializer):
    keyword = serializers.CharField(max_length=63)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)


class AvailabilitySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="ASCII (punycode) form")
    name_unicode = serializers.CharField()
    tld = serializers.CharField()
    status = serializers.ChoiceField(choices=["available", "taken", "unknown"])
    available = serializers.BooleanField(allow_null=True)
    premium = serializers.BooleanField()
    price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="Your price: what a customer pays, what a reseller sells at (for a premium "
        "name, the registry's quote with the price list's markups)",
    )
    currency = serializers.CharField()
    reason = serializers.CharField()
    cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="What you pay the platform (resellers; for staff the registry's cost); "
        "always null for customers and contacts",
    )
    on_request = serializers.BooleanField(
        default=False,
        help_text="A premium name its reseller prices on request: `price` is null, ask the "
        "reseller (a quote or order for it is refused)",
    )


class YearsSerializer(serializers.Serializer):
    years = serializers.IntegerField(min_value=1, max_value=10)


class RestoreSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class NameserversSerializer(serializers.Serializer):
    nameservers = serializers.ListField(
        child=serializers.CharField(max_length=253, allow_blank=True), max_length=13
    )


class LockSerializer(serializers.Serializer):
    locked = BooleanField()


class EnabledSerializer(serializers.Serializer):
    enabled = BooleanField()


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = DomainContact
        fields = [
            "role",
            "first_name",
            "last_name",
            "organization",
            "email",
            "phone",
            "address_1",
            "address_2",
            "city",
            "state",
            "zip",
            "country",
        ]


class ContactsUpdateSerializer(serializers.Serializer):
    registrant = serializers.DictField(required=False)
    admin = serializers.DictField(required=False)
    tech = serializers.DictField(required=False)
    billing = serializers.DictField(required=False)


class HostSerializer(serializers.ModelSerializer):
    ipv4 = serializers.ListField(child=serializers.CharField(max_length=15), required=False)
    ipv6 = serializers.ListField(child=serializers.CharField(max_length=45), required=False)

    class Meta:
        model = HostRecord
        fields = ["id", "hostname", "ipv4", "ipv6", "created_at"]
        read_only_fields = ["id", "created_at"]


class HostAddressesSerializer(serializers.Serializer):
    ipv4 = serializers.ListField(child=serializers.CharField(max_length=15), default=list)
    ipv6 = serializers.ListField(child=serializers.CharField(max_length=45), default=list)


class DsSerializer(serializers.ModelSerializer):
    class Meta:
        model = DnssecDs
        fields = ["id", "key_tag", "algorithm", "digest_type", "digest"]
        read_only_fields = ["id"]
        extra_kwargs = {"key_tag": {"validators": []}}


class AuthCodeSerializer(serializers.Serializer):
    auth_code = serializers.CharField()


class OperationSerializer(serializers.ModelSerializer):
    """An operation as the caller may see it (``domains.policies``): staff see the whole payload
    and the worker's error; resellers, customers and contacts see the payload keys that
    describe the change (never the registry's price, nor anything else platform-internal) and
    an error written for them. Pass ``context={"actor": ...}``; without one, the customer's
    view is shown."""

    domain_name = serializers.CharField(source="domain.name", read_only=True, default=None)
    payload = serializers.DictField(
        read_only=True,
        help_text="What was asked: years, nameservers, value, roles, hostname, ipv4, ipv6, ds "
        "(staff also see the platform's internal keys)",
    )
    last_error = serializers.CharField(
        read_only=True, help_text="Why it failed or waits, written for the caller"
    )

    class Meta:
        model = RegistrarOperation
        fields = [
            "id",
            "kind",
            "status",
            "domain",
            "domain_name",
            "payload",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "last_error",
            "upstream_reference",
            "livemode",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: RegistrarOperation) -> dict:
        data = super().to_representation(instance)
        actor = self.context.get("actor") or ANONYMOUS
        data["payload"] = operation_payload_for(actor, instance)
        data["last_error"] = operation_message_for(actor, instance)
        return data


class DriftSerializer(serializers.ModelSerializer):
    class Meta:
        model = DomainDrift
        fields = [
            "id",
            "field",
            "portal_value",
            "registry_value",
            "resolution",
            "resolved_by",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields


class TransferRequestSerializer(serializers.ModelSerializer):
    """Another registrar's request to transfer the domain away (``act_by``: the registry acts by
    itself then; ``default_answer``: what Nameport answers shortly before when nobody did)."""

    default_answer = serializers.SerializerMethodField()

    class Meta:
        model = TransferRequest
        fields = [
            "id",
            "status",
            "gaining_registrar",
            "requested_at",
            "act_by",
            "default_answer",
            "registry_status",
            "decided_by",
            "decided_at",
            "by_default",
            "note",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_default_answer(self, obj: TransferRequest) -> str:
        return obj.domain.tld.transfer_default

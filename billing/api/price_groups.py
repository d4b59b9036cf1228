"""Customer price groups in the native API: a reseller's groups (``/api/v1/price-groups/``) and
which of its customers are in them (``/api/v1/price-group-memberships/``). Every change goes
through ``billing.price_groups``; the prices come from ``billing.pricing``.

Live set-up, like the reseller's other prices: a sandbox key does not reach them (404).
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from billing import price_groups
from billing.models import PriceGroup, PriceGroupMembership
from billing.selectors import visible_price_group_memberships, visible_price_groups
from customers.selectors import visible_customers
from portal.api.views import ActorMixin


def _reseller_or_staff(actor) -> None:
    if not (actor.is_staff or actor.is_reseller) or actor.livemode is False:
        raise Http404


class PriceGroupSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=80)
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="The discount off your sell prices its customers get, 0 to 100",
    )
    members = serializers.IntegerField(
        read_only=True, help_text="How many customers are in the group"
    )

    class Meta:
        model = PriceGroup
        fields = ["id", "organisation", "name", "percent", "members", "created_at", "updated_at"]
        read_only_fields = ["id", "organisation", "members", "created_at", "updated_at"]
        validators: list = []  # the name's uniqueness is the service's (a clear message)


class PriceGroupMembershipSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", help_text="One of your customers")
    group = serializers.IntegerField(source="group_id", help_text="One of your price groups")

    class Meta:
        model = PriceGroupMembership
        fields = ["id", "customer", "group", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class PriceGroupViewSet(ActorMixin, viewsets.ModelViewSet):
    """A reseller's customer price groups (staff: every reseller's). A customer in a group pays
    the reseller's prices less the group's percent, everywhere it is priced; deleting a group
    puts its customers back on the reseller's prices."""

    serializer_class = PriceGroupSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        _reseller_or_staff(self.actor)
        return visible_price_groups(self.actor).order_by("name", "id")

    def perform_create(self, serializer):
        _reseller_or_staff(self.actor)
        data = serializer.validated_data
        group = price_groups.price_group_save(
            actor=self.actor, name=data["name"], percent=data["percent"]
        )
        serializer.instance = visible_price_groups(self.actor).get(pk=group.pk)

    def perform_update(self, serializer):
        group = serializer.instance
        data = serializer.validated_data
        saved = price_groups.price_group_save(
            actor=self.actor,
            group=group,
            name=data.get("name", group.name),
            percent=data.get("percent", group.percent),
        )
        serializer.instance = visible_price_groups(self.actor).get(pk=saved.pk)

    def perform_destroy(self, instance):
        price_groups.price_group_delete(actor=self.actor, group=instance)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("group", int, description="Only this group's customers"),
            OpenApiParameter("customer", int, description="Only this customer's membership"),
        ]
    )
)
class PriceGroupMembershipViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Which of the reseller's customers are in which of its price groups. A customer is in one
    group at most: creating a membership for a customer in another group moves it (the answer is
    its membership). Deleting one puts the customer back on the reseller's prices. Quotes,
    orders and renewal invoices raised from then on use the new prices; invoices already raised
    keep theirs."""

    serializer_class = PriceGroupMembershipSerializer

    def get_queryset(self):
        _reseller_or_staff(self.actor)
        queryset = visible_price_group_memberships(self.actor).order_by("id")
        params = self.request.query_params
        for name in ("group", "customer"):
            value = params.get(name, "")
            if value:
                if not value.isdigit() or int(value) >= 2**63:
                    raise serializers.ValidationError({name: f"Give the {name}'s id."})
                queryset = queryset.filter(**{f"{name}_id": int(value)})
        return queryset

    @extend_schema(
        responses={201: PriceGroupMembershipSerializer, 200: PriceGroupMembershipSerializer}
    )
    def create(self, request, *args, **kwargs):
        actor = self.actor
        _reseller_or_staff(actor)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = visible_customers(actor).filter(pk=data["customer_id"]).first()
        if customer is None:
            raise serializers.ValidationError({"customer": "No such customer of yours."})
        group = visible_price_groups(actor).filter(pk=data["group_id"]).first()
        if group is None:
            raise serializers.ValidationError({"group": "No such price group of yours."})
        had = PriceGroupMembership.objects.filter(customer=customer).exists()
        membership = price_groups.price_group_assign(actor=actor, customer=customer, group=group)
        return Response(
            self.get_serializer(membership).data,
            status=status.HTTP_200_OK if had else status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        price_groups.price_group_assign(actor=self.actor, customer=instance.customer, group=None)

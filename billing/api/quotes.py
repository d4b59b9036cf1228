"""POST /api/v1/quotes/: what a cart costs (seed 003's quote shape), nothing written."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from billing.models import Order, OrderItem, PaymentMethod
from billing.orders import order_place
from billing.quotes import MAX_ITEMS, quote
from billing.selectors import visible_orders
from customers.selectors import visible_customers
from portal.api.views import ActorMixin


class QuoteItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["domain"], default="domain")
    action = serializers.ChoiceField(choices=["register", "transfer", "renew"], default="register")
    name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    domain_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    years = serializers.IntegerField(min_value=1, max_value=10, default=1)
    auth_code = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=True,
        help_text="A transfer's authorisation (EPP) code: needed to order a transfer; kept "
        "encrypted until the order is paid, never returned.",
    )


class QuoteRequestSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="The customer quoted for (resellers and staff; a customer quotes for itself).",
    )
    pay_method = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    check_registry = serializers.BooleanField(
        required=False, default=True, help_text="Ask the registries whether names are free."
    )
    promo_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    items = QuoteItemSerializer(many=True, max_length=MAX_ITEMS, min_length=1)


class QuoteTaxSerializer(serializers.Serializer):
    name = serializers.CharField()
    tax = serializers.DecimalField(max_digits=14, decimal_places=2)
    value = serializers.DecimalField(max_digits=5, decimal_places=2)


class QuoteRecurringSerializer(serializers.Serializer):
    title = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    value = serializers.CharField()


class QuoteSummarySerializer(serializers.Serializer):
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    credit = serializers.DecimalField(max_digits=14, decimal_places=2)
    discount = serializers.DecimalField(max_digits=14, decimal_places=2)
    cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    fee = serializers.DecimalField(max_digits=14, decimal_places=2)
    due = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    recurring = QuoteRecurringSerializer(many=True)
    tax = QuoteTaxSerializer(many=True)


class QuoteDomainSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    index = serializers.IntegerField()
    category_name = serializers.CharField()
    name = serializers.CharField()
    tld = serializers.CharField()
    period = serializers.IntegerField()
    action = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    premium = serializers.BooleanField()


class QuoteLineSerializer(serializers.Serializer):
    product = serializers.JSONField(allow_null=True)
    domains = serializers.DictField(child=QuoteDomainSerializer())
    coupon = serializers.DictField(help_text="The promotion code applied to this item, if any.")
    index = serializers.IntegerField()
    valid = serializers.BooleanField()
    info = serializers.ListField(child=serializers.CharField())
    error = serializers.ListField(child=serializers.CharField())


class QuoteSerializer(serializers.Serializer):
    summary = QuoteSummarySerializer()
    items = QuoteLineSerializer(many=True)


def _customer_for(actor, data: dict):
    if actor.is_customer:
        return actor.customer
    if "customer" not in data:
        raise serializers.ValidationError({"customer": "Choose the customer."})
    customer = visible_customers(actor).filter(pk=data["customer"]).first()
    if customer is None:
        raise serializers.ValidationError({"customer": "No such customer."})
    return customer


def _method_for(customer, data: dict):
    if "pay_method" not in data:
        return None
    method = (
        PaymentMethod.objects.filter(pk=data["pay_method"], is_active=True)
        .filter(Q(organisation_id=customer.organisation_id) | Q(organisation__isnull=True))
        .first()
    )
    if method is None:
        raise serializers.ValidationError({"pay_method": "No such payment method."})
    return method


class QuoteViewSet(ActorMixin, viewsets.ViewSet):
    """Quote a cart of registrations, transfers and renewals: the subtotal, tax lines, the
    payment method's fee, the account credit that would be applied, the total and what renews
    yearly, and per item whether it can be ordered and why not. Nothing is ordered or held."""

    serializer_class = QuoteRequestSerializer

    @extend_schema(request=QuoteRequestSerializer, responses={200: QuoteSerializer})
    def create(self, request):
        actor = self.actor
        if not actor.is_authenticated:
            raise Http404
        body = QuoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = _customer_for(actor, data)
        method = _method_for(customer, data)
        items = [dict(item) for item in data["items"]]
        result = quote(
            actor=actor,
            customer=customer,
            items=items,
            pay_method=method,
            check_registry=data.get("check_registry", True),
            promo_code=data.get("promo_code", ""),
        )
        return Response(QuoteSerializer(result).data)


class OrderRequestSerializer(QuoteRequestSerializer):
    use_credit = serializers.BooleanField(
        required=False, default=True, help_text="Pay from account credit when it covers it."
    )


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "kind", "domain_name", "domain", "years", "amount", "currency", "status"]


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    invoice = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "customer", "status", "currency", "total", "created_at", "items", "invoice"]

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "integer"},
                "number": {"type": "string"},
                "status": {"type": "string"},
                "total": {"type": "string"},
            },
        }
    )
    def get_invoice(self, order) -> dict | None:
        invoice = order.invoices.order_by("pk").first()
        if invoice is None:
            return None
        return {
            "id": invoice.pk,
            "number": invoice.number,
            "status": invoice.status,
            "total": str(invoice.total),
        }


class OrderViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Orders: POST places a cart (the same ``Idempotency-Key`` header gives the same order);
    its invoice is issued at once and paid from account credit when that covers it; the
    registry operations are queued when the invoice is paid."""

    serializer_class = OrderSerializer

    def get_queryset(self):
        return visible_orders(self.actor).prefetch_related("items").order_by("-created_at", "-pk")

    @extend_schema(
        request=OrderRequestSerializer,
        responses={201: OrderSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description=(
                    "Any unique string of at most 100 characters: a retry with the same key "
                    "returns the same order."
                ),
            )
        ],
    )
    def create(self, request):
        actor = self.actor
        if not actor.is_authenticated:
            raise Http404
        body = OrderRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = _customer_for(actor, data)
        order = order_place(
            actor=actor,
            customer=customer,
            items=[dict(item) for item in data["items"]],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            pay_method=_method_for(customer, data),
            promo_code=data.get("promo_code", ""),
            use_credit=data.get("use_credit", True),
            check_registry=data.get("check_registry", True),
        )
        return Response(OrderSerializer(order).data, status=201)

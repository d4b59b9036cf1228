"""The price-setting API: a reseller's markup rules and own prices, the preview of what it sells
at, and the exchange rates (staff write them). Every change goes through ``billing.prices``."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import prices, promotions
from billing.models import ExchangeRate, MarkupRule, Price, PromotionCode
from billing.selectors import visible_price_groups
from domains.models import Tld
from portal.api.views import ActorMixin
from portal.tenancy import Actor


def _owned(actor: Actor):
    """The organisation whose price set-up the actor reads: its own; staff: every one."""
    if actor.is_staff:
        return None
    # Live set-up: a sandbox key or a member in sandbox mode does not reach it (it neither reads
    # nor writes live rows).
    if actor.is_reseller and actor.organisation_id is not None and actor.livemode is not False:
        return actor.organisation_id
    raise Http404


class MarkupRuleSerializer(serializers.ModelSerializer):
    tld = serializers.SlugRelatedField(
        slug_field="name", queryset=Tld.objects.all(), required=False, allow_null=True
    )
    action = serializers.ChoiceField(choices=["", *Price.Action.values], required=False, default="")
    percent = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, default=0)
    fixed = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, default=0)
    fixed_currency = serializers.CharField(
        max_length=3, required=False, allow_blank=True, default=""
    )
    rounding = serializers.ChoiceField(
        choices=MarkupRule.Rounding.choices, required=False, default="none"
    )
    premium_factor = serializers.DecimalField(
        max_digits=7,
        decimal_places=3,
        required=False,
        allow_null=True,
        default=None,
        help_text="Premium names at the registry's price times this factor (null: the same "
        "markup as standard names)",
    )
    premium_on_request = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Premium names are not priced: 'Price on request' (no premium_factor then); "
        "a quote or order for one is refused with a message to contact you",
    )

    class Meta:
        model = MarkupRule
        fields = [
            "id",
            "organisation",
            "tld",
            "action",
            "percent",
            "fixed",
            "fixed_currency",
            "rounding",
            "premium_factor",
            "premium_on_request",
            "updated_at",
        ]
        read_only_fields = ["id", "organisation", "updated_at"]
        validators: list = []  # saving an existing TLD and action replaces its rule


class ResellerPriceSerializer(serializers.ModelSerializer):
    tld = serializers.SlugRelatedField(slug_field="name", queryset=Tld.objects.all())
    action = serializers.ChoiceField(choices=Price.Action.choices)
    years = serializers.IntegerField(min_value=1, max_value=10, default=1)
    currency = serializers.CharField(max_length=3)
    sell = serializers.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        model = Price
        fields = ["id", "organisation", "tld", "action", "years", "currency", "cost", "sell"]
        read_only_fields = ["id", "organisation", "cost"]
        validators: list = []  # the same TLD, action, term and currency replaces it


class ExchangeRateSerializer(serializers.ModelSerializer):
    rate = serializers.DecimalField(max_digits=18, decimal_places=8)

    class Meta:
        model = ExchangeRate
        fields = ["id", "base", "quote", "rate", "valid_from", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # a rate for the same pair and day replaces it (the service)


class PricePreviewSerializer(serializers.Serializer):
    tld = serializers.CharField()
    action = serializers.CharField()
    years = serializers.IntegerField()
    currency = serializers.CharField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    margin = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    below_cost = serializers.BooleanField()


class MarkupRuleViewSet(ActorMixin, viewsets.ModelViewSet):
    """A reseller's markup rules (staff: every reseller's, read only). One rule per TLD (or every
    TLD) and action (or every action): saving an existing pair replaces it."""

    serializer_class = MarkupRuleSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        owner = _owned(self.actor)
        queryset = MarkupRule.objects.select_related("tld").order_by("id")
        return queryset if owner is None else queryset.filter(organisation_id=owner)

    def _save(self, serializer, instance: MarkupRule | None = None):
        data = {
            **({} if instance is None else self._current(instance)),
            **serializer.validated_data,
        }
        if data.get("premium_on_request") and "premium_factor" not in serializer.validated_data:
            data["premium_factor"] = None  # on request replaces the rule's factor
        if data.get("premium_factor") and "premium_on_request" not in serializer.validated_data:
            data["premium_on_request"] = False  # and a factor replaces on request
        serializer.instance = prices.markup_rule_save(
            actor=self.actor,
            organisation=instance.organisation if instance is not None else None,
            tld=data.get("tld"),
            action=data.get("action", ""),
            percent=data.get("percent", 0),
            fixed=data.get("fixed", 0),
            fixed_currency=data.get("fixed_currency", ""),
            rounding=data.get("rounding", "none"),
            premium_factor=data.get("premium_factor"),
            premium_on_request=data.get("premium_on_request", False),
        )

    @staticmethod
    def _current(rule: MarkupRule) -> dict:
        return {
            "tld": rule.tld,
            "action": rule.action,
            "percent": rule.percent,
            "fixed": rule.fixed,
            "fixed_currency": rule.fixed_currency,
            "rounding": rule.rounding,
            "premium_factor": rule.premium_factor,
            "premium_on_request": rule.premium_on_request,
        }

    def perform_create(self, serializer):
        _owned(self.actor)
        self._save(serializer)

    def perform_update(self, serializer):
        rule = serializer.instance
        if (
            serializer.validated_data.get("tld", rule.tld) != rule.tld
            or serializer.validated_data.get("action", rule.action) != rule.action
        ):
            raise serializers.ValidationError(
                {"message": "A rule's TLD and action cannot change: create another rule."}
            )
        self._save(serializer, rule)

    def perform_destroy(self, instance):
        prices.markup_rule_delete(actor=self.actor, rule=instance)


class ResellerPriceViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A reseller's own prices per TLD, action, term and currency (before its markup rules).
    Creating one for an existing TLD, action, term and currency replaces its price. A price
    below what the reseller pays the platform is refused."""

    serializer_class = ResellerPriceSerializer

    def get_queryset(self):
        owner = _owned(self.actor)
        queryset = Price.objects.filter(organisation__isnull=False).select_related("tld")
        queryset = queryset.order_by("tld__name", "action", "years", "currency")
        return queryset if owner is None else queryset.filter(organisation_id=owner)

    def perform_create(self, serializer):
        _owned(self.actor)
        data = serializer.validated_data
        serializer.instance = prices.price_override_save(
            actor=self.actor,
            tld=data["tld"],
            action=data["action"],
            years=data.get("years", 1),
            currency=data["currency"],
            sell=data["sell"],
        )

    def perform_destroy(self, instance):
        prices.price_override_delete(actor=self.actor, row=instance)

    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, enum=[c for c, _ in Price.Action.choices]),
            OpenApiParameter("years", int, description="1 to 10"),
            OpenApiParameter(
                "group", int, description="A price group's id: what its customers pay"
            ),
        ],
        responses={200: PricePreviewSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], url_path="preview", pagination_class=None)
    def preview(self, request):
        """What the reseller pays, sells at and earns per TLD, with the below-cost flag; with
        ``group``, what the customers of that price group pay."""
        actor = self.actor
        if not actor.is_reseller:
            raise Http404
        chosen = request.query_params.get("action", "register")
        if chosen not in Price.Action.values:
            raise serializers.ValidationError(
                {"action": f"Choose one of: {', '.join(Price.Action.values)}."}
            )
        try:
            years = int(request.query_params.get("years", "1"))
        except ValueError:
            raise serializers.ValidationError({"years": "Choose 1 to 10 years."}) from None
        if not 1 <= years <= 10:
            raise serializers.ValidationError({"years": "Choose 1 to 10 years."})
        group = None
        raw_group = request.query_params.get("group", "")
        if raw_group:
            group = (
                visible_price_groups(actor).filter(pk=int(raw_group)).first()
                if raw_group.isdigit() and int(raw_group) < 2**63
                else None
            )
            if group is None:
                raise serializers.ValidationError({"group": "No such price group of yours."})
        tlds = list(Tld.objects.filter(is_active=True).order_by("name"))
        rows = prices.price_preview(actor=actor, tlds=tlds, action=chosen, years=years, group=group)
        return Response(PricePreviewSerializer(rows, many=True).data)


class ExchangeRateViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Dated exchange rates (``1 base = rate quote`` from ``valid_from``): read by staff and
    resellers, written by staff. A rate for the same pair and day replaces it."""

    serializer_class = ExchangeRateSerializer

    def get_queryset(self):
        actor = self.actor
        if not (actor.is_staff or actor.is_reseller):
            raise Http404
        return ExchangeRate.objects.order_by("base", "quote", "-valid_from", "-id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = prices.exchange_rate_save(
            actor=self.actor,
            base=data["base"],
            quote=data["quote"],
            rate=data["rate"],
            valid_from=data["valid_from"],
        )


class PromotionCodeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=PromotionCode.Kind.choices, default="percent")
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    tlds = serializers.SlugRelatedField(
        slug_field="name", queryset=Tld.objects.all(), many=True, required=False
    )
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=["register", "transfer", "renew"]),
        required=False,
        max_length=3,
    )
    max_uses = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, allow_null=True
    )

    class Meta:
        model = PromotionCode
        fields = [
            "id",
            "code",
            "kind",
            "value",
            "currency",
            "tlds",
            "actions",
            "valid_from",
            "valid_to",
            "max_uses",
            "uses",
            "is_active",
        ]
        read_only_fields = ["id", "uses", "is_active"]
        validators: list = []  # saving an existing code changes it (billing.promotions)


class PromotionCodeViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """A reseller's promotion codes. Creating a code that exists changes it; ``uses`` counts
    the orders that redeemed it."""

    serializer_class = PromotionCodeSerializer

    def get_queryset(self):
        owner = _owned(self.actor)
        queryset = PromotionCode.objects.prefetch_related("tlds").order_by("code")
        return queryset if owner is None else queryset.filter(organisation_id=owner)

    def perform_create(self, serializer):
        _owned(self.actor)
        data = serializer.validated_data
        serializer.instance = promotions.promotion_save(
            actor=self.actor,
            code=data["code"],
            kind=data.get("kind", "percent"),
            value=data["value"],
            currency=data.get("currency", ""),
            tlds=data.get("tlds", []),
            actions=data.get("actions", []),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            max_uses=data.get("max_uses"),
        )

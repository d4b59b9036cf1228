"""The reseller's accounts with the platform: balances, the ledger, top-ups and the forecast of
renewals. Reads through ``billing.ledger.visible_accounts`` (the actor's organisation and mode;
staff every account); every change through ``billing.ledger.topup``."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import ledger
from billing.models import AccountEntry, ResellerAccount
from customers.models import Organisation
from portal.api.views import ActorMixin


class ResellerAccountSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    balance = serializers.SerializerMethodField()

    class Meta:
        model = ResellerAccount
        fields = [
            "id",
            "organisation",
            "currency",
            "livemode",
            "balance",
            "low_funds_notified_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_balance(self, account: ResellerAccount) -> str:
        return str(ledger.balance(account))


class AccountEntrySerializer(serializers.ModelSerializer):
    operation = serializers.PrimaryKeyRelatedField(read_only=True)
    domain = serializers.SerializerMethodField()

    class Meta:
        model = AccountEntry
        fields = [
            "id",
            "kind",
            "amount",
            "balance_after",
            "operation",
            "domain",
            "round",
            "reference",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def get_domain(self, entry: AccountEntry) -> str | None:
        operation = entry.operation
        return operation.domain.name if operation and operation.domain_id else None


class TopupSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=32, help_text="A positive amount, e.g. 25.00")
    currency = serializers.CharField(
        max_length=3, required=False, help_text="The account's currency (optional)"
    )
    reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="The payment's reference: required for a live account, unique per account",
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ForecastSerializer(serializers.Serializer):
    currency = serializers.CharField()
    livemode = serializers.BooleanField()
    balance = serializers.CharField()
    due_30 = serializers.CharField()
    due_60 = serializers.CharField()
    due_90 = serializers.CharField()
    renewals_30 = serializers.IntegerField()
    renewals_60 = serializers.IntegerField()
    renewals_90 = serializers.IntegerField()
    runs_out_on = serializers.DateField(allow_null=True)
    unpriced = serializers.IntegerField()


def forecast_data(forecasts) -> list[dict]:
    return [
        {
            "currency": f.currency,
            "livemode": f.livemode,
            "balance": str(f.balance),
            **{f"due_{days}": str(f.due[days]) for days in ledger.WINDOWS},
            **{f"renewals_{days}": f.count[days] for days in ledger.WINDOWS},
            "runs_out_on": f.runs_out_on,
            "unpriced": f.unpriced,
        }
        for f in forecasts
    ]


class ResellerAccountViewSet(
    ActorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's accounts with the platform (one per currency in its mode); staff: all."""

    serializer_class = ResellerAccountSerializer
    queryset = ResellerAccount.objects.none()

    def get_queryset(self):
        return ledger.visible_accounts(self.actor).order_by("pk")

    @extend_schema(responses={200: AccountEntrySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=AccountEntrySerializer)
    def entries(self, request, pk=None):
        """The account's ledger, newest first (paginated)."""
        account = self.get_object()
        page = self.paginate_queryset(ledger.account_entries(account))
        data = AccountEntrySerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(request=TopupSerializer, responses={201: AccountEntrySerializer})
    @action(detail=True, methods=["post"], serializer_class=TopupSerializer)
    def topup(self, request, pk=None):
        """Add money: staff on any account (live needs a reference); a reseller on its sandbox
        account only. Operations waiting for funds resume."""
        account = self.get_object()
        body = TopupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = ledger.topup(
            actor=self.actor,
            account=account,
            amount=data["amount"],
            currency=data.get("currency"),
            reference=data["reference"],
            note=data["note"],
        )
        return Response(AccountEntrySerializer(entry).data, status=201)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "organisation", str, description="Staff: the organisation's slug (required)"
            )
        ],
        responses={200: ForecastSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def forecast(self, request):
        """Per currency: the balance, renewals due in 30/60/90 days at today's prices (auto-renew
        on, active or in grace) and the date the balance runs out at that pace."""
        actor = self.actor
        if actor.is_staff:
            slug = request.query_params.get("organisation", "")
            organisation = Organisation.objects.filter(slug=slug).first() if slug else None
            livemode = True
        elif actor.is_reseller and actor.organisation is not None:
            organisation = actor.organisation
            livemode = actor.livemode is not False
        else:
            organisation = None
        if organisation is None:
            raise Http404
        return Response(forecast_data(ledger.forecast(organisation, livemode=livemode)))

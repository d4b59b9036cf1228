"""Invoices as the API shows them. Money is a string with two decimals plus a currency, never a
float (DRF ``DecimalField`` with ``coerce_to_string``)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from billing.models import CreditEntry, Invoice, InvoiceLine, Payment, PaymentMethod


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=True, read_only=True, **kwargs
    )


class InvoiceLineSerializer(serializers.ModelSerializer):
    amount = money()
    qty = serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=True, read_only=True
    )
    linetotal = money()

    class Meta:
        model = InvoiceLine
        fields = ["id", "type", "item_id", "description", "amount", "qty", "taxed", "linetotal"]
        read_only_fields = fields


class InvoiceSerializer(serializers.ModelSerializer):
    subtotal = money()
    tax = money()
    taxrate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, read_only=True
    )
    tax2 = money()
    taxrate2 = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, read_only=True
    )
    credit = money()
    total = money()
    balance_due = money(help_text="What is left to pay (0.00 unless the invoice is unpaid)")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "customer",
            "livemode",
            "status",
            "date",
            "duedate",
            "paybefore",
            "datepaid",
            "currency",
            "subtotal",
            "tax",
            "taxrate",
            "taxname",
            "tax2",
            "taxrate2",
            "taxname2",
            "credit",
            "total",
            "balance_due",
            "created_at",
        ]
        read_only_fields = fields


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "notes", "lines"]
        read_only_fields = fields


# --- payments, credit, payment methods -------------------------------------------------------


def amount_in(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), coerce_to_string=True, **kwargs
    )


class PaymentSerializer(serializers.ModelSerializer):
    amount = money(help_text="Negative for a refund")
    fee = money()
    method = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "method",
            "amount",
            "fee",
            "currency",
            "status",
            "gateway",
            "gateway_reference",
            "reference",
            "refund_of",
            "created_at",
        ]
        read_only_fields = fields

    def get_method(self, payment: Payment) -> str:
        return payment.method.name if payment.method else ""


class PayRequestSerializer(serializers.Serializer):
    method = serializers.IntegerField(min_value=1, help_text="A payment method's id")
    outcome = serializers.ChoiceField(
        choices=["", "approve", "decline", "pending"],
        required=False,
        default="",
        help_text="Test gateway only: answer at once (approve, decline) or stay pending for a "
        "signed callback; empty: the gateway's page (redirect_url)",
    )


class PayResultSerializer(serializers.Serializer):
    payment = PaymentSerializer()
    invoice = InvoiceSerializer()
    redirect_url = serializers.CharField(help_text="Send the payer here; empty when settled")
    message = serializers.CharField()


class CreditApplyRequestSerializer(serializers.Serializer):
    amount = amount_in(
        required=False,
        allow_null=True,
        help_text="Optional; when empty, the most credit that fits (seed 003)",
    )


class CreditApplyResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    invoice_status = serializers.CharField()
    applied = money()
    invoice = InvoiceSerializer()


class RefundRequestSerializer(serializers.Serializer):
    amount = amount_in(required=False, allow_null=True, help_text="Empty: all that is left")
    to = serializers.ChoiceField(choices=["method", "credit"], default="method")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RefundResultSerializer(serializers.Serializer):
    refunded = money()
    invoice = InvoiceSerializer()


class CancelRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class MarkPaidRequestSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100, help_text="The bank transfer's reference")
    method = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class CreditEntrySerializer(serializers.ModelSerializer):
    amount = money()
    balance_after = money(allow_null=True)

    class Meta:
        model = CreditEntry
        fields = [
            "id",
            "customer",
            "livemode",
            "amount",
            "currency",
            "balance_after",
            "reason",
            "invoice",
            "payment",
            "created_at",
        ]
        read_only_fields = fields


class CreditAddSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1)
    amount = amount_in()
    currency = serializers.CharField(max_length=3)
    reason = serializers.CharField(max_length=255)


class CreditBalanceSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    currency = serializers.CharField()
    acc_credit = money(help_text="Account credit (seed 003 acc_credit)")
    acc_balance = money(help_text="Unpaid invoices' amount due (seed 003 acc_balance)")


class PaymentMethodSerializer(serializers.ModelSerializer):
    fixed_fee = money()
    percent_fee = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, read_only=True
    )
    fee = serializers.SerializerMethodField(
        help_text="The fee on ?amount= (or on ?invoice='s amount due), else null"
    )

    class Meta:
        model = PaymentMethod
        fields = ["id", "name", "fixed_fee", "percent_fee", "gateway", "fee"]
        read_only_fields = fields

    def get_fee(self, method: PaymentMethod) -> str | None:
        fee = self.context.get("fees", {}).get(method.pk)
        return None if fee is None else f"{fee:.2f}"

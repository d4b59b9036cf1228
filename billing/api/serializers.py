"""Invoices as the API shows them. Money is a string with two decimals plus a currency, never a
float (DRF ``DecimalField`` with ``coerce_to_string``)."""

from __future__ import annotations

from rest_framework import serializers

from billing.models import Invoice, InvoiceLine


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

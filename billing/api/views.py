"""Invoices, payments, account credit and payment methods in the native API: the same services
as the pages (``billing.services``), scoped to the caller by the selectors.

``POST /invoices/{id}/pay/`` takes an ``Idempotency-Key`` header: the same key for the same
invoice returns the same payment (it is the payment's own key, so a retried request never pays
twice, even across servers).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, QuerySet, Sum
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from billing import documents, services
from billing.api import serializers as s
from billing.api.serializers import InvoiceDetailSerializer, InvoiceSerializer
from billing.filtersets import InvoiceFilterSet
from billing.models import Invoice, InvoiceLine
from billing.selectors import visible_credit_entries, visible_invoices, visible_payment_methods
from customers.selectors import visible_customers
from portal.api.views import ActorMixin, ScopedReadOnlyViewSet

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The same key for the same invoice returns the same payment (at most 100 "
    "characters)",
)
BARE_LIST = {"pagination_class": None, "filter_backends": []}
# The error body itself is added to every 4xx by portal.api.schema.add_error_responses.
NO_CUSTOMER = OpenApiResponse(description="`customer` is not one of the caller's customers")
NO_INVOICE = OpenApiResponse(description="`invoice` is not one of the caller's invoices")


class InvoiceViewSet(ScopedReadOnlyViewSet):
    """The caller's invoices; an invoice's detail includes its lines. Actions: pay, apply
    credit, PDF, and for the seller and staff mark paid (bank transfer) and refund."""

    filterset_class = InvoiceFilterSet
    ordering_fields = ("date", "duedate", "number", "total", "status", "created_at")

    def get_serializer_class(self):
        return InvoiceDetailSerializer if self.action == "retrieve" else InvoiceSerializer

    def scoped_queryset(self) -> QuerySet[Invoice]:
        queryset = visible_invoices(self.actor)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("id"))
            )
        return queryset

    def _body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _method(self, method_id):
        method = visible_payment_methods(self.actor).filter(pk=method_id).first()
        if method is None:
            raise ValidationError({"method": "That payment method is not available."})
        return method

    def _fresh(self, invoice: Invoice) -> dict:
        return InvoiceSerializer(Invoice.objects.select_related("customer").get(pk=invoice.pk)).data

    @extend_schema(
        request=s.PayRequestSerializer,
        parameters=[IDEMPOTENCY],
        responses={
            200: OpenApiResponse(s.PayResultSerializer, description="Paid, or declined"),
            202: OpenApiResponse(
                s.PayResultSerializer, description="Pending: send the payer to redirect_url"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """Pay the invoice with a payment method: its fee becomes an invoice line, then its
        gateway answers (test gateway: at once with ``outcome``, else its page) or the payment
        waits (bank transfer: the seller marks it paid)."""
        invoice = self.get_object()
        data = self._body(s.PayRequestSerializer)
        payment, result = services.payment_start(
            actor=self.actor,
            invoice=invoice,
            method=self._method(data["method"]),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            outcome=data["outcome"],
        )
        body = {
            "payment": s.PaymentSerializer(payment).data,
            "invoice": self._fresh(invoice),
            "redirect_url": request.build_absolute_uri(result.redirect_url)
            if result.redirect_url
            else "",
            "message": result.message,
        }
        pending = payment.status == "pending"
        return Response(body, status=status.HTTP_202_ACCEPTED if pending else status.HTTP_200_OK)

    @extend_schema(request=s.CreditApplyRequestSerializer, responses=s.CreditApplyResultSerializer)
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        """Apply account credit (seed 003 ``POST /invoice/@id/credit``): ``amount``, or when
        empty the most that fits."""
        invoice = self.get_object()
        data = self._body(s.CreditApplyRequestSerializer)
        applied = services.credit_apply(
            actor=self.actor, invoice=invoice, amount=data.get("amount")
        )
        fresh = self._fresh(invoice)
        return Response(
            {
                "success": True,
                "invoice_status": fresh["status"],
                "applied": f"{applied:.2f}",
                "invoice": fresh,
            }
        )

    @extend_schema(
        request=None,
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF"),
            503: OpenApiResponse(description="PDFs cannot be made on this server right now"),
        },
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The invoice as a PDF document."""
        invoice = self.get_object()
        try:
            pdf = documents.invoice_pdf(invoice)
        except documents.DocumentUnavailable as exc:
            return Response({"message": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{documents.pdf_filename(invoice)}"'
        )
        return response

    @extend_schema(request=s.RefundRequestSerializer, responses=s.RefundResultSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund a paid invoice to the original method or to account credit (seller, staff)."""
        invoice = self.get_object()
        data = self._body(s.RefundRequestSerializer)
        amount = services.invoice_refund(
            actor=self.actor,
            invoice=invoice,
            amount=data.get("amount"),
            to=data["to"],
            reason=data["reason"],
        )
        return Response({"refunded": f"{amount:.2f}", "invoice": self._fresh(invoice)})

    @extend_schema(request=s.CancelRequestSerializer, responses=InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft or unpaid invoice (seller, staff); applied credit goes back."""
        invoice = self.get_object()
        data = self._body(s.CancelRequestSerializer)
        services.invoice_cancel(actor=self.actor, invoice=invoice, reason=data["reason"])
        return Response(self._fresh(invoice))

    @extend_schema(request=s.MarkPaidRequestSerializer, responses=s.PaymentSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, pk=None):
        """A bank transfer arrived: record it and mark the invoice paid (seller, staff)."""
        invoice = self.get_object()
        data = self._body(s.MarkPaidRequestSerializer)
        method = self._method(data["method"]) if data.get("method") else None
        payment = services.invoice_mark_paid(
            actor=self.actor, invoice=invoice, reference=data["reference"], method=method
        )
        return Response(s.PaymentSerializer(payment).data)


class CreditViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The account credit ledger: a customer's own entries (resellers and staff: their
    customers', ``?customer=``), its balance, and credit added by the seller."""

    serializer_class = s.CreditEntrySerializer

    def get_queryset(self):
        queryset = visible_credit_entries(self.actor).order_by("-created_at", "-id")
        customer = self.request.query_params.get("customer", "")
        if customer.isdigit():
            queryset = queryset.filter(customer_id=int(customer))
        currency = self.request.query_params.get("currency", "")
        if currency:
            queryset = queryset.filter(currency=currency.upper())
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("customer", OpenApiTypes.INT, required=False),
            OpenApiParameter("currency", OpenApiTypes.STR, required=False),
        ]
    )
    def list(self, request, *args, **kwargs):
        """Credit entries, newest first, each with the balance after it."""
        return super().list(request, *args, **kwargs)

    def _customer(self, customer_id):
        customer = visible_customers(self.actor).filter(pk=customer_id).first()
        if customer is None:
            raise NotFound("Customer not found.")
        return customer

    @extend_schema(
        request=s.CreditAddSerializer, responses={201: s.CreditEntrySerializer, 404: NO_CUSTOMER}
    )
    def create(self, request, *args, **kwargs):
        """Add account credit to a customer (the customer's reseller, staff)."""
        serializer = s.CreditAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.credit_add(
            actor=self.actor,
            customer=self._customer(data["customer"]),
            amount=data["amount"],
            currency=data["currency"],
            reason=data["reason"],
        )
        return Response(s.CreditEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "customer", OpenApiTypes.INT, required=False, description="Resellers, staff"
            ),
            OpenApiParameter("currency", OpenApiTypes.STR, required=False),
        ],
        responses={200: s.CreditBalanceSerializer(many=True), 404: NO_CUSTOMER},
    )
    @action(detail=False, methods=["get"], **BARE_LIST)
    def balance(self, request):
        """Seed 003 ``GET /balance``: the account credit and the unpaid total, per currency."""
        actor = self.actor
        raw = request.query_params.get("customer", "")
        if actor.customer_id is not None:
            customer = actor.customer
        elif raw.isdigit():
            customer = self._customer(int(raw))
        else:
            raise ValidationError({"customer": "Name the customer (?customer=<id>)."})
        entries = visible_credit_entries(actor).filter(customer_id=customer.pk)
        invoices = visible_invoices(actor).filter(customer_id=customer.pk, status="Unpaid")
        currency = request.query_params.get("currency", "").upper()
        currencies = {currency} if currency else {customer.currency}
        if not currency:
            currencies |= set(entries.values_list("currency", flat=True))
            currencies |= set(invoices.values_list("currency", flat=True))
        rows = []
        for code in sorted(currencies):
            credit = entries.filter(currency=code).aggregate(t=Sum("amount"))["t"] or Decimal(0)
            unpaid = invoices.filter(currency=code)
            due = sum((i.total - i.credit for i in unpaid), Decimal("0.00"))
            rows.append(
                {
                    "customer": customer.pk,
                    "currency": code,
                    "acc_credit": services.cents(credit),
                    "acc_balance": services.cents(due),
                }
            )
        return Response(s.CreditBalanceSerializer(rows, many=True).data)


class PaymentMethodViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Seed 003 ``GET /payment/fees``: the payment methods the caller may use, with their fixed
    and percent fees; ``?amount=`` or ``?invoice=`` computes each method's fee."""

    serializer_class = s.PaymentMethodSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        queryset = visible_payment_methods(self.actor).filter(is_active=True)
        if self.actor.organisation_id is not None:
            queryset = queryset.filter(
                Q(organisation__isnull=True) | Q(organisation_id=self.actor.organisation_id)
            )
        return queryset.order_by("name", "id")

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        params = self.request.query_params
        methods = list(self.get_queryset())
        fees: dict[int, Decimal] = {}
        if params.get("invoice", "").isdigit():
            invoice = visible_invoices(self.actor).filter(pk=int(params["invoice"])).first()
            if invoice is None:
                raise NotFound("Invoice not found.")
            fees = {m.pk: services.fee_for(invoice, m) for m in methods}
        elif params.get("amount"):
            try:
                amount = services.parse_amount(params["amount"])
            except DjangoValidationError as exc:
                raise ValidationError({"amount": exc.messages}) from None
            fees = {m.pk: services.payment_fee(m, amount) for m in methods}
        context["fees"] = fees
        return context

    @extend_schema(
        parameters=[
            OpenApiParameter("amount", OpenApiTypes.STR, required=False),
            OpenApiParameter("invoice", OpenApiTypes.INT, required=False),
        ],
        responses={200: s.PaymentMethodSerializer(many=True), 404: NO_INVOICE},
    )
    def list(self, request, *args, **kwargs):
        """Payment methods with their fees."""
        return super().list(request, *args, **kwargs)

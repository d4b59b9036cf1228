"""Pages of the billing app: invoices (list, CSV export, detail with Pay, Apply credit, PDF,
printable page, mark paid, refund), the test gateway's page and its return page, the customer's
credit ledger.

Every page fetches its invoice through ``visible_invoices(request.actor)`` (another tenant gets
404) and every change calls ``billing.services``, as the API does. A refused change answers the
invoice page again with the service's message (422, or 403 for a refused actor) and changes
nothing; a done change redirects with a flash message.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import documents, gateways, services
from billing.filtersets import InvoiceFilterSet
from billing.models import Invoice, Payment
from billing.selectors import (
    credit_balance,
    visible_credit_entries,
    visible_invoices,
    visible_payment_methods,
)
from portal.forms import style_form
from portal.tenancy import SYSTEM
from portal.views import list_context, paginate, render_htmx

INVOICE_SORT = {
    "number": ("number",),
    "date": ("date",),
    "due": ("duedate",),
    "total": ("total",),
    "status": ("status",),
    "customer": ("customer__last_name", "customer__first_name"),
}
LIST_FIELDS = ["q", "status", "currency", "date_from", "date_to"]


# --- forms (shape only; the services decide) ---------------------------------------------------


class MethodForm(forms.Form):
    method = forms.IntegerField(widget=forms.HiddenInput)


class CreditForm(forms.Form):
    amount = forms.CharField(
        required=False, max_length=20, help_text="Leave empty to apply all the credit that fits."
    )


class MarkPaidForm(forms.Form):
    reference = forms.CharField(max_length=100, label="Bank reference")


class RefundForm(forms.Form):
    amount = forms.CharField(required=False, max_length=20, help_text="Empty: all that is left.")
    to = forms.ChoiceField(
        choices=[("method", "The original payment method"), ("credit", "Account credit")]
    )
    reason = forms.CharField(required=False, max_length=200)


class GatewayDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])


# --- list and export ---------------------------------------------------------------------------


def _list_queryset(request: HttpRequest):
    return visible_invoices(request.actor).select_related("organisation")


@login_required
def invoice_list(request: HttpRequest) -> HttpResponse:
    context = list_context(
        request,
        _list_queryset(request),
        InvoiceFilterSet,
        sort_columns=INVOICE_SORT,
        fields=LIST_FIELDS,
        hidden=("customer",),
    )
    context["export_query"] = request.GET.urlencode()
    return render_htmx(
        request, "billing/invoice_list.html", "billing/_invoice_results.html", context
    )


@login_required
@require_GET
def invoice_export(request: HttpRequest) -> HttpResponse:
    """The list's invoices as CSV for accounting: the same filters and sort as the page, every
    page of them."""
    filterset = InvoiceFilterSet(
        request.GET or None, queryset=_list_queryset(request), request=request
    )
    valid = not filterset.is_bound or filterset.is_valid()
    rows = filterset.qs if valid else _list_queryset(request).none()
    sort = request.GET.get("sort", "")
    if sort.removeprefix("-") in INVOICE_SORT:
        fields = INVOICE_SORT[sort.removeprefix("-")]
        rows = rows.order_by(*(f"-{f}" if sort.startswith("-") else f for f in fields), "pk")
    response = HttpResponse(
        documents.invoices_csv(rows.iterator(chunk_size=500)), content_type="text/csv"
    )
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response


# --- one invoice -------------------------------------------------------------------------------


def _invoice(request: HttpRequest, pk: int) -> Invoice:
    return get_object_or_404(
        visible_invoices(request.actor).select_related("organisation", "order"), pk=pk
    )


def _methods(request: HttpRequest, invoice: Invoice, lines: list) -> list[dict]:
    methods = visible_payment_methods(request.actor).filter(
        Q(organisation__isnull=True) | Q(organisation_id=invoice.organisation_id), is_active=True
    )
    chosen = next((line for line in lines if line.type == services.FEE_LINE_TYPE), None)
    base = services.due_without_fee(invoice, lines)
    found = []
    for method in methods.order_by("name"):
        if method.gateway == "test" and not gateways.test_gateway_allowed(invoice.livemode):
            continue
        found.append(
            {
                "method": method,
                "fee": services.payment_fee(method, base),
                "chosen": chosen is not None and chosen.description.startswith(method.name),
            }
        )
    return found


def _detail_context(request: HttpRequest, invoice: Invoice, **extra) -> dict:
    actor = request.actor
    may_manage = services.can_manage(actor, invoice)
    lines = list(invoice.lines.all())
    context = {
        "invoice": invoice,
        "lines": lines,
        "payments": list(invoice.payments.select_related("method")),
        "may_pay": services.can_pay(actor, invoice) and invoice.status == "Unpaid",
        "may_manage": may_manage,
        "credit_form": style_form(CreditForm()),
        "mark_paid_form": style_form(MarkPaidForm()),
        "refund_form": style_form(RefundForm()),
        "refundable": services.refundable(invoice) if invoice.status == "Paid" else None,
        "error": "",
        "pay_token": uuid.uuid4().hex,
    }
    if context["may_pay"]:
        context["methods"] = _methods(request, invoice, lines)
        context["credit_available"] = services.credit_balance(invoice.customer, invoice.currency)
    context.update(extra)
    return context


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "You may not do that."


def _refused(request: HttpRequest, invoice: Invoice, exc: Exception, **forms_) -> HttpResponse:
    invoice.refresh_from_db()
    context = _detail_context(request, invoice, error=_message(exc), **forms_)
    status = 403 if isinstance(exc, PermissionDenied) else 422
    return render(request, "billing/invoice_detail.html", context, status=status)


def _done(request: HttpRequest, invoice: Invoice, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("billing:invoice_detail", pk=invoice.pk)


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    return render(request, "billing/invoice_detail.html", _detail_context(request, invoice))


def _method(request: HttpRequest, form: MethodForm):
    if not form.is_valid():
        raise ValidationError("Choose a payment method.")
    method = visible_payment_methods(request.actor).filter(pk=form.cleaned_data["method"]).first()
    if method is None:
        raise ValidationError("That payment method is not available.")
    return method


@login_required
@require_POST
def invoice_choose_method(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    try:
        method = _method(request, MethodForm(request.POST))
        services.invoice_choose_method(actor=request.actor, invoice=invoice, method=method)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc)
    return _done(request, invoice, f"Paying with {method.name}: the invoice shows its fee.")


@login_required
@require_POST
def invoice_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Pay with the chosen method: the gateway's page (test gateway), or the bank transfer's
    instructions. The form's token makes a double click one payment."""
    invoice = _invoice(request, pk)
    try:
        method = _method(request, MethodForm(request.POST))
        payment, result = services.payment_start(
            actor=request.actor,
            invoice=invoice,
            method=method,
            idempotency_key=request.POST.get("token", "")[:100],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc)
    if result.redirect_url:
        return redirect(result.redirect_url)
    return redirect("billing:payment_return", pk=invoice.pk, payment_pk=payment.pk)


@login_required
@require_POST
def invoice_apply_credit(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = style_form(CreditForm(request.POST))
    try:
        if not form.is_valid():
            raise ValidationError("Enter an amount such as 12.50, or leave it empty.")
        applied = services.credit_apply(
            actor=request.actor, invoice=invoice, amount=form.cleaned_data["amount"] or None
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc, credit_form=form)
    return _done(request, invoice, f"{applied} {invoice.currency} of credit applied.")


@login_required
@require_POST
def invoice_mark_paid(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = style_form(MarkPaidForm(request.POST))
    try:
        if not form.is_valid():
            raise ValidationError("Enter the bank transfer's reference.")
        services.invoice_mark_paid(
            actor=request.actor, invoice=invoice, reference=form.cleaned_data["reference"]
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc, mark_paid_form=form)
    return _done(request, invoice, "Marked paid by bank transfer.")


@login_required
@require_POST
def invoice_refund(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    form = style_form(RefundForm(request.POST))
    try:
        if not form.is_valid():
            raise ValidationError("Choose where the refund goes.")
        data = form.cleaned_data
        amount = services.invoice_refund(
            actor=request.actor,
            invoice=invoice,
            amount=data["amount"] or None,
            to=data["to"],
            reason=data["reason"],
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc, refund_form=form)
    return _done(request, invoice, f"{amount} {invoice.currency} refunded.")


@login_required
@require_POST
def invoice_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a draft or unpaid invoice (seller, staff); credit applied to it goes back."""
    invoice = _invoice(request, pk)
    try:
        services.invoice_cancel(
            actor=request.actor, invoice=invoice, reason=request.POST.get("reason", "")[:255]
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, invoice, exc)
    return _done(request, invoice, "Invoice cancelled.")


@login_required
@require_GET
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    try:
        pdf = documents.invoice_pdf(invoice)
    except documents.DocumentUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = "inline" if request.GET.get("inline") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{documents.pdf_filename(invoice)}"'
    return response


@login_required
@require_GET
def invoice_print(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice(request, pk)
    return HttpResponse(documents.invoice_html(invoice, request=request))


# --- the test gateway --------------------------------------------------------------------------


def _payment(request: HttpRequest, pk: int, payment_pk: int) -> tuple[Invoice, Payment]:
    invoice = _invoice(request, pk)
    return invoice, get_object_or_404(invoice.payments.select_related("method"), pk=payment_pk)


@login_required
@require_http_methods(["GET", "POST"])
def test_gateway(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    """The test gateway's own page (what a real gateway's hosted page would be): approve or
    decline the pending payment. Its answer reaches Nameport as a signed callback, as a real
    gateway's would."""
    invoice, payment = _payment(request, pk, payment_pk)
    if payment.gateway != "test" or not gateways.test_gateway_allowed(invoice.livemode):
        raise PermissionDenied("This payment is not a test gateway payment.")
    form = GatewayDecisionForm(request.POST or None)
    pending = payment.status == Payment.Status.PENDING
    if request.method == "POST" and pending and form.is_valid():
        status = (
            Payment.Status.COMPLETED
            if form.cleaned_data["decision"] == "approve"
            else Payment.Status.FAILED
        )
        gateway = gateways.get("test")
        body = gateway.callback_body(payment.gateway_reference, status)
        event = gateway.verify(body, gateway.sign(body))
        services.payment_gateway_event(
            actor=SYSTEM, gateway=event.gateway, reference=event.reference, status=event.status
        )
        return redirect("billing:payment_return", pk=invoice.pk, payment_pk=payment.pk)
    return render(
        request,
        "billing/invoice_test_gateway.html",
        {"invoice": invoice, "payment": payment, "form": form},
    )


@login_required
@require_GET
def payment_return(request: HttpRequest, pk: int, payment_pk: int) -> HttpResponse:
    """Where the payer lands after the gateway: what became of the payment."""
    invoice, payment = _payment(request, pk, payment_pk)
    message = gateways.get(payment.gateway).message(payment)
    return render(
        request,
        "billing/invoice_payment_return.html",
        {"invoice": invoice, "payment": payment, "message": message},
    )


@csrf_exempt
@require_POST
def test_gateway_callback(request: HttpRequest) -> HttpResponse:
    """The test gateway's server-to-server notification, signed (``X-Nameport-Signature``)."""
    try:
        event = gateways.get("test").callback(request)
    except gateways.InvalidCallback:
        return JsonResponse({"message": "The callback's signature does not check out."}, status=400)
    try:
        payment = services.payment_gateway_event(
            actor=SYSTEM, gateway=event.gateway, reference=event.reference, status=event.status
        )
    except ValidationError as exc:
        return JsonResponse({"message": _message(exc)}, status=400)
    return JsonResponse({"status": payment.status})


# --- the credit ledger -------------------------------------------------------------------------


@login_required
@require_GET
def credit_ledger(request: HttpRequest) -> HttpResponse:
    """The customer's account credit: balance per currency and every entry (resellers and
    staff see their customers', ``?customer=<id>`` narrows to one)."""
    entries = visible_credit_entries(request.actor).select_related("customer", "invoice")
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        entries = entries.filter(customer_id=int(customer_id))
    page_obj = paginate(request, entries.order_by("-created_at", "-id"))
    balances = []
    actor = request.actor
    if actor.customer_id is not None and (not actor.contact or actor.can("billing", "balance")):
        currencies = sorted(set(entries.values_list("currency", flat=True)))
        balances = [
            (c, credit_balance(actor, customer_id=actor.customer_id, currency=c))
            for c in currencies
        ]
    back = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = reverse("billing:invoice_list")
    return render_htmx(
        request,
        "billing/credit_ledger.html",
        "billing/credit_ledger.html",
        {"page_obj": page_obj, "rows": page_obj.object_list, "balances": balances, "back": back},
    )

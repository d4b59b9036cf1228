"""Every state change of the customer side of billing: invoices, payments, refunds and the
customer's account credit (the reseller's account with the platform is ``billing.ledger``).

Each service is keyword-only, runs in one ``transaction.atomic()``, locks the rows whose state it
checks (``select_for_update``) before checking it, and writes an audit row in the same
transaction. Lock order, everywhere: the customer row (its credit ledger), then the invoice, then
its payments; so two services never wait for each other in opposite orders.

Money is ``Decimal`` in the invoice's currency, quantized to cents with ``ROUND_HALF_UP``.
Bad input raises Django's ``ValidationError`` (a form error on the pages, a 400
``{"message": ...}`` in the API) and a refused actor ``PermissionDenied``; nothing is changed.

Two payments of one invoice at once: the invoice row is locked, so they are settled one after
the other. A direct payment (``invoice_pay``: bank transfer marked paid, a gateway answering at
once) of an invoice that is no longer unpaid is refused ("This invoice is already paid."). A
gateway payment that was pending and is confirmed after the invoice was settled another way took
the customer's money: it is recorded as completed and its amount goes to the customer's account
credit (a ``CreditEntry`` saying so), never lost and never paying the invoice twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.models import (
    CreditEntry,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    PaymentMethod,
    TaxRule,
)
from customers.models import Customer
from customers.roles import Right, requires
from domains.models import Domain
from portal.audit import audit
from portal.tenancy import SYSTEM, Actor

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
MAX_AMOUNT = Decimal("999999999999.99")

# How a payment fee appears on an invoice (seed 003: item_id -2 "PayPal Payment Fee").
FEE_LINE_TYPE = "PaymentFee"
FEE_ITEM_ID = -2
DEFAULT_DUE_DAYS = 7
SANDBOX_PREFIX = "TEST-"

ALREADY_PAID = "This invoice is already paid."
NOT_PAYABLE = "Only an unpaid invoice can be paid (this one is {status})."


def cents(value: Decimal) -> Decimal:
    """``value`` rounded to the cent, half up (1.005 -> 1.01)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: Any, *, field: str = "amount") -> Decimal:
    """A positive amount of money with at most two decimals, or a ``ValidationError``."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount such as 12.50."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter an amount such as 12.50."})
    if amount <= 0:
        raise ValidationError({field: "The amount must be more than zero."})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: "Use at most two decimals (cents)."})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: "That amount is too large."})
    return amount


def check_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    # settings.NAMEPORT_CURRENCIES: the currencies prices, accounts and invoices may be in.
    if code not in getattr(settings, "NAMEPORT_CURRENCIES", ("USD",)):
        raise ValidationError({"currency": f"Unknown currency {currency!r}."})
    return code


# --- who may do what -------------------------------------------------------------------------


def can_pay(actor: Actor, invoice: Invoice) -> bool:
    """Pay or apply credit: the customer, a contact with the ``billing.payinvoice`` privilege,
    the reseller that issued it and staff (the selectors already keep others out)."""
    if actor.is_staff:
        return True
    if actor.is_reseller:
        return invoice.organisation_id == actor.organisation_id
    if actor.is_customer:
        return invoice.customer_id == actor.customer_id and actor.can("billing", "payinvoice")
    return False


def can_manage(actor: Actor, invoice: Invoice | None = None, *, customer=None) -> bool:
    """Issue, cancel, mark paid, refund, add credit: the reseller (its own customers, in its
    mode) and staff. Never a customer."""
    if actor.is_staff:
        return True
    if not actor.is_reseller:
        return False
    organisation_id = invoice.organisation_id if invoice is not None else customer.organisation_id
    livemode = invoice.livemode if invoice is not None else customer.livemode
    return organisation_id == actor.organisation_id and (
        actor.livemode is None or actor.livemode == livemode
    )


def _require_pay(actor: Actor, invoice: Invoice) -> None:
    if not can_pay(actor, invoice):
        raise PermissionDenied(
            "Your login may not pay invoices: the account holder can give you the "
            "payinvoice privilege."
        )


def _require_manage(actor: Actor, invoice: Invoice | None = None, *, customer=None) -> None:
    if not can_manage(actor, invoice, customer=customer):
        raise PermissionDenied("Only the seller of this invoice or staff may do that.")


# --- on_invoice_paid listeners ---------------------------------------------------------------

_paid_listeners: list[Callable[[Invoice], None]] = []


def on_invoice_paid(listener: Callable[[Invoice], None]) -> Callable[[Invoice], None]:
    """Register ``listener(invoice)``: called inside the transaction that makes an invoice Paid
    (so what it writes, e.g. queued registry operations, commits or rolls back with the
    payment). Usable as a decorator; returns the listener."""
    if listener not in _paid_listeners:
        _paid_listeners.append(listener)
    return listener


def remove_invoice_paid_listener(listener: Callable[[Invoice], None]) -> None:
    if listener in _paid_listeners:
        _paid_listeners.remove(listener)


def _invoice_paid(invoice: Invoice) -> None:
    for listener in list(_paid_listeners):
        listener(invoice)


# --- totals ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a new invoice."""

    description: str
    amount: Decimal
    qty: Decimal = Decimal("1")
    taxed: bool = True
    target: Any = None  # a Domain or an OrderItem the line is for
    type: str = "Other"


def _tax_rule(customer: Customer, organisation_id: int, level: int, on: date) -> TaxRule | None:
    """The rule of ``level`` for the customer's country (and state, when a rule names one) on
    ``on``: the organisation's own rules when it has any for that country and level, else the
    platform's."""
    if not customer.country:
        return None
    rules = TaxRule.objects.filter(
        Q(organisation_id=organisation_id) | Q(organisation__isnull=True),
        country=customer.country,
        level=level,
    ).filter(
        Q(state="") | Q(state__iexact=customer.state),
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
    )
    # Own rules before the platform's, a state's rule before the country's, newest first.
    ranked = sorted(
        rules,
        key=lambda r: (
            r.organisation_id is None,
            r.state == "",
            -(r.valid_from.toordinal() if r.valid_from else 0),
            -r.pk,
        ),
    )
    return ranked[0] if ranked else None


def recompute_totals(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> None:
    """Set the invoice's line totals, subtotal, taxes and total (not saved).

    Rounding: each line total is ``amount x qty`` rounded to the cent (ROUND_HALF_UP); each tax
    is computed per taxed line and rounded to the cent there (ROUND_HALF_UP), then the rounded
    line taxes are summed. So the invoice's tax is always the sum of what its lines show.
    Level 1 and level 2 taxes are both on the line total (not compounded). A tax-exempt
    customer pays none. The rules are those valid on the invoice's date.
    """
    lines = list(invoice.lines.all() if lines is None else lines)
    customer = invoice.customer
    on = invoice.date or timezone.localdate()
    rule1 = rule2 = None
    if not customer.tax_exempt:
        rule1 = _tax_rule(customer, invoice.organisation_id, 1, on)
        rule2 = _tax_rule(customer, invoice.organisation_id, 2, on)
    rate1 = rule1.rate if rule1 else ZERO
    rate2 = rule2.rate if rule2 else ZERO
    subtotal = tax1 = tax2 = ZERO
    for line in lines:
        line.linetotal = cents(line.amount * line.qty)
        subtotal += line.linetotal
        if line.taxed:
            tax1 += cents(line.linetotal * rate1 / HUNDRED)
            tax2 += cents(line.linetotal * rate2 / HUNDRED)
    invoice.subtotal = subtotal
    invoice.tax, invoice.taxrate, invoice.taxname = tax1, rate1, rule1.name if rule1 else ""
    invoice.tax2, invoice.taxrate2, invoice.taxname2 = tax2, rate2, rule2.name if rule2 else ""
    invoice.total = subtotal + tax1 + tax2


def _save_lines_and_totals(invoice: Invoice) -> None:
    lines = list(invoice.lines.all())
    recompute_totals(invoice, lines)
    for line in lines:
        InvoiceLine.objects.filter(pk=line.pk).update(linetotal=line.linetotal)
    if invoice.credit > invoice.total:
        raise ValidationError("The credit already applied is more than the new total.")
    invoice.save(
        update_fields=[
            "subtotal",
            "tax",
            "taxrate",
            "taxname",
            "tax2",
            "taxrate2",
            "taxname2",
            "total",
        ]
    )


# --- invoices --------------------------------------------------------------------------------


def _as_line(raw: Any) -> Line:
    if isinstance(raw, Line):
        return raw
    if isinstance(raw, dict):
        return Line(**raw)
    return Line(*raw)


@requires(Right.BILLING)
def invoice_create(
    *,
    actor: Actor,
    customer: Customer,
    lines: Iterable[Any],
    currency: str | None = None,
    on: date | None = None,
    notes: str = "",
    order=None,
) -> Invoice:
    """A Draft invoice for ``customer`` with ``lines`` (``Line`` or tuples of ``(description,
    amount, qty, taxed, domain or order item)``), its totals computed here. No number yet."""
    _require_manage(actor, customer=customer)
    currency = check_currency(currency or customer.currency)
    parsed = [_as_line(raw) for raw in lines]
    if not parsed:
        raise ValidationError("An invoice needs at least one line.")
    with transaction.atomic():
        today = on or timezone.localdate()
        invoice = Invoice(
            organisation_id=customer.organisation_id,
            customer=customer,
            livemode=customer.livemode,
            order=order,
            status=Invoice.Status.DRAFT,
            date=today,
            duedate=today + timedelta(days=DEFAULT_DUE_DAYS),
            paybefore=today + timedelta(days=DEFAULT_DUE_DAYS),
            currency=currency,
            notes=notes,
        )
        invoice.save()
        rows = []
        for line in parsed:
            if not (line.description or "").strip():
                raise ValidationError("Every line needs a description.")
            amount = Decimal(str(line.amount))
            qty = Decimal(str(line.qty))
            if amount < 0 or qty <= 0 or not amount.is_finite() or not qty.is_finite():
                raise ValidationError("Line amounts are zero or more and quantities positive.")
            rows.append(
                InvoiceLine(
                    invoice=invoice,
                    type=line.type,
                    description=line.description[:255],
                    amount=cents(amount),
                    qty=qty,
                    taxed=line.taxed,
                    domain=line.target if isinstance(line.target, Domain) else None,
                    order_item=line.target
                    if line.target is not None and not isinstance(line.target, Domain)
                    else None,
                    item_id=getattr(line.target, "pk", 0) or 0,
                )
            )
        recompute_totals(invoice, rows)
        InvoiceLine.objects.bulk_create(rows)
        invoice.save()
        audit(
            actor=actor,
            action="invoice.create",
            obj=invoice,
            organisation=invoice.organisation,
            data={"total": str(invoice.total), "currency": currency},
        )
    return invoice


def _lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)


def _lock_customer(customer_id: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer_id)


def _next_number(invoice: Invoice) -> str:
    """The next number of the invoice's organisation, year and mode, under the sequence row's
    lock: gapless (the increment commits or rolls back with the invoice) and never reused."""
    key = {
        "organisation_id": invoice.organisation_id,
        "year": invoice.date.year,
        "livemode": invoice.livemode,
    }
    if not InvoiceSequence.objects.filter(**key).exists():
        try:
            with transaction.atomic():
                InvoiceSequence.objects.create(**key, last=0)
        except IntegrityError:
            pass  # created by a concurrent issue; we lock it below
    sequence = InvoiceSequence.objects.select_for_update().get(**key)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    prefix = "" if invoice.livemode else SANDBOX_PREFIX
    return f"{prefix}{invoice.date.year}/{invoice.date.month:02d}/{sequence.last}"


@requires(Right.BILLING)
def invoice_issue(
    *,
    actor: Actor,
    invoice: Invoice,
    on: date | None = None,
    due_days: int = DEFAULT_DUE_DAYS,
    notify: bool = True,
) -> Invoice:
    """Draft -> Unpaid: the number (``2026/12/17``; sandbox ``TEST-2026/12/3``), the dates, the
    totals at the issue date's tax rules; the customer is e-mailed after the commit (unless
    ``notify`` is False: demo data)."""
    _require_manage(actor, invoice)
    if due_days < 0:
        raise ValidationError({"due_days": "The due date cannot be before the invoice date."})
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError("Only a draft invoice can be issued.")
        invoice.date = on or timezone.localdate()
        invoice.duedate = invoice.paybefore = invoice.date + timedelta(days=due_days)
        _save_lines_and_totals(invoice)
        invoice.number = _next_number(invoice)
        invoice.status = Invoice.Status.UNPAID
        invoice.issued_at = timezone.now()
        invoice.save(
            update_fields=["number", "status", "issued_at", "date", "duedate", "paybefore"]
        )
        audit(
            actor=actor,
            action="invoice.issue",
            obj=invoice,
            organisation=invoice.organisation,
            data={"number": invoice.number, "total": str(invoice.total)},
        )
        invoice_id = invoice.pk
        if notify:
            transaction.on_commit(lambda: send_invoice_issued(invoice_id))
    return invoice


def send_invoice_issued(invoice_id: int) -> int:
    """E-mail the customer (and the organisation's invoice address in copy) that the invoice
    was issued. Runs after the commit; a mail failure is logged and never undoes the invoice."""
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    from customers.branding import brand_of, branded_sender, site_url_for

    invoice = Invoice.objects.select_related("customer", "organisation").get(pk=invoice_id)
    organisation = invoice.organisation
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "brand": brand_of(organisation),
        "site_url": site_url_for(organisation),
    }
    message = EmailMultiAlternatives(
        subject=f"Invoice {invoice.number} from {invoice.organisation.name}",
        body=render_to_string("billing/invoice_email.txt", context),
        # The customer's brand (its reseller's portal name) as the sender's name.
        from_email=branded_sender(organisation, settings.DEFAULT_FROM_EMAIL),
        to=[invoice.customer.email],
        cc=[invoice.organisation.invoice_email] if invoice.organisation.invoice_email else [],
        headers={"Auto-Submitted": "auto-generated"},
    )
    try:
        return message.send()
    except OSError:
        logger.warning("invoice issued e-mail not sent", extra={"invoice": invoice_id})
        return 0


@requires(Right.BILLING)
def invoice_cancel(*, actor: Actor, invoice: Invoice, reason: str = "") -> Invoice:
    """Draft or Unpaid -> Cancelled; credit applied to it goes back to the credit ledger."""
    _require_manage(actor, invoice)
    with transaction.atomic():
        _lock_customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        if invoice.status not in {Invoice.Status.DRAFT, Invoice.Status.UNPAID}:
            raise ValidationError(
                f"Only a draft or unpaid invoice can be cancelled (this one is {invoice.status})."
            )
        returned = invoice.credit
        if returned > 0:
            _credit_entry(
                actor=actor,
                customer=invoice.customer,
                amount=returned,
                currency=invoice.currency,
                reason=f"Credit returned from cancelled invoice {invoice.number or invoice.pk}",
                invoice=invoice,
            )
            invoice.credit = ZERO
        invoice.status = Invoice.Status.CANCELLED
        invoice.save(update_fields=["status", "credit"])
        audit(
            actor=actor,
            action="invoice.cancel",
            obj=invoice,
            organisation=invoice.organisation,
            data={"reason": reason[:255], "credit_returned": str(returned)},
        )
    return invoice


# --- the credit ledger -----------------------------------------------------------------------


def credit_balance(customer: Customer, currency: str) -> Decimal:
    """The customer's credit in ``currency`` (the sum of its entries: the ledger's truth)."""
    total = CreditEntry.objects.filter(
        customer_id=customer.pk, currency=currency, livemode=customer.livemode
    ).aggregate(total=Sum("amount"))["total"]
    return cents(total or ZERO)


def _credit_entry(
    *,
    actor: Actor,
    customer: Customer,
    amount: Decimal,
    currency: str,
    reason: str,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
) -> CreditEntry:
    """Append one entry; the caller holds the customer row's lock."""
    balance = credit_balance(customer, currency) + amount
    if balance < 0:
        raise ValidationError({"amount": "That is more than the account credit."})
    return CreditEntry.objects.create(
        organisation_id=customer.organisation_id,
        customer=customer,
        livemode=customer.livemode,
        amount=amount,
        currency=currency,
        balance_after=balance,
        reason=reason[:255],
        invoice=invoice,
        payment=payment,
        created_by=actor.user,
    )


@requires(Right.BILLING)
def credit_add(
    *, actor: Actor, customer: Customer, amount: Any, currency: str, reason: str
) -> CreditEntry:
    """Add account credit (staff, or the customer's reseller): a positive amount and a reason."""
    _require_manage(actor, customer=customer)
    amount = parse_amount(amount)
    currency = check_currency(currency)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the credit is added."})
    with transaction.atomic():
        customer = _lock_customer(customer.pk)
        entry = _credit_entry(
            actor=actor, customer=customer, amount=amount, currency=currency, reason=reason
        )
        audit(
            actor=actor,
            action="credit.add",
            obj=entry,
            organisation=customer.organisation,
            data={"amount": str(amount), "currency": currency, "customer": customer.pk},
        )
    return entry


def credit_adjust_check(*, customer: Customer, amount: Decimal, currency: str) -> None:
    """What ``credit_adjust`` refuses, for a form to show before it is called."""
    if amount is None or amount == 0 or not Decimal(amount).is_finite():
        raise ValidationError({"amount": "An adjustment is more or less than zero."})
    check_currency(currency)
    if credit_balance(customer, currency) + amount < 0:
        raise ValidationError({"amount": "The credit cannot go below zero."})


@requires(Right.BILLING)
def credit_adjust(
    *,
    actor: Actor,
    customer: Customer,
    amount: Decimal,
    currency: str,
    reason: str,
    invoice: Invoice | None = None,
) -> CreditEntry:
    """A staff correction of a customer's credit (the admin): positive or negative, never
    below zero, with a reason; audited as ``credit.adjust``."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff adjust account credit.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the credit is adjusted."})
    with transaction.atomic():
        customer = _lock_customer(customer.pk)
        credit_adjust_check(customer=customer, amount=amount, currency=currency)
        entry = _credit_entry(
            actor=actor,
            customer=customer,
            amount=cents(amount),
            currency=check_currency(currency),
            reason=reason,
            invoice=invoice,
        )
        audit(
            actor=actor,
            action="credit.adjust",
            obj=entry,
            organisation=customer.organisation,
            data={"amount": str(entry.amount), "currency": entry.currency, "reason": reason},
        )
    return entry


def _mark_paid(actor: Actor, invoice: Invoice, *, how: str) -> None:
    """The locked, fully settled invoice becomes Paid; listeners run in this transaction."""
    invoice.status = Invoice.Status.PAID
    invoice.datepaid = timezone.now()
    invoice.save(update_fields=["status", "datepaid", "credit"])
    audit(
        actor=actor,
        action="invoice.paid",
        obj=invoice,
        organisation=invoice.organisation,
        data={"number": invoice.number, "by": how, "total": str(invoice.total)},
    )
    _invoice_paid(invoice)


@requires(Right.BILLING)
def credit_apply(*, actor: Actor, invoice: Invoice, amount: Any = None) -> Decimal:
    """Apply account credit to an unpaid invoice (seed 003 ``POST /invoice/@id/credit``):
    ``amount``, or when None all the credit that fits. Returns the amount applied; the invoice
    is Paid when nothing is left to pay."""
    _require_pay(actor, invoice)
    wanted = None if amount in (None, "") else parse_amount(amount)
    with transaction.atomic():
        customer = _lock_customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        if invoice.status != Invoice.Status.UNPAID:
            raise ValidationError(NOT_PAYABLE.format(status=invoice.status))
        # A payment fee is for paying through a method, not with credit: its line goes, and
        # picking the method again puts back the fee on what is left to pay.
        _set_fee_line(invoice, None)
        due = invoice.total - invoice.credit
        balance = credit_balance(customer, invoice.currency)
        if wanted is None:
            wanted = min(due, balance)
            if wanted <= 0:
                raise ValidationError({"amount": "There is no account credit to apply."})
        if wanted > balance:
            raise ValidationError(
                {"amount": f"That is more than the account credit ({balance} {invoice.currency})."}
            )
        if wanted > due:
            raise ValidationError(
                {"amount": f"That is more than is due ({due} {invoice.currency})."}
            )
        _credit_entry(
            actor=actor,
            customer=customer,
            amount=-wanted,
            currency=invoice.currency,
            reason=f"Credit applied to invoice {invoice.number}",
            invoice=invoice,
        )
        invoice.credit += wanted
        invoice.save(update_fields=["credit", "subtotal", "tax", "tax2", "total"])
        audit(
            actor=actor,
            action="invoice.credit",
            obj=invoice,
            organisation=invoice.organisation,
            data={"applied": str(wanted), "currency": invoice.currency},
        )
        if invoice.credit == invoice.total:
            _mark_paid(actor, invoice, how="credit")
    return wanted


# --- payment methods and their fees ----------------------------------------------------------


def line_due(invoice: Invoice, line: InvoiceLine) -> Decimal:
    """What one line cost the customer: its total and its taxes at the invoice's rates (never
    more than the invoice's total)."""
    due = line.linetotal
    if line.taxed:
        due += cents(line.linetotal * invoice.taxrate / HUNDRED)
        due += cents(line.linetotal * invoice.taxrate2 / HUNDRED)
    return min(due, invoice.total)


def credit_back(*, invoice: Invoice, amount: Decimal, name: str, credit_reason: str, note: str):
    """What the customer paid for one line of ``invoice`` that will not be delivered goes to
    its account credit, and the invoice's notes say so (read again first: several lines of one
    invoice may be credited back in one transaction)."""
    if amount > 0:
        credit_add(
            actor=SYSTEM,
            customer=invoice.customer,
            amount=amount,
            currency=invoice.currency,
            reason=f"{name} {credit_reason}"[:255],
        )
    invoice.refresh_from_db(fields=["notes"])
    invoice.notes = (
        f"{invoice.notes}\n{name}: {note} {amount} {invoice.currency} credited to your account."
    ).strip()
    Invoice.objects.filter(pk=invoice.pk).update(notes=invoice.notes)


def payment_fee(method: PaymentMethod, amount: Decimal) -> Decimal:
    """Seed 003 ``/payment/fees``: fixed + percent of ``amount``, rounded half up to the cent."""
    if amount <= 0:
        return ZERO
    return cents(method.fixed_fee + amount * method.percent_fee / HUNDRED)


def due_without_fee(invoice: Invoice, lines: Iterable[InvoiceLine]) -> Decimal:
    """What the invoice asks before any payment fee: its amount due less the fee line and the
    tax on it (at the invoice's rates, rounded per line as ``recompute_totals`` does)."""
    due = invoice.total - invoice.credit
    for line in lines:
        if line.type != FEE_LINE_TYPE:
            continue
        due -= line.linetotal
        if line.taxed:
            due -= cents(line.linetotal * invoice.taxrate / HUNDRED)
            due -= cents(line.linetotal * invoice.taxrate2 / HUNDRED)
    return due


def fee_for(
    invoice: Invoice, method: PaymentMethod, lines: Iterable[InvoiceLine] | None = None
) -> Decimal:
    """The fee ``method`` would add to ``invoice`` (what the page shows beside each method)."""
    lines = invoice.lines.all() if lines is None else lines
    return payment_fee(method, due_without_fee(invoice, lines))


def _check_method(actor: Actor, invoice: Invoice, method: PaymentMethod) -> None:
    if not method.is_active or method.organisation_id not in (None, invoice.organisation_id):
        raise ValidationError({"method": "That payment method is not available."})


def _line_taxes(invoice: Invoice, line: InvoiceLine) -> tuple[Decimal, Decimal]:
    if not line.taxed:
        return ZERO, ZERO
    return (
        cents(line.linetotal * invoice.taxrate / HUNDRED),
        cents(line.linetotal * invoice.taxrate2 / HUNDRED),
    )


def _set_fee_line(invoice: Invoice, method: PaymentMethod | None) -> None:
    """Replace the invoice's fee line by ``method``'s (none when its fee is zero, or when
    ``method`` is None); the caller holds the invoice's lock and the invoice is Unpaid. The
    totals move by the difference (the old fee line and its tax out, the new one in, at the
    invoice's own rates), so an issued invoice's other lines and totals are never recomputed."""
    lines = list(invoice.lines.all())
    current = [line for line in lines if line.type == FEE_LINE_TYPE]
    if method is None:
        fee, description = ZERO, ""
    else:
        fee = payment_fee(method, due_without_fee(invoice, lines))
        description = f"{method.name} Payment Fee"
    if [(x.amount, x.description) for x in current] == ([(fee, description)] if fee else []):
        return
    for line in current:
        tax1, tax2 = _line_taxes(invoice, line)
        invoice.subtotal -= line.linetotal
        invoice.tax -= tax1
        invoice.tax2 -= tax2
        line.delete()
    if fee > 0:
        line = InvoiceLine.objects.create(
            invoice=invoice,
            type=FEE_LINE_TYPE,
            item_id=FEE_ITEM_ID,
            description=description,
            amount=fee,
            qty=Decimal("1.00"),
            taxed=True,
            linetotal=fee,
        )
        tax1, tax2 = _line_taxes(invoice, line)
        invoice.subtotal += fee
        invoice.tax += tax1
        invoice.tax2 += tax2
    invoice.total = invoice.subtotal + invoice.tax + invoice.tax2
    if invoice.credit > invoice.total:
        raise ValidationError("The credit already applied is more than the new total.")
    invoice.save(update_fields=["subtotal", "tax", "tax2", "total"])


@requires(Right.BILLING)
def invoice_choose_method(*, actor: Actor, invoice: Invoice, method: PaymentMethod) -> Invoice:
    """The customer picks how to pay: the method's fee becomes the invoice's one fee line
    (picking again replaces it) and the totals follow. Only while Unpaid."""
    _require_pay(actor, invoice)
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        if invoice.status != Invoice.Status.UNPAID:
            raise ValidationError(NOT_PAYABLE.format(status=invoice.status))
        _check_method(actor, invoice, method)
        _set_fee_line(invoice, method)
        audit(
            actor=actor,
            action="invoice.method",
            obj=invoice,
            organisation=invoice.organisation,
            data={"method": method.name, "total": str(invoice.total)},
        )
    return invoice


# --- payments --------------------------------------------------------------------------------


def _existing(invoice: Invoice, idempotency_key: str) -> Payment | None:
    if not idempotency_key:
        return None
    return Payment.objects.filter(invoice_id=invoice.pk, idempotency_key=idempotency_key).first()


def _check_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if len(key) > 100:
        raise ValidationError("Idempotency-Key is at most 100 characters.")
    return key


@requires(Right.BILLING)
def invoice_pay(
    *,
    actor: Actor,
    invoice: Invoice,
    method: PaymentMethod | None,
    reference: str = "",
    gateway: str = "bank_transfer",
    gateway_reference: str = "",
    idempotency_key: str = "",
) -> Payment:
    """Record a completed payment of everything due and make the invoice Paid, in one
    transaction with the invoice locked. A second payment of a settled invoice is refused; the
    same ``idempotency_key`` returns the payment it made the first time."""
    _require_pay(actor, invoice)
    idempotency_key = _check_key(idempotency_key)
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        existing = _existing(invoice, idempotency_key)
        if existing is not None:
            return existing
        if invoice.status == Invoice.Status.PAID:
            raise ValidationError(ALREADY_PAID)
        if invoice.status != Invoice.Status.UNPAID:
            raise ValidationError(NOT_PAYABLE.format(status=invoice.status))
        if method is not None:
            _check_method(actor, invoice, method)
            _set_fee_line(invoice, method)
        due = invoice.total - invoice.credit
        fee_line = invoice.lines.filter(type=FEE_LINE_TYPE).first()
        payment = Payment.objects.create(
            invoice=invoice,
            method=method,
            amount=due,
            fee=fee_line.linetotal if fee_line else ZERO,
            currency=invoice.currency,
            reference=reference[:100],
            status=Payment.Status.COMPLETED,
            gateway=gateway,
            gateway_reference=gateway_reference[:100],
            idempotency_key=idempotency_key,
            created_by=actor.user,
        )
        audit(
            actor=actor,
            action="payment.completed",
            obj=payment,
            organisation=invoice.organisation,
            data={"invoice": invoice.pk, "amount": str(due), "gateway": gateway},
        )
        _mark_paid(actor, invoice, how=gateway)
    return payment


@requires(Right.BILLING)
def invoice_mark_paid(
    *, actor: Actor, invoice: Invoice, reference: str, method: PaymentMethod | None = None
) -> Payment:
    """A bank transfer arrived: the reseller or staff mark the invoice paid with the bank's
    reference (a customer never can)."""
    _require_manage(actor, invoice)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "Enter the bank transfer's reference."})
    with transaction.atomic():
        _lock_customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        pending = (
            invoice.payments.select_for_update()
            .filter(status=Payment.Status.PENDING, gateway="bank_transfer")
            .first()
        )
        if pending is None or invoice.status != Invoice.Status.UNPAID:
            return invoice_pay(
                actor=actor,
                invoice=invoice,
                method=method,
                reference=reference,
                gateway="bank_transfer",
            )
        # The customer chose bank transfer: its pending payment is the one that arrived.
        pending.reference = reference[:100]
        pending.amount = invoice.total - invoice.credit
        pending.created_by = pending.created_by or actor.user
        pending.save(update_fields=["reference", "amount", "created_by", "updated_at"])
        _settle(actor, pending, Payment.Status.COMPLETED, invoice=invoice)
        return pending


@requires(Right.BILLING)
def payment_start(
    *,
    actor: Actor,
    invoice: Invoice,
    method: PaymentMethod,
    idempotency_key: str = "",
    return_url: str = "",
    outcome: str = "",
):
    """Start paying ``invoice`` with ``method``'s gateway: sets the fee line, records a pending
    payment of what is due and asks the gateway. Returns ``(payment, result)``: the result
    carries a redirect URL (the gateway's page) or an answer given at once. The same
    ``idempotency_key`` returns the same payment (and does not ask the gateway again)."""
    from billing import gateways

    _require_pay(actor, invoice)
    idempotency_key = _check_key(idempotency_key)
    gateway = gateways.get(method.gateway)
    with transaction.atomic():
        invoice = _lock_invoice(invoice)
        existing = _existing(invoice, idempotency_key)
        if existing is not None:
            return existing, gateways.StartResult.replay(existing)
        if invoice.status == Invoice.Status.PAID:
            raise ValidationError(ALREADY_PAID)
        if invoice.status != Invoice.Status.UNPAID:
            raise ValidationError(NOT_PAYABLE.format(status=invoice.status))
        _check_method(actor, invoice, method)
        _set_fee_line(invoice, method)
        fee_line = invoice.lines.filter(type=FEE_LINE_TYPE).first()
        payment = Payment.objects.create(
            invoice=invoice,
            method=method,
            amount=invoice.total - invoice.credit,
            fee=fee_line.linetotal if fee_line else ZERO,
            currency=invoice.currency,
            status=Payment.Status.PENDING,
            gateway=gateway.name,
            gateway_reference=gateway.new_reference(),
            idempotency_key=idempotency_key,
            created_by=actor.user,
        )
        audit(
            actor=actor,
            action="payment.start",
            obj=payment,
            organisation=invoice.organisation,
            data={"invoice": invoice.pk, "amount": str(payment.amount), "gateway": gateway.name},
        )
        result = gateway.start(payment, return_url=return_url, outcome=outcome)
        if result.status in {Payment.Status.COMPLETED, Payment.Status.FAILED}:
            _settle(actor, payment, result.status, invoice=invoice)
    return payment, result


def _settle(actor: Actor, payment: Payment, status: str, *, invoice: Invoice) -> None:
    """A pending payment's gateway answered; the caller holds the customer, invoice and payment
    locks. Completed: the invoice is Paid, or when it was settled meanwhile the money goes to the
    customer's credit. Failed: the payment is marked so, the invoice stays Unpaid."""
    payment.status = status
    payment.save(update_fields=["status", "updated_at"])
    audit(
        actor=actor,
        action=f"payment.{status}",
        obj=payment,
        organisation=invoice.organisation,
        data={"invoice": invoice.pk, "amount": str(payment.amount), "gateway": payment.gateway},
    )
    if status != Payment.Status.COMPLETED:
        return
    if invoice.status == Invoice.Status.UNPAID and payment.amount == invoice.total - invoice.credit:
        _mark_paid(actor, invoice, how=payment.gateway)
        return
    _credit_entry(
        actor=actor,
        customer=invoice.customer,
        amount=payment.amount,
        currency=payment.currency,
        reason=f"Payment {payment.gateway_reference} arrived after invoice "
        f"{invoice.number} was settled: kept as credit",
        payment=payment,
    )


def payment_gateway_event(*, actor: Actor, gateway: str, reference: str, status: str) -> Payment:
    """A verified gateway event (``billing.gateways`` checked its signature): the pending
    payment ``reference`` completed or failed. A repeated event changes nothing."""
    if status not in {Payment.Status.COMPLETED, Payment.Status.FAILED}:
        raise ValidationError({"status": "Unknown payment status."})
    with transaction.atomic():
        found = Payment.objects.filter(gateway=gateway, gateway_reference=reference).first()
        if found is None:
            raise ValidationError({"reference": "Unknown payment."})
        _lock_customer(found.invoice.customer_id)
        invoice = _lock_invoice(found.invoice)
        payment = Payment.objects.select_for_update().get(pk=found.pk)
        if payment.status != Payment.Status.PENDING:
            return payment
        _settle(actor, payment, status, invoice=invoice)
    return payment


# --- refunds ---------------------------------------------------------------------------------


def refundable(invoice: Invoice) -> dict[str, Decimal]:
    """What can still be given back for ``invoice``: ``method`` (to where payments came from)
    and ``total`` (payments and applied credit, to credit). A payment that arrived after the
    invoice was settled went to credit already and is not counted."""
    kept_as_credit = CreditEntry.objects.filter(invoice__isnull=True, payment__isnull=False)
    positive = invoice.payments.filter(
        status__in=[Payment.Status.COMPLETED, Payment.Status.REFUNDED], amount__gt=0
    ).exclude(credit_entries__in=kept_as_credit)
    paid = positive.aggregate(s=Sum("amount"))["s"] or ZERO
    to_method = -(
        invoice.payments.filter(status=Payment.Status.COMPLETED, amount__lt=0).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    to_credit = (
        CreditEntry.objects.filter(invoice=invoice, amount__gt=0).aggregate(s=Sum("amount"))["s"]
        or ZERO
    )
    total = cents(paid + invoice.credit - to_method - to_credit)
    return {"method": cents(min(paid - to_method, total)), "total": total}


@requires(Right.BILLING)
def invoice_refund(
    *, actor: Actor, invoice: Invoice, amount: Any = None, to: str = "method", reason: str = ""
) -> Decimal:
    """Give money back for a paid invoice: ``to="method"`` as negative payments pointing at the
    payments they refund (newest first), ``to="credit"`` as account credit. Never more than was
    paid; the invoice is Refunded once everything went back. Returns the amount refunded."""
    _require_manage(actor, invoice)
    if to not in {"method", "credit"}:
        raise ValidationError({"to": "Refund to the original method or to credit."})
    wanted = None if amount in (None, "") else parse_amount(amount)
    with transaction.atomic():
        customer = _lock_customer(invoice.customer_id)
        invoice = _lock_invoice(invoice)
        if invoice.status != Invoice.Status.PAID:
            raise ValidationError(
                f"Only a paid invoice can be refunded (this one is {invoice.status})."
            )
        left = refundable(invoice)
        limit = left["method"] if to == "method" else left["total"]
        if wanted is None:
            wanted = limit
        if wanted <= 0 or wanted > limit:
            raise ValidationError(
                {"amount": f"At most {limit} {invoice.currency} can be refunded that way."}
            )
        originals = list(
            invoice.payments.select_for_update()
            .filter(status=Payment.Status.COMPLETED, amount__gt=0)
            .exclude(credit_entries__invoice__isnull=True, credit_entries__isnull=False)
            .order_by("-created_at", "-id")
        )
        if to == "credit":
            _credit_entry(
                actor=actor,
                customer=customer,
                amount=wanted,
                currency=invoice.currency,
                reason=f"Refund of invoice {invoice.number}" + (f": {reason}" if reason else ""),
                invoice=invoice,
                payment=originals[0] if originals else None,
            )
        else:
            _refund_to_methods(actor, invoice, originals, wanted, reason)
        after = refundable(invoice)
        if after["total"] <= 0:
            invoice.status = Invoice.Status.REFUNDED
            invoice.save(update_fields=["status"])
        audit(
            actor=actor,
            action="invoice.refund",
            obj=invoice,
            organisation=invoice.organisation,
            data={"amount": str(wanted), "to": to, "status": invoice.status, "reason": reason},
        )
    return wanted


def _refund_to_methods(
    actor: Actor, invoice: Invoice, originals: list[Payment], wanted: Decimal, reason: str
) -> None:
    from billing import gateways

    left = wanted
    for original in originals:
        given = -(
            original.refunds.filter(status=Payment.Status.COMPLETED).aggregate(s=Sum("amount"))["s"]
            or ZERO
        )
        part = min(left, original.amount - given)
        if part <= 0:
            continue
        refund = Payment.objects.create(
            invoice=invoice,
            method=original.method,
            amount=-part,
            currency=original.currency,
            reference=(reason or f"Refund of {original.reference or original.pk}")[:100],
            status=Payment.Status.COMPLETED,
            gateway=original.gateway,
            refund_of=original,
            created_by=actor.user,
        )
        gateways.get(original.gateway).refund(refund)
        if given + part == original.amount:
            Payment.objects.filter(pk=original.pk).update(status=Payment.Status.REFUNDED)
        left -= part
        if left <= 0:
            break

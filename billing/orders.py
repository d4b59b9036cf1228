"""Orders: a quoted cart placed once per idempotency key, invoiced, and sent to the registries
when its invoice is paid.

``order_place`` quotes the cart (``billing.quotes``, the registries asked), refuses it when an
item cannot be ordered (the item's reason), and in one transaction writes the Order, its items,
the issued invoice (lines tied to the items) and the promotion code's use. The same key gives the
same order, whatever the retries or double clicks (the key is unique per organisation; a retry
that races the first waits for it on that constraint and then finds it). Account credit that
covers the total pays the invoice at once; otherwise it is paid later (the invoice page, the
test gateway, a bank transfer).

When the invoice becomes Paid (an ``on_invoice_paid`` listener, inside the paying transaction),
each item's registry operation is queued through the domains services: a registration or a
renewal. An item that cannot be queued then (the name was taken meanwhile) is credited back to
the customer's account and said so on the invoice's notes. Transfers are not ordered here yet
(their auth code would have to wait with the order): the transfer page queues them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from billing import services
from billing.models import Invoice, Order, OrderItem, PaymentMethod
from billing.promotions import promotion_for, promotion_redeem
from billing.quotes import quote
from customers.models import Customer
from domains.models import Domain
from domains.services import authorize_customer, domain_register, domain_renew
from portal.audit import audit
from portal.tenancy import SYSTEM, Actor

KINDS = {"register": OrderItem.Kind.DOMAIN_REGISTER, "renew": OrderItem.Kind.DOMAIN_RENEW}
ZERO = Decimal("0.00")


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not key:
        raise ValidationError({"idempotency_key": "An order needs an idempotency key."})
    if len(key) > 100 or not key.isprintable():
        raise ValidationError({"idempotency_key": "Use at most 100 printable characters."})
    return key


def _existing(customer: Customer, key: str) -> Order | None:
    return Order.objects.filter(
        organisation_id=customer.organisation_id, idempotency_key=key
    ).first()


def order_place(
    *,
    actor: Actor,
    customer: Customer,
    items: list[Any],
    idempotency_key: str,
    pay_method: PaymentMethod | None = None,
    promo_code: str = "",
    use_credit: bool = True,
    check_registry: bool = True,
) -> Order:
    """Place the cart once per key; see the module docstring."""
    key = _check_key(idempotency_key)
    authorize_customer(actor, customer)
    if any(isinstance(raw, dict) and raw.get("action") == "transfer" for raw in items or []):
        raise ValidationError(
            {"items": "Transfers are ordered from the transfer page, one at a time, for now."}
        )
    found = _existing(customer, key)
    if found is not None:
        if found.customer_id != customer.pk:
            raise ValidationError({"idempotency_key": "That key was used for another order."})
        return found
    priced = quote(
        actor=actor,
        customer=customer,
        items=items,
        pay_method=pay_method,
        check_registry=check_registry,
        promo_code=promo_code,
    )
    errors = [
        f"{(next(iter(line['domains']), '') or 'Item ' + str(line['index'] + 1))}: "
        + " ".join(line["error"])
        for line in priced["items"]
        if not line["valid"]
    ]
    if errors:
        raise ValidationError({"items": errors})
    try:
        with transaction.atomic():
            order = _write(actor, customer, items, priced, key, pay_method, promo_code)
    except IntegrityError:
        found = _existing(customer, key)  # the first of two concurrent requests won
        if found is None:
            raise
        return found
    if use_credit:
        invoice = order.invoices.get()
        available = services.credit_balance(customer, invoice.currency)
        if invoice.total > 0 and available >= invoice.total:
            services.credit_apply(actor=SYSTEM, invoice=invoice)
    order.refresh_from_db()
    return order


def _write(actor, customer, items, priced, key, pay_method, promo_code) -> Order:
    summary = priced["summary"]
    order = Order.objects.create(
        organisation=customer.organisation,
        customer=customer,
        livemode=customer.livemode,
        currency=summary["currency"],
        total=summary["total"],
        idempotency_key=key,
        created_by=actor.user,
    )
    lines = []
    for raw, line in zip(items, priced["items"], strict=True):
        name, detail = next(iter(line["domains"].items()))
        discount = (line.get("coupon") or {}).get("discount", ZERO)
        domain = None
        if detail["action"] == "renew":
            domain = Domain.objects.filter(pk=int(raw["domain_id"])).first()
        item = OrderItem.objects.create(
            order=order,
            kind=KINDS[detail["action"]],
            domain_name=name,
            domain=domain,
            years=detail["period"],
            amount=detail["price"] - discount,
            currency=summary["currency"],
        )
        years = detail["period"]
        label = {"register": "registration", "renew": "renewal"}
        lines.append(
            services.Line(
                description=(
                    f"Domain {label[detail['action']]} {name} "
                    f"({years} year{'s' if years > 1 else ''})"
                ),
                amount=item.amount,
                target=item,
                type="DomainRegister" if detail["action"] == "register" else "DomainRenew",
            )
        )
    invoice = services.invoice_create(
        actor=SYSTEM, customer=customer, lines=lines, currency=summary["currency"], order=order
    )
    if pay_method is not None:
        services.invoice_choose_method(actor=SYSTEM, invoice=invoice, method=pay_method)
    services.invoice_issue(actor=SYSTEM, invoice=invoice)
    if promo_code:
        promotion_redeem(promotion_for(customer.organisation_id, promo_code))
    audit(
        actor=actor,
        action="billing.order.place",
        obj=order,
        organisation=customer.organisation,
        data={"items": len(lines), "total": str(order.total), "invoice": invoice.pk},
    )
    return order


def queue_paid_order(invoice: Invoice) -> None:
    """``on_invoice_paid`` listener: queue each pending item of the invoice's order."""
    if invoice.order_id is None:
        return
    order = Order.objects.select_for_update().get(pk=invoice.order_id)
    for item in order.items.filter(status="pending").order_by("pk"):
        _queue(invoice, order, item)
    if not order.items.filter(status="pending").exists():
        order.status = (
            Order.Status.COMPLETED
            if not order.items.filter(status="failed").exists()
            else Order.Status.INCOMPLETE
        )
        order.save(update_fields=["status"])


def _queue(invoice: Invoice, order: Order, item: OrderItem) -> None:
    customer = order.customer
    try:
        with transaction.atomic():
            if item.kind == OrderItem.Kind.DOMAIN_REGISTER:
                item.domain = domain_register(
                    actor=SYSTEM, customer=customer, name=item.domain_name, years=item.years
                )
            else:
                domain_renew(actor=SYSTEM, domain=item.domain, years=item.years)
            item.status = "queued"
            item.save(update_fields=["status", "domain"])
    except ValidationError as exc:
        reason = "; ".join(exc.messages)
        item.status = "failed"
        item.save(update_fields=["status"])
        if item.amount > 0:
            services.credit_add(
                actor=SYSTEM,
                customer=customer,
                amount=item.amount,
                currency=item.currency,
                reason=f"{item.domain_name} could not be ordered: {reason}"[:255],
            )
        Invoice.objects.filter(pk=invoice.pk).update(
            notes=(
                f"{invoice.notes}\n{item.domain_name}: {reason} "
                f"{item.amount} {item.currency} credited to your account."
            ).strip()
        )


services.on_invoice_paid(queue_paid_order)

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
each item's registry operation is queued through the domains services: a registration, a
transfer (its auth code waited with the item, encrypted, and is emptied once queued) or a
renewal; the item keeps the operation it queued. What the customer paid for an item (its line
and the line's taxes) goes back to the customer's account credit, and the invoice's notes say
so, when the item cannot be queued (the name was taken meanwhile) and when its operation fails
for good or is cancelled later (``operation_ended``, billing's ``operation_refund`` hook, which
also refunds the reseller's charge at cost).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing import ledger, renewals, services
from billing.models import Invoice, Order, OrderItem, PaymentMethod
from billing.promotions import promotion_for, promotion_redeem
from billing.quotes import quote
from customers.accounts import customer_require_open
from customers.models import Customer
from domains.models import RELEASED_STATUSES, Domain, RegistrarOperation
from domains.names import parse_domain_name, validate_nameservers
from domains.services import (
    authorize_customer,
    domain_register,
    domain_renew,
    domain_transfer_in,
)
from portal.audit import audit
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, Actor

KINDS = {
    "register": OrderItem.Kind.DOMAIN_REGISTER,
    "transfer": OrderItem.Kind.DOMAIN_TRANSFER,
    "renew": OrderItem.Kind.DOMAIN_RENEW,
}
LABELS = {"register": "registration", "transfer": "transfer", "renew": "renewal"}
LINE_TYPES = {"register": "DomainRegister", "transfer": "DomainTransfer", "renew": "DomainRenew"}
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
    customer_require_open(customer)  # before asking any registry; again, locked, in _write
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
    errors += _transfer_errors(items, priced["items"])
    errors += _option_errors(items, priced["items"])
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


def _transfer_errors(items: list[Any], lines: list[dict]) -> list[str]:
    """A transfer needs its auth code, and a name no Nameport account holds already."""
    errors = []
    wanted = {}
    for raw, line in zip(items, lines, strict=True):
        if not (line["valid"] and isinstance(raw, dict) and raw.get("action") == "transfer"):
            continue
        name = next(iter(line["domains"]))
        code = str(raw.get("auth_code") or "").strip()
        if not code:
            errors.append(f"{name}: enter the transfer authorisation (EPP) code.")
        elif len(code) > 64 or not code.isprintable():
            errors.append(f"{name}: that code is too long (64 printable characters at most).")
        else:
            wanted[name] = raw
    held = set(
        Domain.objects.filter(name__in=list(wanted))
        .exclude(status__in=RELEASED_STATUSES)
        .values_list("name", flat=True)
    )
    errors += [f"{name}: this domain is already managed here." for name in sorted(held)]
    return errors


OPTIONS = ("nameservers", "id_protection", "autorenew")


def _options(raw: Any) -> dict:
    """A registration's choices (the register page's): nameservers, ID protection, auto-renew."""
    if not isinstance(raw, dict):
        return {}
    return {key: raw[key] for key in OPTIONS if raw.get(key) is not None}


def _option_errors(items: list[Any], lines: list[dict]) -> list[str]:
    """Nameservers are checked now, not after the payment."""
    errors = []
    for raw, line in zip(items, lines, strict=True):
        options = _options(raw)
        if not (line["valid"] and options.get("nameservers")):
            continue
        name = next(iter(line["domains"]))
        hosts = options["nameservers"]
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            errors.append(f"{name}: nameservers are a list of host names.")
            continue
        try:
            validate_nameservers(parse_domain_name(name).ascii, hosts, glue=set())
        except ValidationError as exc:
            errors.append(f"{name}: " + " ".join(exc.messages))
    return errors


def _write(actor, customer, items, priced, key, pay_method, promo_code) -> Order:
    customer_require_open(customer)  # the customer's row stays locked until the order is written
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
            auth_code=str(raw.get("auth_code") or "").strip()
            if detail["action"] == "transfer"
            else "",
            options=_options(raw) if detail["action"] == "register" else {},
        )
        years = detail["period"]
        lines.append(
            services.Line(
                description=(
                    f"Domain {LABELS[detail['action']]} {name} "
                    f"({years} year{'s' if years > 1 else ''})"
                ),
                amount=item.amount,
                target=item,
                type=LINE_TYPES[detail["action"]],
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
    Kind = RegistrarOperation.Kind
    try:
        with transaction.atomic():
            if item.kind == OrderItem.Kind.DOMAIN_REGISTER:
                options = item.options or {}
                item.domain = domain_register(
                    actor=SYSTEM,
                    customer=customer,
                    name=item.domain_name,
                    years=item.years,
                    nameservers=options.get("nameservers") or None,
                    id_protection=bool(options.get("id_protection", False)),
                    autorenew=bool(options.get("autorenew", True)),
                )
                item.operation = item.domain.operations.filter(kind=Kind.REGISTER).latest("pk")
            elif item.kind == OrderItem.Kind.DOMAIN_TRANSFER:
                item.domain = domain_transfer_in(
                    actor=SYSTEM,
                    customer=customer,
                    name=item.domain_name,
                    auth_code=item.auth_code,
                    years=item.years,
                )
                item.operation = item.domain.operations.filter(kind=Kind.TRANSFER).latest("pk")
                item.auth_code = ""  # the domain holds it now
            else:
                item.operation = domain_renew(actor=SYSTEM, domain=item.domain, years=item.years)
            item.status = "queued"
            item.save(update_fields=["status", "domain", "operation", "auth_code"])
    except ValidationError as exc:
        item.status = "failed"
        item.auth_code = ""
        item.save(update_fields=["status", "auth_code"])
        _credit_back(invoice, item, "; ".join(exc.messages))


def _credit_back(invoice: Invoice, item: OrderItem, reason: str) -> None:
    """What the customer paid for ``item`` (its line with the line's taxes) goes to its account
    credit; the invoice's notes say so."""
    line = item.invoice_lines.filter(invoice_id=invoice.pk).first()
    amount = services.line_due(invoice, line) if line is not None else item.amount
    services.credit_back(
        invoice=invoice,
        amount=amount,
        name=item.domain_name,
        credit_reason=f"could not be ordered: {reason}",
        note=reason,
    )
    audit(
        actor=SYSTEM,
        action="billing.order.item_credited",
        obj=invoice,
        organisation=invoice.organisation,
        data={"item": item.pk, "name": item.domain_name, "amount": str(amount)},
    )


def credit_back_failed(*, operation: RegistrarOperation) -> int:
    """The paid items whose operation failed for good or was cancelled are credited back, once
    (the item leaves ``queued``); their orders end incomplete. The number of items credited."""
    Status = RegistrarOperation.Status
    if operation.status not in (Status.FAILED, Status.CANCELLED):
        return 0
    done = 0
    items = OrderItem.objects.select_for_update().filter(operation_id=operation.pk, status="queued")
    for item in items.select_related("order"):
        invoice = item.order.invoices.filter(status=Invoice.Status.PAID).order_by("pk").first()
        item.status = "failed"
        item.save(update_fields=["status"])
        if invoice is not None:
            # The registry's own words stay with staff (the operation, its ticket): the
            # customer is told what happened to its money.
            label = LABELS_BY_KIND[item.kind]
            _credit_back(invoice, item, f"the {label} was not completed by the registry.")
        Order.objects.filter(pk=item.order_id).update(status=Order.Status.INCOMPLETE)
        done += 1
    return done


LABELS_BY_KIND = {KINDS[action]: label for action, label in LABELS.items()}


def customer_order(
    *,
    actor: Actor,
    customer: Customer,
    action: str,
    name: str,
    years: int,
    idempotency_key: str,
    auth_code: str = "",
    nameservers: list[str] | None = None,
    id_protection: bool = False,
    autorenew: bool = True,
) -> tuple[str, str]:
    """Billing's ``customer_order`` hook: a customer's register or transfer page places an
    order of one item (invoiced at the customer's price); the invoice page comes next."""
    item: dict[str, Any] = {"type": "domain", "action": action, "name": name, "years": years}
    if action == "transfer":
        item["auth_code"] = auth_code
    else:
        item.update(nameservers=nameservers, id_protection=id_protection, autorenew=autorenew)
    order = order_place(
        actor=actor, customer=customer, items=[item], idempotency_key=idempotency_key
    )
    invoice = order.invoices.order_by("pk").first()
    started = "is being registered" if action == "register" else "is being transferred in"
    if invoice.status == Invoice.Status.PAID:
        message = f"Ordered and paid from your account credit: {name} {started}."
    else:
        message = f"Ordered: {name} {started} once this invoice is paid."
    return reverse("billing:invoice_detail", args=[invoice.pk]), message


def operation_resumed(*, operation: RegistrarOperation) -> None:
    """Billing's ``operation_resumed`` hook: a failed or cancelled operation is retried. What
    its paid items were credited back is taken back from the customer's account credit (the
    items are queued again, the invoice says so); when the customer has spent that credit the
    retry is refused: a new order is the way then."""
    renewals.renewal_resumed(operation=operation)
    items = OrderItem.objects.select_for_update().filter(operation_id=operation.pk, status="failed")
    for item in items.select_related("order__customer"):
        credited = (
            AuditEntry.objects.filter(action="billing.order.item_credited", data__item=item.pk)
            .order_by("-pk")
            .first()
        )
        amount = Decimal(credited.data["amount"]) if credited else ZERO
        customer = item.order.customer
        if amount > 0:
            if services.credit_balance(customer, item.currency) < amount:
                raise ValidationError(
                    f"{item.domain_name} was credited back to the customer ({amount} "
                    f"{item.currency}), who has used that credit since: place a new order "
                    "instead of retrying."
                )
            services.credit_adjust(
                actor=SYSTEM,
                customer=customer,
                amount=-amount,
                currency=item.currency,
                reason=f"{item.domain_name}: retried, the credit given back is taken back"[:255],
            )
        item.status = "queued"
        item.save(update_fields=["status"])
        invoice = item.order.invoices.order_by("pk").first()
        if invoice is not None and amount > 0:
            Invoice.objects.filter(pk=invoice.pk).update(
                notes=(
                    f"{invoice.notes}\n{item.domain_name}: retried; the {amount} "
                    f"{item.currency} credited back was taken back from your account."
                ).strip()
            )
        Order.objects.filter(pk=item.order_id, status=Order.Status.INCOMPLETE).exclude(
            items__status="failed"
        ).update(status=Order.Status.COMPLETED)


def operation_ended(*, operation: RegistrarOperation) -> None:
    """Billing's ``operation_refund`` hook: the operation will not be applied. The reseller's
    charge at cost is refunded (``ledger.refund_operation``); when it failed for good or was
    cancelled, what the customer paid for it (an order item, a renewal invoice's line) goes back
    to its account credit."""
    ledger.refund_operation(operation=operation)
    operation.refresh_from_db(fields=["status"])  # a caller may hold the row as it was before
    credit_back_failed(operation=operation)
    renewals.credit_back_failed_renewal(operation=operation)


services.on_invoice_paid(queue_paid_order)

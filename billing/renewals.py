"""Renewals that bill themselves: the daily sweep (``billing.tasks.billing_renewals_sweep``).

What one sweep does, set-based over the whole domains table, in chunks of domain ids
(``NAMEPORT_RENEWALS_CHUNK``, 2,000) so memory stays flat whatever the table's size:

1. **Renewal invoices.** Every domain that

   - is ``active``, ``grace`` or ``expired`` (``expired`` is where the lifecycle puts an expired
     domain of a TLD without a grace period: the same "expired, still renewable" step as
     ``grace``). Pending registrations and transfers, redemption, pending delete, deleted,
     transferred away, suspended and failed domains get none;
   - belongs to an active organisation and expires on or before today + the organisation's
     ``renewal_invoice_days`` (default 14), UTC dates: so the invoice is raised N days before
     expiry, and a day the sweep missed is caught up the next day (an expired domain still in
     grace that has none gets one at once);
   - and has no renewal invoice for its current expiry: an ``InvoiceLine`` of type
     ``DomainRenew`` for the domain whose ``renews_expiry`` is the domain's ``expires_at`` and
     whose invoice is not Cancelled (a cancelled renewal invoice is raised again by the next
     sweep; after a renewal the expiry moves, so the next term gets its own invoice), and no
     renewal queued and not done (pending, running, held, awaiting funds: ordered in a cart or
     renewed by hand, its expiry is about to move)

   gets one invoice of its own (one invoice per domain, one line), issued at once (Unpaid) in
   its customer's currency and mode: a sandbox domain gets a sandbox invoice (``TEST-``
   numbering, never a live number). The domain rows are locked (``select_for_update``, in id
   order) and their status, expiry and invoice re-read under the lock, so two sweeps at once
   raise one invoice per domain.

   Price: ``billing.pricing.PriceList`` (action ``renew``, 1 year) as the customer sees it (its
   reseller's price, markup rules and the customer's price group included), computed once per
   (organisation, currency, TLD, price group) per sweep. The standard price: a premium name's
   registry quote is not asked here. No price in the customer's currency, or a reseller price
   (or a group's price) below what the reseller pays (``below_cost``, not for sale): the domain
   is skipped and counted (``skipped_no_price``, ``skipped_below_cost``), and tried again by the
   next sweep. The line keeps its amount: a price change applies to invoices
   raised after it, never to those already raised.

   Totals and tax are those ``billing.services.invoice_create`` computes (the same tax rule
   function, the same rounding per line; tests/billing/test_renewals.py proves the equality);
   the numbers are a block taken under the ``InvoiceSequence`` row lock, in domain id order, so
   they stay gapless; the dates: invoice date today, due and pay-before on the expiry date (today
   for an invoice raised after it). Each invoice gets one audit row, ``invoice.issue`` (created
   and issued at once; its data names the domain and the expiry it renews), and the issued
   e-mail after the commit (``billing_renewal_mails``).

2. **Auto-renew.** After the chunk commits, each new invoice of a domain with ``autorenew`` on
   whose customer's account credit (same currency and mode) covers the total is paid with
   ``billing.services.credit_apply`` (the whole total, never a part): it becomes Paid. Credit
   short: the invoice stays Unpaid and nothing is queued.

3. **Queued renewal.** ``queue_paid_renewals`` is an ``on_invoice_paid`` listener: inside the
   paying transaction, for each paid ``DomainRenew`` line raised here (``renews_expiry`` set), it
   locks the domain and queues ``domains.services.domain_renew`` (SYSTEM, 1 year) unless a
   renewal for that expiry is already queued or done (a RENEW operation with that
   ``cur_exp_date`` not failed or cancelled) or the domain was renewed past it meanwhile. So
   however the invoice is paid (credit here, the customer with a gateway, a bank transfer marked
   paid), the renewal is queued exactly once. When it cannot be queued (the domain left the
   renewable states, e.g. redemption; the term was renewed another way meanwhile), the line's
   amount with its tax goes to the customer's account credit (``credit_add``, as
   ``billing.orders`` does), the invoice's notes say so and the audit row
   ``renewal.not_queued`` says why.

4. **Reminders.** Unpaid renewal invoices are reminded by e-mail at 30, 14, 7 and 1 days before
   the expiry (the threshold reached, not yet sent; a threshold already passed when the invoice
   was issued is covered by the issued e-mail), each once: the line's ``renewal_reminded_days``
   is set by a conditional UPDATE, and only the sweep whose UPDATE changed the row sends it.

Unpaid at expiry: nothing happens here; ``domains.lifecycle.lifecycle_advance`` moves the domain
along (grace, redemption, ...) and the invoice stays Unpaid (payable while the domain can still
be renewed; after that the listener records ``renewal.not_queued``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Sum

from billing import services
from billing.models import (
    CreditEntry,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    PriceGroup,
    PriceGroupMembership,
)
from billing.pricing import ActorPrice, PriceList
from customers.models import DEFAULT_REMINDER_DAYS, Customer, Organisation
from domains.lifecycle import add_years
from domains.models import Domain, DomainStatus, RegistrarOperation
from domains.services import domain_renew
from portal.audit import SYSTEM_ORIGIN, audit
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, Actor, ActorKind

logger = logging.getLogger(__name__)

RENEW_LINE_TYPE = "DomainRenew"
RENEWABLE = (DomainStatus.ACTIVE, DomainStatus.GRACE, DomainStatus.EXPIRED)
# The default reminder days; each organisation sets its own (Organisation.reminder_days).
REMINDER_DAYS = DEFAULT_REMINDER_DAYS
DEFAULT_CHUNK = 2000
ONE = Decimal("1")


def _chunk_size() -> int:
    return max(1, int(getattr(settings, "NAMEPORT_RENEWALS_CHUNK", DEFAULT_CHUNK)))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _has_renewal_invoice(domain_ref: str = "pk", expiry_ref: str = "expires_at"):
    """A renewal line for the domain's current expiry whose invoice is not cancelled."""
    return Exists(
        InvoiceLine.objects.filter(
            domain_id=OuterRef(domain_ref),
            type=RENEW_LINE_TYPE,
            renews_expiry=OuterRef(expiry_ref),
        ).exclude(invoice__status=Invoice.Status.CANCELLED)
    )


IN_PROGRESS = (
    RegistrarOperation.Status.PENDING,
    RegistrarOperation.Status.RUNNING,
    RegistrarOperation.Status.HELD,
    RegistrarOperation.Status.AWAITING_FUNDS,
)


def _renewal_in_progress():
    """A renewal of the domain is queued and not done (ordered in a cart, or by hand): its
    expiry is about to move, so no invoice for the current one."""
    return Exists(
        RegistrarOperation.objects.filter(
            domain_id=OuterRef("pk"), kind=RegistrarOperation.Kind.RENEW, status__in=IN_PROGRESS
        )
    )


# --- prices and taxes, read once per sweep -------------------------------------------------


class _Prices:
    """The customer's renewal price per (organisation, currency, TLD, price group), each asked
    once."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, str, int, int | None], ActorPrice | None] = {}
        self._organisations: dict[int, Organisation] = {}

    def price(
        self, customer: Customer, tld_id: int, group: PriceGroup | None = None
    ) -> ActorPrice | None:
        key = (customer.organisation_id, customer.currency, tld_id, group.pk if group else None)
        if key not in self._found:
            organisation = self._organisations.get(customer.organisation_id)
            if organisation is None:
                organisation = Organisation.objects.get(pk=customer.organisation_id)
                self._organisations[organisation.pk] = organisation
            actor = Actor(
                kind=ActorKind.CUSTOMER,
                organisation=organisation,
                customer=customer,
                livemode=customer.livemode,
            )
            self._found[key] = PriceList(actor, [tld_id], "renew", 1, group=group).price(tld_id)
        return self._found[key]


class _Taxes:
    """The tax rules (level 1 and 2) per (organisation, country, state, date), as
    ``billing.services`` picks them for an invoice."""

    def __init__(self) -> None:
        self._found: dict[tuple, tuple] = {}

    def rules(self, customer: Customer, on: date) -> tuple:
        if customer.tax_exempt:
            return None, None
        key = (customer.organisation_id, customer.country, (customer.state or "").lower(), on)
        if key not in self._found:
            self._found[key] = (
                services._tax_rule(customer, customer.organisation_id, 1, on),
                services._tax_rule(customer, customer.organisation_id, 2, on),
            )
        return self._found[key]


def renewal_totals(amount: Decimal, rule1, rule2) -> dict:
    """The totals of a one-line invoice as ``billing.services.recompute_totals`` computes them:
    the line total rounded to the cent, each tax on it rounded to the cent (half up)."""
    linetotal = services.cents(amount * ONE)
    rate1 = rule1.rate if rule1 else services.ZERO
    rate2 = rule2.rate if rule2 else services.ZERO
    tax1 = services.cents(linetotal * rate1 / services.HUNDRED)
    tax2 = services.cents(linetotal * rate2 / services.HUNDRED)
    return {
        "linetotal": linetotal,
        "subtotal": linetotal,
        "tax": tax1,
        "taxrate": rate1,
        "taxname": rule1.name if rule1 else "",
        "tax2": tax2,
        "taxrate2": rate2,
        "taxname2": rule2.name if rule2 else "",
        "total": linetotal + tax1 + tax2,
    }


def renewal_description(name: str, expires_at: datetime) -> str:
    current = expires_at.astimezone(UTC).date()
    renewed = add_years(expires_at, 1).astimezone(UTC).date()
    return f"Domain renewal {name} (1 year, {current:%Y-%m-%d} to {renewed:%Y-%m-%d})"


# --- numbers ---------------------------------------------------------------------------------


def _number_block(organisation_id: int, year: int, livemode: bool, count: int) -> int:
    """Take ``count`` numbers of the organisation's sequence for ``year`` and mode under its
    row lock (as ``billing.services._next_number`` does one); returns the first."""
    key = {"organisation_id": organisation_id, "year": year, "livemode": livemode}
    if not InvoiceSequence.objects.filter(**key).exists():
        try:
            with transaction.atomic():
                InvoiceSequence.objects.create(**key, last=0)
        except IntegrityError:
            pass  # created by a concurrent issue; locked below
    sequence = InvoiceSequence.objects.select_for_update().get(**key)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return first


def _number(livemode: bool, on: date, n: int) -> str:
    prefix = "" if livemode else services.SANDBOX_PREFIX
    return f"{prefix}{on.year}/{on.month:02d}/{n}"


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class _Pending:
    domain_id: int
    name: str
    expires_at: datetime
    autorenew: bool
    customer: Customer
    price: Decimal


def renewals_sweep(*, now: datetime | None = None, chunk_size: int | None = None) -> dict:
    """One daily run: renewal invoices, auto-renew from credit, reminders. Returns counts."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    chunk = chunk_size or _chunk_size()
    counts: Counter = Counter()
    prices, taxes = _Prices(), _Taxes()
    windows = (
        Organisation.objects.filter(is_active=True)
        .values_list("renewal_invoice_days", flat=True)
        .distinct()
        .order_by("renewal_invoice_days")
    )
    for days in list(windows):
        cutoff = _start_of(today + timedelta(days=days + 1))
        due = Domain.objects.filter(
            organisation__is_active=True,
            organisation__renewal_invoice_days=days,
            status__in=RENEWABLE,
            expires_at__lt=cutoff,
        )
        last = 0
        while True:
            ids = list(
                due.filter(pk__gt=last)
                .filter(~_has_renewal_invoice(), ~_renewal_in_progress())
                .order_by("pk")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            last = ids[-1]
            raised = _invoice_chunk(ids, cutoff, now, today, prices, taxes, counts)
            _autorenew(raised, counts)
    counts["reminders"] += send_reminders(now=now, chunk_size=chunk)
    return dict(counts)


def _invoice_chunk(
    ids: list[int],
    cutoff: datetime,
    now: datetime,
    today: date,
    prices: _Prices,
    taxes: _Taxes,
    counts: Counter,
) -> list[tuple]:
    """Raise the invoices of one chunk in one transaction; returns those of auto-renewing
    domains (see ``_autorenew``)."""
    with transaction.atomic():
        # The rows are locked in id order, then their state is read again under the lock.
        rows = list(
            Domain.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, status__in=RENEWABLE, expires_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "name", "customer_id", "tld_id", "expires_at", "autorenew")
        )
        if not rows:
            return []
        invoiced = set(
            InvoiceLine.objects.filter(
                domain_id__in=[r[0] for r in rows],
                type=RENEW_LINE_TYPE,
                renews_expiry__isnull=False,
            )
            .exclude(invoice__status=Invoice.Status.CANCELLED)
            .values_list("domain_id", "renews_expiry")
        )
        renewing = set(
            RegistrarOperation.objects.filter(
                domain_id__in=[r[0] for r in rows],
                kind=RegistrarOperation.Kind.RENEW,
                status__in=IN_PROGRESS,
            ).values_list("domain_id", flat=True)
        )
        customers = {
            c.pk: c
            for c in Customer.objects.filter(pk__in={r[2] for r in rows}).only(
                "pk",
                "organisation_id",
                "livemode",
                "currency",
                "country",
                "state",
                "tax_exempt",
            )
        }
        # The customers' price groups (one query for the chunk).
        groups = {
            m.customer_id: m.group
            for m in PriceGroupMembership.objects.filter(customer_id__in=customers).select_related(
                "group"
            )
        }
        currencies = set(getattr(settings, "NAMEPORT_CURRENCIES", ("USD",)))
        pending: list[_Pending] = []
        for domain_id, name, customer_id, tld_id, expires_at, autorenew in rows:
            if (domain_id, expires_at) in invoiced or domain_id in renewing:
                continue
            customer = customers[customer_id]
            quote = prices.price(customer, tld_id, groups.get(customer_id))
            if quote is None or quote.currency != customer.currency:
                counts["skipped_no_price"] += 1
                continue
            if quote.below_cost:
                counts["skipped_below_cost"] += 1
                continue
            if customer.currency not in currencies:
                counts["skipped_no_price"] += 1
                continue
            pending.append(_Pending(domain_id, name, expires_at, autorenew, customer, quote.price))
        if not pending:
            return []
        return _write_invoices(pending, now, today, taxes, counts)


def _write_invoices(
    pending: list[_Pending], now: datetime, today: date, taxes: _Taxes, counts: Counter
) -> list[tuple]:
    # Numbers: one block per organisation and mode, given in domain id order.
    groups: dict[tuple[int, bool], list[_Pending]] = {}
    for item in pending:
        groups.setdefault((item.customer.organisation_id, item.customer.livemode), []).append(item)
    invoices: list[Invoice] = []
    lines: list[InvoiceLine] = []
    for (organisation_id, livemode), items in sorted(groups.items()):
        first = _number_block(organisation_id, today.year, livemode, len(items))
        for offset, item in enumerate(items):
            rule1, rule2 = taxes.rules(item.customer, today)
            totals = renewal_totals(services.cents(item.price), rule1, rule2)
            duedate = max(item.expires_at.astimezone(UTC).date(), today)
            description = renewal_description(item.name, item.expires_at)
            invoices.append(
                Invoice(
                    organisation_id=organisation_id,
                    customer_id=item.customer.pk,
                    livemode=livemode,
                    number=_number(livemode, today, first + offset),
                    status=Invoice.Status.UNPAID,
                    issued_at=now,
                    date=today,
                    duedate=duedate,
                    paybefore=duedate,
                    subtotal=totals["subtotal"],
                    tax=totals["tax"],
                    taxrate=totals["taxrate"],
                    taxname=totals["taxname"],
                    tax2=totals["tax2"],
                    taxrate2=totals["taxrate2"],
                    taxname2=totals["taxname2"],
                    total=totals["total"],
                    currency=item.customer.currency,
                    notes=description,
                )
            )
            lines.append(
                InvoiceLine(
                    type=RENEW_LINE_TYPE,
                    item_id=item.domain_id,
                    description=description[:255],
                    amount=services.cents(item.price),
                    qty=ONE,
                    taxed=True,
                    linetotal=totals["linetotal"],
                    domain_id=item.domain_id,
                    renews_expiry=item.expires_at,
                )
            )
    ordered = [item for _key, items in sorted(groups.items()) for item in items]
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    for invoice, line in zip(invoices, lines, strict=True):
        line.invoice_id = invoice.pk
    InvoiceLine.objects.bulk_create(lines, batch_size=2000)
    _audit_issued(invoices, ordered, now)
    counts["invoiced"] += len(invoices)
    ids = [invoice.pk for invoice in invoices]
    transaction.on_commit(lambda: _queue_mails("issued", ids))
    return [
        (invoice.pk, invoice.customer_id, invoice.currency, invoice.livemode, invoice.total)
        for invoice, item in zip(invoices, ordered, strict=True)
        if item.autorenew
    ]


def _audit_issued(invoices: list[Invoice], items: list[_Pending], now: datetime) -> None:
    """One audit row ``invoice.issue`` per invoice raised (created and issued at once): its
    number, total, currency, domain and the expiry it renews. On PostgreSQL written by one
    INSERT ... SELECT per chunk (the rows are built by the database, not in Python)."""
    actor = str(SYSTEM)[:200]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {AuditEntry._meta.db_table} (organisation_id, user_id, actor, "
                "action, object_type, object_id, data, created_at, origin) "
                "SELECT i.organisation_id, NULL, %s, 'invoice.issue', 'billing.invoice', "
                "i.id::text, jsonb_build_object('number', i.number, 'total', i.total::text, "
                "'currency', i.currency, 'renewal', d.name, 'renews_expiry', l.renews_expiry), "
                "%s, %s "
                f"FROM {Invoice._meta.db_table} i "
                f"JOIN {InvoiceLine._meta.db_table} l ON l.invoice_id = i.id "
                f"JOIN {Domain._meta.db_table} d ON d.id = l.domain_id "
                "WHERE i.id = ANY(%s) ORDER BY i.id",
                [actor, now, SYSTEM_ORIGIN.channel, [invoice.pk for invoice in invoices]],
            )
        return
    AuditEntry.objects.bulk_create(
        (
            AuditEntry(
                organisation_id=invoice.organisation_id,
                actor=actor,
                action="invoice.issue",
                origin=SYSTEM_ORIGIN.channel,
                object_type="billing.invoice",
                object_id=str(invoice.pk),
                data={
                    "number": invoice.number,
                    "total": str(invoice.total),
                    "currency": invoice.currency,
                    "renewal": item.name,
                    "renews_expiry": item.expires_at.isoformat(),
                },
            )
            for invoice, item in zip(invoices, items, strict=True)
        ),
        batch_size=2000,
    )


def _queue_mails(kind: str, items: list) -> None:
    from billing import tasks

    try:
        tasks.billing_renewal_mails.delay(kind, items)
    except Exception:  # the broker is down: the invoices stand, the mails are lost
        logger.exception("renewal mails not queued", extra={"kind": kind, "count": len(items)})


def _autorenew(raised: Iterable[tuple], counts: Counter) -> None:
    """Pay the new invoices of auto-renewing domains from credit when it covers the total.
    ``raised``: ``(invoice id, customer id, currency, livemode, total)`` of those invoices."""
    wanted = [row for row in raised if row[4] > 0]
    if not wanted:
        return
    balances = {
        (row["customer_id"], row["currency"], row["livemode"]): row["total"]
        for row in CreditEntry.objects.filter(customer_id__in={row[1] for row in wanted})
        .values("customer_id", "currency", "livemode")
        .annotate(total=Sum("amount"))
    }
    for pk, customer_id, currency, livemode, total in wanted:
        key = (customer_id, currency, livemode)
        if balances.get(key, services.ZERO) < total:
            counts["autorenew_short"] += 1
            continue
        invoice = Invoice.objects.select_related("customer").get(pk=pk)
        try:
            services.credit_apply(actor=SYSTEM, invoice=invoice, amount=total)
        except ValidationError:  # the credit was spent meanwhile: stays Unpaid
            counts["autorenew_short"] += 1
            continue
        balances[key] -= total
        counts["autorenew_paid"] += 1


# --- the renewal, queued when a renewal invoice is paid --------------------------------------


def queue_paid_renewals(invoice: Invoice) -> None:
    """``on_invoice_paid`` listener: queue the renewal of every renewal line of ``invoice``
    (inside the paying transaction), once per domain and expiry."""
    lines = invoice.lines.filter(
        type=RENEW_LINE_TYPE, renews_expiry__isnull=False, domain__isnull=False
    )
    for line in lines:
        _queue_renewal(invoice, line)


def _queue_renewal(invoice: Invoice, line: InvoiceLine) -> RegistrarOperation | None:
    domain = Domain.objects.select_for_update().select_related("tld").get(pk=line.domain_id)
    expiry = line.renews_expiry.astimezone(UTC).date().isoformat()
    data = {"domain": domain.name, "renews_expiry": expiry, "line": line.pk}
    ours = AuditEntry.objects.filter(
        action="renewal.queued",
        object_type="billing.invoice",
        object_id=str(invoice.pk),
        data__line=line.pk,
    )
    if ours.exists():
        return None  # this line's renewal is queued already
    if domain.expires_at is not None and domain.expires_at > line.renews_expiry:
        _not_queued(invoice, line, data, "The domain was renewed past this expiry already.")
        return None
    queued = (
        RegistrarOperation.objects.filter(
            domain_id=domain.pk,
            kind=RegistrarOperation.Kind.RENEW,
            payload__cur_exp_date=expiry,
        )
        .exclude(status__in=[RegistrarOperation.Status.FAILED, RegistrarOperation.Status.CANCELLED])
        .exists()
    )
    if queued:
        _not_queued(invoice, line, data, "A renewal of this term was already queued.")
        return None
    try:
        with transaction.atomic():
            operation = domain_renew(actor=SYSTEM, domain=domain, years=1)
    except ValidationError as exc:
        _not_queued(invoice, line, data, "; ".join(exc.messages))
        return None
    audit(
        actor=SYSTEM,
        action="renewal.queued",
        obj=invoice,
        organisation=invoice.organisation,
        data={**data, "operation": operation.pk},
    )
    return operation


def _not_queued(
    invoice: Invoice,
    line: InvoiceLine,
    data: dict,
    reason: str,
    action: str = "renewal.not_queued",
) -> None:
    """The paid renewal cannot be queued: its amount goes to the customer's account credit
    (as ``billing.orders`` does for an item it cannot queue), the invoice's notes say so and
    the audit row ``renewal.not_queued`` says why."""
    logger.warning("paid renewal not queued", extra={"invoice": invoice.pk, **data})
    amount = services.line_due(invoice, line)
    services.credit_back(
        invoice=invoice,
        amount=amount,
        name=data["domain"],
        credit_reason=f"could not be renewed: {reason}",
        note=reason,
    )
    audit(
        actor=SYSTEM,
        action=action,
        obj=invoice,
        organisation=invoice.organisation,
        data={**data, "reason": reason[:255], "credited": str(amount)},
    )


def credit_back_failed_renewal(*, operation: RegistrarOperation) -> bool:
    """A renewal queued by a paid renewal invoice failed for good or was cancelled: what the
    customer paid for its line goes back to the account credit, once (``renewal.credited_back``
    audit rows, checked under the invoice's lock)."""
    Status = RegistrarOperation.Status
    if operation.status not in (Status.FAILED, Status.CANCELLED):
        return False
    queued = AuditEntry.objects.filter(
        action="renewal.queued", object_type="billing.invoice", data__operation=operation.pk
    ).first()
    if queued is None:
        return False
    invoice = Invoice.objects.select_for_update().filter(pk=int(queued.object_id)).first()
    line = invoice and invoice.lines.filter(pk=queued.data.get("line")).first()
    if line is None:
        return False
    if _credited_rounds(operation.pk) > _taken_back_rounds(operation.pk):
        return False  # credited back already (and not retried since)
    data = {**queued.data, "operation": operation.pk}
    _not_queued(
        invoice,
        line,
        data,
        "the renewal was not completed by the registry.",
        action="renewal.credited_back",
    )
    return True


def _credited_rounds(operation_id: int) -> int:
    return AuditEntry.objects.filter(
        action="renewal.credited_back", data__operation=operation_id
    ).count()


def _taken_back_rounds(operation_id: int) -> int:
    return AuditEntry.objects.filter(
        action="renewal.credit_taken_back", data__operation=operation_id
    ).count()


def renewal_resumed(*, operation: RegistrarOperation) -> None:
    """Staff retry a failed or cancelled renewal that a paid renewal invoice queued and whose
    amount went back to the customer's credit: that credit is taken back (the invoice's notes
    say so), or the retry is refused when the customer has spent it since. Under the invoice's
    lock; a later failure credits it back again (one more round)."""
    credited = (
        AuditEntry.objects.filter(action="renewal.credited_back", data__operation=operation.pk)
        .order_by("-pk")
        .first()
    )
    if credited is None:
        return
    invoice = Invoice.objects.select_for_update().filter(pk=int(credited.object_id)).first()
    if invoice is None or _credited_rounds(operation.pk) <= _taken_back_rounds(operation.pk):
        return
    amount = Decimal(credited.data.get("credited", "0"))
    name = credited.data.get("domain", "")
    if amount > 0:
        customer = invoice.customer
        if services.credit_balance(customer, invoice.currency) < amount:
            raise ValidationError(
                f"The renewal of {name} was credited back to the customer ({amount} "
                f"{invoice.currency}), who has used that credit since: raise a new renewal "
                "invoice instead of retrying."
            )
        services.credit_adjust(
            actor=SYSTEM,
            customer=customer,
            amount=-amount,
            currency=invoice.currency,
            reason=f"{name}: renewal retried, the credit given back is taken back"[:255],
        )
        Invoice.objects.filter(pk=invoice.pk).update(
            notes=(
                f"{invoice.notes}\n{name}: the renewal is retried; the {amount} "
                f"{invoice.currency} credited back was taken back from your account."
            ).strip()
        )
    audit(
        actor=SYSTEM,
        action="renewal.credit_taken_back",
        obj=invoice,
        organisation=invoice.organisation,
        data={"operation": operation.pk, "domain": name, "amount": str(amount)},
    )


services.on_invoice_paid(queue_paid_renewals)


# --- reminders -------------------------------------------------------------------------------


def reminder_due(
    expires_on: date, issued_on: date, today: date, days: Iterable[int] = REMINDER_DAYS
) -> int | None:
    """The reminder threshold (one of ``days`` before expiry: the organisation's reminder days,
    30, 14, 7 and 1 by default) due today, or None: the smallest threshold reached, if the
    invoice was issued before that threshold's day."""
    left = (expires_on - today).days
    if left < 0:
        return None
    reached = [d for d in days if d >= left]
    if not reached:
        return None
    threshold = min(reached)
    if issued_on >= expires_on - timedelta(days=threshold):
        return None
    return threshold


def send_reminders(*, now: datetime | None = None, chunk_size: int | None = None) -> int:
    """Record and e-mail (after the commit) every reminder due today; each threshold once per
    invoice. Returns how many were recorded."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    chunk = chunk_size or _chunk_size()
    # Each organisation's reminder days (its settings page); an empty list sends none.
    days_of = {
        pk: tuple(days) if isinstance(days, list) else REMINDER_DAYS
        for pk, days in Organisation.objects.values_list("pk", "reminder_days")
    }
    furthest = max((max(days) for days in days_of.values() if days), default=0)
    if not furthest:
        return 0
    lines = InvoiceLine.objects.filter(
        type=RENEW_LINE_TYPE,
        renews_expiry__gte=_start_of(today),
        renews_expiry__lt=_start_of(today + timedelta(days=furthest + 1)),
        invoice__status=Invoice.Status.UNPAID,
    )
    sent = 0
    last = 0
    while True:
        rows = list(
            lines.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk",
                "invoice_id",
                "invoice__organisation_id",
                "renews_expiry",
                "renewal_reminded_days",
                "invoice__date",
            )[:chunk]
        )
        if not rows:
            break
        last = rows[-1][0]
        todo = []
        for pk, invoice_id, organisation_id, expiry, reminded, issued_on in rows:
            days = days_of.get(organisation_id, REMINDER_DAYS)
            threshold = reminder_due(expiry.astimezone(UTC).date(), issued_on, today, days)
            if threshold is None or (reminded is not None and reminded <= threshold):
                continue
            todo.append((pk, invoice_id, organisation_id, threshold))
        if not todo:
            continue
        with transaction.atomic():
            mails, audits = [], []
            for pk, invoice_id, organisation_id, threshold in todo:
                won = (
                    InvoiceLine.objects.filter(pk=pk, invoice__status=Invoice.Status.UNPAID)
                    .filter(
                        Q(renewal_reminded_days__isnull=True)
                        | Q(renewal_reminded_days__gt=threshold)
                    )
                    .update(renewal_reminded_days=threshold)
                )
                if not won:
                    continue
                mails.append((invoice_id, threshold))
                audits.append(
                    AuditEntry(
                        organisation_id=organisation_id,
                        actor=str(SYSTEM)[:200],
                        action="invoice.reminder",
                        object_type="billing.invoice",
                        object_id=str(invoice_id),
                        data={"days_before_expiry": threshold},
                    )
                )
            AuditEntry.objects.bulk_create(audits)
            if mails:
                transaction.on_commit(lambda mails=mails: _queue_mails("reminder", mails))
        sent += len(mails)
    return sent


def send_renewal_mails(kind: str, items: list) -> int:
    """E-mail what a sweep recorded: ``issued`` (invoice ids: the invoice-issued e-mail of
    ``billing.services``) or ``reminder`` (``[invoice id, days]`` pairs). Returns how many."""
    if kind == "issued":
        return sum(services.send_invoice_issued(pk) for pk in items)
    from django.core.mail import EmailMessage, get_connection

    from customers.branding import brand_of, branded_sender, site_url_for

    days_of = {int(pk): int(days) for pk, days in items}
    invoices = (
        Invoice.objects.filter(pk__in=days_of, status=Invoice.Status.UNPAID)
        .select_related("customer", "organisation")
        .prefetch_related("lines__domain")
    )
    messages = []
    for invoice in invoices:
        days = days_of[invoice.pk]
        names = ", ".join(
            line.domain.name if line.domain_id else line.description
            for line in invoice.lines.all()
            if line.type == RENEW_LINE_TYPE
        )
        when = "tomorrow" if days == 1 else f"in {days} days"
        body = (
            f"Hello {invoice.customer.first_name},\n\n"
            f"{names} expires {when}. Invoice {invoice.number} for its renewal is unpaid: "
            f"{invoice.balance_due} {invoice.currency} due by {invoice.duedate:%d %b %Y}.\n\n"
            f"You can pay it in your account at {brand_of(invoice.organisation).name}: "
            f"{site_url_for(invoice.organisation)}/billing/invoices/. Once it is paid the "
            "renewal is sent to the registry.\n"
        )
        messages.append(
            EmailMessage(
                subject=f"Reminder: {names} expires {when} (invoice {invoice.number})",
                body=body,
                from_email=branded_sender(invoice.organisation, settings.DEFAULT_FROM_EMAIL),
                to=[invoice.customer.email],
                headers={"Auto-Submitted": "auto-generated"},
            )
        )
    if not messages:
        return 0
    try:
        return get_connection().send_messages(messages) or 0
    except OSError:
        logger.warning("renewal reminders not sent", extra={"count": len(messages)})
        return 0

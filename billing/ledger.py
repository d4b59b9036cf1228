"""The reseller's account with the platform (the wholesale ledger): top-ups, charges for registry
operations at the platform's cost, their refunds, and the reads over them.

Append-only: every movement is a new ``AccountEntry`` carrying the balance after it; nothing is
ever updated or deleted, and the database refuses a balance below zero. Every service that writes
locks the account row first (``select_for_update``), reads the latest balance, then inserts, so
two concurrent charges against a nearly empty account are serialised and never overdraw it.

How an operation is charged (``charge_operations``, the ``domains.hooks.operation_charge`` hook,
called by the worker in the transaction that claims the operation):

* the kinds: register, transfer, renew (their price list actions), restore (the ``redemption``
  price) and turning ID protection on (the ``privacy`` price, one year); a registration asked
  with ID protection and the renewal of a protected domain add the ``privacy`` price for their
  years (in the same currency) to their own; a kind or TLD with no price is not charged;
* the amount: the platform price list row's ``sell`` for the term (the exact-years row, else the
  1-year row times the years), i.e. ``billing.pricing``'s ``cost`` as a reseller of the
  organisation sees it; a name whose registry price staff accepted above the list (a premium name,
  ``accepted_cost`` in the payload) costs that price with the platform's markup, as
  ``PriceList.price(registry_quote=...)`` computes it;
* the account: the organisation's, in the currency the price list answers (the organisation's
  ``default_currency`` first), in the operation's mode (a sandbox operation charges the sandbox
  account, never a live one);
* once per round: an operation already charged and not refunded is not charged again (a retried
  claim, a retry after a transient error, a retry of a held one); one refunded (failed, cancelled,
  refused for want of the platform's own funds) is charged a new round when it is claimed again;
* in creation order per account: the first one the balance cannot cover, and every later one of
  the batch for that account, are returned unpaid (they wait in ``awaiting_funds``; a later
  cheaper one never overtakes it). The reseller and staff are told once per shortage
  (``ResellerAccount.low_funds_notified_at``, cleared by a top-up).

Amounts are Decimal, quantized to cents with ROUND_HALF_UP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.models import AccountEntry, Price, ResellerAccount
from billing.pricing import PriceList
from customers.models import CURRENCY_VALIDATOR, Organisation
from domains import outbox
from domains.models import Domain, DomainStatus, RegistrarOperation
from portal.audit import audit
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, Actor, ActorKind

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999.99")  # what AccountEntry.amount (14 digits, 2 decimals) holds
Op = RegistrarOperation
Kind = AccountEntry.Kind

# The operation kinds that cost money, and the price list action each is priced as.
CHARGE_ACTIONS = {
    Op.Kind.REGISTER: Price.Action.REGISTER,
    Op.Kind.TRANSFER: Price.Action.TRANSFER,
    Op.Kind.RENEW: Price.Action.RENEW,
    Op.Kind.RESTORE: Price.Action.REDEMPTION,
    Op.Kind.PRIVACY: Price.Action.PRIVACY,  # turning it on; turning it off costs nothing
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value) -> Decimal:
    """A positive amount in cents from a form, the API or a caller; ValidationError otherwise."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"amount": "Enter an amount such as 25.00."}) from None
    if not amount.is_finite():
        raise ValidationError({"amount": "Enter an amount such as 25.00."})
    amount = money(amount)
    if amount <= ZERO:
        raise ValidationError({"amount": "The amount must be more than zero."})
    if amount > MAX_AMOUNT:
        raise ValidationError({"amount": f"The amount must be at most {MAX_AMOUNT}."})
    return amount


def reseller_actor(organisation: Organisation) -> Actor:
    """The organisation as its reseller sees the price list (``cost`` = what it pays us)."""
    return Actor(kind=ActorKind.RESELLER, organisation=organisation, livemode=None)


# --- reads ----------------------------------------------------------------------------------------
def visible_accounts(actor: Actor) -> QuerySet[ResellerAccount]:
    """Staff see every account; a reseller (member or API key) its organisation's in its mode;
    nobody else any."""
    queryset = ResellerAccount.objects.select_related("organisation")
    if actor.is_staff:
        return queryset
    if not actor.is_reseller or actor.organisation_id is None:
        return queryset.none()
    queryset = queryset.filter(organisation_id=actor.organisation_id)
    if actor.livemode is not None:
        queryset = queryset.filter(livemode=actor.livemode)
    return queryset


def balance(account: ResellerAccount) -> Decimal:
    """The latest entry's ``balance_after``; 0 for an account without entries."""
    return _latest_balance(account.pk)


def _latest_balance(account_id: int) -> Decimal:
    latest = (
        AccountEntry.objects.filter(account_id=account_id)
        .order_by("-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    return latest if latest is not None else ZERO


def balances(accounts) -> dict[int, Decimal]:
    """``{account id: balance}`` for several accounts (one query per account, by the index)."""
    return {account.pk: balance(account) for account in accounts}


def account_entries(account: ResellerAccount) -> QuerySet[AccountEntry]:
    return account.entries.select_related("operation__domain", "created_by").order_by("-id")


# --- accounts and top-ups ---------------------------------------------------------------------
def account_for(organisation: Organisation, currency: str, livemode: bool) -> ResellerAccount:
    """The organisation's account in ``currency`` and mode, made when it has none yet."""
    currency = (currency or "").upper()
    try:
        CURRENCY_VALIDATOR(currency)
    except ValidationError:
        raise ValidationError({"currency": f"{currency or 'It'} is not a currency code."}) from None
    account, _ = ResellerAccount.objects.get_or_create(
        organisation=organisation, currency=currency, livemode=bool(livemode)
    )
    return account


def known_currencies() -> set[str]:
    """The currencies the platform works in: its price list's and the organisations' own."""
    listed = set(Price.objects.values_list("currency", flat=True).distinct())
    used = set(Organisation.objects.values_list("default_currency", flat=True).distinct())
    return listed | used | {"USD"}


def can_topup(actor: Actor, account: ResellerAccount) -> bool:
    """Staff top up any account; a reseller only its own sandbox account, from sandbox mode (a
    sandbox key or the sandbox side of a session), never a live one in this phase."""
    if actor.is_staff:
        return True
    return (
        actor.is_reseller
        and actor.organisation_id == account.organisation_id
        and not account.livemode
        and actor.livemode is not True
    )


def topup(
    *,
    actor: Actor,
    account: ResellerAccount,
    amount,
    reference: str = "",
    note: str = "",
    currency: str | None = None,
) -> AccountEntry:
    """Add money to an account: a positive amount in its currency. Live accounts: staff only,
    with a reference (the bank transfer's, unique per account). Audited. The operations of the
    organisation and mode waiting for funds are resumed, in creation order, after commit."""
    if not can_topup(actor, account):
        raise PermissionDenied(
            "Only staff can top up a live account; resellers top up their sandbox account."
        )
    value = parse_amount(amount)
    if currency is not None and currency.upper() != account.currency:
        raise ValidationError(
            {"currency": f"This account is in {account.currency}; top it up in {account.currency}."}
        )
    reference = " ".join((reference or "").split())
    note = " ".join((note or "").split())
    if len(reference) > 100:
        raise ValidationError({"reference": "At most 100 characters."})
    if len(note) > 255:
        raise ValidationError({"note": "At most 255 characters."})
    if account.livemode and not reference:
        raise ValidationError({"reference": "A live top-up needs the payment's reference."})
    with transaction.atomic():
        locked = ResellerAccount.objects.select_for_update().get(pk=account.pk)
        if reference and locked.entries.filter(kind=Kind.TOPUP, reference=reference).exists():
            raise ValidationError(
                {"reference": f"A top-up with the reference {reference} is already recorded."}
            )
        entry = AccountEntry.objects.create(
            account=locked,
            kind=Kind.TOPUP,
            amount=value,
            balance_after=_latest_balance(locked.pk) + value,
            reference=reference,
            note=note,
            created_by=actor.user,
        )
        if locked.low_funds_notified_at is not None:
            locked.low_funds_notified_at = None
            locked.save(update_fields=["low_funds_notified_at"])
        audit(
            actor=actor,
            action="reseller_account.topup",
            obj=locked,
            organisation=locked.organisation,
            data={
                "amount": str(value),
                "currency": locked.currency,
                "livemode": locked.livemode,
                "reference": reference,
                "balance_after": str(entry.balance_after),
            },
        )
        resume_for(locked)
    return entry


def resume_for(account: ResellerAccount) -> list[int]:
    """The operations of the account's organisation and mode waiting for funds go back in the
    queue (not those waiting for the platform's own funds at the registrar: staff resume those
    with ``domains.outbox.upstream_topped_up``)."""
    waiting = Op.objects.filter(
        organisation_id=account.organisation_id, livemode=account.livemode
    ).filter(
        Q(registrar_account__isnull=True) | Q(registrar_account__funds_short_since__isnull=True)
    )
    return outbox.resume_awaiting_funds(waiting)


def upstream_topped_up(*, actor: Actor, account) -> list[int]:
    """Staff: the platform's own account at a registrar has money again (resumes what waits)."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff can record an upstream top-up.")
    return outbox.upstream_topped_up(actor=actor, account=account)


# --- charges and refunds --------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    operation: Op
    amount: Decimal
    currency: str
    round: int


def _years(operation: Op) -> int:
    if operation.kind == Op.Kind.RESTORE:
        return 1
    try:
        return max(1, int(operation.payload.get("years", 1)))
    except (TypeError, ValueError):
        return 1


def _accepted_quote(operation: Op) -> tuple[Decimal, str] | None:
    """The registry price staff accepted above the list (premium names, price rises)."""
    accepted = operation.payload.get("accepted_cost")
    if not isinstance(accepted, dict):
        return None
    try:
        return Decimal(str(accepted["amount"])), str(accepted["currency"])
    except (KeyError, InvalidOperation, ValueError):
        return None


def price_operations(operations: list[Op]) -> dict[int, tuple[Decimal, str]]:
    """``{operation id: (cost, currency)}`` of the operations the price list prices."""
    organisations = Organisation.objects.in_bulk(
        {op.organisation_id for op in operations if op.organisation_id is not None}
    )
    groups: dict[tuple[int, str, int], list[Op]] = {}
    for op in operations:
        action = CHARGE_ACTIONS.get(op.kind)
        if action not in Price.Action.values or op.organisation_id not in organisations:
            continue
        if op.kind == Op.Kind.PRIVACY and not op.payload.get("value"):
            continue
        groups.setdefault((op.organisation_id, action, _years(op)), []).append(op)
    priced: dict[int, tuple[Decimal, str]] = {}
    for (organisation_id, action, years), members in groups.items():
        prices = PriceList(
            reseller_actor(organisations[organisation_id]),
            {op.domain.tld_id for op in members},
            action,
            years,
        )
        for op in members:
            quote = prices.price(op.domain.tld_id, registry_quote=_accepted_quote(op))
            if quote is None or quote.cost is None or quote.cost <= ZERO:
                continue
            priced[op.pk] = (money(quote.cost), quote.currency)
    _add_privacy(operations, organisations, priced)
    return priced


def with_privacy(operation: Op) -> bool:
    """A registration asked with ID protection, or the renewal of a protected domain: the term's
    ID protection is charged with it (where the list prices ``privacy``)."""
    if operation.kind == Op.Kind.REGISTER:
        return bool(operation.payload.get("privacy"))
    if operation.kind == Op.Kind.RENEW:
        return bool(operation.domain.id_protection)
    return False


def _add_privacy(operations: list[Op], organisations: dict, priced: dict) -> None:
    """Add the term's ID protection (the ``privacy`` price for the same years, in the same
    currency) to the priced registrations and renewals that carry it."""
    groups: dict[tuple[int, int], list[Op]] = {}
    for op in operations:
        if op.pk in priced and with_privacy(op):
            groups.setdefault((op.organisation_id, _years(op)), []).append(op)
    for (organisation_id, years), members in groups.items():
        prices = PriceList(
            reseller_actor(organisations[organisation_id]),
            {op.domain.tld_id for op in members},
            Price.Action.PRIVACY,
            years,
        )
        for op in members:
            amount, currency = priced[op.pk]
            quote = prices.price(op.domain.tld_id)
            if quote is None or quote.cost is None or quote.cost <= ZERO:
                continue
            if quote.currency != currency:
                continue  # priced in another currency only: the charge stays one amount in one
            priced[op.pk] = (money(amount + quote.cost), currency)


def _rounds(operation_ids) -> dict[int, tuple[int, int]]:
    """``{operation id: (last charge round, last refund round)}``."""
    found: dict[int, tuple[int, int]] = {}
    rows = AccountEntry.objects.filter(
        operation_id__in=list(operation_ids), kind__in=[Kind.CHARGE, Kind.REFUND]
    ).values_list("operation_id", "kind", "round")
    for operation_id, kind, round_ in rows:
        charged, refunded = found.get(operation_id, (0, 0))
        if kind == Kind.CHARGE:
            charged = max(charged, round_)
        else:
            refunded = max(refunded, round_)
        found[operation_id] = (charged, refunded)
    return found


def charge_operations(*, operations: list[Op]) -> set[int]:
    """Charge claimed operations at the platform's cost; the ids the balance cannot pay (see
    the module's docstring). Runs inside the claim's transaction; locks each account row."""
    costly = [op for op in operations if op.kind in CHARGE_ACTIONS and op.domain_id is not None]
    if not costly:
        return set()
    rounds = _rounds(op.pk for op in costly)
    due: list[tuple[Op, int]] = []
    for op in costly:
        charged, refunded = rounds.get(op.pk, (0, 0))
        if charged > refunded:
            continue  # charged for this round already: a retried claim is never charged twice
        due.append((op, max(charged, refunded) + 1))
    if not due:
        return set()
    priced = price_operations([op for op, _ in due])
    by_account: dict[tuple[int, str, bool], list[Charge]] = {}
    for op, round_ in due:
        if op.pk not in priced:
            continue  # no price: not charged
        amount, currency = priced[op.pk]
        key = (op.organisation_id, currency, op.livemode)
        by_account.setdefault(key, []).append(Charge(op, amount, currency, round_))
    unpaid: set[int] = set()
    entries: list[AccountEntry] = []
    audits: list[AuditEntry] = []
    for organisation_id, currency, livemode in sorted(by_account):  # one lock order: no deadlock
        charges = sorted(
            by_account[(organisation_id, currency, livemode)], key=lambda c: c.operation.pk
        )
        account_id = ResellerAccount.objects.get_or_create(
            organisation_id=organisation_id, currency=currency, livemode=livemode
        )[0].pk
        account = ResellerAccount.objects.select_for_update().get(pk=account_id)
        available = _latest_balance(account.pk)
        short: list[Charge] = []
        for charge in charges:
            if short or charge.amount > available:
                short.append(charge)
                continue
            available -= charge.amount
            entries.append(
                AccountEntry(
                    account=account,
                    kind=Kind.CHARGE,
                    amount=-charge.amount,
                    balance_after=available,
                    operation=charge.operation,
                    round=charge.round,
                    note=_describe(charge.operation),
                )
            )
            audits.append(_audit_row(account, "reseller_account.charge", charge))
        if short:
            unpaid.update(charge.operation.pk for charge in short)
            _tell_once(account, short)
    AccountEntry.objects.bulk_create(entries)
    AuditEntry.objects.bulk_create(audits)
    return unpaid


def _describe(operation: Op) -> str:
    name = operation.domain.name if operation.domain_id else "-"
    years = "" if operation.kind == Op.Kind.RESTORE else f" ({_years(operation)} y)"
    extra = " with ID protection" if with_privacy(operation) else ""
    return f"{operation.get_kind_display()} {name}{years}{extra}"[:255]


def _audit_row(account: ResellerAccount, action: str, charge: Charge) -> AuditEntry:
    return AuditEntry(
        organisation_id=account.organisation_id,
        actor=str(SYSTEM)[:200],
        action=action,
        object_type=ResellerAccount._meta.label_lower,
        object_id=str(account.pk),
        data={
            "operation": charge.operation.pk,
            "amount": str(charge.amount),
            "currency": charge.currency,
            "livemode": account.livemode,
            "round": charge.round,
        },
    )


def _tell_once(account: ResellerAccount, short: list[Charge]) -> None:
    """The first shortage since the last top-up: tell the reseller and staff by e-mail (after
    commit) and audit it; later ones until a top-up say nothing more."""
    if account.low_funds_notified_at is not None:
        return
    account.low_funds_notified_at = timezone.now()
    account.save(update_fields=["low_funds_notified_at"])
    needed = sum((charge.amount for charge in short), ZERO)
    mode = "live" if account.livemode else "sandbox"
    audit(
        actor=SYSTEM,
        action="reseller_account.low_funds",
        obj=account,
        organisation=account.organisation,
        data={"waiting": len(short), "needed": str(needed), "currency": account.currency},
    )
    subject = f"Nameport: your {account.currency} {mode} account needs a top-up"
    body = (
        f"{len(short)} registry operation(s) of {account.organisation.name} are waiting for "
        f"funds: they need {needed} {account.currency} and your {mode} account with the platform "
        f"holds {_latest_balance(account.pk)} {account.currency}.\n\nThey are not lost and not "
        "failed: they are sent by themselves, in the order they were made, as soon as the account "
        "is topped up."
    )
    recipients = _recipients(account.organisation)
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True
            )
        )


def _recipients(organisation: Organisation) -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    staff = users.filter(is_staff=True).values_list("email", flat=True)
    members = users.filter(memberships__organisation=organisation).values_list("email", flat=True)
    found = [getattr(organisation, "invoice_email", "") or "", *members, *staff]
    return sorted({address for address in found if address})


def refund_operation(*, operation: Op) -> AccountEntry | None:
    """The operation will not be applied (failed for good, cancelled, refused for want of the
    platform's funds): refund its latest charge round, once. None when there is nothing to refund
    (never charged, or refunded already)."""
    with transaction.atomic():
        charge = (
            AccountEntry.objects.filter(operation_id=operation.pk, kind=Kind.CHARGE)
            .order_by("-round")
            .first()
        )
        if charge is None:
            return None
        account = ResellerAccount.objects.select_for_update().get(pk=charge.account_id)
        if AccountEntry.objects.filter(
            operation_id=operation.pk, kind=Kind.REFUND, round=charge.round
        ).exists():
            return None
        amount = -charge.amount
        entry = AccountEntry.objects.create(
            account=account,
            kind=Kind.REFUND,
            amount=amount,
            balance_after=_latest_balance(account.pk) + amount,
            operation_id=operation.pk,
            round=charge.round,
            note=f"Refund: {charge.note}"[:255],
        )
        audit(
            actor=SYSTEM,
            action="reseller_account.refund",
            obj=account,
            organisation=account.organisation,
            data={
                "operation": operation.pk,
                "amount": str(amount),
                "currency": account.currency,
                "round": charge.round,
                "status": operation.status,
            },
        )
    return entry


# --- the forecast: what the coming renewals will cost ------------------------------------------
WINDOWS = (30, 60, 90)
RENEWING = (DomainStatus.ACTIVE, DomainStatus.GRACE)


@dataclass(frozen=True)
class Forecast:
    currency: str
    livemode: bool
    balance: Decimal
    due: dict[int, Decimal]  # days ahead -> renewals due within them, at today's prices
    count: dict[int, int]
    runs_out_on: date | None  # None: the balance covers the pace (or there is none)
    unpriced: int  # renewals due within the longest window with no price


def forecast(organisation: Organisation, *, livemode: bool, today=None) -> list[Forecast]:
    """Per currency: the balance, the renewals due in the next 30, 60 and 90 days (domains with
    auto-renew on, active or in grace, expiring in the window, priced at today's 1-year renewal
    cost), and the date the balance runs out: the expiry of the first renewal it cannot cover,
    else at the 90-day pace (balance / daily cost) from today."""
    now = today or timezone.now()
    horizon = now + timedelta(days=max(WINDOWS))
    domains = list(
        Domain.objects.filter(
            organisation=organisation,
            livemode=livemode,
            autorenew=True,
            status__in=RENEWING,
            expires_at__gte=now,
            expires_at__lt=horizon,
        )
        .order_by("expires_at", "pk")
        .values_list("tld_id", "expires_at", "id_protection")
    )
    tlds = {tld for tld, _, _ in domains}
    prices = PriceList(reseller_actor(organisation), tlds, Price.Action.RENEW, 1)
    privacy = PriceList(reseller_actor(organisation), tlds, Price.Action.PRIVACY, 1)
    quotes = {tld: prices.price(tld) for tld in tlds}
    protections = {tld: privacy.price(tld) for tld in tlds}
    accounts = {
        a.currency: a
        for a in ResellerAccount.objects.filter(organisation=organisation, livemode=livemode)
    }
    currencies = set(accounts) | {q.currency for q in quotes.values() if q and q.cost}
    if not currencies:
        currencies = {organisation.default_currency}
    unpriced = sum(1 for tld, _, _ in domains if not (quotes[tld] and quotes[tld].cost))
    results = []
    for currency in sorted(currencies):
        held = balance(accounts[currency]) if currency in accounts else ZERO
        due = dict.fromkeys(WINDOWS, ZERO)
        count = dict.fromkeys(WINDOWS, 0)
        running, runs_out = ZERO, None
        for tld, expires_at, protected in domains:
            quote = quotes[tld]
            if not quote or not quote.cost or quote.currency != currency:
                continue
            cost = quote.cost
            extra = protections[tld] if protected else None
            if extra is not None and extra.cost and extra.currency == currency:
                cost += extra.cost  # the renewal of a protected domain renews its protection
            running += cost
            if runs_out is None and running > held:
                runs_out = expires_at.date()
            for days in WINDOWS:
                if expires_at < now + timedelta(days=days):
                    due[days] += cost
                    count[days] += 1
        if runs_out is None and due[90] > ZERO:
            daily = due[90] / 90
            runs_out = (now + timedelta(days=int(held / daily))).date()
        results.append(
            Forecast(
                currency=currency,
                livemode=livemode,
                balance=held,
                due={k: money(v) for k, v in due.items()},
                count=count,
                runs_out_on=runs_out,
                unpriced=unpriced,
            )
        )
    return results

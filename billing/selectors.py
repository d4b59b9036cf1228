"""Read queries of the billing app, always scoped to the actor."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from billing.models import (
    CreditEntry,
    Invoice,
    Order,
    PaymentMethod,
    Price,
    PriceGroup,
    PriceGroupMembership,
)
from portal.tenancy import Actor, ActorKind, scope


def _contact_may_see_billing(actor: Actor) -> bool:
    return actor.kind != ActorKind.CONTACT or actor.can("billing", "payinvoice")


def visible_invoices(actor: Actor) -> QuerySet[Invoice]:
    """The actor's invoices; a draft (not issued, no number yet) is the seller's: its customer
    does not see it."""
    if not _contact_may_see_billing(actor):
        return Invoice.objects.none()
    queryset = scope(Invoice.objects.select_related("customer"), actor)
    if actor.is_customer:
        queryset = queryset.exclude(status=Invoice.Status.DRAFT)
    return queryset


def unpaid_invoices(actor: Actor) -> QuerySet[Invoice]:
    return visible_invoices(actor).filter(status=Invoice.Status.UNPAID)


def visible_orders(actor: Actor) -> QuerySet[Order]:
    if actor.kind == ActorKind.CONTACT and not actor.can("billing", "orders"):
        return Order.objects.none()
    return scope(Order.objects.select_related("customer"), actor)


def visible_credit_entries(actor: Actor) -> QuerySet[CreditEntry]:
    if actor.kind == ActorKind.CONTACT and not actor.can("billing", "balance"):
        return CreditEntry.objects.none()
    return scope(CreditEntry.objects.all(), actor)


def credit_balance(actor: Actor, *, customer_id: int, currency: str) -> Decimal:
    total = (
        visible_credit_entries(actor)
        .filter(customer_id=customer_id, currency=currency)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0.00")


def visible_prices(actor: Actor) -> QuerySet[Price]:
    """Staff see every list; others see the platform list and their organisation's."""
    queryset = Price.objects.select_related("tld")
    if actor.is_staff:
        return queryset
    if actor.organisation_id is None:
        return queryset.none()
    return queryset.filter(Q(organisation__isnull=True) | Q(organisation_id=actor.organisation_id))


def visible_payment_methods(actor: Actor) -> QuerySet[PaymentMethod]:
    queryset = PaymentMethod.objects.filter(is_active=True)
    if actor.is_staff:
        return PaymentMethod.objects.all()
    if actor.organisation_id is None:
        return queryset.none()
    return queryset.filter(Q(organisation__isnull=True) | Q(organisation_id=actor.organisation_id))


def visible_price_groups(actor: Actor) -> QuerySet[PriceGroup]:
    """A reseller's price groups (live set-up: not in sandbox mode); staff: every one."""
    queryset = PriceGroup.objects.select_related("organisation").annotate(
        members=Count("memberships")
    )
    if actor.is_staff:
        return queryset
    if actor.is_reseller and actor.organisation_id is not None and actor.livemode is not False:
        return queryset.filter(organisation_id=actor.organisation_id)
    return queryset.none()


def visible_price_group_memberships(actor: Actor) -> QuerySet[PriceGroupMembership]:
    """Which of the reseller's customers are in which of its groups (live, as the groups)."""
    queryset = PriceGroupMembership.objects.select_related("customer", "group")
    if actor.is_staff:
        return queryset
    if actor.is_reseller and actor.organisation_id is not None and actor.livemode is not False:
        return queryset.filter(organisation_id=actor.organisation_id, livemode=True)
    return queryset.none()

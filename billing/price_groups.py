"""Customer price groups: a reseller's named discounts off its sell prices, and which of its
customers are in which group. What a customer in a group pays is ``billing.pricing``'s alone
(the reseller's price less the group's percent); here are the changes, each audited.

Price groups are shared set-up of live rows, like the reseller's other prices: a sandbox key or
a member in sandbox mode neither reads nor changes them, and only live customers are put in a
group (sandbox customers pay the price list without a group).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from billing.models import PriceGroup, PriceGroupMembership
from billing.prices import _seller
from customers.models import Customer, Organisation
from portal.audit import audit
from portal.tenancy import Actor

MAX_NAME = 80


def clean_percent(value) -> Decimal:
    try:
        percent = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"percent": "Enter a percent such as 10 or 12.5."}) from None
    if not percent.is_finite() or not Decimal(0) <= percent <= Decimal(100):
        raise ValidationError({"percent": "Enter a percent from 0 to 100."})
    if percent != percent.quantize(Decimal("0.01")):
        raise ValidationError({"percent": "Enter a percent with at most two decimals."})
    return percent.quantize(Decimal("0.01"))


def _clean_name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise ValidationError({"name": "Give the group a name."})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": f"A name of at most {MAX_NAME} characters."})
    return name


def _taken(seller: Organisation, name: str, group: PriceGroup | None) -> bool:
    others = PriceGroup.objects.filter(organisation=seller, name__iexact=name)
    if group is not None:
        others = others.exclude(pk=group.pk)
    return others.exists()


def price_group_save(
    *,
    actor: Actor,
    name,
    percent,
    group: PriceGroup | None = None,
    organisation: Organisation | None = None,
) -> PriceGroup:
    """Create a price group of the actor's organisation, or change ``group`` (its name and
    percent). The name is unique per organisation (whatever its case); the percent 0 to 100."""
    seller = _seller(actor, group.organisation if group is not None else organisation)
    if group is not None and group.organisation_id != seller.pk:
        raise PermissionDenied("Only the reseller changes its price groups.")
    name, percent = _clean_name(name), clean_percent(percent)
    taken = ValidationError({"name": f"You have a price group named “{name}” already."})
    with transaction.atomic():
        if group is not None:
            group = PriceGroup.objects.select_for_update().get(pk=group.pk)
        if _taken(seller, name, group):
            raise taken
        before = {"name": group.name, "percent": str(group.percent)} if group else {}
        created = group is None
        if group is None:
            group = PriceGroup(organisation=seller)
        group.name, group.percent = name, percent
        group.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                group.save()
        except IntegrityError:  # the same name saved at the same moment
            raise taken from None
        audit(
            actor=actor,
            action="billing.price_group.create" if created else "billing.price_group.change",
            obj=group,
            organisation=seller,
            data={"name": name, "percent": str(percent), **({"before": before} if before else {})},
        )
    return group


def price_group_delete(*, actor: Actor, group: PriceGroup) -> None:
    """Delete the group; its customers pay the reseller's prices again."""
    seller = _seller(actor, group.organisation)
    if seller.pk != group.organisation_id:
        raise PermissionDenied("Only the reseller changes its price groups.")
    with transaction.atomic():
        members = list(group.memberships.values_list("customer_id", flat=True))
        audit(
            actor=actor,
            action="billing.price_group.delete",
            obj=group,
            organisation=seller,
            data={"name": group.name, "percent": str(group.percent), "customers": members},
        )
        group.delete()


def may_change(actor: Actor, organisation_id: int) -> bool:
    """Staff, or a member or live key of the organisation (in live mode): who changes its price
    groups and puts its customers in them (pages show their forms to them only)."""
    if actor.livemode is False:
        return False
    if actor.is_staff:
        return True
    return actor.is_reseller and actor.organisation_id == organisation_id


def price_group_assign(
    *, actor: Actor, customer: Customer, group: PriceGroup | None
) -> PriceGroupMembership | None:
    """Put ``customer`` in ``group`` (one of its reseller's), or in no group (None). Prices it
    sees from then on (quotes, orders, renewal invoices raised after it) are the group's; what
    was invoiced before keeps its amounts."""
    if actor.livemode is False:
        raise PermissionDenied(
            "Price groups are shared with live: switch to live mode to change them."
        )
    if not may_change(actor, customer.organisation_id):
        raise PermissionDenied("Only the customer's reseller chooses its price group.")
    if not customer.livemode:
        raise ValidationError(
            {"customer": "Sandbox customers pay the price list without a price group."}
        )
    if group is not None and group.organisation_id != customer.organisation_id:
        raise ValidationError({"group": "Choose one of your own price groups."})
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        current = (
            PriceGroupMembership.objects.select_for_update()
            .select_related("group")
            .filter(customer=customer)
            .first()
        )
        before = current.group.name if current is not None else ""
        data = {"customer": customer.pk, "before": before}
        if group is None:
            if current is None:
                return None
            current.delete()
            audit(
                actor=actor,
                action="billing.price_group.unassign",
                obj=customer,
                organisation=customer.organisation,
                data=data,
            )
            return None
        if current is not None and current.group_id == group.pk:
            return current
        membership = current or PriceGroupMembership(customer=customer)
        membership.group = group
        membership.organisation_id = customer.organisation_id
        membership.livemode = customer.livemode
        membership.full_clean()
        membership.save()
        audit(
            actor=actor,
            action="billing.price_group.assign",
            obj=customer,
            organisation=customer.organisation,
            data={**data, "group": group.name, "group_id": group.pk},
        )
    return membership

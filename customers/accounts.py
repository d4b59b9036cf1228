"""Every state change of a reseller's customer accounts: create, edit, archive and unarchive a
customer, and the check that an archived customer places no new orders.

The check (:func:`customer_require_open`) lives here, in the lowest app that knows customers, so
every entry point that starts an order or a registration (``billing.orders.order_place``,
``domains.services`` register, transfer and renew) asks the same question and gets the same
answer.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer, Organisation
from portal.audit import audit
from portal.tenancy import Actor, ActorKind

DUPLICATE_MESSAGE = "Customer already exists for organisation"
ARCHIVED_MESSAGE = (
    "This customer account is archived: it cannot place new orders. Unarchive it to order again."
)
# International form: a plus, the country code, then the number (dots, spaces or dashes allowed),
# e.g. +234.8012345678 or +44 20 7946 0958.
INTERNATIONAL_PHONE = re.compile(r"^\+[1-9][0-9]{0,3}[ .\-]?[0-9][0-9 .\-]{3,20}$")
PHONE_MESSAGE = (
    "Enter the phone number in international form with its country code, e.g. +234.8012345678."
)

# The fields a reseller sets on a customer (seed 000's customer and contact objects, plus the
# optional second address line, state and company).
EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "address",
    "address2",
    "city",
    "state",
    "post_code",
    "country",
    "currency",
)
REQUIRED_FIELDS = ("first_name", "last_name", "email", "phone", "address", "city", "country")


# The team roles with the customers right (customers.roles: owner and admin); an API key acts
# for its organisation (membership_role is empty for a key).
MANAGING_ROLES = frozenset({"owner", "admin"})


def can_manage_customers(actor: Actor) -> bool:
    """Staff, a reseller's API keys, and its owners and admins."""
    if actor.is_staff:
        return True
    if actor.kind == ActorKind.API_KEY:
        return True
    return actor.kind == ActorKind.RESELLER and actor.membership_role in MANAGING_ROLES


def _require_manager(actor: Actor, customer: Customer | None = None) -> None:
    if not can_manage_customers(actor):
        raise PermissionDenied("You may not change customer accounts.")
    if (
        customer is not None
        and not actor.is_staff
        and customer.organisation_id != actor.organisation_id
    ):
        raise PermissionDenied("You may not change this customer account.")


def _clean_values(values: dict[str, Any]) -> dict[str, str]:
    cleaned = {}
    for name in EDITABLE_FIELDS:
        if name in values and values[name] is not None:
            cleaned[name] = str(values[name]).strip()
    if cleaned.get("phone"):
        phone = cleaned["phone"]
        if not INTERNATIONAL_PHONE.match(phone):
            raise ValidationError({"phone": PHONE_MESSAGE})
    if "country" in cleaned:
        cleaned["country"] = cleaned["country"].upper()
    if "currency" in cleaned:
        cleaned["currency"] = cleaned["currency"].upper()
    if "email" in cleaned:
        cleaned["email"] = cleaned["email"].lower()
    return cleaned


def _check_required(customer: Customer) -> None:
    missing = {
        name: "This field is required."
        for name in REQUIRED_FIELDS
        if not str(getattr(customer, name) or "").strip()
    }
    if missing:
        raise ValidationError(missing)


def _save(customer: Customer) -> None:
    _check_required(customer)
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # two requests with one e-mail address at once
        raise ValidationError(DUPLICATE_MESSAGE) from exc


def customer_create(
    *,
    actor: Actor,
    organisation: Organisation,
    livemode: bool,
    values: dict[str, Any],
) -> Customer:
    """A new customer of ``organisation`` in the given mode (the actor's, for a reseller)."""
    _require_manager(actor)
    if not actor.is_staff and organisation.pk != actor.organisation_id:
        raise PermissionDenied("You may not add customers to another organisation.")
    cleaned = _clean_values(values)
    cleaned.setdefault("currency", organisation.default_currency)
    if not cleaned["currency"]:
        cleaned["currency"] = organisation.default_currency
    with transaction.atomic():
        customer = Customer(organisation=organisation, livemode=livemode, **cleaned)
        _save(customer)
        audit(
            actor=actor,
            action="customer.create",
            obj=customer,
            organisation=organisation,
            data={"customer": customer.pk, "email": customer.email, "livemode": livemode},
        )
    return customer


def customer_update(*, actor: Actor, customer: Customer, values: dict[str, Any]) -> Customer:
    """Change the given fields (a partial update); the audit row lists what changed."""
    _require_manager(actor, customer)
    cleaned = _clean_values(values)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = {}
        for name, value in cleaned.items():
            if getattr(locked, name) != value:
                changed[name] = {"from": getattr(locked, name), "to": value}
                setattr(locked, name, value)
        if changed:
            _save(locked)
            audit(
                actor=actor,
                action="customer.update",
                obj=locked,
                organisation=locked.organisation,
                data={"customer": locked.pk, "changed": changed},
            )
    return locked


def _set_archived(*, actor: Actor, customer: Customer, archived: bool) -> Customer:
    _require_manager(actor, customer)
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.is_archived == archived:
            return locked
        locked.archived_at = timezone.now() if archived else None
        locked.save(update_fields=["archived_at", "updated_at"])
        audit(
            actor=actor,
            action="customer.archive" if archived else "customer.unarchive",
            obj=locked,
            organisation=locked.organisation,
            data={"customer": locked.pk},
        )
    return locked


def customer_archive(*, actor: Actor, customer: Customer) -> Customer:
    """Archive: everything the customer has stays (domains, invoices, tickets, the log); it is
    hidden from the default list and refused new orders, registrations, transfers and renewals."""
    return _set_archived(actor=actor, customer=customer, archived=True)


def customer_unarchive(*, actor: Actor, customer: Customer) -> Customer:
    return _set_archived(actor=actor, customer=customer, archived=False)


def customer_require_open(customer: Customer | int) -> None:
    """Refuse (ValidationError) when the customer is archived. Call it inside the transaction of
    the order it guards: the customer's row is locked until that transaction ends, so an archive
    running at the same time waits for the order or sees it."""
    pk = customer if isinstance(customer, int) else customer.pk
    with transaction.atomic():
        archived = (
            Customer.objects.select_for_update()
            .filter(pk=pk)
            .values_list("archived_at", flat=True)
            .first()
        )
    if archived is not None:
        raise ValidationError(ARCHIVED_MESSAGE)

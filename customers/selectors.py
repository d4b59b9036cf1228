"""Read queries of the customers app, always scoped to the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import ApiKey, Contact, Customer, Invitation, Membership, Organisation
from portal.tenancy import Actor, ActorKind, scope


def visible_organisations(actor: Actor) -> QuerySet[Organisation]:
    queryset = Organisation.objects.all()
    if actor.is_staff:
        return queryset
    if actor.organisation_id is None or not (actor.is_reseller):
        return queryset.none()
    return queryset.filter(pk=actor.organisation_id)


def visible_customers(actor: Actor) -> QuerySet[Customer]:
    queryset = Customer.objects.select_related("organisation")
    if actor.is_customer:
        return queryset.filter(pk=actor.customer_id)
    return scope(queryset, actor, customer=None)


def visible_contacts(actor: Actor) -> QuerySet[Contact]:
    queryset = Contact.objects.select_related("customer")
    if actor.kind == ActorKind.CONTACT and not actor.can("misc", "manageprofiles"):
        return queryset.filter(pk=actor.contact.pk)
    return scope(
        queryset,
        actor,
        organisation="customer__organisation",
        customer="customer",
        livemode="customer__livemode",
    )


def visible_memberships(actor: Actor) -> QuerySet[Membership]:
    return scope(
        Membership.objects.select_related("user", "organisation"),
        actor,
        customer=None,
        livemode=None,
    )


def visible_api_keys(actor: Actor) -> QuerySet[ApiKey]:
    if actor.kind == ActorKind.API_KEY:
        # A key may list its organisation's keys of its own mode, never the other mode's.
        return ApiKey.objects.filter(organisation=actor.organisation, livemode=actor.livemode)
    return scope(ApiKey.objects.select_related("organisation"), actor, customer=None, livemode=None)


def visible_invitations(actor: Actor) -> QuerySet[Invitation]:
    """Team invitations of the actor's organisation (members and staff only)."""
    if actor.kind == ActorKind.API_KEY:
        return Invitation.objects.none()
    return scope(
        Invitation.objects.select_related("organisation", "invited_by"),
        actor,
        customer=None,
        livemode=None,
    )

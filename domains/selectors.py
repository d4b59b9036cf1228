"""Read queries of the domains app, always scoped to the actor."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from domains.models import (
    RELEASED_STATUSES,
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
    Tld,
    TransferRequest,
)
from portal.tenancy import Actor, ActorKind, scope


def visible_domains(actor: Actor) -> QuerySet[Domain]:
    queryset = Domain.objects.select_related("customer", "tld")
    if actor.kind == ActorKind.REGISTRANT:
        # A registrant token's customer: its domains in its mode that it still holds.
        if actor.customer is None:
            return queryset.none()
        return queryset.filter(
            customer_id=actor.customer.pk, livemode=actor.customer.livemode
        ).exclude(status__in=RELEASED_STATUSES)
    queryset = scope(queryset, actor)
    if actor.kind == ActorKind.CONTACT:
        granted = actor.contact.privileges.get("domains") or {}
        if not granted.get("full"):
            ids = [int(key) for key in granted if str(key).isdigit()]
            queryset = queryset.filter(pk__in=ids)
    return queryset


def domains_expiring(actor: Actor, days: int) -> QuerySet[Domain]:
    now = timezone.now()
    return visible_domains(actor).filter(
        status=DomainStatus.ACTIVE, expires_at__gte=now, expires_at__lte=now + timedelta(days=days)
    )


def visible_operations(actor: Actor) -> QuerySet[RegistrarOperation]:
    queryset = RegistrarOperation.objects.select_related("domain")
    if actor.is_customer:
        return queryset.filter(domain__in=visible_domains(actor))
    return scope(queryset, actor, customer=None)


def visible_tlds(actor: Actor) -> QuerySet[Tld]:
    queryset = Tld.objects.select_related("registrar_account")
    return queryset if actor.is_staff else queryset.filter(is_active=True)


def visible_registrar_accounts(actor: Actor) -> QuerySet[RegistrarAccount]:
    return RegistrarAccount.objects.all() if actor.is_staff else RegistrarAccount.objects.none()


def visible_registry_messages(actor: Actor) -> QuerySet[RegistryMessage]:
    """The registries' poll messages: platform staff only."""
    return RegistryMessage.objects.all() if actor.is_staff else RegistryMessage.objects.none()


def visible_transfer_requests(actor: Actor) -> QuerySet[TransferRequest]:
    """Other registrars' requests for the actor's domains."""
    return TransferRequest.objects.filter(domain__in=visible_domains(actor))

"""Read queries of the DNS app, always scoped to the actor."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from dns.models import (
    DnssecKey,
    EmailForward,
    Record,
    Zone,
    ZoneChange,
    ZonePush,
    ZoneTemplate,
)
from portal.tenancy import Actor, ActorKind, scope


def visible_zones(actor: Actor) -> QuerySet[Zone]:
    queryset = scope(Zone.objects.select_related("customer", "domain"), actor)
    if actor.kind == ActorKind.CONTACT:
        granted = actor.contact.privileges.get("domains") or {}
        if not granted.get("full"):
            ids = [
                int(key)
                for key, items in granted.items()
                if str(key).isdigit() and "dnsmanagement" in items
            ]
            queryset = queryset.filter(domain_id__in=ids)
    return queryset


def visible_records(actor: Actor) -> QuerySet[Record]:
    return Record.objects.filter(zone__in=visible_zones(actor)).select_related("zone")


def visible_templates(actor: Actor) -> QuerySet[ZoneTemplate]:
    """Staff: all templates. Resellers: their organisation's and the platform's, of the mode they
    look at (a sandbox key sees sandbox templates only). Customers: none (a template is a
    reseller's tool)."""
    queryset = ZoneTemplate.objects.select_related("organisation")
    if actor.kind == ActorKind.STAFF:
        return queryset
    if actor.kind in {ActorKind.RESELLER, ActorKind.API_KEY} and actor.organisation is not None:
        return queryset.filter(
            Q(organisation_id=actor.organisation.pk) | Q(organisation__isnull=True),
            livemode=actor.livemode is not False,
        )
    return queryset.none()


def editable_templates(actor: Actor) -> QuerySet[ZoneTemplate]:
    """The templates ``actor`` may change: staff all, resellers their organisation's."""
    if actor.kind == ActorKind.STAFF:
        return visible_templates(actor)
    return visible_templates(actor).filter(organisation__isnull=False)


def visible_pushes(actor: Actor) -> QuerySet[ZonePush]:
    return ZonePush.objects.filter(zone__in=visible_zones(actor))


def visible_changes(actor: Actor) -> QuerySet[ZoneChange]:
    return ZoneChange.objects.filter(zone__in=visible_zones(actor))


def visible_email_forwards(actor: Actor) -> QuerySet[EmailForward]:
    return EmailForward.objects.filter(zone__in=visible_zones(actor)).select_related("zone")


def visible_dnssec_keys(actor: Actor) -> QuerySet[DnssecKey]:
    return DnssecKey.objects.filter(zone__in=visible_zones(actor)).select_related("zone")


def zone_record_rows(zone: Zone):
    """The records of a zone (already found through ``visible_zones``) as dicts, in zone-file
    order, streamed: what exports and pushes read (no model instances for 100,000 rows)."""
    return (
        Record.objects.filter(zone_id=zone.pk)
        .order_by("name", "type", "pk")
        .values("name", "type", "ttl", "priority", "content")
        .iterator(chunk_size=5000)
    )

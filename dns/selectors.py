"""Read queries of the DNS app, always scoped to the actor."""

from __future__ import annotations

from django.db.models import QuerySet

from dns.models import Record, Zone
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

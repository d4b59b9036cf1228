"""What every DNS page shares: finding the zone for the actor, and the answers to actions."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from dns.models import Zone
from dns.selectors import visible_zones
from portal.tenancy import ActorKind


def zone_for(request: HttpRequest, pk: int) -> Zone:
    return get_object_or_404(visible_zones(request.actor).select_related("organisation"), pk=pk)


def can_edit(request: HttpRequest, zone: Zone) -> bool:
    """A disabled zone is shown read only, with the reason, to whoever sees it."""
    return zone.enabled and request.actor.can("domains", "dnsmanagement", zone.domain_id)


def can_manage_zones(request: HttpRequest) -> bool:
    return request.actor.kind in {ActorKind.STAFF, ActorKind.RESELLER, ActorKind.CUSTOMER}


def can_edit_templates(request: HttpRequest) -> bool:
    return request.actor.kind in {ActorKind.STAFF, ActorKind.RESELLER}


def trigger(response: HttpResponse, event: str, message: str = "", level: str = "success"):
    events: dict = {event: True}
    if message:
        events["np-toast"] = {"message": message, "level": level}
    response["HX-Trigger"] = json.dumps(events)
    return response


def go(request: HttpRequest, url: str) -> HttpResponse:
    """After a successful POST: htmx follows a client redirect, a plain form a 303."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def zone_url(zone: Zone, name: str = "zone_detail") -> str:
    return reverse(f"dns:{name}", args=[zone.pk])


def zone_tabs(request: HttpRequest, zone: Zone, active: str) -> dict:
    return {
        "zone": zone,
        "active_tab": active,
        "can_edit": can_edit(request, zone),
        "can_manage_zones": can_manage_zones(request),
    }

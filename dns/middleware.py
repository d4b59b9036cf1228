"""Domain forwarding: the portal answers HTTP for names that have a URL or FRAME record.

A forwarded name's A/AAAA records point at ``NAMEPORT_FORWARDING_IPV4``/``IPV6`` (the portal), so
the browser arrives here with ``Host: shop.example.com``. This middleware runs first, before
Django's host validation, and only for a Host that is not the portal's own name; it answers with
the redirect (URL) or a page that frames the target (FRAME), and only when an enabled live zone
has such a record for exactly that name. Everything else goes on to the portal unchanged.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.template.loader import render_to_string

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})+$")
_FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-src http: https:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def _portal_hosts() -> set[str]:
    hosts = {"localhost", "testserver", urlsplit(settings.SITE_URL).hostname or ""}
    hosts.update(h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS if h != "*")
    return hosts


def forwarding_record(host: str):
    """The URL/FRAME record of an enabled live zone for exactly ``host`` (most specific zone
    first; a disabled zone is served nowhere)."""
    from dns.models import Record

    labels = host.split(".")
    condition = Q()
    for cut in range(len(labels) - 1):
        zone_name = ".".join(labels[cut:])
        name = ".".join(labels[:cut]) or "@"
        condition |= Q(zone__name=zone_name, name=name)
    candidates = (
        Record.objects.filter(
            condition, type__in=["URL", "FRAME"], zone__livemode=True, zone__enabled=True
        )
        .select_related("zone")
        .only("type", "content", "zone__name")
    )
    best = None
    for record in candidates:
        if best is None or len(record.zone.name) > len(best.zone.name):
            best = record
    return best


def _safe_target(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    if any(ord(c) < 0x21 for c in url):
        return None
    return url


def forwarding_response(host: str) -> HttpResponse | None:
    record = forwarding_record(host)
    if record is None:
        return None
    target = _safe_target(record.content)
    if target is None:
        return None
    if record.type == "URL":
        response: HttpResponse = HttpResponsePermanentRedirect(target)
        response["Cache-Control"] = "max-age=3600"
    else:
        response = HttpResponse(
            render_to_string("dns/frame.html", {"target": target, "host": host})
        )
        response["Content-Security-Policy"] = _FRAME_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


class ForwardingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.portal_hosts: set[str] | None = None

    def __call__(self, request):
        raw = request.META.get("HTTP_HOST", "")
        host = raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw
        host = host.strip().lower().rstrip(".")
        if self.portal_hosts is None:
            self.portal_hosts = _portal_hosts()
        # A host name staff mapped to an organisation is the portal (customers.branding).
        mapped = getattr(request, "host_organisation", None) is not None
        if (
            not mapped
            and host
            and host not in self.portal_hosts
            and _HOST.match(host)
            and not _is_ip(host)
        ):
            response = forwarding_response(host)
            if response is not None:
                return response
        return self.get_response(request)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True

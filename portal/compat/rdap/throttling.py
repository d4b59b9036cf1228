"""RDAP's rate limit: per client address (portal.auth.client_ip, as the native API's throttles
count), in a scope of its own, at NAMEPORT_RDAP_THROTTLE (read at each request, so a test or a
deployment may change it; empty: no limit)."""

from __future__ import annotations

from django.conf import settings

from portal.auth import AnonRateThrottle


class RdapRateThrottle(AnonRateThrottle):
    scope = "rdap"

    def get_rate(self) -> str | None:
        return settings.NAMEPORT_RDAP_THROTTLE or None

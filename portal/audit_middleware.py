"""Audit rows written while a request is served say where it came from (see portal.audit)."""

from __future__ import annotations

from portal.audit import Origin, origin


class AuditOriginMiddleware:
    """The client's address (``portal.auth.client_ip``, which trusts a proxy header only behind
    a configured proxy) and the channel (``api`` for the APIs, else ``web``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from portal.auth import client_ip  # imports customers: loaded once apps are ready

        address = client_ip(request) or None
        channel = "api" if request.path.startswith("/api/") else "web"
        with origin(Origin(ip_address=address, channel=channel)):
            return self.get_response(request)

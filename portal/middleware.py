from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from portal.tenancy import actor_for_user


class ActorMiddleware:
    """Sets ``request.actor`` for session users (API views compute theirs after DRF auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.actor = SimpleLazyObject(
            lambda: actor_for_user(getattr(request, "user", None), session=request.session)
        )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every HTML answer (everything is served from 'self')."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response

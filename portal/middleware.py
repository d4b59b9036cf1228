from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
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


class StaffOtpMiddleware:
    """With NAMEPORT_STAFF_OTP_REQUIRED on, staff must verify a TOTP device before going on."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.STAFF_OTP_REQUIRED
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not user.is_verified()
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            return redirect(f"{reverse('otp')}?next={request.get_full_path()}")
        return self.get_response(request)

"""Sign-in rules that run on every request: the second factor, the member roles, and the list of
signed-in sessions."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from customers.account import has_no_device, session_touch, two_factor_required
from customers.models import User
from customers.roles import may, refusal, right_for_path, rights_of
from portal.auth import client_ip, raw_key_from_request
from portal.tenancy import ActorKind
from portal.views import permission_denied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class SecondFactorMiddleware:
    """A signed-in person who has turned on two-factor sign-in, or must use it (staff while
    NAMEPORT_STAFF_OTP_REQUIRED is on; an organisation's members or customers when it requires
    it), passes the TOTP check (or spends a recovery code) before anything else. Those who must
    and have no authenticator app yet are sent to set one up."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/brand/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not user.is_verified()
            and (
                not has_no_device(user, getattr(request, "session", None))
                or two_factor_required(user, request.actor)
            )
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"message": "Two-factor sign-in: enter your code at /accounts/otp/ first."},
                    status=403,
                )
            return redirect(f"{reverse('otp')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class RoleMiddleware:
    """Every change (POST, PUT, PATCH, DELETE) a reseller member makes through a page or the
    native API needs the right its URL names in customers/roles.py; without it the answer is
    403 with the reason, before the view runs. A request carrying an API key acts as the key."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method in SAFE_METHODS or raw_key_from_request(request):
            return None
        actor = getattr(request, "actor", None)
        if actor is None or actor.kind != ActorKind.RESELLER:
            return None
        right = right_for_path(request.path_info)
        if right is None or may(actor, right):
            return None
        reason = refusal(actor, right)
        response = permission_denied(request, PermissionDenied(reason))
        if request.headers.get("HX-Request"):
            # An htmx action shows the reason as a toast (static/js/nameport.js).
            response["HX-Trigger"] = json.dumps(
                {"np-toast": {"message": reason, "level": "danger"}}
            )
        return response


class SessionTrackingMiddleware:
    """Writes down each signed-in session (device, address, last seen) at most once a minute,
    for the account page's session list and "sign out everywhere else"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        # An API-key request's user is the key's stand-in: nothing to write down for it.
        if session is not None and isinstance(user, User) and user.is_authenticated:
            session_touch(
                user=user,
                session=session,
                user_agent=request.headers.get("User-Agent", ""),
                ip_address=client_ip(request) or None,
            )
        return response


def role_rights(request):
    """Template context: ``role_rights.<right>`` is True when the actor may make such changes
    (to hide what the role may not do; the refusal itself is RoleMiddleware's)."""
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {"role_rights": SimpleLazyObject(lambda: rights_of(actor))}

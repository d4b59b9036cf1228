"""Who is asking: API-key authentication for DRF (``access-token``/``access_token`` header or a
Bearer key), the client's address (behind a trusted proxy or not), and the sign-in lock-out rules
on top of django-axes (per account whatever the address, per address across accounts)."""

from __future__ import annotations

import ipaddress
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import redis
from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework import authentication, exceptions, throttling

from customers.models import ApiKey
from customers.services import API_KEY_PREFIXES, api_key_authenticate
from portal.broker import broker_redis


class CredentialUser:
    """Stands in for ``request.user`` when a request carries a credential rather than a session
    (an API key, a registrant token): never staff, and a ``pk`` of its own so that throttles
    count per credential. A subclass names its ``kind`` and where its credential is."""

    kind: ClassVar[str]
    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    @property
    def credential(self) -> Any:
        raise NotImplementedError

    @property
    def pk(self) -> str:
        return f"{self.kind}:{self.credential.pk}"

    @property
    def id(self) -> str:
        return self.pk

    def __str__(self) -> str:
        return f"{self.kind}:{self.credential.prefix}"


@dataclass
class ApiKeyUser(CredentialUser):
    """The user of a request made with an API key."""

    api_key: ApiKey
    kind: ClassVar[str] = "api-key"

    @property
    def credential(self) -> ApiKey:
        return self.api_key


def raw_key_from_request(request) -> str | None:
    """The key from ``access-token`` (or the old ``access_token``; both arrive as
    HTTP_ACCESS_TOKEN) or from ``Authorization: Bearer np_...``."""
    meta = request.META
    value = meta.get("HTTP_ACCESS_TOKEN")
    if value:
        return value.strip()
    header = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and token.startswith(tuple(API_KEY_PREFIXES.values())):
        return token
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request):
        raw_key = raw_key_from_request(request)
        if raw_key is None:
            return None
        key = api_key_authenticate(raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return ApiKeyUser(api_key=key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


def axes_username(request, credentials: dict | None) -> str:
    """The name django-axes counts failures under: the e-mail, whichever field carried it
    (Django's login form says ``username``, our forms and compat APIs may say ``email``)."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or ""
    if not value and request is not None:
        data = getattr(request, "POST", {}) or {}
        value = data.get("email") or data.get("username") or ""
    return str(value).strip().lower()


# --- The client's address ------------------------------------------------------------------


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    hop = hop.strip().strip('"')
    if hop.startswith("[") and "]" in hop:  # [2001:db8::1]:443
        hop = hop[1 : hop.index("]")]
    elif hop.count(":") == 1:  # 203.0.113.7:51234
        hop = hop.split(":", 1)[0]
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


def client_ip(request) -> str:
    """The address a request came from, as lock-outs and throttles count it.

    Without ``BEHIND_PROXY`` it is the peer's address (``REMOTE_ADDR``): a client's own
    ``X-Forwarded-For`` changes nothing. With ``BEHIND_PROXY`` it is read from the header the
    proxy sets (``NAMEPORT_TRUSTED_PROXY_HEADER``, default ``X-Forwarded-For``) and only from
    it: the right-most hop that is not one of ``NAMEPORT_TRUSTED_PROXIES`` (the hops a client
    wrote are on the left, the proxy appends the address it saw). No usable hop: the peer's."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    if not settings.BEHIND_PROXY:
        return remote
    header = "HTTP_" + settings.NAMEPORT_TRUSTED_PROXY_HEADER.upper().replace("-", "_")
    trusted = _trusted_networks(tuple(settings.NAMEPORT_TRUSTED_PROXIES))
    for hop in reversed(meta.get(header, "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not an address: nothing left of it can be believed either
        if not any(address in network for network in trusted):
            return str(address)
    return remote


class _ClientAddressIdent:
    def get_ident(self, request) -> str:
        return client_ip(request) or "unknown"


# KEYS[1]: the sliding window of one throttle key, a sorted set of request times.
# ARGV: now, window (seconds), limit, a unique member. {1, ""} when the request is counted;
# {0, oldest time in the window} when the window is full (the request is not counted; an
# empty one for a limit of 0).
_WINDOW_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
  return {1, ''}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {0, oldest or ''}
"""
THROTTLE_KEY_PREFIX = "nameport:throttle:"


class _SharedWindow:
    """DRF's sliding window, kept in the broker's Redis when there is one, so every gunicorn
    worker and every host counts against one limit (DRF alone counts in Django's cache, which
    is per process here). One Lua call per request. Without Redis (another broker, or Redis
    down), DRF's own counting in this process."""

    def allow_request(self, request, view) -> bool:
        client = broker_redis()
        if client is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = time.time()
        try:
            counted, oldest = client.eval(
                _WINDOW_SCRIPT,
                1,
                THROTTLE_KEY_PREFIX + self.key,
                repr(self.now),
                self.duration,
                self.num_requests,
                uuid.uuid4().hex,
            )
        except redis.RedisError:
            # Redis down (/healthz says so): count in this process rather than refuse everyone
            self.oldest = None
            return super().allow_request(request, view)
        self.oldest = None if counted else float(oldest or self.now)
        return bool(counted)

    def wait(self) -> float | None:
        if getattr(self, "oldest", None) is None:
            return super().wait()
        return max(0.0, self.duration - (self.now - self.oldest))


class AnonRateThrottle(_SharedWindow, _ClientAddressIdent, throttling.AnonRateThrottle):
    """DRF's anonymous throttle, counting per client address as :func:`client_ip` reads it (DRF
    on its own believes any ``X-Forwarded-For``)."""


class UserRateThrottle(_SharedWindow, _ClientAddressIdent, throttling.UserRateThrottle):
    """DRF's per-user throttle; anonymous requests count per client address."""


# --- Sign-in lock-out ----------------------------------------------------------------------

ACCOUNT, ADDRESS = "account", "address"


class SignInLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with two rules over its failure records.

    * An account (``AXES_LOCKOUT_PARAMETERS = ["username"]``) is locked after
      ``AXES_FAILURE_LIMIT`` failures within the cool-off, from whatever addresses.
    * An address is refused after ``NAMEPORT_SIGNIN_ADDRESS_LIMIT`` failures within the
      cool-off, over any accounts (guessing many accounts' passwords from one place).

    ``request.nameport_lockout`` says which rule refused, for :func:`lockout_response`."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        per_account = 0
        if get_client_username(request, credentials):
            per_account = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        per_address = 0
        if address:
            per_address = (
                AccessAttempt.objects.filter(
                    ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
                ).aggregate(total=Sum("failures_since_start"))["total"]
                or 0
            )
        if per_address >= settings.NAMEPORT_SIGNIN_ADDRESS_LIMIT:
            request.nameport_lockout = ADDRESS
            return max(per_account, limit)
        if per_account >= limit:
            request.nameport_lockout = ACCOUNT
        return per_account

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and getattr(request, "nameport_lockout", None) == ADDRESS:
            # Refused for its address before any password was tried: not a failure of the
            # account (a person sharing that address must not lock their own account out).
            request.axes_locked_out = True
            request.axes_credentials = credentials
            return
        super().user_login_failed(sender, credentials, request, **kwargs)


def _wants_json(request) -> bool:
    return (
        request.path.startswith("/api/")
        or "application/json" in request.headers.get("Accept", "")
        or request.headers.get("Content-Type", "").startswith("application/json")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def lockout_response(request, original_response=None, credentials: dict | None = None):
    """What a refused sign-in gets (``AXES_LOCKOUT_CALLABLE``): 429, the reason and when to try
    again; JSON ``{"message", "errors"}`` for API and JSON callers, the lock-out page otherwise."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    wait = f"Try again in {minutes} minutes." if minutes else "Contact support to unlock it."
    reason = getattr(request, "nameport_lockout", ACCOUNT)
    if reason == ADDRESS:
        message = f"Too many failed sign-in attempts from your network address. {wait}"
    else:
        message = (
            f"Too many failed sign-in attempts for this account. {wait} "
            "You can also reset your password by e-mail and sign in with the new one."
        )
    headers = {"Retry-After": str(int(cool_off.total_seconds()))} if cool_off else {}
    if _wants_json(request):
        return JsonResponse({"message": message, "errors": {}}, status=429, headers=headers)
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {
            "message": message,
            "reason": reason,
            "username": get_client_username(request, credentials),
        },
        status=429,
    )
    for name, value in headers.items():
        response[name] = value
    return response


def clear_sign_in_lockout(user) -> int:
    """Forget the account's failed sign-ins (its owner just proved the mailbox with a password
    reset); what an address did stays counted."""
    from axes.utils import reset

    return reset(username=axes_username(None, {"username": user.get_username()}))

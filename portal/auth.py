"""API-key authentication for DRF (``access-token``/``access_token`` header or a Bearer key)."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions

from customers.models import ApiKey
from customers.services import API_KEY_PREFIXES, api_key_authenticate


@dataclass
class ApiKeyUser:
    """Stands in for ``request.user`` when a request is made with an API key."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_anonymous: bool = False

    @property
    def pk(self) -> str:
        return f"api-key:{self.api_key.pk}"

    id = pk

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


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

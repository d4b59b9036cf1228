"""Helpers shared by the domains pages: HTMX answers, service errors onto forms, toasts."""

from __future__ import annotations

import json

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from portal.views import htmx_partial

# HTMX swaps a 422 answer (see static/js/nameport.js): the fragment with the form errors.
INVALID = 422
OPERATIONS_CHANGED = "np-operations-changed"


def is_htmx(request: HttpRequest) -> bool:
    return htmx_partial(request)


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def trigger(response: HttpResponse, **events) -> HttpResponse:
    """Add client-side events (``HX-Trigger``); e.g. ``np_toast={...}`` fires ``np-toast``."""
    existing = json.loads(response.get("HX-Trigger", "{}") or "{}")
    existing.update({name.replace("_", "-"): value for name, value in events.items()})
    response["HX-Trigger"] = json.dumps(existing)
    return response


def toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    return trigger(response, np_toast={"message": message, "level": level})


def error_messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def add_service_errors(form, exc: ValidationError, default_field: str | None = None) -> None:
    """Put a service's ``ValidationError`` onto ``form``: keyed errors go next to their field
    (``"registrant.email"`` next to ``email``), the rest next to ``default_field`` (or on top)."""
    if hasattr(exc, "error_dict"):
        items = exc.message_dict.items()
    else:
        items = [(default_field, exc.messages)]
    for key, messages in items:
        name = (key or "").rsplit(".", 1)[-1]
        if name == NON_FIELD_ERRORS or name not in form.fields:
            name = default_field if default_field in form.fields else None
        for message in messages:
            form.add_error(name, message)

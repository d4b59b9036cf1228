"""What every compatibility API view shares: one place that turns any refusal (bad JSON, no
credentials, not found, a service's ValidationError or PermissionDenied, throttling) into the
error body *that* API documents, with a 4xx status, never a 500 or DRF's ``{"detail": ...}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from portal.api.exceptions import _first_message


def message_of(exc: Exception) -> str:
    """One sentence for a refusal, as the native API words it (``field: message``)."""
    if isinstance(exc, DjangoValidationError):
        return _first_message(as_serializer_error(exc)) or "Invalid input."
    if isinstance(exc, exceptions.APIException):
        return _first_message(exc.detail) or str(exc.default_detail)
    return str(exc)


class CompatAPIView(APIView):
    """Subclasses set ``error_response`` to their document's error shape."""

    def error_response(self, status: int, message: str) -> Response:  # pragma: no cover
        raise NotImplementedError

    def handle_exception(self, exc):
        if isinstance(exc, Http404):
            exc = exceptions.NotFound("Not found.")
        elif isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        elif isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(as_serializer_error(exc))
        if not isinstance(exc, exceptions.APIException):
            return super().handle_exception(exc)  # a real bug: the server error page
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            # DRF answers 403 without a WWW-Authenticate header; a missing key is a 401.
            auth_header = self.get_authenticate_header(self.request)
            exc.auth_header = auth_header
            status = 401 if auth_header else exc.status_code
        else:
            status = exc.status_code
        response = self.error_response(status, message_of(exc))
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response

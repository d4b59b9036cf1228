"""One error body for the whole native API: ``{"message": ..., "errors": {field: [...]}}``.

Django's ``ValidationError`` raised by a service (``full_clean()``) becomes a 400 with the field
errors, so a rule written once in a model or service holds for the API too.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if message:
                return (
                    message
                    if key in {"non_field_errors", "__all__", "detail"}
                    else f"{key}: {message}"
                )
        return ""
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    body: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _first_message(detail) or "Invalid input."
        body["errors"] = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    else:
        body["message"] = _first_message(detail) or response.status_text
    response.data = body
    return response


def json_error(message: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"message": message}, status=status_code)

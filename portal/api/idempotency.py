"""``Idempotency-Key`` for the native API's writes: the same key and body give the same result,
and the write happens once. A key reused with another body is refused (422)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from portal.models import IdempotencyRecord
from portal.tenancy import Actor

MAX_KEY_LENGTH = 100


def _scope(actor: Actor) -> str:
    if actor.api_key is not None:
        return f"org:{actor.organisation_id}:{'live' if actor.livemode else 'test'}"
    return f"user:{actor.user.pk if actor.user else 'anonymous'}"


def _fingerprint(request: Request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def run_idempotent(request: Request, actor: Actor, handler: Callable[[], Response]) -> Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        return Response(
            {"message": f"Idempotency-Key is at most {MAX_KEY_LENGTH} characters."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    scope, fingerprint = _scope(actor), _fingerprint(request)

    def check(record: IdempotencyRecord) -> Response:
        if record.fingerprint != fingerprint:
            return Response(
                {"message": "This Idempotency-Key was already used with a different request."},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return _replay(record)

    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        return check(existing)
    try:
        with transaction.atomic():
            response = handler()
            if response.status_code < 500:
                IdempotencyRecord.objects.create(
                    scope=scope,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    body=response.data,
                )
    except IntegrityError:
        # The same key raced us and won; its write stands and ours was rolled back.
        return check(IdempotencyRecord.objects.get(scope=scope, key=key))
    return response

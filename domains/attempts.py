"""The record of each call an operation made to its registry (``RegistrarOperationAttempt``):
when, what was sent, what came back, the next retry. Written by ``domains.outbox`` with the
attempt's outcome, for the operation page.

What was sent is the command, the name, the account and the operation's payload with every
secret-looking key removed (auth codes, passwords, tokens): a transfer's auth code is read from
the domain when the command is built and never recorded. What came back is the registry's code
and message for an error, a summary of its answer (expiry, statuses, reference) for a success.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.utils import timezone

from domains.models import RegistrarOperation, RegistrarOperationAttempt
from domains.registrars.base import DomainInfo, HostInfo, RegistrarError

Outcome = RegistrarOperationAttempt.Outcome
SECRET_WORDS = ("auth", "password", "secret", "token", "credential", "key")
# Payload keys that are book-keeping of the outbox, not part of the command.
INTERNAL_KEYS = {"outcome_unknown"}
OUTCOMES = {
    RegistrarOperation.Status.SUCCEEDED: Outcome.SUCCEEDED,
    RegistrarOperation.Status.PENDING: Outcome.RETRY,
    RegistrarOperation.Status.FAILED: Outcome.FAILED,
    RegistrarOperation.Status.HELD: Outcome.HELD,
    RegistrarOperation.Status.AWAITING_FUNDS: Outcome.AWAITING_FUNDS,
}
REDACTED = "(not recorded)"


def is_secret(key: str) -> bool:
    lowered = str(key).lower()
    return any(word in lowered for word in SECRET_WORDS)


def scrub(value):
    """``value`` with every secret-looking key of every mapping in it replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret(k) else scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def sent(operation: RegistrarOperation) -> dict:
    payload = {k: v for k, v in (operation.payload or {}).items() if k not in INTERNAL_KEYS}
    request = {
        "command": operation.kind,
        "name": operation.domain.name_puny if operation.domain_id else "",
        "account": operation.registrar_account.name if operation.registrar_account_id else "",
        "payload": scrub(payload),
    }
    if (operation.payload or {}).get("outcome_unknown"):
        request["checked_registry_first"] = True
    return request


def _summary(result) -> dict:
    if isinstance(result, DomainInfo):
        return {
            "name": result.name,
            "expires_at": result.expires_at.isoformat() if result.expires_at else None,
            "statuses": list(result.statuses),
            "reference": result.reference,
            "sponsor": result.sponsor,
        }
    if isinstance(result, HostInfo):
        return {"hostname": result.hostname, "ipv4": result.ipv4, "ipv6": result.ipv6}
    if isinstance(result, dict):
        return scrub(result)
    if dataclasses.is_dataclass(result):
        return {"type": type(result).__name__}
    return {}


def came_back(result, error: Exception | None, lines: list[str]) -> dict:
    if error is None:
        response = {"ok": True, "result": _summary(result)}
    elif isinstance(error, RegistrarError):
        response = {
            "ok": False,
            "error": type(error).__name__,
            "code": error.code,
            "message": error.message,
        }
    else:  # an adapter bug: its text may hold anything, so only its type
        response = {"ok": False, "error": type(error).__name__, "code": None, "message": ""}
    if lines:
        response["log"] = list(lines)
    return response


def record(finished: list[tuple[RegistrarOperation, object, Exception | None, object]]) -> None:
    """One row per finished call: ``(operation, result, error, outcome)`` with the outcome
    ``domains.outbox`` recorded (``portal.outbox.Outcome``)."""
    now = timezone.now()
    rows = []
    for operation, result, error, outcome in finished:
        status = getattr(outcome, "status", "skipped")
        retry_in = getattr(outcome, "retry_in", None)
        finished_at = getattr(operation, "_attempt_finished", None) or now
        rows.append(
            RegistrarOperationAttempt(
                operation_id=operation.pk,
                number=max(int(operation.attempts or 0), 1),
                started_at=getattr(operation, "_attempt_started", None) or finished_at,
                finished_at=finished_at,
                outcome=OUTCOMES.get(status, Outcome.SKIPPED),
                request=sent(operation),
                response=came_back(result, error, getattr(operation, "_attempt_lines", [])),
                next_attempt_at=(
                    finished_at + timedelta(seconds=retry_in)
                    if status == RegistrarOperation.Status.PENDING and retry_in is not None
                    else None
                ),
            )
        )
    if rows:
        RegistrarOperationAttempt.objects.bulk_create(rows)

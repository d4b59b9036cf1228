"""``/healthz``: is this process able to serve? Checks the database and the Celery broker.

Answers 200 ``{"status": "ok", "database": "ok", "broker": "ok"}`` when both answer, 503 with
the failing part marked ``"error"`` otherwise. Load balancers and ``.ci/run`` poll it, so it needs
no login and never shows a URL, a host name or an exception message (they may hold passwords):
only the exception's class name goes into the body, the details go to the log.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if not row or row[0] != 1:
        raise RuntimeError("SELECT 1 gave an unexpected answer")


def check_broker() -> None:
    """One connection to the broker (Redis over TCP, or the embedded Redis of ``make run`` on
    its unix socket: nothing listening there is an error like any unreachable server)."""
    from kombu import Connection

    options: dict = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {})
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options=options,
    ) as broker:
        broker.ensure_connection(
            max_retries=1,
            interval_start=0,
            interval_step=0,
            interval_max=0,
            timeout=BROKER_TIMEOUT_SECONDS,
        )


CHECKS = {"database": check_database, "broker": check_broker}


@never_cache
@require_GET
def healthz(request):
    body: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            # Only the class name leaves the process; the message may carry a URL with a password.
            logger.warning("health check %s failed: %s", name, type(exc).__name__, exc_info=True)
            body[name] = "error"
            errors[name] = type(exc).__name__
        else:
            body[name] = "ok"
    if errors:
        return JsonResponse({"status": "error", **body, "errors": errors}, status=503)
    return JsonResponse({"status": "ok", **body})

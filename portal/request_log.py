"""A refused request is not an error: ``django.request`` keeps one line for it, no traceback.

Django logs every ``PermissionDenied`` that reaches its handler as a warning *with the
exception's traceback* (``log_response(..., exception=exc)``), so each refusal of a user who
clicked something they may not do filled the log with a stack trace. The filter on the
``django.request`` logger (see ``LOGGING`` in settings) keeps the warning, adds the refusal's
reason to its line, and drops the traceback. Every other exception keeps its traceback.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class RefusalWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        if isinstance(exception, PermissionDenied):
            reason = str(exception).strip()
            message = record.getMessage()
            record.msg = f"{message} ({reason})" if reason else message
            record.args = None
            record.exc_info = None
            record.exc_text = None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

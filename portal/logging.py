"""Keeping secrets out of every log line: a logging filter for Django, Celery and gunicorn, and
gunicorn's logger with its access log redacted.

What counts as a secret: API keys (``np_live_...``/``np_test_...``) and registrant API tokens
(``np_reg_...``) wherever they appear, the value of any field or query parameter whose name says
token, key, secret, password, auth code, signature or session (``?access_token=...``,
``"auth_code": "..."``, ``password=...``), EPP ``<pw>`` elements, and the token of a
password-reset link (``/password-reset/<uid>/<token>/``).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from gunicorn import glogging

REDACTED = "[redacted]"

# Header or field names followed by a value: access-token: X, "auth_code": "X", password=X.
_NAMED_VALUE = re.compile(
    r"(?i)((?:access[-_]token|api[-_]token|authorization|auth[-_]?code|authinfo|pw|"
    r"password|secret|session[-_]token|api[-_]key)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;}<&]+)"
)
_EPP_PW = re.compile(r"(<(?:domain:|contact:)?pw>)([^<]*)(</)")
# An API key or a registrant token: the prefix, the lookup and the secret (token_urlsafe:
# letters, digits, _ and -).
_API_KEY = re.compile(r"\bnp_(?:live|test|reg)_[A-Za-z0-9_-]+")
# Django's password-reset token (base-36 timestamp, a dash, a hex HMAC) after the user's id.
_RESET_TOKEN = re.compile(r"(/password-reset/[0-9A-Za-z_-]+/)[0-9a-z]{1,13}-[0-9a-f]{20,}")
# A query string anywhere in a line: ``?`` up to whitespace, a quote or the end.
_QUERY = re.compile(r"\?([^\s\"'<>]+)")
# Query parameter names whose value is a secret.
_SECRET_PARAMETER = re.compile(
    r"(?i)(token|secret|passw|pwd|api[-_]?key|auth|signature|session|credential|otp)"
    r"|^(pw|key|sig|code)$"
)


def redact_query(query: str) -> str:
    """``access_token=np_live_x&page=2`` -> ``access_token=[redacted]&page=2``: secret-named
    parameters and any value holding an API key lose their value; the names stay."""
    if not query:
        return query
    parts = []
    for item in query.split("&"):
        name, sep, value = item.partition("=")
        if sep and value:
            decoded = unquote_plus(value)
            if _SECRET_PARAMETER.search(unquote_plus(name)) or _API_KEY.search(decoded):
                value = REDACTED
        parts.append(f"{name}{sep}{value}")
    return "&".join(parts)


def redact(text: str) -> str:
    """``text`` with every secret (see the module's docstring) replaced by ``[redacted]``."""
    text = _QUERY.sub(lambda match: "?" + redact_query(match.group(1)), text)
    text = _RESET_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _NAMED_VALUE.sub(rf"\1{REDACTED}", text)
    text = _EPP_PW.sub(rf"\1{REDACTED}\3", text)
    return _API_KEY.sub(f"np_{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Redacts the message (arguments included) and any traceback of every record it sees.

    Put it on handlers: a handler's filter sees the records of every logger that reaches it
    (Django's ``django.request``/``django.server``, Celery's task and worker logs, ours)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class GunicornLogger(glogging.Logger):
    """gunicorn's logger (``--logger-class portal.logging.GunicornLogger``) that writes no secret.

    Every atom of the access log format is redacted: the request line (``%(r)s``) and query
    string (``%(q)s``) keep parameter names but not secret values, a password-reset token in the
    path is dropped, request headers that carry credentials (``%({authorization}i)s``...) are
    never written, and the error log gets the same filter as Django's handlers."""

    SECRET_HEADERS = frozenset(
        {
            "authorization",
            "proxy-authorization",
            "access-token",
            "access_token",
            "cookie",
            "set-cookie",
            "x-api-key",
        }
    )
    SECRET_ENVIRON = frozenset({f"http_{h.replace('-', '_')}" for h in SECRET_HEADERS})

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
                    handler.addFilter(RedactSecretsFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in list(atoms.items()):
            if not isinstance(value, str):
                continue
            lowered = key.lower()
            if lowered.startswith("{") and (
                lowered[1:-2] in self.SECRET_HEADERS or lowered[1:-2] in self.SECRET_ENVIRON
            ):
                atoms[key] = REDACTED
            elif lowered in {"q", "{query_string}e"}:
                atoms[key] = redact(redact_query(value))
            else:
                atoms[key] = redact(value)
        return atoms

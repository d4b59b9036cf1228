"""A logging filter that keeps secrets out of every log line."""

import logging
import re

_PATTERNS = [
    # header or field names followed by a value: access-token: X, "auth_code": "X", password=X
    re.compile(
        r"(?i)((?:access[-_]token|api[-_]token|authorization|auth[-_]?code|authinfo|pw|"
        r"password|secret|session[-_]token|api[-_]key)[\"']?\s*[:=]\s*[\"']?)([^\s\"',;}<]+)"
    ),
    re.compile(r"(<(?:domain:|contact:)?pw>)([^<]*)(</)"),
    re.compile(r"\bnp_(?:live|test)_[A-Za-z0-9_]+"),
]


def redact(text: str) -> str:
    text = _PATTERNS[0].sub(r"\1[redacted]", text)
    text = _PATTERNS[1].sub(r"\1[redacted]\3", text)
    return _PATTERNS[2].sub("np_[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True

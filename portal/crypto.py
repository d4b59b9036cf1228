"""Encryption of secrets kept in the database (registrar credentials, EPP auth codes).

Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from settings.FIELD_ENCRYPTION_KEYS; the first
key encrypts, every key decrypts, so keys can be rotated.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    derived = [
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"nameport:{k}".encode()).digest()))
        for k in keys
    ]
    return MultiFernet(derived)


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with the configured keys") from exc


class Secret(str):
    """A decrypted value whose repr never shows it (so it cannot leak through tracebacks)."""

    def __repr__(self) -> str:
        return "Secret('***')"


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads give a ``Secret`` (or "" when empty)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return Secret(decrypt(value))

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return encrypt(str(value))

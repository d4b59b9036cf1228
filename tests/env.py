"""Loaded by pytest before Django's settings (``-p tests.env`` in pyproject.toml)."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# Staff TOTP is on by default (tests/security/test_staff_otp_default.py); the tests that need it
# turn it on, the others sign staff in with force_login.
os.environ.setdefault("NAMEPORT_STAFF_OTP_REQUIRED", "0")
os.environ.setdefault(
    "NAMEPORT_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

"""Loaded by pytest before Django's settings (``-p tests.env`` in pyproject.toml)."""

import os
from pathlib import Path

# Under pytest-xdist (``make test`` runs two workers) each worker gets its own Redis database
# (the broker's number plus 1 + its index: queues, the rate budget's keys and locks apart) and
# its own var directory; pytest-django already gives each its own test database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_INDEX = int(_WORKER.removeprefix("gw")) if _WORKER.startswith("gw") else None
if _INDEX is not None and os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
    _base, _, _db = os.environ["CELERY_BROKER_URL"].rpartition("/")
    _number = int(_db) if _db.isdigit() else 0
    os.environ["CELERY_BROKER_URL"] = f"{_base}/{(_number + 1 + _INDEX) % 16}"

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# Staff TOTP is on by default (tests/security/test_staff_otp_default.py); the tests that need it
# turn it on, the others sign staff in with force_login.
os.environ.setdefault("NAMEPORT_STAFF_OTP_REQUIRED", "0")
os.environ.setdefault(
    "NAMEPORT_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)
if _WORKER:
    os.environ["NAMEPORT_VAR_DIR"] = str(Path(os.environ["NAMEPORT_VAR_DIR"]) / f"xdist-{_WORKER}")

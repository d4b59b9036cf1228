"""Loaded by pytest before Django's settings (``-p tests.env`` in pyproject.toml)."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault(
    "NAMEPORT_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

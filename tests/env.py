"""Loaded by pytest before Django's settings (``-p tests.env`` in pyproject.toml)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault(
    "NAMEPORT_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

"""Shared set-up for benchmarks: a throw-away database (SQLite in a temp dir unless
DATABASE_URL is set), migrated, with Django ready. Benchmarks are not part of `make test`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret")
    os.environ.setdefault("NAMEPORT_VAR_DIR", tempfile.mkdtemp(prefix="nameport-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

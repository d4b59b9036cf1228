"""Small typed readers for settings that come from the environment.

Every reader also accepts ``NAME_FILE`` pointing at a file holding the value, so that secrets can
be mounted (Docker/Kubernetes secrets, systemd credentials) instead of passed in the environment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_secret(name: str, default: str = "") -> str:
    return env_str(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = env_str(name, "1" if default else "0").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name, str(default)).strip()
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# DRF's rate syntax: a count, a slash, a period DRF reads by its first letter.
_RATE = re.compile(r"[0-9]+/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_rate(name: str, default: str, *, allow_empty: bool = False) -> str | None:
    """A throttle rate such as ``120/min`` (empty: no limit, where ``allow_empty``). Checked at
    start-up: a typo would otherwise make every throttled request a 500."""
    raw = env_str(name, default).strip()
    if not raw and allow_empty:
        return None
    if not _RATE.fullmatch(raw):
        raise ValueError(
            f"{name} must be a rate like 60/min (a count per s, min, hour or day), got {raw!r}"
        )
    return raw

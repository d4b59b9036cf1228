"""Hooks: how a lower app makes something happen in a higher one without importing it.

DESIGN.md's layers: ``portal <- customers <- domains <- dns, support, billing``. Where a lower app
must cause something above it (a stopped registry operation opens a ticket, an activated domain
gets its zone, a search shows prices), it declares a :class:`Hook` in its own ``hooks.py`` and
calls it; the higher app registers the implementation in its ``AppConfig.ready()``. Not Django
signals: each hook is declared in one module with its arguments, has at most one implementation,
says what happens when no app registered one, and says what happens when that implementation
raises. A test replaces an implementation with :meth:`Hook.replaced`, so the lower app is tested
without the higher one.

Two policies for an implementation that raises:

* ``guarded=True``, for hooks called after the registry (or a DNS server) has answered: the
  implementation runs in a savepoint; an exception is logged with its traceback and rolled back
  to the savepoint, and the caller goes on, so a broken ticket or zone never undoes what the
  registry did;
* ``guarded=False``, for hooks that answer a question before anything is sent (prices): the
  exception reaches the caller, as any error of a read does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

logger = logging.getLogger(__name__)


class Hook:
    """One named extension point of a lower app, filled in by a higher one."""

    def __init__(self, name: str, *, default: Callable[..., Any], guarded: bool) -> None:
        self.name = name
        self.default = default  # what runs when no app registered an implementation
        self.guarded = guarded
        self.implementation: Callable[..., Any] | None = None

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {self.implementation or 'default'}>"

    def register(self, implementation: Callable[..., Any]) -> None:
        """Called once, from the higher app's ``AppConfig.ready()``. A second, different
        implementation is a configuration error (two apps would both answer)."""
        if self.implementation not in (None, implementation):
            raise ImproperlyConfigured(
                f"hook {self.name} already has {self.implementation!r}; cannot also take "
                f"{implementation!r}"
            )
        self.implementation = implementation

    @contextmanager
    def replaced(self, implementation: Callable[..., Any] | None) -> Iterator[None]:
        """For tests: ``implementation`` answers inside the block (``None``: the default)."""
        previous = self.implementation
        self.implementation = implementation
        try:
            yield
        finally:
            self.implementation = previous

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        implementation = self.implementation or self.default
        if not self.guarded:
            return implementation(*args, **kwargs)
        try:
            with transaction.atomic():
                return implementation(*args, **kwargs)
        except Exception:
            logger.exception("hook %s failed; going on without it", self.name)
            return None

"""Registry adapters; :func:`adapter_for` picks the one a registrar account is configured with."""

from __future__ import annotations

from domains.models import RegistrarAccount
from domains.registrars.base import PermanentError, RegistrarAdapter


def adapter_for(account: RegistrarAccount) -> RegistrarAdapter:
    if account.kind == RegistrarAccount.Kind.SANDBOX:
        from domains.registrars.sandbox import SandboxRegistry

        return SandboxRegistry(account)
    raise PermanentError(f"The {account.get_kind_display()} adapter is not available yet")

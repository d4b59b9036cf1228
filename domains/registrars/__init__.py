"""Registry adapters; :func:`adapter_for` picks the one a registrar account is configured with."""

from __future__ import annotations

from domains.models import RegistrarAccount
from domains.registrars.base import PermanentError, RegistrarAdapter


def adapter_for(account: RegistrarAccount) -> RegistrarAdapter:
    if account.kind == RegistrarAccount.Kind.SANDBOX:
        from domains.registrars.sandbox import SandboxRegistry

        return SandboxRegistry(account)
    if account.kind == RegistrarAccount.Kind.RESELLER_REST:
        from domains.registrars.reseller_rest import ResellerRestAdapter

        return ResellerRestAdapter(account)
    if account.kind == RegistrarAccount.Kind.EPP:
        from domains.registrars.epp import EppAdapter

        return EppAdapter(account)
    raise PermanentError(f"The {account.get_kind_display()} adapter is not available yet")

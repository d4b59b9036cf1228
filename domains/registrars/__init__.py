"""Registry adapters; :func:`adapter_for` picks the one a registrar account is configured with.

The production adapters live here: ``reseller_rest`` (the seed-002 reseller REST API) and ``epp``
(RFC 5730-5734), both behind the protocol of ``base``. Accounts of kind ``sandbox`` get the
simulated registry of ``domains.simulator``, which is not a production adapter.
"""

from __future__ import annotations

from domains.models import RegistrarAccount
from domains.registrars.base import PermanentError, RegistrarAdapter


def adapter_for(account: RegistrarAccount) -> RegistrarAdapter:
    if account.kind == RegistrarAccount.Kind.SANDBOX:
        from domains.simulator.registry import SandboxRegistry

        return SandboxRegistry(account)
    if account.kind == RegistrarAccount.Kind.RESELLER_REST:
        from domains.registrars.reseller_rest import ResellerRestAdapter

        return ResellerRestAdapter(account)
    if account.kind == RegistrarAccount.Kind.EPP:
        from domains.registrars.epp import EppAdapter

        return EppAdapter(account)
    raise PermanentError(f"The {account.get_kind_display()} adapter is not available yet")

"""Registry adapters; :func:`adapter_for` picks the one a registrar account is configured with.

The production adapters live here: ``reseller_rest`` (the seed-002 reseller REST API) and ``epp``
(RFC 5730-5734), both behind the protocol of ``base``. Accounts of kind ``sandbox`` get the
simulated registry of ``domains.simulator``, which is not a production adapter.
"""

from __future__ import annotations

from domains.models import RegistrarAccount
from domains.registrars.base import PermanentError, RegistrarAdapter
from domains.registrars.epp import EppAdapter
from domains.registrars.reseller_rest import ResellerRestAdapter

# The one import of the simulated registry by production code (allowed by name in
# .importlinter), for accounts of kind sandbox. As a module, not ``from ... import
# SandboxRegistry``: the simulator imports domains.registrars.base, which runs this __init__
# first, so when the simulator is imported before this package its module is still half
# loaded here; its class is looked up when adapter_for is called.
from domains.simulator import registry as simulator


def adapter_for(account: RegistrarAccount) -> RegistrarAdapter:
    if account.kind == RegistrarAccount.Kind.SANDBOX:
        return simulator.SandboxRegistry(account)
    if account.kind == RegistrarAccount.Kind.RESELLER_REST:
        return ResellerRestAdapter(account)
    if account.kind == RegistrarAccount.Kind.EPP:
        return EppAdapter(account)
    raise PermanentError(f"The {account.get_kind_display()} adapter is not available yet")

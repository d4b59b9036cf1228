"""The hooks of customers: what it makes happen in the apps above it, which it never imports
(see ``portal.hooks``; the app named below registers its implementation in ``AppConfig.ready()``).

``organisation_created(*, organisation: Organisation) -> None``
    An organisation was just made (the admin, ``seed_demo``). Called in the transaction that
    saves it; guarded, so an organisation is made even if the implementation fails. Registered by
    support: ``support.services.department_ensure_default`` (the organisation's default support
    department, where its customers' tickets land). None registered: nothing happens.
"""

from __future__ import annotations

from portal.hooks import Hook


def _nothing(**kwargs) -> None:
    return None


organisation_created = Hook("organisation_created", default=_nothing, guarded=True)

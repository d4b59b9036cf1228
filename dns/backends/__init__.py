"""DNS backends: where a zone is published.

* ``database`` (the embedded default): the zone lives in the database and is exported on demand;
  nothing is pushed.
* ``powerdns``: PowerDNS Authoritative through its HTTP API (create, PATCH of the changed rrsets
  only, delete), driven by the push outbox (``dns.outbox``).
"""

from __future__ import annotations

from dns.backends.base import Backend, PermanentBackendError, TransientBackendError

__all__ = ["Backend", "PermanentBackendError", "TransientBackendError", "backend_for"]


def backend_for(name: str) -> Backend:
    if name == "powerdns":
        from dns.backends.powerdns import PowerDnsBackend

        return PowerDnsBackend.from_settings()
    from dns.backends.database import DatabaseBackend

    return DatabaseBackend()

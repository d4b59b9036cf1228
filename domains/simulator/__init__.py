"""A simulated registry: NOT a production adapter.

Nameport's own stand-in for an upstream registry, with its state in the ``Sandbox*`` tables of
``domains.models``. It serves two purposes and no other:

* the embedded default: a registrar account of kind ``sandbox`` (the demo, sandbox keys) is
  answered by :class:`~domains.simulator.registry.SandboxRegistry`, which
  ``domains.registrars.adapter_for`` returns for it (its one entry point into production code);
* the tests: its network front ends play the upstream registry so that the production adapters
  in ``domains.registrars`` are tested over real sockets:

  - ``registry.py``: the simulated registry itself (the adapter protocol, in process);
  - ``rest_server.py``: the seed-002 reseller REST protocol over HTTP (``manage.py
    run_sandbox_rest``), for ``domains.registrars.reseller_rest``;
  - ``epp_server.py``: EPP (RFC 5730-5734) over TCP/TLS (``manage.py run_sandbox_epp``), for
    ``domains.registrars.epp``.

Production code never imports this package (an import-linter contract in ``.importlinter``
enforces it), except ``adapter_for``'s one import of ``registry``.
"""

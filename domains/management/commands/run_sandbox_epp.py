"""``manage.py run_sandbox_epp``: serve the sandbox registry over EPP (RFC 5730-5734) with TLS.

    manage.py run_sandbox_epp --port 7000 --cert server.pem --key server.key \\
        --account "Sandbox upstream" --client-id np-test --password s3cret-pw [--ca clients.pem]

The account is a ``RegistrarAccount`` of kind sandbox (created, as a sandbox, when missing); its
settings are the sandbox's knobs (balance, latency, failures, prices). The password comes from
``--password``, else from ``NAMEPORT_SANDBOX_EPP_PASSWORD`` (which keeps it out of the process
list). With ``--ca`` clients must present a certificate signed by that CA. With ``--schema``
(``epp-all.xsd``) every command is validated against the EPP schemas first. Point an ``epp``
account at it with settings ``{"host", "port", "cafile"}`` and credentials
``{"client_id", "password"}``.
"""

from __future__ import annotations

import os
import signal

from django.core.management.base import BaseCommand, CommandError

from domains.models import RegistrarAccount
from domains.simulator.epp_server import load_schema, make_server


class Command(BaseCommand):
    help = "Serve the sandbox registry over EPP on TCP with TLS (threaded)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=700, help="Port (700; 0 picks one)")
        parser.add_argument("--cert", required=True, help="Server certificate (PEM)")
        parser.add_argument("--key", required=True, help="Server private key (PEM)")
        parser.add_argument("--ca", default="", help="CA (PEM) that signs required client certs")
        parser.add_argument(
            "--account",
            default="Sandbox upstream",
            help="Name of the sandbox RegistrarAccount whose registry this serves",
        )
        parser.add_argument("--client-id", required=True, help="EPP clID clients log in with")
        parser.add_argument(
            "--password", default="", help="EPP password (or NAMEPORT_SANDBOX_EPP_PASSWORD)"
        )
        parser.add_argument("--schema", default="", help="epp-all.xsd to validate commands with")
        parser.add_argument(
            "--idle-timeout", type=float, default=600, help="Close idle sessions after (s)"
        )

    def handle(self, *args, **options) -> None:
        account, created = RegistrarAccount.objects.get_or_create(
            name=options["account"],
            defaults={"kind": RegistrarAccount.Kind.SANDBOX, "livemode": False},
        )
        if account.kind != RegistrarAccount.Kind.SANDBOX:
            raise CommandError(
                f"Registrar account {account.name!r} is a {account.get_kind_display()}, "
                "not a sandbox registry."
            )
        password = options["password"] or os.environ.get("NAMEPORT_SANDBOX_EPP_PASSWORD", "")
        if not password:
            raise CommandError("Give --password or set NAMEPORT_SANDBOX_EPP_PASSWORD.")
        schema = load_schema(options["schema"]) if options["schema"] else None
        try:
            server = make_server(
                host=options["host"],
                port=options["port"],
                certfile=options["cert"],
                keyfile=options["key"],
                cafile=options["ca"] or None,
                account=account.name,
                client_id=options["client_id"],
                password=password,
                schema=schema,
                idle_timeout=options["idle_timeout"],
            )
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.stdout.write(f"Created the sandbox registrar account {account.name!r}.")
        self.stdout.write(
            f"Sandbox EPP server for {account.name!r} on {server.host}:{server.port} "
            f"(clID {options['client_id']}, client certificates "
            f"{'required' if options['ca'] else 'not required'}); Ctrl-C to stop."
        )
        self.stdout.flush()
        signal.signal(signal.SIGTERM, self._stop)
        try:
            server.serve_forever()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            server.server_close()

    @staticmethod
    def _stop(signum, frame) -> None:
        raise SystemExit(0)

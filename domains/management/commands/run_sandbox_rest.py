"""``manage.py run_sandbox_rest``: serve the sandbox registry over the seed-002 reseller REST API.

    manage.py run_sandbox_rest --port 8089 --account "Sandbox upstream" --username demo --token T

The account is a ``RegistrarAccount`` of kind sandbox (created, as a sandbox, when missing); its
settings are the sandbox's knobs (balance, latency, failures). The API token comes from
``--token``, else from ``NAMEPORT_SANDBOX_REST_TOKEN``, else from the account's credentials JSON
(``{"username", "api_token"}``). Point a ``reseller_rest`` account at the printed URL.
"""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains.models import RegistrarAccount
from domains.simulator.rest_server import serve


class Command(BaseCommand):
    help = "Serve the sandbox registry over the seed-002 reseller REST API (threaded WSGI)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8089, help="Port (8089; 0 picks one)")
        parser.add_argument(
            "--account",
            default="Sandbox upstream",
            help="Name of the sandbox RegistrarAccount whose registry this serves",
        )
        parser.add_argument("--username", default="", help="API user name clients must send")
        parser.add_argument(
            "--token",
            default="",
            help="API token clients must send (or NAMEPORT_SANDBOX_REST_TOKEN)",
        )
        parser.add_argument(
            "--session-ttl", type=float, default=3600, help="Session lifetime in seconds"
        )
        parser.add_argument(
            "--settings-ttl",
            type=float,
            default=1.0,
            help="Seconds the account's settings (latency, failures...) are cached",
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
        stored = self._stored_credentials(account)
        username = options["username"] or stored.get("username", "")
        token = (
            options["token"]
            or os.environ.get("NAMEPORT_SANDBOX_REST_TOKEN", "")
            or stored.get("api_token", "")
        )
        if not username or not token:
            raise CommandError(
                "Give --username and --token (or NAMEPORT_SANDBOX_REST_TOKEN), or store "
                '{"username": ..., "api_token": ...} in the account\'s credentials.'
            )
        server = serve(
            options["host"],
            options["port"],
            account=account,
            username=username,
            api_token=token,
            session_ttl=options["session_ttl"],
            settings_ttl=options["settings_ttl"],
            # With a connection pool, a request gives its connection back when it ends, so any
            # number of kept-alive clients share the pool; without one, each request thread
            # keeps its own connection for the life of its HTTP connection.
            close_db_per_request="pool" in settings.DATABASES["default"].get("OPTIONS", {}),
        )
        if created:
            self.stdout.write(f"Created the sandbox registrar account {account.name!r}.")
        self.stdout.write(
            f"Sandbox reseller REST API for {account.name!r} at {server.url} "
            f"(user {username}); Ctrl-C to stop."
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    @staticmethod
    def _stored_credentials(account: RegistrarAccount) -> dict:
        try:
            data = json.loads(str(account.credentials or "") or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

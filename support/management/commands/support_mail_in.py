"""Read one RFC 822 message on standard input and hand it to the help desk.

For a mail server's pipe delivery, e.g. in Postfix's aliases:
``support: "|/srv/nameport/.venv/bin/python /srv/nameport/manage.py support_mail_in"``.
Deliver the ticket reply addresses too (``support+<number>-<signature>@...``: Postfix
``recipient_delimiter = +``), and set ``NAMEPORT_MAILIN_AUTHSERV_ID`` to the authserv-id of the
receiving server's ``Authentication-Results`` if new tickets by e-mail should be taken (see
:mod:`support.mailin`). It exits 0 whatever happens to the mail (refusals are logged and, for
known customers, answered politely), so the mail server never bounces to a robot; 1 only when
nothing could be read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from support.mailin import process


class Command(BaseCommand):
    help = "Read one e-mail (RFC 822) on standard input: a reply or a new support ticket."
    stealth_options = ("stdin",)  # call_command(..., stdin=...) in tests

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", help="read the message from this file instead of standard input"
        )

    def handle(self, *args, **options):
        if options.get("file"):
            raw = Path(options["file"]).read_bytes()
        else:
            stdin = options.get("stdin") or sys.stdin
            raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        if not raw.strip():
            raise CommandError("No message on standard input.")
        outcome = process(raw)
        self.stdout.write(str(outcome))

"""``manage.py sandbox_epp_event``: make something happen at the sandbox EPP registry that the
portal cannot do itself, and queue the poll message a real registry would send.

    manage.py sandbox_epp_event request-transfer example.test --gaining "Rival Registrar"
    manage.py sandbox_epp_event answer-transfer example.test clientApproved
    manage.py sandbox_epp_event end-window example.test
    manage.py sandbox_epp_event auto-renew example.test
    manage.py sandbox_epp_event hold example.test
    manage.py sandbox_epp_event delete example.test
    manage.py sandbox_epp_event notice "Scheduled maintenance on Sunday"

``--account`` and ``--client-id`` name the registrar the server of ``run_sandbox_epp`` serves
(the queue ``notice`` writes to, the client id transfers name). See
``domains.simulator.queue.RegistryDesk``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from domains.models import SandboxDomain
from domains.simulator.queue import APPROVED, REFUSED, RegistryDesk

EVENTS = (
    "request-transfer",
    "answer-transfer",
    "end-window",
    "auto-renew",
    "hold",
    "delete",
    "notice",
)


class Command(BaseCommand):
    help = "Act at the sandbox EPP registry as another registrar or the registry's staff."

    def add_arguments(self, parser) -> None:
        parser.add_argument("event", choices=EVENTS)
        parser.add_argument("subject", help="The domain name (for notice: the message text)")
        parser.add_argument(
            "status",
            nargs="?",
            default="",
            help=f"answer-transfer only: one of {', '.join((*APPROVED, *REFUSED))}",
        )
        parser.add_argument("--account", default="Sandbox upstream")
        parser.add_argument("--client-id", default="np-test")
        parser.add_argument("--gaining", default="Other registrar")

    def handle(self, *args, **options) -> None:
        desk = RegistryDesk(options["account"], options["client_id"])
        event, subject = options["event"], options["subject"].strip().lower()
        if event == "notice":
            message = desk.notice(options["subject"])
            self.stdout.write(f"Queued message {message.pk} for {desk.account}.")
            return
        if not SandboxDomain.objects.filter(name=subject).exists():
            raise CommandError(f"The sandbox registry holds no domain named {subject!r}.")
        try:
            if event == "request-transfer":
                desk.request_transfer(subject, gaining=options["gaining"])
            elif event == "answer-transfer":
                status = options["status"]
                if status not in (*APPROVED, *REFUSED):
                    allowed = ", ".join((*APPROVED, *REFUSED))
                    raise CommandError(f"Give the transfer's new status: {allowed}.")
                desk.answer_transfer(subject, status)
            elif event == "end-window":
                desk.end_window(subject)
            elif event == "auto-renew":
                desk.auto_renew(subject)
            elif event == "hold":
                desk.hold(subject)
            else:
                desk.delete(subject)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{event} {subject}: done.")

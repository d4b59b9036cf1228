"""``manage.py issue_api_key ORG_SLUG [--live] [--name NAME]``: issue an API key for a reseller.

The raw key is printed once, alone on the last line, so scripts can take it with ``tail -n 1``;
only its prefix and hash are stored.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from customers.models import Organisation
from customers.services import api_key_issue
from portal.tenancy import SYSTEM


class Command(BaseCommand):
    help = "Issue an API key for an organisation (sandbox unless --live); prints the key once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("organisation", metavar="ORG_SLUG", help="The organisation's slug")
        parser.add_argument(
            "--live",
            action="store_true",
            help="A live key (real registrations and money); the default is a sandbox key",
        )
        parser.add_argument("--name", default="", help="A label to recognise the key by")

    def handle(self, *args, **options) -> None:
        slug = options["organisation"]
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            known = ", ".join(Organisation.objects.order_by("slug").values_list("slug", flat=True))
            raise CommandError(
                f"No organisation with the slug {slug!r}. Known slugs: {known or '(none)'}."
            )
        if not organisation.is_active:
            raise CommandError(f"Organisation {slug!r} is not active; its keys would not work.")
        key, raw_key = api_key_issue(
            actor=SYSTEM,
            organisation=organisation,
            livemode=options["live"],
            name=options["name"],
        )
        mode = "live" if key.livemode else "sandbox"
        self.stdout.write(f"Issued a {mode} API key {key.prefix}… for {organisation.name}.")
        self.stdout.write(
            "Send it in the access-token header. It is shown only now; store it safely."
        )
        self.stdout.write(raw_key)

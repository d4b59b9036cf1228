"""``manage.py issue_registrant_token EMAIL [--organisation ID|SLUG|NAME] [--sandbox]
[--name NAME]``: a new registrant API token for the customer with that e-mail address.

The token is printed once, alone on the last line, so scripts can take it with ``tail -n 1``;
only its prefix and hash are stored. The customer is found by its e-mail address or its user's
(not archived); when several match (several resellers, or a sandbox and a live account), the
options choose, and an ambiguous or empty choice is an error that lists the candidates.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from customers.models import Customer
from customers.registrant_tokens import token_create
from portal.tenancy import SYSTEM


def _describe(customer: Customer) -> str:
    mode = "live" if customer.livemode else "sandbox"
    organisation = customer.organisation
    return f"customer {customer.pk} of {organisation.name} (id {organisation.pk}, {mode})"


class Command(BaseCommand):
    help = "Issue a registrant API token for a customer; prints the token once, on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email", metavar="EMAIL", help="The customer's e-mail address")
        parser.add_argument(
            "--organisation",
            help="The reseller's id, slug or name, when several have a customer with that e-mail",
        )
        parser.add_argument(
            "--sandbox",
            action="store_true",
            help="The sandbox customer account (the default is the live one)",
        )
        parser.add_argument("--name", default="", help="A label to recognise the token by")

    def handle(self, *args, **options) -> None:
        email = options["email"].strip()
        candidates = (
            Customer.objects.select_related("organisation")
            .filter(Q(email__iexact=email) | Q(user__email__iexact=email))
            .filter(archived_at__isnull=True, organisation__is_active=True)
            .order_by("organisation_id", "id")
        )
        if not candidates.exists():
            raise CommandError(f"No customer account with the e-mail address {email!r}.")
        chosen = candidates.filter(livemode=not options["sandbox"])
        wanted = options["organisation"]
        if wanted:
            match = Q(organisation__slug=wanted) | Q(organisation__name__iexact=wanted)
            if wanted.isdigit():
                match |= Q(organisation_id=int(wanted))
            chosen = chosen.filter(match)
        chosen = list(chosen)
        if len(chosen) != 1:
            listed = "; ".join(_describe(c) for c in candidates)
            what = "No" if not chosen else "More than one"
            mode = "sandbox" if options["sandbox"] else "live"
            raise CommandError(
                f"{what} {mode} customer account with {email!r}"
                f"{f' at organisation {wanted!r}' if wanted else ''}. Accounts with that "
                f"address: {listed}. Choose with --organisation (id, slug or name) and "
                "--sandbox."
            )
        customer = chosen[0]
        token, raw = token_create(
            actor=SYSTEM, customer=customer, name=options["name"] or "Issued by manage.py"
        )
        self.stdout.write(f"Issued registrant API token {token.prefix}… for {_describe(customer)}.")
        self.stdout.write(
            "Send it as Authorization: Bearer <token>. It is shown only now; store it safely."
        )
        self.stdout.write(raw)

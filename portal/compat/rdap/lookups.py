"""What RDAP answers for: the live domains Nameport holds (not sandbox rows, not released names),
their nameservers and glue hosts. Public reads, so no actor: the rule is the same for anyone.
A fixed number of queries per answer whatever the domain holds."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from domains.models import RELEASED_STATUSES, Domain, DomainContact, HostRecord, Nameserver
from domains.names import validate_hostname

from .build import CONTACT_ROLES, unicode_of


def query_name(raw: str) -> str:
    """A queried name in its ASCII (punycode) form, lower case, without the trailing dot; a
    ValidationError (400) for anything that is not a valid host or domain name (IDNA 2008 with
    UTS 46 mapping, LDH labels, at least two labels, no address)."""
    ascii_name = validate_hostname(raw)
    if unicode_of(ascii_name) == ascii_name and any(
        label.startswith("xn--") for label in ascii_name.split(".")
    ):
        raise ValidationError(f"{raw!r} is not a valid domain name: bad punycode label.")
    return ascii_name


def served_domains() -> QuerySet[Domain]:
    return Domain.objects.filter(livemode=True).exclude(status__in=RELEASED_STATUSES)


def served_domain(ascii_name: str) -> Domain | None:
    """The domain with everything its answer shows: five queries."""
    return (
        served_domains()
        .filter(name_puny=ascii_name)
        .select_related("organisation")
        .prefetch_related(
            Prefetch("nameservers", queryset=Nameserver.objects.order_by("position")),
            Prefetch("hosts", queryset=HostRecord.objects.order_by("hostname")),
            "ds_records",
            Prefetch(
                "contacts", queryset=DomainContact.objects.filter(role__in=list(CONTACT_ROLES))
            ),
        )
        .first()
    )


def served_nameserver(ascii_name: str) -> list[HostRecord] | None:
    """The glue hosts of that name under served domains (possibly none), or None when no
    served domain names it as a nameserver or holds it as a glue host: two queries."""
    domains = served_domains()
    hosts = list(HostRecord.objects.filter(hostname=ascii_name, domain__in=domains))
    if hosts or Nameserver.objects.filter(hostname=ascii_name, domain__in=domains).exists():
        return hosts
    return None

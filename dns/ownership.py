"""Who may hold a zone for a name: the customer whose domain it is (or whose domain it is under).

A zone is served by the platform's shared name servers and answers forwarding for its names, so
a zone for a name its owner does not hold would hijack that name. The rules:

* the name is a domain held on the platform (any status but released: deleted, transferred
  away), or a name under one (a sub-zone), in the zone's mode;
* the most specific held domain decides (a domain under another one is its own holder);
* never a TLD sold here (``domains.Tld``), a public suffix (the Public Suffix List bundled with
  the ``publicsuffixlist`` package, ICANN and private sections, never fetched), or the platform's
  own name-server domains (``NAMEPORT_DEFAULT_NAMESERVERS``: ``ns1.nameport.test`` reserves
  ``nameport.test`` and every name under it).

Every refusal reads the same (``OWNERSHIP_MESSAGE``), whether or not the name exists elsewhere.
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.db.models import Q, QuerySet
from django.db.models.functions import Reverse
from publicsuffixlist import PublicSuffixList

from domains.models import RELEASED_STATUSES, Domain, Tld

OWNERSHIP_MESSAGE = "You can only create zones for domains in your account."


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped inside the package: no network


def suffixes(name: str) -> list[str]:
    """``a.b.example.com`` -> ``[a.b.example.com, b.example.com, example.com]`` (two labels
    at least), longest first."""
    labels = name.split(".")
    return [".".join(labels[cut:]) for cut in range(len(labels) - 1)]


def platform_domains() -> set[str]:
    """The registrable domains of the platform's name servers (``ns1.nameport.test`` ->
    ``nameport.test``)."""
    out = set()
    for host in settings.NAMEPORT_DEFAULT_NAMESERVERS:
        host = host.strip().lower().rstrip(".")
        if host:
            out.add(_suffix_list().privatesuffix(host) or host)
    return out


def is_reserved(name: str) -> bool:
    """A name no customer's zone may have: a suffix domains are sold under, or the platform's."""
    if "." not in name or _suffix_list().is_public(name):
        return True
    if Tld.objects.filter(name=name).exists():
        return True
    return any(
        name == own or name.endswith(f".{own}") or own.endswith(f".{name}")
        for own in platform_domains()
    )


def holding_domain(name: str, *, livemode: bool) -> Domain | None:
    """The held domain (of any tenant) that ``name`` is, or is under: the most specific one."""
    held = (
        Domain.objects.filter(name_puny__in=suffixes(name), livemode=livemode)
        .exclude(status__in=RELEASED_STATUSES)
        .only("pk", "name_puny", "customer_id", "organisation_id", "livemode")
    )
    return max(held, key=lambda domain: len(domain.name_puny), default=None)


def zones_at_or_under(name: str) -> QuerySet:
    """Zones named ``name`` or under it. Their reversed names share a prefix, a range that
    PostgreSQL reads from the ``dns_zone_reversed_name`` index (migration dns 0007) instead of
    reading every zone as ``LIKE '%.name'`` would; the second filter drops the names that only
    end in the same letters (``xexample.com`` for ``example.com``)."""
    from dns.models import Zone

    return (
        Zone.objects.alias(reversed_name=Reverse("name"))
        .filter(reversed_name__startswith=name[::-1])
        .filter(Q(name=name) | Q(name__endswith=f".{name}"))
    )


def is_at_or_under(name: str, parent: str) -> bool:
    return name == parent or name.endswith(f".{parent}")

"""Every state change of the domains app. Keyword-only, one transaction each, audited.

A change that must reach a registry writes the local change and a ``RegistrarOperation`` (the
outbox) in the same transaction; ``transaction.on_commit`` hands its id to a worker
(``domains.tasks.registrar_operation_run``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer
from domains.models import (
    Domain,
    DomainStatus,
    DomainStatusChange,
    Nameserver,
    RegistrarOperation,
    Tld,
)
from portal.audit import audit
from portal.tenancy import Actor

S = DomainStatus

# The state machine: target status -> the statuses it may be reached from.
TRANSITIONS: dict[str, set[str]] = {
    S.ACTIVE: {
        S.PENDING_REGISTRATION,
        S.PENDING_TRANSFER,
        S.EXPIRED,
        S.GRACE,
        S.REDEMPTION,
        S.SUSPENDED,
    },
    S.EXPIRED: {S.ACTIVE},
    S.GRACE: {S.ACTIVE},
    S.REDEMPTION: {S.EXPIRED, S.GRACE},
    S.PENDING_DELETE: {S.REDEMPTION, S.ACTIVE},
    S.DELETED: {S.PENDING_DELETE, S.PENDING_REGISTRATION, S.PENDING_TRANSFER},
    S.PENDING_TRANSFER: set(),
    S.TRANSFERRED_AWAY: {S.ACTIVE, S.EXPIRED, S.GRACE, S.SUSPENDED},
    S.SUSPENDED: {S.ACTIVE, S.EXPIRED, S.GRACE},
    S.PENDING_REGISTRATION: set(),
}


def allowed_from(to: str) -> set[str]:
    return TRANSITIONS[to]


class TransitionError(Exception):
    """The domain was not in a status the transition may start from (someone else moved it)."""


# --- names ------------------------------------------------------------------------------------
LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOSTNAME_MAX = 253


@dataclass(frozen=True)
class DomainName:
    unicode: str
    ascii: str
    label: str
    tld: Tld

    @property
    def is_idn(self) -> bool:
        return self.unicode != self.ascii


def _to_ascii(name: str) -> str:
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(f"{name!r} is not a valid domain name: {exc}") from None


def _check_ldh(ascii_name: str, *, what: str) -> None:
    if len(ascii_name) > HOSTNAME_MAX:
        raise ValidationError(f"{what} {ascii_name!r} is longer than 253 characters.")
    for label in ascii_name.split("."):
        if not LDH_LABEL.match(label):
            raise ValidationError(
                f"{what} {ascii_name!r} is not valid: each label is 1-63 letters, digits or "
                "hyphens, and does not start or end with a hyphen."
            )
        if label[2:4] == "--" and not label.startswith("xn--"):
            raise ValidationError(f"{what} {ascii_name!r} has '--' in the third and fourth place.")


def parse_domain_name(raw: str, *, tlds: dict[str, Tld] | None = None) -> DomainName:
    """``tlds``: the active TLDs by name, when the caller parses many names (saves a query each)."""
    """Validate a name to register: LDH/IDN rules, one label under a TLD that Nameport sells."""
    name = (raw or "").strip().lower().rstrip(".")
    if not name or "." not in name:
        raise ValidationError("Enter a full domain name, e.g. example.com.")
    ascii_name = _to_ascii(name)
    _check_ldh(ascii_name, what="Domain name")
    labels = ascii_name.split(".")
    candidates = [".".join(labels[i:]) for i in range(1, len(labels))]
    if tlds is None:
        tlds = {
            tld.name: tld
            for tld in Tld.objects.filter(is_active=True, name__in=candidates).select_related(
                "registrar_account"
            )
        }
    by_name = tlds
    tld = next((by_name[c] for c in candidates if c in by_name), None)
    if tld is None:
        raise ValidationError(f"We do not offer .{'.'.join(labels[1:])} domains.")
    label = ascii_name[: -(len(tld.name) + 1)]
    if "." in label:
        raise ValidationError(f"{name} is a subdomain; register {label.split('.')[-1]}.{tld.name}.")
    unicode_name = idna.decode(ascii_name)
    if unicode_name != ascii_name and not tld.idn_allowed:
        raise ValidationError(f".{tld.name} does not accept internationalised names.")
    return DomainName(unicode=unicode_name, ascii=ascii_name, label=label, tld=tld)


def validate_hostname(raw: str) -> str:
    """A nameserver or glue host name: LDH, at least two labels, not an address or an e-mail."""
    name = (raw or "").strip().lower().rstrip(".")
    if not name:
        raise ValidationError("Enter a host name.")
    if "@" in name or "/" in name or " " in name:
        raise ValidationError(f"{raw!r} is not a valid host name.")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise ValidationError(
            f"{raw!r} is an IP address; enter a host name such as ns1.example.com."
        )
    ascii_name = _to_ascii(name)
    if "." not in ascii_name:
        raise ValidationError(f"{raw!r} is not a fully qualified host name.")
    _check_ldh(ascii_name, what="Host name")
    return ascii_name


def validate_nameservers(domain_ascii: str, raw: list[str], *, glue: set[str]) -> list[str]:
    """2 to 13 distinct host names; a host inside the domain itself needs a glue host."""
    hosts = [validate_hostname(h) for h in raw if (h or "").strip()]
    if len(hosts) < 2:
        raise ValidationError("Give at least two nameservers.")
    if len(hosts) > 13:
        raise ValidationError("Give at most thirteen nameservers.")
    if len(set(hosts)) != len(hosts):
        raise ValidationError("Each nameserver may be given only once.")
    for host in hosts:
        if (host == domain_ascii or host.endswith(f".{domain_ascii}")) and host not in glue:
            raise ValidationError(
                f"{host} is inside {domain_ascii}: create it as a glue host with its IP "
                "addresses first."
            )
    return hosts


# --- the outbox -------------------------------------------------------------------------------
def operation_enqueue(
    *, actor: Actor, domain: Domain, kind: str, payload: dict | None = None
) -> RegistrarOperation:
    """Write an outbox row (inside the caller's transaction) and enqueue it after commit."""
    operation = RegistrarOperation.objects.create(
        organisation_id=domain.organisation_id,
        domain=domain,
        registrar_account_id=domain.registrar_account_id or domain.tld.registrar_account_id,
        livemode=domain.livemode,
        kind=kind,
        payload=payload or {},
        created_by=actor.user,
        next_attempt_at=timezone.now(),
    )
    from domains.tasks import registrar_operation_run

    transaction.on_commit(lambda: registrar_operation_run.delay(operation.pk))
    return operation


# --- the state machine ------------------------------------------------------------------------
def domain_transition(*, domain: Domain, to: str, actor: Actor, reason: str = "") -> Domain:
    """Move ``domain`` to ``to`` if its current status allows it; raise TransitionError if not."""
    with transaction.atomic():
        updated = Domain.objects.filter(pk=domain.pk, status__in=allowed_from(to)).update(
            status=to, updated_at=timezone.now()
        )
        if not updated:
            current = Domain.objects.filter(pk=domain.pk).values_list("status", flat=True).first()
            raise TransitionError(f"{domain.name} cannot go from {current} to {to}")
        DomainStatusChange.objects.create(
            domain=domain, from_status=domain.status, to_status=to, reason=reason, actor=str(actor)
        )
    domain.status = to
    return domain


def lifecycle_dates(tld: Tld, expires_at: datetime) -> dict[str, datetime]:
    outzone_at = expires_at + timedelta(days=tld.grace_days)
    return {"outzone_at": outzone_at, "delete_at": outzone_at + timedelta(days=tld.redemption_days)}


# --- actions ----------------------------------------------------------------------------------
def _require_status(domain: Domain, *allowed: str, action: str) -> None:
    if domain.status not in allowed:
        raise ValidationError(
            f"{domain.name} is {domain.get_status_display().lower()}; it cannot be {action} now."
        )


def domain_register(
    *,
    actor: Actor,
    customer: Customer,
    name: str,
    years: int = 1,
    nameservers: list[str] | None = None,
    id_protection: bool = False,
    autorenew: bool = True,
) -> Domain:
    parsed = parse_domain_name(name)
    tld = parsed.tld
    if not (tld.min_years <= years <= tld.max_years):
        raise ValidationError(
            {"years": f".{tld.name} registers for {tld.min_years} to {tld.max_years} years."}
        )
    hosts = validate_nameservers(
        parsed.ascii, nameservers or settings.NAMEPORT_DEFAULT_NAMESERVERS, glue=set()
    )
    with transaction.atomic():
        domain = Domain(
            organisation=customer.organisation,
            customer=customer,
            livemode=customer.livemode,
            name=parsed.unicode,
            name_puny=parsed.ascii,
            tld=tld,
            registrar_account=tld.registrar_account,
            status=S.PENDING_REGISTRATION,
            period=years,
            id_protection=id_protection,
            autorenew=autorenew,
        )
        domain.full_clean()
        domain.save()
        Nameserver.objects.bulk_create(
            Nameserver(domain=domain, position=i, hostname=h) for i, h in enumerate(hosts, 1)
        )
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.REGISTER,
            payload={"years": years, "nameservers": hosts, "privacy": id_protection},
        )
        audit(
            actor=actor,
            action="domain.register",
            obj=domain,
            organisation=customer.organisation,
            data={"name": domain.name, "years": years},
        )
    return domain


def domain_renew(*, actor: Actor, domain: Domain, years: int) -> RegistrarOperation:
    tld = domain.tld
    if not (1 <= years <= tld.max_years):
        raise ValidationError({"years": f".{tld.name} renews for 1 to {tld.max_years} years."})
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="renewed")
    with transaction.atomic():
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=RegistrarOperation.Kind.RENEW, payload={"years": years}
        )
        audit(actor=actor, action="domain.renew", obj=domain, data={"years": years})
    return operation


def domain_set_nameservers(
    *, actor: Actor, domain: Domain, nameservers: list[str]
) -> RegistrarOperation:
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    glue = set(domain.hosts.values_list("hostname", flat=True))
    hosts = validate_nameservers(domain.name_puny, nameservers, glue=glue)
    with transaction.atomic():
        domain.nameservers.all().delete()
        Nameserver.objects.bulk_create(
            Nameserver(domain=domain, position=i, hostname=h) for i, h in enumerate(hosts, 1)
        )
        operation = operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.NAMESERVERS,
            payload={"nameservers": hosts},
        )
        audit(actor=actor, action="domain.nameservers", obj=domain, data={"nameservers": hosts})
    return operation


def _set_flag(
    *, actor: Actor, domain: Domain, field: str, value: bool, kind: str
) -> RegistrarOperation:
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    with transaction.atomic():
        Domain.objects.filter(pk=domain.pk).update(**{field: value, "updated_at": timezone.now()})
        setattr(domain, field, value)
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=kind, payload={"value": value}
        )
        audit(actor=actor, action=f"domain.{kind}", obj=domain, data={field: value})
    return operation


def domain_set_lock(*, actor: Actor, domain: Domain, locked: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="registrar_lock",
        value=locked,
        kind=RegistrarOperation.Kind.LOCK,
    )


def domain_set_privacy(*, actor: Actor, domain: Domain, enabled: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="id_protection",
        value=enabled,
        kind=RegistrarOperation.Kind.PRIVACY,
    )


def domain_set_autorenew(*, actor: Actor, domain: Domain, enabled: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="autorenew",
        value=enabled,
        kind=RegistrarOperation.Kind.AUTORENEW,
    )


# --- the lifecycle, in set-based queries --------------------------------------------------------
def lifecycle_advance(*, now: datetime | None = None, actor: Actor) -> dict[str, int]:
    """Move every domain whose dates have passed one step along; one UPDATE per step."""
    now = now or timezone.now()
    steps = [
        # (from, to, condition)
        (S.ACTIVE, S.GRACE, {"expires_at__lt": now, "tld__grace_days__gt": 0}),
        (S.ACTIVE, S.EXPIRED, {"expires_at__lt": now, "tld__grace_days": 0}),
        (S.GRACE, S.REDEMPTION, {"outzone_at__lt": now}),
        (S.EXPIRED, S.REDEMPTION, {"outzone_at__lt": now}),
        (S.REDEMPTION, S.PENDING_DELETE, {"delete_at__lt": now}),
    ]
    moved: dict[str, int] = {}
    with transaction.atomic():
        for from_status, to_status, condition in steps:
            ids = list(
                Domain.objects.filter(status=from_status, **condition).values_list("pk", flat=True)
            )
            if not ids:
                continue
            Domain.objects.filter(pk__in=ids, status=from_status).update(
                status=to_status, updated_at=now
            )
            DomainStatusChange.objects.bulk_create(
                DomainStatusChange(
                    domain_id=pk,
                    from_status=from_status,
                    to_status=to_status,
                    reason="lifecycle",
                    actor=str(actor),
                )
                for pk in ids
            )
            moved[f"{from_status}->{to_status}"] = len(ids)
        # Pending delete lasts tld.pending_delete_days past delete_at, then the name is released.
        ids = list(
            Domain.objects.filter(status=S.PENDING_DELETE, delete_at__lt=now)
            .annotate(released_at=F("delete_at"))
            .values_list("pk", "delete_at", "tld__pending_delete_days")
        )
        done = [pk for pk, delete_at, days in ids if delete_at + timedelta(days=days) < now]
        if done:
            Domain.objects.filter(pk__in=done, status=S.PENDING_DELETE).update(
                status=S.DELETED, updated_at=now
            )
            DomainStatusChange.objects.bulk_create(
                DomainStatusChange(
                    domain_id=pk,
                    from_status=S.PENDING_DELETE,
                    to_status=S.DELETED,
                    reason="lifecycle",
                    actor=str(actor),
                )
                for pk in done
            )
            moved["pending_delete->deleted"] = len(done)
    return moved

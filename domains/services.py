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
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer
from domains import policies
from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainDrift,
    DomainStatus,
    DomainStatusChange,
    HostRecord,
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
    from domains.tasks import enqueue

    transaction.on_commit(lambda: enqueue([operation.pk]))
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
def _authorize(actor: Actor, domain: Domain, privilege: str) -> None:
    """Contacts act only within their seed-003 domain privileges; others in scope may act."""
    if not policies.can_act(actor, domain, privilege):
        raise PermissionDenied(f"You do not have the {privilege!r} privilege for {domain.name}.")


def authorize_customer(actor: Actor, customer: Customer) -> None:
    """May ``actor`` order for ``customer``? (The selectors already hide other tenants.)"""
    if not policies.can_order(actor, customer):
        raise PermissionDenied(policies.order_refusal(actor))


def _require_status(domain: Domain, *allowed: str, action: str) -> None:
    if domain.status not in allowed:
        raise ValidationError(
            f"{domain.name} is {domain.get_status_display().lower()}; it cannot be {action} now."
        )


def expected_registry_cost(tld: Tld, years: int, currency: str = "USD") -> dict | None:
    """What the platform's price list says a registration costs at the registry, for the
    premium-price guard (see domains.outbox): ``{"amount": "9.80", "currency": "USD"}``.
    Platform-internal: staff only (``domains.policies.operation_payload_for``)."""
    from billing.pricing import PriceList
    from portal.tenancy import SYSTEM

    quote = PriceList(SYSTEM, [tld], "register", years).price(tld)
    if quote is None or quote.cost is None or quote.currency != currency:
        return None
    return {"amount": str(quote.cost), "currency": currency}


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
    authorize_customer(actor, customer)
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
        _contacts_from_customer(domain, customer)
        payload = {"years": years, "nameservers": hosts, "privacy": id_protection}
        expected = expected_registry_cost(tld, years)
        if expected is not None:
            payload["expected_cost"] = expected
        operation_enqueue(
            actor=actor, domain=domain, kind=RegistrarOperation.Kind.REGISTER, payload=payload
        )
        audit(
            actor=actor,
            action="domain.register",
            obj=domain,
            organisation=customer.organisation,
            data={"name": domain.name, "years": years},
        )
    return domain


def _contacts_from_customer(domain: Domain, customer: Customer) -> None:
    """The customer's own details as the four domain contacts (registrant, admin, tech, billing)."""
    fields = {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "organization": customer.company,
        "email": customer.email,
        "phone": customer.phone,
        "address_1": customer.address or "-",
        "address_2": customer.address2,
        "city": customer.city or "-",
        "state": customer.state,
        "zip": customer.post_code,
        "country": customer.country or "US",
    }
    DomainContact.objects.bulk_create(
        DomainContact(domain=domain, role=role, **fields) for role in DomainContact.Role.values
    )


def domain_transfer_in(
    *, actor: Actor, customer: Customer, name: str, auth_code: str, years: int = 1
) -> Domain:
    """Start a transfer of a name held elsewhere; the registry decides with the auth code."""
    authorize_customer(actor, customer)
    parsed = parse_domain_name(name)
    auth_code = (auth_code or "").strip()
    if not auth_code:
        raise ValidationError({"auth_code": "Enter the transfer authorisation (EPP) code."})
    if len(auth_code) > 64:
        raise ValidationError({"auth_code": "That code is too long (64 characters at most)."})
    if not (1 <= years <= parsed.tld.max_years):
        raise ValidationError({"years": f"Choose 1 to {parsed.tld.max_years} years."})
    with transaction.atomic():
        domain = Domain(
            organisation=customer.organisation,
            customer=customer,
            livemode=customer.livemode,
            name=parsed.unicode,
            name_puny=parsed.ascii,
            tld=parsed.tld,
            registrar_account=parsed.tld.registrar_account,
            status=S.PENDING_TRANSFER,
            period=years,
            auth_code=auth_code,
        )
        domain.full_clean()
        domain.save()
        _contacts_from_customer(domain, customer)
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.TRANSFER,
            payload={"years": years},
        )
        audit(
            actor=actor,
            action="domain.transfer_in",
            obj=domain,
            organisation=customer.organisation,
            data={"name": domain.name, "years": years},
        )
    return domain


# Registries refuse a renewal whose new expiry is more than ten years away (the registry
# agreements cap a registration at ten years), whatever the TLD's own maximum per renewal.
MAX_YEARS_AHEAD = 10


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a year without one
        return moment.replace(year=moment.year + years, day=28)


def _refuse_beyond_ten_years(domain: Domain, years: int) -> None:
    """The expiry after this renewal, and after the renewals still queued, is at most ten years
    from today. Called with the domain row locked, so two renewals cannot both pass."""
    if domain.expires_at is None:
        return
    queued = sum(
        int(payload.get("years") or 0)
        for payload in domain.operations.filter(
            kind=RegistrarOperation.Kind.RENEW,
            status__in=(
                RegistrarOperation.Status.PENDING,
                RegistrarOperation.Status.RUNNING,
                RegistrarOperation.Status.HELD,
            ),
        ).values_list("payload", flat=True)
    )
    limit = add_years(timezone.now(), MAX_YEARS_AHEAD)
    if add_years(domain.expires_at, queued + years) <= limit:
        return
    more = max(
        (n for n in range(years) if add_years(domain.expires_at, queued + n) <= limit), default=0
    )
    expiry = add_years(domain.expires_at, queued)
    where = f"{domain.name} expires on {expiry:%Y-%m-%d}" + (
        " once the renewals already queued are done" if queued else ""
    )
    if more:
        advice = f"it can be renewed for at most {more} year{'s' if more > 1 else ''} now."
    else:
        advice = "it cannot be renewed now."
    raise ValidationError(
        {
            "years": f"A domain cannot be renewed to more than {MAX_YEARS_AHEAD} years from "
            f"today, as registries refuse that: {where}; {advice}"
        }
    )


def domain_renew(*, actor: Actor, domain: Domain, years: int) -> RegistrarOperation:
    tld = domain.tld
    if not (1 <= years <= tld.max_years):
        raise ValidationError({"years": f".{tld.name} renews for 1 to {tld.max_years} years."})
    _authorize(actor, domain, "renew")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="renewed")
    with transaction.atomic():
        _refuse_beyond_ten_years(Domain.objects.select_for_update().get(pk=domain.pk), years)
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=RegistrarOperation.Kind.RENEW, payload={"years": years}
        )
        audit(actor=actor, action="domain.renew", obj=domain, data={"years": years})
    return operation


def domain_set_nameservers(
    *, actor: Actor, domain: Domain, nameservers: list[str]
) -> RegistrarOperation:
    _authorize(actor, domain, "nameservers")
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


FLAG_PRIVILEGES = {
    RegistrarOperation.Kind.LOCK: "reglock",
    RegistrarOperation.Kind.PRIVACY: "idprotection",
    RegistrarOperation.Kind.AUTORENEW: "autorenew",
}


def _set_flag(
    *, actor: Actor, domain: Domain, field: str, value: bool, kind: str
) -> RegistrarOperation:
    _authorize(actor, domain, FLAG_PRIVILEGES[kind])
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


# --- auth code, contacts, glue hosts, DNSSEC, sync ------------------------------------------------
def domain_request_auth_code(*, actor: Actor, domain: Domain) -> RegistrarOperation:
    """Fetch the transfer code from the registry (it is stored encrypted when it arrives)."""
    if not actor.can("domains", "eppcode", domain.pk):
        raise ValidationError("You are not allowed to see this domain's transfer code.")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="transferred out")
    if domain.registrar_lock:
        raise ValidationError(
            f"{domain.name} is locked against transfers: turn the registrar lock off first."
        )
    with transaction.atomic():
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=RegistrarOperation.Kind.AUTH_CODE
        )
        audit(actor=actor, action="domain.auth_code.request", obj=domain)
    return operation


def domain_reveal_auth_code(*, actor: Actor, domain: Domain) -> str:
    """The stored transfer code; every view of it is audited."""
    if not actor.can("domains", "eppcode", domain.pk):
        raise ValidationError("You are not allowed to see this domain's transfer code.")
    if domain.registrar_lock:
        raise ValidationError(
            f"{domain.name} is locked against transfers: turn the registrar lock off first."
        )
    if not domain.auth_code:
        raise ValidationError("No transfer code yet: request it from the registry first.")
    audit(actor=actor, action="domain.auth_code.view", obj=domain)
    return str(domain.auth_code)


CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "address_1",
    "address_2",
    "city",
    "state",
    "zip",
    "country",
]


def domain_set_contacts(
    *, actor: Actor, domain: Domain, contacts: dict[str, dict]
) -> RegistrarOperation:
    """Replace some of the four contacts: ``{"registrant": {...}, "tech": {...}}``."""
    _authorize(actor, domain, "contactinfo")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    unknown = set(contacts) - set(DomainContact.Role.values)
    if unknown or not contacts:
        raise ValidationError(
            {"contacts": "Give contacts by role: registrant, admin, tech, billing."}
        )
    with transaction.atomic():
        for role, data in contacts.items():
            contact = DomainContact.objects.filter(domain=domain, role=role).first() or (
                DomainContact(domain=domain, role=role)
            )
            for field in CONTACT_FIELDS:
                if field in data:
                    setattr(contact, field, (data[field] or "").strip())
            contact.country = contact.country.upper()
            try:
                contact.full_clean()
            except ValidationError as exc:
                raise ValidationError(
                    {f"{role}.{k}": v for k, v in exc.message_dict.items()}
                ) from None
            contact.save()
        operation = operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.CONTACTS,
            payload={"roles": sorted(contacts)},
        )
        audit(actor=actor, action="domain.contacts", obj=domain, data={"roles": sorted(contacts)})
    return operation


def _clean_addresses(raw: list[str], field: str, kind: type) -> list[str]:
    clean = set()
    for value in raw or []:
        try:
            clean.add(str(kind(str(value).strip())))
        except ValueError:
            version = "IPv4" if kind is ipaddress.IPv4Address else "IPv6"
            raise ValidationError({field: f"{value!r} is not an {version} address."}) from None
    return sorted(clean)


def _validate_addresses(ipv4: list[str], ipv6: list[str]) -> tuple[list[str], list[str]]:
    clean4 = _clean_addresses(ipv4, "ipv4", ipaddress.IPv4Address)
    clean6 = _clean_addresses(ipv6, "ipv6", ipaddress.IPv6Address)
    if not clean4 and not clean6:
        raise ValidationError("A glue host needs at least one IPv4 or IPv6 address.")
    return clean4, clean6


def host_create(
    *, actor: Actor, domain: Domain, hostname: str, ipv4: list[str], ipv6: list[str]
) -> HostRecord:
    _authorize(actor, domain, "nameservers")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    host_name = validate_hostname(hostname)
    if not host_name.endswith(f".{domain.name_puny}"):
        raise ValidationError({"hostname": f"A glue host must be inside {domain.name_puny}."})
    ipv4, ipv6 = _validate_addresses(ipv4, ipv6)
    if domain.hosts.filter(hostname=host_name).exists():
        raise ValidationError({"hostname": f"{host_name} already exists."})
    with transaction.atomic():
        host = HostRecord.objects.create(domain=domain, hostname=host_name, ipv4=ipv4, ipv6=ipv6)
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.HOST_CREATE,
            payload={"hostname": host_name, "ipv4": ipv4, "ipv6": ipv6},
        )
        audit(actor=actor, action="domain.host.create", obj=domain, data={"hostname": host_name})
    return host


def host_set_addresses(
    *, actor: Actor, host: HostRecord, ipv4: list[str], ipv6: list[str]
) -> HostRecord:
    domain = host.domain
    _authorize(actor, domain, "nameservers")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    ipv4, ipv6 = _validate_addresses(ipv4, ipv6)
    with transaction.atomic():
        HostRecord.objects.filter(pk=host.pk).update(ipv4=ipv4, ipv6=ipv6)
        host.ipv4, host.ipv6 = ipv4, ipv6
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.HOST_UPDATE,
            payload={"hostname": host.hostname, "ipv4": ipv4, "ipv6": ipv6},
        )
        audit(
            actor=actor, action="domain.host.update", obj=domain, data={"hostname": host.hostname}
        )
    return host


def host_delete(*, actor: Actor, host: HostRecord) -> None:
    domain = host.domain
    _authorize(actor, domain, "nameservers")
    if domain.nameservers.filter(hostname=host.hostname).exists():
        raise ValidationError(
            f"{host.hostname} is one of {domain.name}'s nameservers: replace it there first."
        )
    with transaction.atomic():
        hostname = host.hostname
        host.delete()
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.HOST_DELETE,
            payload={"hostname": hostname},
        )
        audit(actor=actor, action="domain.host.delete", obj=domain, data={"hostname": hostname})


def _ds_payload(domain: Domain) -> list[dict]:
    return [
        {
            "key_tag": d.key_tag,
            "algorithm": d.algorithm,
            "digest_type": d.digest_type,
            "digest": d.digest,
        }
        for d in domain.ds_records.order_by("key_tag", "pk")
    ]


DIGEST_LENGTHS = {1: 40, 2: 64, 4: 96}


def ds_add(
    *, actor: Actor, domain: Domain, key_tag: int, algorithm: int, digest_type: int, digest: str
) -> DnssecDs:
    _authorize(actor, domain, "dnsmanagement")
    _require_status(domain, S.ACTIVE, S.EXPIRED, S.GRACE, action="changed")
    digest = re.sub(r"\s+", "", digest or "").upper()
    errors = {}
    if not (0 <= int(key_tag) <= 65535):
        errors["key_tag"] = "The key tag is a number from 0 to 65535."
    if int(algorithm) not in {5, 7, 8, 10, 13, 14, 15, 16}:
        errors["algorithm"] = "Use a DNSSEC algorithm number: 8, 13, 14, 15 or 16 (or 5/7/10)."
    if int(digest_type) not in DIGEST_LENGTHS:
        errors["digest_type"] = "Use digest type 1 (SHA-1), 2 (SHA-256) or 4 (SHA-384)."
    elif not re.fullmatch(r"[0-9A-F]+", digest) or len(digest) != DIGEST_LENGTHS[int(digest_type)]:
        errors["digest"] = (
            f"A type {digest_type} digest is {DIGEST_LENGTHS[int(digest_type)]} hex characters."
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ds, created = DnssecDs.objects.get_or_create(
            domain=domain,
            key_tag=key_tag,
            algorithm=algorithm,
            digest_type=digest_type,
            digest=digest,
        )
        if not created:
            raise ValidationError("This DS record is already published.")
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.DNSSEC,
            payload={"ds": _ds_payload(domain)},
        )
        audit(actor=actor, action="domain.ds.add", obj=domain, data={"key_tag": key_tag})
    return ds


def ds_remove(*, actor: Actor, ds: DnssecDs) -> None:
    domain = ds.domain
    _authorize(actor, domain, "dnsmanagement")
    with transaction.atomic():
        key_tag = ds.key_tag
        ds.delete()
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.DNSSEC,
            payload={"ds": _ds_payload(domain)},
        )
        audit(actor=actor, action="domain.ds.remove", obj=domain, data={"key_tag": key_tag})


def domain_sync(*, actor: Actor, domain: Domain) -> RegistrarOperation:
    _authorize(actor, domain, "basic")
    with transaction.atomic():
        operation = operation_enqueue(actor=actor, domain=domain, kind=RegistrarOperation.Kind.SYNC)
        audit(actor=actor, action="domain.sync", obj=domain)
    return operation


# --- suspension (staff: abuse, legal or payment holds) -------------------------------------------
def _suspension(*, actor: Actor, domain: Domain, to: str, reason: str, action: str) -> Domain:
    if not policies.can_suspend(actor):
        raise PermissionDenied("Only platform staff suspend or unsuspend domains.")
    reason = (reason or "").strip()[:200] or action.replace("domain.", "").capitalize()
    with transaction.atomic():
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        allowed = allowed_from(to) if to == S.SUSPENDED else {S.SUSPENDED}
        if domain.status not in allowed:
            raise ValidationError(
                f"{domain.name} is {domain.get_status_display().lower()}; it cannot be "
                f"{'suspended' if to == S.SUSPENDED else 'unsuspended'}."
            )
        previous = domain.status
        domain_transition(domain=domain, to=to, actor=actor, reason=reason)
        audit(
            actor=actor,
            action=action,
            obj=domain,
            organisation=domain.organisation,
            data={"name": domain.name, "from": previous, "reason": reason},
        )
    return domain


def domain_suspend(*, actor: Actor, domain: Domain, reason: str = "") -> Domain:
    """Suspend a domain in the portal (staff); its history and the audit trail say why."""
    return _suspension(
        actor=actor, domain=domain, to=S.SUSPENDED, reason=reason, action="domain.suspend"
    )


def domain_unsuspend(*, actor: Actor, domain: Domain, reason: str = "") -> Domain:
    return _suspension(
        actor=actor, domain=domain, to=S.ACTIVE, reason=reason, action="domain.unsuspend"
    )


# --- operations: retry, cancel; drift: re-push or accept ----------------------------------------
def _require_staff_or_reseller(actor: Actor, what: str) -> None:
    if not policies.can_manage_operations(actor):
        raise PermissionDenied(f"Only staff and resellers can {what}.")


def operation_retry(*, actor: Actor, operation: RegistrarOperation) -> RegistrarOperation:
    """Put a failed, held or cancelled operation back in the queue, with a fresh attempt budget."""
    _require_staff_or_reseller(actor, "retry registry operations")
    Status = RegistrarOperation.Status
    with transaction.atomic():
        if operation.status == Status.HELD and "expected_cost" in operation.payload:
            # Staff looked at the registry's price and chose to go ahead at that price.
            payload = {**operation.payload, "accepted_cost": operation.payload["expected_cost"]}
            payload.pop("expected_cost")
            RegistrarOperation.objects.filter(pk=operation.pk).update(payload=payload)
        updated = RegistrarOperation.objects.filter(
            pk=operation.pk, status__in=[Status.FAILED, Status.HELD, Status.CANCELLED]
        ).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            finished_at=None,
            updated_at=timezone.now(),
        )
        if not updated:
            raise ValidationError(
                f"Only failed, held or cancelled operations can be retried; this one is "
                f"{operation.get_status_display().lower()}."
            )
        audit(
            actor=actor,
            action="operation.retry",
            obj=operation,
            organisation=operation.organisation,
        )
        from domains.tasks import enqueue

        transaction.on_commit(lambda: enqueue([operation.pk]))
    operation.refresh_from_db()
    return operation


def operation_cancel(*, actor: Actor, operation: RegistrarOperation) -> RegistrarOperation:
    _require_staff_or_reseller(actor, "cancel registry operations")
    Status = RegistrarOperation.Status
    with transaction.atomic():
        updated = RegistrarOperation.objects.filter(
            pk=operation.pk, status__in=[Status.PENDING, Status.HELD, Status.FAILED]
        ).update(status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now())
        if not updated:
            raise ValidationError(
                f"This operation is {operation.get_status_display().lower()}; "
                "only pending, held or failed ones can be cancelled."
            )
        audit(
            actor=actor,
            action="operation.cancel",
            obj=operation,
            organisation=operation.organisation,
        )
    operation.refresh_from_db()
    return operation


def drift_resolve(*, actor: Actor, drift: DomainDrift, accept: bool) -> DomainDrift:
    """Accept the registry's value into the portal, or push the portal's value again."""
    _require_staff_or_reseller(actor, "resolve differences with the registry")
    domain = drift.domain
    with transaction.atomic():
        updated = DomainDrift.objects.filter(
            pk=drift.pk, resolution=DomainDrift.Resolution.OPEN
        ).update(
            resolution=DomainDrift.Resolution.ACCEPTED
            if accept
            else DomainDrift.Resolution.REPUSHED,
            resolved_by=str(actor),
            resolved_at=timezone.now(),
        )
        if not updated:
            raise ValidationError("This difference has already been resolved.")
        if accept:
            _accept_registry_value(domain, drift.field, drift.registry_value)
        else:
            _repush(actor, domain, drift.field)
        audit(
            actor=actor,
            action="domain.drift." + ("accept" if accept else "repush"),
            obj=domain,
            data={"field": drift.field},
        )
    drift.refresh_from_db()
    return drift


FLAG_FIELDS = {"locked": "registrar_lock", "privacy": "id_protection", "autorenew": "autorenew"}
FLAG_KINDS = {
    "locked": RegistrarOperation.Kind.LOCK,
    "privacy": RegistrarOperation.Kind.PRIVACY,
    "autorenew": RegistrarOperation.Kind.AUTORENEW,
}


def _accept_registry_value(domain: Domain, field: str, value) -> None:
    if field in FLAG_FIELDS:
        Domain.objects.filter(pk=domain.pk).update(**{FLAG_FIELDS[field]: bool(value)})
    elif field == "nameservers":
        domain.nameservers.all().delete()
        Nameserver.objects.bulk_create(
            Nameserver(domain=domain, position=i, hostname=h) for i, h in enumerate(value, 1)
        )
    elif field == "ds_records":
        domain.ds_records.all().delete()
        DnssecDs.objects.bulk_create(DnssecDs(domain=domain, **ds) for ds in value)


def _repush(actor: Actor, domain: Domain, field: str) -> None:
    if field in FLAG_FIELDS:
        value = getattr(domain, FLAG_FIELDS[field])
        operation_enqueue(
            actor=actor, domain=domain, kind=FLAG_KINDS[field], payload={"value": value}
        )
    elif field == "nameservers":
        hosts = list(domain.nameservers.order_by("position").values_list("hostname", flat=True))
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.NAMESERVERS,
            payload={"nameservers": hosts},
        )
    elif field == "ds_records":
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.DNSSEC,
            payload={"ds": _ds_payload(domain)},
        )
    else:
        raise ValidationError(f"{field} cannot be pushed; accept the registry's value instead.")


def record_drift(domain: Domain, info) -> list[DomainDrift]:
    """Compare the portal's view with the registry's ``DomainInfo``; expiry and EPP statuses are
    the registry's to decide and are taken over; the rest is recorded for staff."""
    portal = {
        "nameservers": list(
            domain.nameservers.order_by("position").values_list("hostname", flat=True)
        ),
        "locked": domain.registrar_lock,
        "privacy": domain.id_protection,
        "autorenew": domain.autorenew,
        "ds_records": _ds_payload(domain),
    }
    registry = {
        "nameservers": list(info.nameservers),
        "locked": info.locked,
        "privacy": info.privacy,
        "autorenew": info.autorenew,
        "ds_records": sorted(
            (
                {
                    "key_tag": d.key_tag,
                    "algorithm": d.algorithm,
                    "digest_type": d.digest_type,
                    "digest": d.digest.upper(),
                }
                for d in info.ds_records
            ),
            key=lambda d: d["key_tag"],
        ),
    }
    drifts = []
    if (
        domain.expires_at
        and info.expires_at
        and abs(domain.expires_at - info.expires_at) > timedelta(hours=1)
    ):
        drifts.append(
            DomainDrift(
                domain=domain,
                field="expires_at",
                portal_value=domain.expires_at.isoformat(),
                registry_value=info.expires_at.isoformat(),
                resolution=DomainDrift.Resolution.ACCEPTED,
                resolved_by="sync",
                resolved_at=timezone.now(),
            )
        )
    for field, theirs in registry.items():
        if theirs is None:
            continue  # the registry does not report it
        ours = portal[field]
        if field == "nameservers":
            same = [h.lower().rstrip(".") for h in ours] == [h.lower().rstrip(".") for h in theirs]
        else:
            same = ours == theirs
        if same:
            continue
        DomainDrift.objects.filter(
            domain=domain, field=field, resolution=DomainDrift.Resolution.OPEN
        ).delete()
        drifts.append(
            DomainDrift(domain=domain, field=field, portal_value=ours, registry_value=theirs)
        )
    DomainDrift.objects.bulk_create(drifts)
    return drifts


# --- periodic sync, spread over the day -----------------------------------------------------------
SYNC_EVERY = timedelta(days=1)
SYNC_RUNS_PER_DAY = 144  # the beat entry runs every 10 minutes


def sync_schedule(*, now: datetime | None = None, minimum: int = 20) -> int:
    """Queue a sync for the domains due one (not synced for a day), closest to expiry first, a
    slice per run so that a day's syncs spread over the day instead of hitting a registry at
    once. Returns how many were queued."""
    now = now or timezone.now()
    held = Domain.objects.filter(
        status__in=[S.ACTIVE, S.EXPIRED, S.GRACE, S.REDEMPTION],
        registrar_account__isnull=False,
    )
    batch = max(minimum, -(-held.count() // SYNC_RUNS_PER_DAY))
    pending = RegistrarOperation.objects.filter(
        kind=RegistrarOperation.Kind.SYNC,
        status__in=[RegistrarOperation.Status.PENDING, RegistrarOperation.Status.RUNNING],
    ).values("domain_id")
    due = list(
        held.filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lt=now - SYNC_EVERY))
        .exclude(pk__in=pending)
        .order_by(F("expires_at").asc(nulls_last=True))
        .values_list("pk", "organisation_id", "registrar_account_id", "livemode")[:batch]
    )
    if not due:
        return 0
    with transaction.atomic():
        operations = RegistrarOperation.objects.bulk_create(
            RegistrarOperation(
                domain_id=pk,
                organisation_id=org,
                registrar_account_id=account,
                livemode=live,
                kind=RegistrarOperation.Kind.SYNC,
                next_attempt_at=now,
            )
            for pk, org, account, live in due
        )
        ids = [operation.pk for operation in operations]
        from domains.tasks import enqueue

        transaction.on_commit(lambda: enqueue(ids))
    return len(ids)

"""The actions on domains: register, transfer, renew, nameservers, flags, contacts, glue hosts,
DNSSEC, sync, suspension, and retrying or cancelling operations. Keyword-only, one transaction
each, audited.

A change that must reach a registry writes the local change and a ``RegistrarOperation`` (the
outbox) in the same transaction with ``domains.dispatch.operation_enqueue``, which hands its id
to a worker after commit. Name rules come from ``domains.names``, status changes go through
``domains.lifecycle``; the worker side (``domains.outbox``) is never imported here.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from customers.accounts import customer_require_open
from customers.models import Customer
from customers.roles import Right, requires
from domains import hooks, policies
from domains.dispatch import enqueue, operation_enqueue, wake_next
from domains.lifecycle import (
    FLAG_FIELDS,
    FLAG_KINDS,
    add_years,
    allowed_from,
    domain_transition,
    ds_payload,
    order_ended,
    order_resumed,
)
from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainDrift,
    DomainStatus,
    HostRecord,
    Nameserver,
    RegistrarAccount,
    RegistrarOperation,
    Tld,
    TransferDefault,
    TransferRequest,
)
from domains.names import CONTACT_FIELDS, parse_domain_name, validate_hostname, validate_nameservers
from portal.audit import audit
from portal.tenancy import SYSTEM, Actor

S = DomainStatus


# --- actions ----------------------------------------------------------------------------------
def _authorize(actor: Actor, domain: Domain, privilege: str) -> None:
    """Contacts act only within their seed-003 domain privileges; others in scope may act."""
    if not policies.can_act(actor, domain, privilege):
        raise PermissionDenied(f"You do not have the {privilege!r} privilege for {domain.name}.")


def authorize_customer(actor: Actor, customer: Customer) -> None:
    """May ``actor`` order for ``customer``? (The selectors already hide other tenants.)"""
    if not policies.can_order(actor, customer):
        raise PermissionDenied(policies.order_refusal(actor))


def _require_open(actor: Actor, customer: Customer | int) -> None:
    """An archived customer starts nothing new (customers.accounts.customer_require_open); work
    it paid for before (an order's items, renewal invoices) goes on under the system actor."""
    if not actor.extra.get("system"):
        customer_require_open(customer)


def _require_status(domain: Domain, *allowed: str, action: str) -> None:
    if domain.status not in allowed:
        raise ValidationError(
            f"{domain.name} is {domain.get_status_display().lower()}; it cannot be {action} now."
        )


# The statuses in which a domain's settings can be changed.
CHANGEABLE = (S.ACTIVE, S.EXPIRED, S.GRACE)


def _lock(domain: Domain, *allowed: str, action: str = "changed") -> Domain:
    """Lock ``domain``'s row for the rest of the transaction, then check its status there (not
    the caller's copy, which may be stale): two actions on one domain run one after the other,
    each seeing what the other committed. The caller's object takes the row's status and flags.
    Returns the locked row."""
    locked = Domain.objects.select_for_update().get(pk=domain.pk)
    domain.status = locked.status
    domain.registrar_lock = locked.registrar_lock
    if allowed:
        _require_status(locked, *allowed, action=action)
    return locked


def expected_registry_cost(
    tld: Tld, years: int, currency: str = "USD", *, action: str = "register"
) -> dict | None:
    """What the platform's price list says ``action`` (register, renew, transfer, redemption)
    costs at the registry, for the premium-price guard (see domains.outbox), which also sends it
    to a fee-1.0 registry as the most it may charge: ``{"amount": "9.80", "currency": "USD"}``.
    Platform-internal: staff only (``domains.policies.operation_payload_for``). The prices come
    from billing through ``domains.hooks.price_list``."""
    quote = hooks.price_list(SYSTEM, [tld], action, years).price(tld)
    if quote is None or quote.cost is None or quote.currency != currency:
        return None
    return {"amount": str(quote.cost), "currency": currency}


def _expected_cost(tld: Tld, action: str, years: int) -> dict:
    """``{"expected_cost": ...}`` for an operation's payload, or {} when the list has no price
    (then the guard stays off for it)."""
    expected = expected_registry_cost(tld, years, action=action)
    return {"expected_cost": expected} if expected is not None else {}


# --- what success looks like (recorded when an operation is queued) -----------------------------
# Before retrying an operation whose earlier outcome is unknown (a timeout, a lost connection, a
# killed worker), the worker asks the registry and records success without sending again when
# this state is there (``domains.outbox``). Platform-internal: customers never see these keys
# (``domains.policies.SHOWN_PAYLOAD_KEYS``).
def transfer_expectation() -> dict:
    """A transfer in succeeded when the name is ours, or pending with us as gaining registrar."""
    return {"ours": True}


def registration_expectation(years: int, *, now: datetime | None = None) -> dict:
    """A registration succeeded when the name is ours and expires ``years`` after it was created:
    not before ``years`` from the day it was queued."""
    today = (now or timezone.now()).astimezone(UTC)
    return {"ours": True, "expires_from": add_years(today, years).date().isoformat()}


def renewal_expectation(domain: Domain, years: int) -> dict:
    """The current expiry a renewal sends (``cur_exp_date``: EPP ``curExpDate``, recorded once
    here and never read again, so that a registry refuses a repeat) and the expiry it should
    produce. Renewals already queued come first: this one starts where they end. Called with the
    domain row locked."""
    if domain.expires_at is None:
        raise ValidationError(
            f"The registry's expiry date of {domain.name} is not known yet: sync it first."
        )
    current = add_years(domain.expires_at, _queued_renewal_years(domain)).astimezone(UTC)
    return {
        "cur_exp_date": current.date().isoformat(),
        "expect": {"expires_on": add_years(current, years).date().isoformat()},
    }


@requires(Right.DOMAINS)
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
    # None given: the organisation's default nameservers (its settings page), else ours.
    hosts = validate_nameservers(
        parsed.ascii,
        nameservers
        or customer.organisation.default_nameservers
        or settings.NAMEPORT_DEFAULT_NAMESERVERS,
        glue=set(),
    )
    with transaction.atomic():
        _require_open(actor, customer)
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
        _save_new(domain)
        Nameserver.objects.bulk_create(
            Nameserver(domain=domain, position=i, hostname=h) for i, h in enumerate(hosts, 1)
        )
        _contacts_from_customer(domain, customer)
        payload = {
            "years": years,
            "nameservers": hosts,
            "privacy": id_protection,
            "expect": registration_expectation(years),
        }
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


ALREADY_HELD = next(
    c.violation_error_message
    for c in Domain._meta.constraints
    if c.name == "domain_name_unique_while_held"
)


def _save_new(domain: Domain) -> None:
    """Check and save a new domain. Another order of the same name committed between the check
    and the insert (the unique index makes the insert wait for it) is refused as the check
    refuses it, not with a database error."""
    domain.full_clean()
    try:
        with transaction.atomic():
            domain.save()
    except IntegrityError:
        raise ValidationError(ALREADY_HELD) from None


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


@requires(Right.DOMAINS)
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
        _require_open(actor, customer)
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
        _save_new(domain)
        _contacts_from_customer(domain, customer)
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.TRANSFER,
            payload={
                "years": years,
                "expect": transfer_expectation(),
                **_expected_cost(parsed.tld, "transfer", years),
            },
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


def _queued_renewal_years(domain: Domain) -> int:
    """The years of the renewals of ``domain`` queued and not finished yet."""
    return sum(
        int(payload.get("years") or 0)
        for payload in domain.operations.filter(
            kind=RegistrarOperation.Kind.RENEW,
            status__in=(
                RegistrarOperation.Status.PENDING,
                RegistrarOperation.Status.RUNNING,
                RegistrarOperation.Status.HELD,
                RegistrarOperation.Status.AWAITING_FUNDS,
            ),
        ).values_list("payload", flat=True)
    )


def _refuse_beyond_ten_years(domain: Domain, years: int) -> None:
    """The expiry after this renewal, and after the renewals still queued, is at most ten years
    from today. Called with the domain row locked, so two renewals cannot both pass."""
    if domain.expires_at is None:
        return
    queued = _queued_renewal_years(domain)
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


@requires(Right.DOMAINS)
def domain_renew(*, actor: Actor, domain: Domain, years: int) -> RegistrarOperation:
    tld = domain.tld
    if not (1 <= years <= tld.max_years):
        raise ValidationError({"years": f".{tld.name} renews for 1 to {tld.max_years} years."})
    _authorize(actor, domain, "renew")
    with transaction.atomic():
        _require_open(actor, domain.customer_id)
        locked = _lock(domain, *CHANGEABLE, action="renewed")
        _refuse_beyond_ten_years(locked, years)
        operation = operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.RENEW,
            payload={
                "years": years,
                **renewal_expectation(locked, years),
                **_expected_cost(tld, "renew", years),
            },
        )
        audit(actor=actor, action="domain.renew", obj=domain, data={"years": years})
    return operation


@requires(Right.DOMAINS)
def domain_set_nameservers(
    *, actor: Actor, domain: Domain, nameservers: list[str]
) -> RegistrarOperation:
    _authorize(actor, domain, "nameservers")
    with transaction.atomic():
        _lock(domain, *CHANGEABLE)
        glue = set(domain.hosts.values_list("hostname", flat=True))
        hosts = validate_nameservers(domain.name_puny, nameservers, glue=glue)
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
    with transaction.atomic():
        _lock(domain, *CHANGEABLE)
        Domain.objects.filter(pk=domain.pk).update(**{field: value, "updated_at": timezone.now()})
        setattr(domain, field, value)
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=kind, payload={"value": value}
        )
        audit(actor=actor, action=f"domain.{kind}", obj=domain, data={field: value})
    return operation


@requires(Right.DOMAINS)
def domain_set_lock(*, actor: Actor, domain: Domain, locked: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="registrar_lock",
        value=locked,
        kind=RegistrarOperation.Kind.LOCK,
    )


@requires(Right.DOMAINS)
def domain_set_privacy(*, actor: Actor, domain: Domain, enabled: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="id_protection",
        value=enabled,
        kind=RegistrarOperation.Kind.PRIVACY,
    )


@requires(Right.DOMAINS)
def domain_set_autorenew(*, actor: Actor, domain: Domain, enabled: bool) -> RegistrarOperation:
    return _set_flag(
        actor=actor,
        domain=domain,
        field="autorenew",
        value=enabled,
        kind=RegistrarOperation.Kind.AUTORENEW,
    )


# --- auth code, contacts, glue hosts, DNSSEC, sync ------------------------------------------------
@requires(Right.DOMAINS)
def domain_request_auth_code(*, actor: Actor, domain: Domain) -> RegistrarOperation:
    """Fetch the transfer code from the registry (it is stored encrypted when it arrives)."""
    if not actor.can("domains", "eppcode", domain.pk):
        raise ValidationError("You are not allowed to see this domain's transfer code.")
    with transaction.atomic():
        locked = _lock(domain, *CHANGEABLE, action="transferred out")
        if locked.registrar_lock:
            raise ValidationError(
                f"{domain.name} is locked against transfers: turn the registrar lock off first."
            )
        operation = operation_enqueue(
            actor=actor, domain=domain, kind=RegistrarOperation.Kind.AUTH_CODE
        )
        audit(actor=actor, action="domain.auth_code.request", obj=domain)
    return operation


@requires(Right.DOMAINS)
def domain_reveal_auth_code(*, actor: Actor, domain: Domain) -> str:
    """The stored transfer code; every view of it is audited."""
    if not policies.can_see_transfer_code(actor, domain):
        raise ValidationError("You are not allowed to see this domain's transfer code.")
    if domain.registrar_lock:
        raise ValidationError(
            f"{domain.name} is locked against transfers: turn the registrar lock off first."
        )
    if not domain.auth_code:
        raise ValidationError("No transfer code yet: request it from the registry first.")
    audit(actor=actor, action="domain.auth_code.view", obj=domain)
    return str(domain.auth_code)


def domain_transfer_codes(*, actor: Actor, domains: list[Domain]) -> dict[int, str]:
    """The transfer codes a read of many domains shows, by domain id, as the registry shows
    them (the registrant API): only of the domains that are unlocked and have a stored code and
    whose code ``actor`` may see; the others are left out (no error, as a registry's list gives
    null). The views are audited in one row (``domain.auth_code.view``, the domains' uuids), so
    a list costs one write whatever its length."""
    shown = {
        domain.pk: str(domain.auth_code)
        for domain in domains
        if not domain.registrar_lock
        and domain.auth_code
        and policies.can_see_transfer_code(actor, domain)
    }
    if shown:
        seen = [domain for domain in domains if domain.pk in shown]
        audit(
            actor=actor,
            action="domain.auth_code.view",
            obj=seen[0] if len(seen) == 1 else None,
            data={"domains": [str(domain.uuid) for domain in seen]},
        )
    return shown


@requires(Right.DOMAINS)
def domain_set_contacts(
    *, actor: Actor, domain: Domain, contacts: dict[str, dict]
) -> RegistrarOperation:
    """Replace some of the four contacts: ``{"registrant": {...}, "tech": {...}}``."""
    _authorize(actor, domain, "contactinfo")
    unknown = set(contacts) - set(DomainContact.Role.values)
    if unknown or not contacts:
        raise ValidationError(
            {"contacts": "Give contacts by role: registrant, admin, tech, billing."}
        )
    with transaction.atomic():
        _lock(domain, *CHANGEABLE)
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


@requires(Right.DOMAINS)
def host_create(
    *, actor: Actor, domain: Domain, hostname: str, ipv4: list[str], ipv6: list[str]
) -> HostRecord:
    _authorize(actor, domain, "nameservers")
    host_name = validate_hostname(hostname)
    if not host_name.endswith(f".{domain.name_puny}"):
        raise ValidationError({"hostname": f"A glue host must be inside {domain.name_puny}."})
    ipv4, ipv6 = _validate_addresses(ipv4, ipv6)
    with transaction.atomic():
        _lock(domain, *CHANGEABLE)
        if domain.hosts.filter(hostname=host_name).exists():
            raise ValidationError({"hostname": f"{host_name} already exists."})
        host = HostRecord.objects.create(domain=domain, hostname=host_name, ipv4=ipv4, ipv6=ipv6)
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.HOST_CREATE,
            payload={"hostname": host_name, "ipv4": ipv4, "ipv6": ipv6},
        )
        audit(actor=actor, action="domain.host.create", obj=domain, data={"hostname": host_name})
    return host


@requires(Right.DOMAINS)
def host_set_addresses(
    *, actor: Actor, host: HostRecord, ipv4: list[str], ipv6: list[str]
) -> HostRecord:
    domain = host.domain
    _authorize(actor, domain, "nameservers")
    ipv4, ipv6 = _validate_addresses(ipv4, ipv6)
    with transaction.atomic():
        _lock(domain, *CHANGEABLE)
        if not HostRecord.objects.filter(pk=host.pk).update(ipv4=ipv4, ipv6=ipv6):
            raise ValidationError({"hostname": f"{host.hostname} no longer exists."})
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


@requires(Right.DOMAINS)
def host_delete(*, actor: Actor, host: HostRecord) -> None:
    domain = host.domain
    _authorize(actor, domain, "nameservers")
    with transaction.atomic():
        _lock(domain)
        if domain.nameservers.filter(hostname=host.hostname).exists():
            raise ValidationError(
                f"{host.hostname} is one of {domain.name}'s nameservers: replace it there first."
            )
        hostname = host.hostname
        if not HostRecord.objects.filter(pk=host.pk).delete()[0]:
            raise ValidationError({"hostname": f"{hostname} no longer exists."})
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.HOST_DELETE,
            payload={"hostname": hostname},
        )
        audit(actor=actor, action="domain.host.delete", obj=domain, data={"hostname": hostname})


DIGEST_LENGTHS = {1: 40, 2: 64, 4: 96}


@requires(Right.DOMAINS)
def ds_add(
    *, actor: Actor, domain: Domain, key_tag: int, algorithm: int, digest_type: int, digest: str
) -> DnssecDs:
    _authorize(actor, domain, "dnsmanagement")
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
        _lock(domain, *CHANGEABLE)
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
            payload={"ds": ds_payload(domain)},
        )
        audit(actor=actor, action="domain.ds.add", obj=domain, data={"key_tag": key_tag})
    return ds


@requires(Right.DOMAINS)
def ds_remove(*, actor: Actor, ds: DnssecDs) -> None:
    domain = ds.domain
    _authorize(actor, domain, "dnsmanagement")
    with transaction.atomic():
        _lock(domain)
        key_tag = ds.key_tag
        if not DnssecDs.objects.filter(pk=ds.pk).delete()[0]:
            raise ValidationError("This DS record has already been removed.")
        operation_enqueue(
            actor=actor,
            domain=domain,
            kind=RegistrarOperation.Kind.DNSSEC,
            payload={"ds": ds_payload(domain)},
        )
        audit(actor=actor, action="domain.ds.remove", obj=domain, data={"key_tag": key_tag})


@requires(Right.DOMAINS)
def domain_sync(*, actor: Actor, domain: Domain) -> RegistrarOperation:
    _authorize(actor, domain, "basic")
    with transaction.atomic():
        _lock(domain)
        operation = operation_enqueue(actor=actor, domain=domain, kind=RegistrarOperation.Kind.SYNC)
        audit(actor=actor, action="domain.sync", obj=domain)
    return operation


# --- restore from redemption ------------------------------------------------------------------
RESTORE_REASON_LENGTH = 200


@requires(Right.DOMAINS)
def domain_restore(*, actor: Actor, domain: Domain, reason: str = "") -> RegistrarOperation:
    """Restore a domain in its redemption period (RFC 3915: the rgp restore request, and the
    restore report where the registry requires one). Who may: ``policies.can_restore``. Priced
    like a renewal: the price list's ``redemption`` cost is recorded for the premium-price guard,
    which holds the restore for staff when the registry asks more. The domain becomes active
    when the registry's answer says it is restored (``lifecycle.apply_registry_view``)."""
    if not policies.can_restore(actor, domain):
        raise PermissionDenied(f"You may not restore {domain.name}.")
    reason = " ".join((reason or "").split())
    if len(reason) > RESTORE_REASON_LENGTH:
        raise ValidationError({"reason": f"Say why in at most {RESTORE_REASON_LENGTH} characters."})
    kind = RegistrarOperation.Kind.RESTORE
    with transaction.atomic():
        locked = _lock(domain, *policies.RESTORABLE, action="restored")
        if locked.operations.filter(
            kind=kind,
            status__in=[
                RegistrarOperation.Status.PENDING,
                RegistrarOperation.Status.RUNNING,
                RegistrarOperation.Status.HELD,
                RegistrarOperation.Status.AWAITING_FUNDS,
            ],
        ).exists():
            raise ValidationError(f"A restore of {domain.name} is already under way.")
        entered = (
            locked.status_changes.filter(to_status=S.REDEMPTION)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        payload = {"reason": reason, **_expected_cost(locked.tld, "redemption", 1)}
        if entered is not None:
            payload["deleted_at"] = entered.isoformat()
        operation = operation_enqueue(actor=actor, domain=domain, kind=kind, payload=payload)
        audit(
            actor=actor,
            action="domain.restore",
            obj=domain,
            data={"name": domain.name, "reason": reason},
        )
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


@requires(Right.DOMAINS)
def domain_suspend(*, actor: Actor, domain: Domain, reason: str = "") -> Domain:
    """Suspend a domain in the portal (staff); its history and the audit trail say why."""
    return _suspension(
        actor=actor, domain=domain, to=S.SUSPENDED, reason=reason, action="domain.suspend"
    )


@requires(Right.DOMAINS)
def domain_unsuspend(*, actor: Actor, domain: Domain, reason: str = "") -> Domain:
    return _suspension(
        actor=actor, domain=domain, to=S.ACTIVE, reason=reason, action="domain.unsuspend"
    )


# --- operations: retry, cancel; drift: re-push or accept ----------------------------------------
def _require_staff_or_reseller(actor: Actor, what: str) -> None:
    if not policies.can_manage_operations(actor):
        raise PermissionDenied(f"Only staff and resellers can {what}.")


@requires(Right.DOMAINS)
def operation_retry(*, actor: Actor, operation: RegistrarOperation) -> RegistrarOperation:
    """Put a failed, held or cancelled operation back in the queue, with a fresh attempt budget."""
    _require_staff_or_reseller(actor, "retry registry operations")
    Status = RegistrarOperation.Status
    with transaction.atomic():
        held = (
            RegistrarOperation.objects.select_for_update()
            .filter(pk=operation.pk, status=Status.HELD)
            .first()
        )
        price = held and (held.payload.get("registry_cost") or held.payload.get("expected_cost"))
        if price:
            # Staff looked at the registry's price (recorded when it was held, else the one
            # expected) and chose to go ahead at that price: the next attempt agrees to it.
            payload = {
                key: value
                for key, value in held.payload.items()
                if key not in ("expected_cost", "registry_cost")
            }
            payload["accepted_cost"] = price
            RegistrarOperation.objects.filter(pk=operation.pk).update(payload=payload)
        updated = RegistrarOperation.objects.filter(
            pk=operation.pk, status__in=[Status.FAILED, Status.HELD, Status.CANCELLED]
        ).update(
            status=Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            finished_at=None,
            # The old error stays in the attempts' record; the operation shows the new run.
            last_error="",
            updated_at=timezone.now(),
        )
        if not updated:
            raise ValidationError(
                f"Only failed, held or cancelled operations can be retried; this one is "
                f"{operation.get_status_display().lower()}."
            )
        if price:
            # Charged at the listed cost when it was claimed: that round is refunded, and the
            # next claim charges a new round at the price staff accepted.
            hooks.operation_refund(operation=operation)
        # Billing takes back what it credited the customer when the operation ended (a
        # ValidationError when that credit is spent: nothing is retried).
        hooks.operation_resumed(operation=operation)
        try:
            with transaction.atomic():
                order_resumed(operation=operation, actor=actor)
        except IntegrityError:
            raise ValidationError(
                f"{operation.domain.name} has been ordered again since this "
                f"{operation.get_kind_display().lower()} failed; it cannot be retried."
            ) from None
        wake_next([operation.domain_id])
        audit(
            actor=actor,
            action="operation.retry",
            obj=operation,
            organisation=operation.organisation,
        )
        transaction.on_commit(lambda: enqueue([operation.pk]))
    operation.refresh_from_db()
    return operation


@requires(Right.DOMAINS)
def operation_cancel(*, actor: Actor, operation: RegistrarOperation) -> RegistrarOperation:
    _require_staff_or_reseller(actor, "cancel registry operations")
    Status = RegistrarOperation.Status
    with transaction.atomic():
        cancellable = [Status.PENDING, Status.HELD, Status.FAILED, Status.AWAITING_FUNDS]
        updated = RegistrarOperation.objects.filter(pk=operation.pk, status__in=cancellable).update(
            status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
        )
        if not updated:
            raise ValidationError(
                f"This operation is {operation.get_status_display().lower()}; "
                "only pending, held or failed ones can be cancelled (and those awaiting funds)."
            )
        # Charged for (held for staff, or charged before a retry): billing refunds it.
        hooks.operation_refund(operation=operation)
        # A registration or transfer cancelled ends its domain (the name is free again); the
        # operations behind it may run.
        order_ended(
            operation=operation,
            actor=actor,
            reason=f"{operation.get_kind_display()} cancelled by {actor}",
        )
        wake_next([operation.domain_id])
        audit(
            actor=actor,
            action="operation.cancel",
            obj=operation,
            organisation=operation.organisation,
        )
    operation.refresh_from_db()
    return operation


@requires(Right.DOMAINS)
def drift_resolve(*, actor: Actor, drift: DomainDrift, accept: bool) -> DomainDrift:
    """Accept the registry's value into the portal, or push the portal's value again."""
    _require_staff_or_reseller(actor, "resolve differences with the registry")
    domain = drift.domain
    with transaction.atomic():
        _lock(domain)
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
            payload={"ds": ds_payload(domain)},
        )
    else:
        raise ValidationError(f"{field} cannot be pushed; accept the registry's value instead.")


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
        transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


# --- transfers in progress: answering another registrar, withdrawing ours, following them ------
@requires(Right.DOMAINS)
def transfer_request_answer(*, actor: Actor, domain: Domain, approve: bool) -> RegistrarOperation:
    """Approve or reject another registrar's pending request for ``domain`` (a name we hold):
    the answer goes to the registry as a ``transfer_approve`` / ``transfer_reject`` operation."""
    if not policies.can_answer_transfer(actor, domain):
        raise PermissionDenied(
            f"You do not have the 'eppcode' privilege for {domain.name}: only someone who may "
            "release the domain answers its transfer requests."
        )
    return _answer_transfer_request(actor=actor, domain=domain, approve=approve, by_default=False)


def _answer_transfer_request(
    *, actor: Actor, domain: Domain, approve: bool, by_default: bool, now: datetime | None = None
) -> RegistrarOperation:
    now = now or timezone.now()
    with transaction.atomic():
        locked = Domain.objects.select_for_update().select_related("tld").get(pk=domain.pk)
        request = (
            TransferRequest.objects.select_for_update()
            .filter(domain=locked, status__in=TransferRequest.OPEN)
            .first()
        )
        if request is None:
            raise ValidationError(
                f"No transfer request for {locked.name} is waiting for an answer."
            )
        if request.status != TransferRequest.Status.PENDING and not _answer_stopped(request):
            raise ValidationError(
                f"The transfer request for {locked.name} was answered already "
                f"({request.get_status_display().lower()})."
            )
        account = locked.registrar_account or locked.tld.registrar_account
        if account is None or account.kind != RegistrarAccount.Kind.EPP:
            raise ValidationError(
                f"The registry of {locked.name} takes no answer to transfer requests through "
                "Nameport; it decides by itself at the end of its window."
            )
        if request.act_by is not None and request.act_by <= now:
            ended = f"{request.act_by:%Y-%m-%d %H:%M} UTC"
            raise ValidationError(
                f"The registry's window for this transfer request ended on {ended}; the "
                "registry has decided by itself."
            )
        TransferRequest.objects.filter(pk=request.pk).update(
            status=TransferRequest.Status.APPROVING
            if approve
            else TransferRequest.Status.REJECTING,
            decided_by=str(actor)[:200],
            decided_at=now,
            by_default=by_default,
        )
        kind = (
            RegistrarOperation.Kind.TRANSFER_APPROVE
            if approve
            else RegistrarOperation.Kind.TRANSFER_REJECT
        )
        operation = operation_enqueue(
            actor=actor, domain=locked, kind=kind, payload={"request": request.pk}
        )
        audit(
            actor=actor,
            action=f"domain.transfer_request.{'approve' if approve else 'reject'}",
            obj=locked,
            organisation=locked.organisation,
            data={
                "name": locked.name,
                "gaining_registrar": request.gaining_registrar,
                "by_default": by_default,
            },
        )
    return operation


def transfer_request_answerable(request: TransferRequest) -> bool:
    """Whether ``request`` waits for an answer: never answered, or its answer stopped."""
    if request.status == TransferRequest.Status.PENDING:
        return True
    return request.is_open and _answer_stopped(request)


def _answer_stopped(request: TransferRequest) -> bool:
    """Whether the answer sent for ``request`` stopped (failed or cancelled): it may be answered
    again while the registry's window lasts."""
    Kind, Status = RegistrarOperation.Kind, RegistrarOperation.Status
    answer = (
        RegistrarOperation.objects.filter(
            domain_id=request.domain_id,
            kind__in=[Kind.TRANSFER_APPROVE, Kind.TRANSFER_REJECT],
            payload__request=request.pk,
        )
        .order_by("-pk")
        .first()
    )
    return answer is None or answer.status in (Status.FAILED, Status.CANCELLED)


@requires(Right.DOMAINS)
def domain_transfer_cancel(*, actor: Actor, domain: Domain) -> RegistrarOperation:
    """Withdraw our own pending transfer in of ``domain`` (a ``transfer_cancel`` operation)."""
    if not policies.can_cancel_transfer(actor, domain):
        raise PermissionDenied(policies.order_refusal(actor))
    Kind, Status = RegistrarOperation.Kind, RegistrarOperation.Status
    with transaction.atomic():
        locked = Domain.objects.select_for_update().select_related("tld").get(pk=domain.pk)
        _require_status(locked, S.PENDING_TRANSFER, action="withdrawn from a transfer")
        operations = locked.operations
        if not operations.filter(kind=Kind.TRANSFER, status=Status.SUCCEEDED).exists():
            raise ValidationError(
                f"The transfer request for {locked.name} has not reached the registry yet: "
                "cancel the queued transfer operation instead."
            )
        unfinished = [Status.PENDING, Status.RUNNING, Status.HELD]
        if operations.filter(kind=Kind.TRANSFER_CANCEL, status__in=unfinished).exists():
            raise ValidationError(f"The transfer of {locked.name} is already being cancelled.")
        operation = operation_enqueue(actor=actor, domain=locked, kind=Kind.TRANSFER_CANCEL)
        audit(
            actor=actor,
            action="domain.transfer_cancel",
            obj=locked,
            organisation=locked.organisation,
            data={"name": locked.name},
        )
    return operation


# Transfer queries for our pending transfers in: the first this long after the request was
# answered 1001 (or after the last query), then twice as long each time, at most every 6 hours,
# for at most this many queries (about ten days), after which staff look at it.
FOLLOW_MAX_SECONDS = 6 * 3600
FOLLOW_MAX_QUERIES = 45


def _follow_delay(queries: int) -> timedelta:
    first = settings.NAMEPORT_TRANSFER_FOLLOW_SECONDS
    return timedelta(seconds=min(FOLLOW_MAX_SECONDS, first * 2 ** min(queries, 20)))


def transfers_follow(*, now: datetime | None = None) -> int:
    """Queue a transfer query for each pending transfer in (EPP) whose next check is due: some
    registries send no poll message when a transfer ends. Returns how many were queued."""
    now = now or timezone.now()
    Kind, Status = RegistrarOperation.Kind, RegistrarOperation.Status
    epp = RegistrarAccount.Kind.EPP
    pending = Domain.objects.filter(status=S.PENDING_TRANSFER).filter(
        Q(registrar_account__kind=epp, registrar_account__is_active=True)
        | Q(registrar_account__isnull=True, tld__registrar_account__kind=epp)
    )
    queued = 0
    for domain in pending.select_related("tld"):
        operations = list(
            domain.operations.filter(
                kind__in=[Kind.TRANSFER, Kind.TRANSFER_QUERY, Kind.TRANSFER_CANCEL]
            ).order_by("-pk")
        )
        if any(op.status in (Status.PENDING, Status.RUNNING, Status.HELD) for op in operations):
            continue  # something is on its way already
        requested = next((op for op in operations if op.kind == Kind.TRANSFER), None)
        if requested is None or requested.status != Status.SUCCEEDED:
            continue
        queries = [
            op for op in operations if op.kind == Kind.TRANSFER_QUERY and op.pk > requested.pk
        ]
        if len(queries) >= FOLLOW_MAX_QUERIES:
            continue
        last = operations[0].finished_at or operations[0].updated_at
        if last + _follow_delay(len(queries)) > now:
            continue
        with transaction.atomic():
            operation_enqueue(
                actor=SYSTEM,
                domain=domain,
                kind=Kind.TRANSFER_QUERY,
                payload={"round": len(queries) + 1},
            )
        queued += 1
    return queued


def transfer_requests_default(*, now: datetime | None = None) -> int:
    """Answer, with their TLD's default, the transfer requests nobody answered whose registry
    window ends within ``NAMEPORT_TRANSFER_DEFAULT_HOURS``. Returns how many were answered."""
    now = now or timezone.now()
    margin = timedelta(hours=settings.NAMEPORT_TRANSFER_DEFAULT_HOURS)
    due = TransferRequest.objects.filter(
        status=TransferRequest.Status.PENDING, act_by__gt=now, act_by__lte=now + margin
    ).select_related("domain__tld")
    answered = 0
    for request in due:
        approve = request.domain.tld.transfer_default == TransferDefault.APPROVE
        try:
            _answer_transfer_request(
                actor=SYSTEM, domain=request.domain, approve=approve, by_default=True, now=now
            )
        except ValidationError:
            continue  # answered meanwhile
        answered += 1
    return answered

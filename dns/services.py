"""Every change to a zone: one transaction each, validated first, a history row with the records
before and after, the serial bumped (YYYYMMDDnn), an audit row and, for a published backend, a push
row in the outbox enqueued after commit."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from customers.roles import Right, requires
from dns import hooks
from dns.models import DnssecKey, EmailForward, Record, Zone, ZoneChange, ZonePush, ZoneTemplate
from dns.ownership import OWNERSHIP_MESSAGE, holding_domain, is_reserved, zones_at_or_under
from dns.rdata import (
    DNSSEC_ALGORITHMS,
    FORWARDING_TYPES,
    Clean,
    RecordInvalid,
    check_neighbours,
    clean_record,
    record_key,
    render,
    zone_ascii,
)
from dns.zonefile import LineError, check_together, parse
from portal.audit import audit
from portal.tenancy import SYSTEM, Actor, ActorKind

Action = ZoneChange.Action

DEFAULT_TEMPLATE = """\
; Nameport's default records: the web site and mail at the forwarding address.
@       IN A     {ipv4}
www     IN CNAME @
@       IN MX    10 mail
mail    IN A     {ipv4}
@       IN TXT   "v=spf1 mx -all"
"""


# --- small helpers --------------------------------------------------------------------------------


def next_serial(current: int, today: date | None = None) -> int:
    """YYYYMMDDnn, always above ``current`` (past nn=99 it runs into the next day's numbers)."""
    today = today or timezone.localdate()
    return max(current + 1, int(today.strftime("%Y%m%d")) * 100 + 1)


def _may_edit(actor: Actor, zone: Zone) -> None:
    if not actor.is_authenticated or not actor.can("domains", "dnsmanagement", zone.domain_id):
        raise PermissionDenied("You may not change this zone's DNS.")
    _refuse_disabled(zone)


def _refuse_disabled(zone: Zone) -> None:
    if not zone.enabled:
        raise PermissionDenied(
            f"This zone is disabled and kept read only: {zone.disabled_reason or 'not served.'}"
        )


def _may_manage_zones(actor: Actor) -> None:
    if actor.kind not in {
        ActorKind.STAFF,
        ActorKind.RESELLER,
        ActorKind.API_KEY,
        ActorKind.CUSTOMER,
    }:
        raise PermissionDenied("You may not create or delete zones.")


def _lock(zone: Zone, *, editable: bool = True) -> Zone:
    """The zone row, locked for the transaction (PostgreSQL; SQLite writes are serial); an
    ``editable`` zone must still be enabled once locked (it may have been disabled meanwhile)."""
    locked = Zone.objects.select_for_update().select_related("organisation").get(pk=zone.pk)
    if editable:
        _refuse_disabled(locked)
    return locked


def _as_dict(record) -> dict:
    if isinstance(record, dict):
        return {k: record[k] for k in ("name", "type", "ttl", "priority", "content")}
    if isinstance(record, Clean):
        return record.as_dict()
    return {
        "name": record.name,
        "type": record.type,
        "ttl": record.ttl,
        "priority": record.priority,
        "content": record.content,
    }


def _rrset_pairs(zone_name: str, records: Iterable) -> set[tuple[str, str]]:
    return {(owner, rtype) for r in records for owner, rtype, _t, _c in render(zone_name, r)}


@dataclass
class Delta:
    """What a change does to the records of a zone."""

    delete: list = field(default_factory=list)  # Records or {"id": ..., ...} dicts
    create: list[Clean] = field(default_factory=list)
    update: list[tuple] = field(default_factory=list)  # (Record or dict with id, Clean)

    def __bool__(self) -> bool:
        return bool(self.delete or self.create or self.update)


def _pk(record) -> int:
    return record["id"] if isinstance(record, dict) else record.pk


RAW_INSERT_FROM = 500


def _insert_records(zone: Zone, cleans: list[Clean]) -> list[Record]:
    """Insert records. Many at once (an import) go in multi-row INSERTs, skipping the ORM's
    per-value preparation (several times faster on 100,000 rows); they are not returned."""
    if len(cleans) < RAW_INSERT_FROM:
        return Record.objects.bulk_create(
            [
                Record(
                    zone=zone,
                    name=c.name,
                    type=c.type,
                    ttl=c.ttl,
                    priority=c.priority,
                    content=c.content,
                )
                for c in cleans
            ]
        )
    table = connection.ops.quote_name(Record._meta.db_table)
    columns = "(zone_id, name, type, ttl, priority, content, created_at, updated_at)"
    if connection.vendor == "postgresql":  # COPY: four times faster than INSERTs there
        moment = timezone.now()
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                for c in cleans:
                    copy.write_row(
                        (zone.pk, c.name, c.type, c.ttl, c.priority, c.content, moment, moment)
                    )
        return []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    head = f"INSERT INTO {table} {columns} VALUES "
    batch = 1000  # 8,000 parameters a statement: under SQLite's and PostgreSQL's limits
    with connection.cursor() as cursor:
        for start in range(0, len(cleans), batch):
            rows = cleans[start : start + batch]
            params: list = []
            for c in rows:
                params += (zone.pk, c.name, c.type, c.ttl, c.priority, c.content, now, now)
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
            cursor.execute(head + values, params)
    return []


def _apply(
    *, actor: Actor, zone: Zone, action: str, summary: str, delta: Delta
) -> tuple[ZoneChange, list[Record]]:
    """Write ``delta`` (inside the caller's transaction, zone locked), bump the serial, keep the
    history, audit and queue the push."""
    delete_ids = [_pk(r) for r in delta.delete]
    for start in range(0, len(delete_ids), 5000):
        Record.objects.filter(zone=zone, pk__in=delete_ids[start : start + 5000]).delete()
    created = _insert_records(zone, delta.create)
    if delta.update:
        now = timezone.now()
        changed = []
        for old, new in delta.update:
            changed.append(
                Record(
                    pk=_pk(old),
                    zone=zone,
                    name=new.name,
                    type=new.type,
                    ttl=new.ttl,
                    priority=new.priority,
                    content=new.content,
                    updated_at=now,
                )
            )
        Record.objects.bulk_update(
            changed, ["name", "type", "ttl", "priority", "content", "updated_at"], batch_size=2000
        )
    before = [_as_dict(r) for r in delta.delete] + [_as_dict(old) for old, _n in delta.update]
    after = [c.as_dict() for c in delta.create] + [new.as_dict() for _o, new in delta.update]
    zone.serial = next_serial(zone.serial)
    fields = ["serial", "updated_at"]
    if zone.backend != Zone.Backend.DATABASE:
        zone.push_status = Zone.PushStatus.PENDING
        fields.append("push_status")
    zone.save(update_fields=fields)
    change = ZoneChange.objects.create(
        zone=zone,
        serial=zone.serial,
        action=action,
        summary=summary[:300],
        before=before,
        after=after,
        actor=str(actor)[:200],
        user=actor.user,
    )
    audit(
        actor=actor,
        action=f"dns.{action}",
        obj=zone,
        organisation=zone.organisation,
        data={"serial": zone.serial, "summary": summary[:300], "change": change.pk},
    )
    if zone.backend != Zone.Backend.DATABASE:
        pairs = _rrset_pairs(zone.name, before) | _rrset_pairs(zone.name, after)
        _enqueue_push(zone, ZonePush.Kind.UPDATE, sorted(pairs))
    return change, created


def _enqueue_push(zone: Zone, kind: str, pairs: list | None = None) -> ZonePush | None:
    """A push row for ``zone``'s backend, sent after commit. Sandbox zones are never pushed (they
    live in the database backend only), whatever their row says."""
    if not zone.livemode or zone.backend == Zone.Backend.DATABASE:
        return None
    keep_link = kind != ZonePush.Kind.DELETE or not zone.enabled  # a disabled zone is kept
    push = ZonePush.objects.create(
        zone=zone if keep_link else None,
        zone_name=zone.name,
        organisation_id=zone.organisation_id,
        backend=zone.backend,
        livemode=zone.livemode,
        kind=kind,
        rrsets=[list(p) for p in (pairs or [])],
        next_attempt_at=timezone.now(),
    )
    from dns.tasks import dns_push_run

    transaction.on_commit(lambda: dns_push_run.delay(push.pk))
    return push


def _describe(clean) -> str:
    data = _as_dict(clean)
    priority = f" {data['priority']}" if data["priority"] is not None else ""
    return f"{data['name']} {data['type']}{priority} {data['content']}"[:200]


# --- records --------------------------------------------------------------------------------------


def _ttl_followers(zone: Zone, clean: Clean, siblings: list[Record], exclude: int | None) -> list:
    """Records of the same name and type get the new record's TTL (one TTL per rrset)."""
    return [
        (s, Clean(s.name, s.type, clean.ttl, s.priority, s.content))
        for s in siblings
        if s.type == clean.type and s.ttl != clean.ttl and s.pk != exclude
    ]


@requires(Right.DOMAINS)
def record_create(
    *, actor: Actor, zone: Zone, name, type, content, ttl=None, priority=None
) -> Record:
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        clean = clean_record(
            zone.name,
            name=name,
            type=type,
            ttl=ttl,
            priority=priority,
            content=content,
            default_ttl=zone.default_ttl,
        )
        siblings = list(zone.records.filter(name=clean.name))
        check_neighbours(clean, siblings)
        delta = Delta(create=[clean], update=_ttl_followers(zone, clean, siblings, None))
        _change, created = _apply(
            actor=actor,
            zone=zone,
            action=Action.RECORD_CREATE,
            summary=f"Added {_describe(clean)}",
            delta=delta,
        )
    return created[0]


@requires(Right.DOMAINS)
def record_update(
    *, actor: Actor, record: Record, name=None, type=None, content=None, ttl=None, priority=None
) -> Record:
    zone = record.zone
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        current = Record.objects.filter(pk=record.pk, zone=zone).first()
        if current is None:
            raise ValidationError("This record was deleted meanwhile.")
        rtype = type if type not in (None, "") else current.type
        clean = clean_record(
            zone.name,
            name=name if name is not None else current.name,
            type=rtype,
            ttl=ttl if ttl not in (None, "") else current.ttl,
            priority=priority if priority is not None else current.priority,
            content=content if content is not None else current.content,
            default_ttl=zone.default_ttl,
        )
        if clean.as_dict() == _as_dict(current):
            return current
        siblings = [r for r in zone.records.filter(name=clean.name) if r.pk != current.pk]
        check_neighbours(clean, siblings)
        if (current.name, current.type) == ("@", "NS") and (clean.name, clean.type) != ("@", "NS"):
            _keep_apex_ns(zone, leaving=1)
        delta = Delta(update=[(current, clean), *_ttl_followers(zone, clean, siblings, current.pk)])
        _apply(
            actor=actor,
            zone=zone,
            action=Action.RECORD_UPDATE,
            summary=f"Changed {_describe(current)} to {_describe(clean)}",
            delta=delta,
        )
    current.name, current.type, current.ttl = clean.name, clean.type, clean.ttl
    current.priority, current.content = clean.priority, clean.content
    return current


def _keep_apex_ns(zone: Zone, leaving: int) -> None:
    if zone.records.filter(name="@", type="NS").count() <= leaving:
        raise ValidationError(
            "A zone keeps at least one NS record at its apex; add another one first."
        )


@requires(Right.DOMAINS)
def record_delete(*, actor: Actor, record: Record) -> None:
    zone = record.zone
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        current = Record.objects.filter(pk=record.pk, zone=zone).first()
        if current is None:
            return
        if (current.name, current.type) == ("@", "NS"):
            _keep_apex_ns(zone, leaving=1)
        _apply(
            actor=actor,
            zone=zone,
            action=Action.RECORD_DELETE,
            summary=f"Deleted {_describe(current)}",
            delta=Delta(delete=[current]),
        )


# --- forwarding -----------------------------------------------------------------------------------


@requires(Right.DOMAINS)
def forwarding_set(
    *, actor: Actor, zone: Zone, name: str = "@", kind: str = "URL", target: str, ttl=None
) -> Record:
    """Forward ``name`` (the apex by default) to ``target``: its addresses (A, AAAA) and any
    earlier forwarding make way for one URL or FRAME record, in one change."""
    _may_edit(actor, zone)
    if kind not in FORWARDING_TYPES:
        raise ValidationError({"type": "Forwarding is URL (redirect) or FRAME (framed page)."})
    with transaction.atomic():
        zone = _lock(zone)
        clean = clean_record(
            zone.name, name=name, type=kind, ttl=ttl, content=target, default_ttl=zone.default_ttl
        )
        siblings = list(zone.records.filter(name=clean.name))
        replaced = [s for s in siblings if s.type in {"A", "AAAA", "URL", "FRAME"}]
        if any(s.type == "URL" or s.type == "FRAME" for s in replaced) and any(
            record_key(s) == clean.key() and s.ttl == clean.ttl for s in replaced
        ):
            return next(s for s in replaced if record_key(s) == clean.key())
        check_neighbours(clean, [s for s in siblings if s not in replaced])
        _change, created = _apply(
            actor=actor,
            zone=zone,
            action=Action.FORWARDING,
            summary=f"{clean.name} forwarded ({kind}) to {clean.content}",
            delta=Delta(delete=replaced, create=[clean]),
        )
    return created[0]


@requires(Right.DOMAINS)
def forwarding_clear(*, actor: Actor, zone: Zone, name: str = "@") -> int:
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        records = list(zone.records.filter(name=name, type__in=sorted(FORWARDING_TYPES)))
        if not records:
            return 0
        _apply(
            actor=actor,
            zone=zone,
            action=Action.FORWARDING,
            summary=f"Forwarding of {name} removed",
            delta=Delta(delete=records),
        )
    return len(records)


# --- import ---------------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    errors: list[LineError] = field(default_factory=list)
    create: list[Clean] = field(default_factory=list)
    delete: list[dict] = field(default_factory=list)
    update: list[tuple[dict, Clean]] = field(default_factory=list)
    unchanged: int = 0
    kept_ns: int = 0
    applied: bool = False
    change: ZoneChange | None = None

    @property
    def clean(self) -> bool:
        return not self.errors

    @property
    def has_changes(self) -> bool:
        return bool(self.create or self.delete or self.update)

    def as_dict(self, limit: int = 1000) -> dict:
        return {
            "applied": self.applied,
            "serial": self.change.serial if self.change else None,
            "errors": [e.as_dict() for e in self.errors[:limit]],
            "error_count": len(self.errors),
            "create": [c.as_dict() for c in self.create[:limit]],
            "create_count": len(self.create),
            "delete": [_as_dict(d) for d in self.delete[:limit]],
            "delete_count": len(self.delete),
            "update": [
                {"before": _as_dict(o), "after": n.as_dict()} for o, n in self.update[:limit]
            ],
            "update_count": len(self.update),
            "unchanged": self.unchanged,
        }


IMPORT_MODES = ("replace", "merge")


def import_plan(zone: Zone, text: str, *, mode: str = "replace") -> ImportPlan:
    """What importing ``text`` would do to ``zone``: every rejected line, and the records to add,
    delete and change. ``replace``: the zone becomes the file (apex NS records are kept when the
    file has none); ``merge``: the file's records are added to the zone's."""
    if mode not in IMPORT_MODES:
        raise ValidationError({"mode": "Choose replace or merge."})
    parsed = parse(text or "", zone.name, default_ttl=zone.default_ttl)
    current = list(
        zone.records.order_by("pk").values("id", "name", "type", "ttl", "priority", "content")
    )
    by_key = {record_key(r): r for r in current}
    plan = ImportPlan()
    records = parsed.records
    existing: list[Clean] = []
    if mode == "merge":
        fresh = []
        for number, clean in records:
            old = by_key.get(clean.key())
            if old is not None and old["ttl"] == clean.ttl:
                plan.unchanged += 1
                continue
            fresh.append((number, clean))
        records = fresh
        existing = [Clean(**_as_dict(r)) for r in current]
    elif not any(c.name == "@" and c.type == "NS" for _n, c in records):
        existing = [Clean(**_as_dict(r)) for r in current if (r["name"], r["type"]) == ("@", "NS")]
        plan.kept_ns = len(existing)
    if mode == "merge":
        # A record equal to one of the zone's but with another TTL changes that record's TTL.
        kept, errors = check_together(
            records, [e for e in existing if not any(e.key() == c.key() for _n, c in records)]
        )
    else:
        kept, errors = check_together(records, existing)
    lines = (text or "").splitlines()
    for error in errors:
        if not error.text and 0 < error.line <= len(lines):
            error.text = lines[error.line - 1][:200]
    plan.errors = sorted(parsed.errors + errors, key=lambda e: e.line)
    if not parsed.records and not parsed.errors:
        plan.errors.append(LineError(0, "The file holds no records."))
    target = {c.key(): c for _n, c in kept}
    if mode == "replace":
        for key, clean in target.items():
            old = by_key.get(key)
            if old is None:
                plan.create.append(clean)
            elif old["ttl"] != clean.ttl:
                plan.update.append((old, clean))
            else:
                plan.unchanged += 1
        kept_ns_keys = {e.key() for e in existing}
        plan.delete = [
            r for key, r in by_key.items() if key not in target and key not in kept_ns_keys
        ]
        plan.unchanged += len(kept_ns_keys)
    else:
        for key, clean in target.items():
            old = by_key.get(key)
            if old is None:
                plan.create.append(clean)
            else:
                plan.update.append((old, clean))
    return plan


@requires(Right.DOMAINS)
def zone_import(
    *,
    actor: Actor,
    zone: Zone,
    text: str,
    mode: str = "replace",
    good_lines_only: bool = False,
    dry_run: bool = False,
) -> ImportPlan:
    """Import a BIND file. With any rejected line nothing is imported (the plan lists them all),
    unless ``good_lines_only``. ``dry_run`` only plans (the preview)."""
    _may_edit(actor, zone)
    if dry_run:
        return import_plan(zone, text, mode=mode)
    with transaction.atomic():
        zone = _lock(zone)
        plan = import_plan(zone, text, mode=mode)
        if (plan.errors and not good_lines_only) or not plan.has_changes:
            return plan
        summary = (
            f"Imported a zone file ({mode}): {len(plan.create)} added, {len(plan.delete)} "
            f"deleted, {len(plan.update)} changed"
        )
        if plan.errors:
            summary += f", {len(plan.errors)} lines left out"
        plan.change, _created = _apply(
            actor=actor,
            zone=zone,
            action=Action.IMPORT,
            summary=summary,
            delta=Delta(delete=plan.delete, create=plan.create, update=plan.update),
        )
        plan.applied = True
        if connection.vendor == "postgresql" and len(plan.create) >= ANALYZE_AFTER:
            transaction.on_commit(_analyze_records)
    return plan


ANALYZE_AFTER = 10_000


def _analyze_records() -> None:
    """After a bulk import, fresh statistics keep PostgreSQL on the (zone, name, type) index for
    the one-name lookups of the editor (stale ones made it scan the zone: 15 ms instead of 1)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Record._meta.db_table)}")


# --- history --------------------------------------------------------------------------------------


@requires(Right.DOMAINS)
def zone_rollback(*, actor: Actor, zone: Zone, change: ZoneChange) -> ZoneChange:
    """Bring the records back to how they were right after ``change``; the rollback is itself a
    change (and can be rolled back)."""
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        if change.zone_id != zone.pk:
            raise ValidationError("That change belongs to another zone.")
        later = ZoneChange.objects.filter(zone=zone, pk__gt=change.pk).order_by("-pk")
        desired: dict[tuple, dict | None] = {}
        for before, after in later.values_list("before", "after"):
            for record in after:
                desired[record_key(record)] = None
            for record in before:
                desired[record_key(record)] = record
        if not desired:
            raise ValidationError(f"The zone is already as it was at serial {change.serial}.")
        names = {key[0] for key in desired}
        current = {
            record_key(r): r
            for r in zone.records.filter(name__in=names).values(
                "id", "name", "type", "ttl", "priority", "content"
            )
        }
        delta = Delta()
        for key, wanted in desired.items():
            have = current.get(key)
            if wanted is None:
                if have is not None:
                    delta.delete.append(have)
            elif have is None:
                delta.create.append(Clean(**_as_dict(wanted)))
            elif have["ttl"] != wanted["ttl"]:
                delta.update.append((have, Clean(**_as_dict(wanted))))
        if not delta:
            raise ValidationError(f"The zone is already as it was at serial {change.serial}.")
        rolled, _created = _apply(
            actor=actor,
            zone=zone,
            action=Action.ROLLBACK,
            summary=f"Rolled back to serial {change.serial}",
            delta=delta,
        )
    return rolled


# --- zones ----------------------------------------------------------------------------------------


def template_for(organisation_id: int | None, livemode: bool = True) -> ZoneTemplate | None:
    """The organisation's default template of the mode, else the platform's default of the mode,
    else None (built in). A sandbox template never shapes a live zone, nor the other way."""
    defaults = ZoneTemplate.objects.filter(is_default=True, livemode=livemode)
    if organisation_id is not None:
        own = defaults.filter(organisation_id=organisation_id).first()
        if own is not None:
            return own
    return defaults.filter(organisation__isnull=True).first()


def template_body(template: ZoneTemplate | None) -> str:
    if template is not None:
        return template.body
    ipv4 = (settings.NAMEPORT_FORWARDING_IPV4 or ["192.0.2.10"])[0]
    return DEFAULT_TEMPLATE.format(ipv4=ipv4)


def template_records(zone_name: str, body: str, default_ttl: int = 3600) -> list[Clean]:
    """The records ``body`` gives ``zone_name``, plus apex NS records of the platform's name
    servers when the template has none. ValidationError lists the template's bad lines."""
    parsed = parse(body, zone_name, default_ttl=default_ttl)
    records = parsed.records
    if not any(c.name == "@" and c.type == "NS" for _n, c in records):
        records = [
            (0, Clean("@", "NS", default_ttl, None, f"{ns.rstrip('.')}."))
            for ns in settings.NAMEPORT_DEFAULT_NAMESERVERS
        ] + records
    kept, errors = check_together(records)
    all_errors = sorted(parsed.errors + errors, key=lambda e: e.line)
    if all_errors:
        raise ValidationError({"body": [f"Line {e.line}: {e.message}" for e in all_errors[:50]]})
    return [c for _n, c in kept]


def _zone_holder(*, actor: Actor, customer: Customer, zone_name: str, domain=None):
    """The customer's domain that ``zone_name`` is, or is under; every refusal reads the same,
    whether or not the name exists elsewhere (see dns.ownership)."""
    from domains.selectors import visible_domains

    refused = ValidationError({"name": OWNERSHIP_MESSAGE})
    if is_reserved(zone_name):
        raise refused
    holder = holding_domain(zone_name, livemode=customer.livemode)
    if holder is None or not visible_domains(actor).filter(pk=holder.pk).exists():
        raise refused
    if holder.customer_id != customer.pk:
        # The actor sees this domain (it is in its account), so saying whose it is tells nothing.
        raise ValidationError(
            {"customer": "This domain belongs to another of your customers: choose that one."}
        )
    if domain is not None and domain.pk != holder.pk:
        raise ValidationError(
            {"domain": "The zone's name must be this domain's name or a name under it."}
        )
    return holder


@requires(Right.DOMAINS)
def zone_create(
    *,
    actor: Actor,
    customer: Customer,
    name: str,
    domain=None,
    template: ZoneTemplate | None = None,
    backend: str | None = None,
    empty: bool = False,
) -> Zone:
    """A zone for ``name`` (a domain of ``customer``, or a name under one), from ``template`` (or
    the default one of the customer's mode), published by ``backend`` (sandbox zones: always the
    database). The zone is tied to its domain; another customer's zone at or under that domain
    is disabled (see ``zone_disable``)."""
    _may_manage_zones(actor)
    from customers.selectors import visible_customers

    if not visible_customers(actor).filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not create zones for this customer.")
    if "." not in (name or "").strip().rstrip("."):
        raise ValidationError({"name": OWNERSHIP_MESSAGE})  # a TLD such as "com"
    zone_name = zone_ascii(name)
    holder = _zone_holder(actor=actor, customer=customer, zone_name=zone_name, domain=domain)
    backend = backend or settings.NAMEPORT_DNS_BACKEND
    if backend not in Zone.Backend.values:
        raise ValidationError({"backend": f"Unknown DNS backend {backend}."})
    if not customer.livemode:
        backend = Zone.Backend.DATABASE  # PowerDNS has one namespace: sandbox stays apart
    if template is not None and (
        template.organisation_id not in {None, customer.organisation_id}
        or template.livemode != customer.livemode
    ):
        raise ValidationError({"template": "Choose one of your own templates."})
    body = (
        ""
        if empty
        else template_body(template or template_for(customer.organisation_id, customer.livemode))
    )
    records = template_records(zone_name, body)
    with transaction.atomic():
        from domains.models import Domain

        # The holder's row is the lock: two creations for one name wait for each other.
        holder = Domain.objects.select_for_update().get(pk=holder.pk)
        existing = Zone.objects.filter(name=zone_name, livemode=customer.livemode, enabled=True)
        if existing.filter(customer=customer).exists():
            raise ValidationError({"name": f"A zone for {zone_name} exists already."})
        _disable_zones_of_others(domain=holder, actor=actor)
        zone = Zone.objects.create(
            organisation_id=customer.organisation_id,
            customer=customer,
            domain=holder,
            livemode=customer.livemode,
            name=zone_name,
            serial=next_serial(0),
            backend=backend,
            push_status=(
                Zone.PushStatus.PUBLISHED
                if backend == Zone.Backend.DATABASE
                else Zone.PushStatus.PENDING
            ),
        )
        Record.objects.bulk_create(
            [
                Record(
                    zone=zone,
                    name=c.name,
                    type=c.type,
                    ttl=c.ttl,
                    priority=c.priority,
                    content=c.content,
                )
                for c in records
            ]
        )
        ZoneChange.objects.create(
            zone=zone,
            serial=zone.serial,
            action=Action.CREATE,
            summary=f"Zone created with {len(records)} records",
            before=[],
            after=[c.as_dict() for c in records],
            actor=str(actor)[:200],
            user=actor.user,
        )
        audit(
            actor=actor,
            action="dns.zone.create",
            obj=zone,
            organisation=zone.organisation,
            data={"name": zone_name, "backend": backend, "records": len(records)},
        )
        _enqueue_push(zone, ZonePush.Kind.CREATE)
    return zone


def _disable_zones_of_others(*, domain, actor: Actor) -> list[Zone]:
    """Disable every enabled zone at or under ``domain`` that is not its holder's (a zone made
    before the name was held, or by its earlier holder). A zone under a more specific domain
    held by someone else is that domain's, and stays. Staff get one ticket for them all."""
    candidates = (
        zones_at_or_under(domain.name_puny)
        .filter(
            livemode=domain.livemode,
            enabled=True,
        )
        .exclude(customer_id=domain.customer_id)
    )
    disabled = []
    for zone in candidates:
        own_holder = holding_domain(zone.name, livemode=zone.livemode)
        if own_holder is not None and own_holder.pk != domain.pk:
            continue
        reason = (
            f"{domain.name_puny} is held by another customer now; this zone is no longer served."
        )
        disabled.append(zone_disable(actor=actor, zone=zone, reason=reason))
    if disabled:
        _tell_staff_zones_disabled(domain=domain, zones=disabled)
    return disabled


@requires(Right.DOMAINS)
def zone_disable(*, actor: Actor, zone: Zone, reason: str) -> Zone:
    """Stop serving ``zone`` (no forwarding, no push; unpublished from a real backend) and keep
    it, read only, for audit, with a history row and an audit row."""
    with transaction.atomic():
        zone = _lock(zone, editable=False)
        if not zone.enabled:
            return zone
        zone.enabled = False
        zone.disabled_at = timezone.now()
        zone.disabled_reason = reason[:300]
        zone.save(update_fields=["enabled", "disabled_at", "disabled_reason", "updated_at"])
        ZoneChange.objects.create(
            zone=zone,
            serial=zone.serial,
            action=Action.DISABLE,
            summary=f"Zone disabled: {reason}"[:300],
            before=[],
            after=[],
            actor=str(actor)[:200],
            user=actor.user,
        )
        audit(
            actor=actor,
            action="dns.zone.disable",
            obj=zone,
            organisation=zone.organisation,
            data={"name": zone.name, "reason": reason[:300]},
        )
        _enqueue_push(zone, ZonePush.Kind.DELETE)
    return zone


def _tell_staff_zones_disabled(*, domain, zones: list[Zone]) -> None:
    """A ticket for staff only (staff-only, and no organisation or customer: neither tenant
    reads the other's names) saying which zones were disabled and why; support opens it."""
    lines = "\n".join(
        f"- {zone.name} (zone {zone.pk}, organisation {zone.organisation_id}, "
        f"customer {zone.customer_id})"
        for zone in zones
    )
    hooks.system_ticket(
        subject=f"DNS zones disabled: {domain.name_puny} is held by another customer",
        body=(
            f"{domain.name_puny} (domain {domain.pk}) is now held by customer "
            f"{domain.customer_id} of organisation {domain.organisation_id}. These zones of "
            f"other customers were at or under it and have been disabled (kept, read only, "
            f"served nowhere):\n\n{lines}\n\nCheck whether their owners need to be told."
        ),
        domain=domain,
        staff_only=True,
    )


def uses_platform_nameservers(hostnames: Iterable[str]) -> bool:
    ours = {h.lower().rstrip(".") for h in settings.NAMEPORT_DEFAULT_NAMESERVERS}
    theirs = {h.lower().rstrip(".") for h in hostnames}
    return bool(theirs) and theirs <= ours


def zone_create_for_domain(*, domain, actor: Actor = SYSTEM) -> Zone | None:
    """After a registration or transfer: the registrant's own zone from the template when the
    domain uses the platform's nameservers (none otherwise, or the one it has already). Zones of
    other customers at or under the name are disabled either way: the name is the registrant's."""
    from domains.models import Domain

    with transaction.atomic():  # kept even when the zone below cannot be made
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        _disable_zones_of_others(domain=domain, actor=actor)
        own = Zone.objects.filter(
            name=domain.name_puny,
            livemode=domain.livemode,
            customer_id=domain.customer_id,
            enabled=True,
        ).first()
        if own is not None:
            if own.domain_id != domain.pk:
                Zone.objects.filter(pk=own.pk).update(domain=domain, updated_at=timezone.now())
                own.domain = domain
            return own
    hostnames = list(domain.nameservers.values_list("hostname", flat=True))
    if not uses_platform_nameservers(hostnames):
        return None
    customer = Customer.objects.get(pk=domain.customer_id)
    return zone_create(actor=actor, customer=customer, name=domain.name_puny, domain=domain)


@requires(Right.DOMAINS)
def zone_delete(*, actor: Actor, zone: Zone) -> None:
    """Delete a zone (unpublished from a real backend; a sandbox zone never reaches one)."""
    _may_manage_zones(actor)
    _may_edit(actor, zone)
    with transaction.atomic():
        zone = _lock(zone)
        _enqueue_push(zone, ZonePush.Kind.DELETE)
        audit(
            actor=actor,
            action="dns.zone.delete",
            obj=zone,
            organisation=zone.organisation,
            data={"name": zone.name},
        )
        zone.delete()


@requires(Right.DOMAINS)
def zone_republish(*, actor: Actor, zone: Zone) -> ZonePush | None:
    """Publish the whole zone again (after a failure, or after the server lost it)."""
    _may_edit(actor, zone)
    if zone.backend == Zone.Backend.DATABASE or not zone.livemode:
        return None
    with transaction.atomic():
        zone = _lock(zone)
        zone.push_status = Zone.PushStatus.PENDING
        zone.save(update_fields=["push_status", "updated_at"])
        audit(actor=actor, action="dns.zone.republish", obj=zone, organisation=zone.organisation)
        return _enqueue_push(zone, ZonePush.Kind.SYNC)


@requires(Right.DOMAINS)
def zone_set_default_ttl(*, actor: Actor, zone: Zone, default_ttl) -> Zone:
    _may_edit(actor, zone)
    try:
        value = int(default_ttl)
    except (TypeError, ValueError):
        raise ValidationError({"default_ttl": "The TTL must be a whole number."}) from None
    if not 60 <= value <= 604800:
        raise ValidationError({"default_ttl": "The TTL must be between 60 and 604800 seconds."})
    with transaction.atomic():
        zone = _lock(zone)
        if zone.default_ttl == value:
            return zone
        zone.default_ttl = value
        zone.serial = next_serial(zone.serial)
        fields = ["default_ttl", "serial", "updated_at"]
        if zone.backend != Zone.Backend.DATABASE:
            zone.push_status = Zone.PushStatus.PENDING
            fields.append("push_status")
            _enqueue_push(zone, ZonePush.Kind.UPDATE, [[f"{zone.name}.", "SOA"]])
        zone.save(update_fields=fields)
        audit(
            actor=actor,
            action="dns.zone.default_ttl",
            obj=zone,
            organisation=zone.organisation,
            data={"default_ttl": value},
        )
    return zone


# --- templates ------------------------------------------------------------------------------------


def _may_edit_template(actor: Actor, organisation_id: int | None) -> None:
    if actor.kind == ActorKind.STAFF:
        return
    reseller = actor.kind in {ActorKind.RESELLER, ActorKind.API_KEY}
    if reseller and organisation_id is not None and organisation_id == actor.organisation_id:
        return
    raise PermissionDenied("You may not edit this template.")


@requires(Right.DOMAINS)
def template_save(
    *,
    actor: Actor,
    template: ZoneTemplate | None = None,
    organisation=None,
    name: str,
    body: str,
    is_default: bool = False,
    livemode: bool | None = None,
) -> ZoneTemplate:
    """Create or change a template. Its lines are checked on a sample zone (example.com).

    A template belongs to a mode: a reseller's or a key's new template takes the mode the actor
    looks at (a sandbox key makes sandbox templates, used only by sandbox zones); staff choose
    (``livemode``, live by default). A template never changes mode, and the actor must be
    looking at the template's mode to change it."""
    organisation_id = (
        template.organisation_id
        if template is not None
        else (organisation.pk if organisation is not None else None)
    )
    _may_edit_template(actor, organisation_id)
    if template is not None:
        mode = template.livemode
        if livemode is not None and bool(livemode) != mode:
            raise ValidationError({"livemode": "A template's mode never changes."})
    elif actor.livemode is not None:
        mode = actor.livemode
        if livemode is not None and bool(livemode) != mode:
            which = "live" if mode else "sandbox"
            raise ValidationError(
                {"livemode": f"You are in {which} mode: templates made here are {which} templates."}
            )
    else:
        mode = True if livemode is None else bool(livemode)
    if actor.livemode is not None and actor.livemode != mode:
        raise PermissionDenied("You may not edit this template.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the template a name."})
    template_records("example.com", body)
    with transaction.atomic():
        same_set = ZoneTemplate.objects.filter(organisation_id=organisation_id, livemode=mode)
        clash = same_set.filter(name=name)
        if template is not None:
            clash = clash.exclude(pk=template.pk)
        if clash.exists():
            raise ValidationError({"name": "A template with this name exists already."})
        if is_default:
            others = same_set.filter(is_default=True)
            if template is not None:
                others = others.exclude(pk=template.pk)
            others.update(is_default=False)
        if template is None:
            template = ZoneTemplate(organisation_id=organisation_id, livemode=mode)
        template.name, template.body, template.is_default = name, body, is_default
        template.save()
        audit(
            actor=actor,
            action="dns.template.save",
            obj=template,
            organisation=template.organisation,
            data={"name": name, "is_default": is_default, "livemode": mode},
        )
    return template


@requires(Right.DOMAINS)
def template_delete(*, actor: Actor, template: ZoneTemplate) -> None:
    _may_edit_template(actor, template.organisation_id)
    if actor.livemode is not None and actor.livemode != template.livemode:
        raise PermissionDenied("You may not edit this template.")
    with transaction.atomic():
        audit(
            actor=actor,
            action="dns.template.delete",
            obj=template,
            organisation=template.organisation,
            data={"name": template.name},
        )
        template.delete()


# --- e-mail forwarding ----------------------------------------------------------------------------


@requires(Right.DOMAINS)
def email_forward_add(*, actor: Actor, zone: Zone, source: str, destination: str) -> EmailForward:
    _may_edit(actor, zone)
    source = (source or "").strip().lower()
    if source.endswith("@" + zone.name):
        source = source[: -len(zone.name) - 1]
    errors = {}
    if not source or (
        (source != "*" and not all(c.isalnum() or c in "._+-" for c in source)) or len(source) > 64
    ):
        errors["source"] = "Give the part before @ (letters, digits, . _ + -), or * for all."
    destination = (destination or "").strip().lower()
    try:
        validate_email(destination)
    except ValidationError:
        errors["destination"] = "Give the e-mail address to forward to."
    if (
        not errors
        and destination.endswith("@" + zone.name)
        and destination.split("@")[0]
        in {
            source,
            "*",
        }
    ):
        errors["destination"] = "Forwarding an address to itself would loop."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if EmailForward.objects.filter(zone=zone, source=source, destination=destination).exists():
            raise ValidationError({"destination": "This forwarding exists already."})
        forward = EmailForward.objects.create(zone=zone, source=source, destination=destination)
        audit(
            actor=actor,
            action="dns.email_forward.add",
            obj=zone,
            organisation=zone.organisation,
            data={"source": source, "destination": destination},
        )
    return forward


@requires(Right.DOMAINS)
def email_forward_delete(*, actor: Actor, forward: EmailForward) -> None:
    zone = forward.zone
    _may_edit(actor, zone)
    with transaction.atomic():
        audit(
            actor=actor,
            action="dns.email_forward.delete",
            obj=zone,
            organisation=zone.organisation,
            data={"source": forward.source, "destination": forward.destination},
        )
        forward.delete()


# --- DNSSEC ---------------------------------------------------------------------------------------

DNSSEC_FLAGS = {256: "Zone Signing Key (ZSK)", 257: "Key Signing Key (KSK)"}
# The largest public key a DNSSEC algorithm uses is RSA's at 4096 bits (RFC 3110, RFC 5702): a
# 512-byte modulus, an exponent (3 bytes in practice, at most as long as the modulus) and its
# 1-3 length bytes, so at most 1,027 bytes; ECDSA and EdDSA keys are 32 to 96. A DNSKEY rdata
# may reach 65,535 bytes, but no real key comes near: 1,100 bytes leaves room and refuses junk.
MAX_DNSKEY_BYTES = 1100
# The same bound as pasted text: base64 of 1,100 bytes is 1,468 characters; the rest is room
# for the line breaks and spaces of a key copied from a zone file.
MAX_DNSKEY_TEXT = 2048


def _wire_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.lower().encode("ascii")
    return out + b"\x00"


def dnskey_rdata(flags: int, protocol: int, algorithm: int, public_key: bytes) -> bytes:
    return struct.pack("!HBB", flags, protocol, algorithm) + public_key


def key_tag(rdata: bytes) -> int:
    """RFC 4034 appendix B."""
    total = 0
    for index, byte in enumerate(rdata):
        total += byte if index & 1 else byte << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def ds_digest(zone_name: str, rdata: bytes, digest_type: int = 2) -> str:
    algorithm = {1: hashlib.sha1, 2: hashlib.sha256, 4: hashlib.sha384}[digest_type]
    return algorithm(_wire_name(zone_name) + rdata).hexdigest().upper()


@requires(Right.DOMAINS)
def dnssec_key_add(
    *, actor: Actor, zone: Zone, flags, algorithm, public_key: str, digest_type: int = 2
) -> DnssecKey:
    """Keep a DNSKEY (seed 003 ``PUT /domain/@id/dnssec``) with its key tag and DS digest."""
    _may_edit(actor, zone)
    errors = {}
    try:
        flags = int(flags)
        if flags not in DNSSEC_FLAGS:
            raise ValueError
    except (TypeError, ValueError):
        errors["flags"] = "Flags are 256 (ZSK) or 257 (KSK)."
    try:
        algorithm = int(algorithm)
        if algorithm not in DNSSEC_ALGORITHMS:
            raise ValueError
    except (TypeError, ValueError):
        errors["algorithm"] = "Choose an algorithm: " + ", ".join(
            f"{n} ({label})" for n, label in DNSSEC_ALGORITHMS.items()
        )
    text = "".join((public_key or "")[: MAX_DNSKEY_TEXT + 1].split())
    try:
        if len(public_key or "") > MAX_DNSKEY_TEXT:
            raise OverflowError
        key = base64.b64decode(text, validate=True)
        if len(key) > MAX_DNSKEY_BYTES:
            raise OverflowError
        if len(key) < 32:
            raise ValueError
    except OverflowError:
        errors["public_key"] = (
            f"A DNSSEC public key is at most {MAX_DNSKEY_BYTES} bytes "
            f"({MAX_DNSKEY_TEXT} characters of base64); the largest real one (RSA, 4096 bits) "
            "is 1,027."
        )
        key = b""
    except (binascii.Error, ValueError):
        errors["public_key"] = "Paste the public key in base64, as in the DNSKEY record."
        key = b""
    if errors:
        raise ValidationError(errors)
    rdata = dnskey_rdata(flags, 3, algorithm, key)
    tag = key_tag(rdata)
    with transaction.atomic():
        if zone.dnssec_keys.filter(public_key=text).exists():
            raise ValidationError({"public_key": "This key is there already."})
        dnssec_key = DnssecKey.objects.create(
            zone=zone,
            flags=flags,
            protocol=3,
            algorithm=algorithm,
            public_key=text,
            key_tag=tag,
            digest_type=digest_type,
            digest=ds_digest(zone.name, rdata, digest_type),
        )
        audit(
            actor=actor,
            action="dns.dnssec.add",
            obj=zone,
            organisation=zone.organisation,
            data={"key_tag": tag, "flags": flags, "algorithm": algorithm},
        )
    return dnssec_key


@requires(Right.DOMAINS)
def dnssec_key_delete(*, actor: Actor, key: DnssecKey) -> None:
    zone = key.zone
    _may_edit(actor, zone)
    with transaction.atomic():
        audit(
            actor=actor,
            action="dns.dnssec.delete",
            obj=zone,
            organisation=zone.organisation,
            data={"key_tag": key.key_tag},
        )
        key.delete()


__all__ = [
    "IMPORT_MODES",
    "ImportPlan",
    "RecordInvalid",
    "dnssec_key_add",
    "dnssec_key_delete",
    "email_forward_add",
    "email_forward_delete",
    "forwarding_clear",
    "forwarding_set",
    "import_plan",
    "next_serial",
    "record_create",
    "record_delete",
    "record_update",
    "template_delete",
    "template_save",
    "zone_create",
    "zone_create_for_domain",
    "zone_delete",
    "zone_import",
    "zone_republish",
    "zone_rollback",
]


def zone_create_after_registration(*, domain) -> Zone | None:
    """Called by the registry outbox when a registration or transfer succeeded. A zone that
    cannot be made (a broken template) must not undo the registration: log it and go on."""
    import logging

    try:  # each step is its own atomic block: a refused zone leaves the disabling done
        return zone_create_for_domain(domain=domain)
    except (ValidationError, PermissionDenied):
        logging.getLogger(__name__).exception("no zone made for %s", domain.name_puny)
        return None

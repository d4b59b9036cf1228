"""A simulated registry with its own tables (Sandbox* models). The embedded default adapter.

Behaviour is set per registrar account in ``RegistrarAccount.settings``:

| key          | meaning                                            | default   |
| ------------ | -------------------------------------------------- | --------- |
| latency_ms   | added to every call                                | 0         |
| failure_rate | share of mutating calls that fail (0..1)           | 0         |
| failure_kind | transient, permanent, insufficient_funds or auth   | transient |
| reserved     | names that are never available                     | []        |
| premium      | {name: price} premium names                        | {}        |
| prices       | {tld: {register, renew, transfer, restore}} cost   | price     |
|              | prices (restore: the price list's redemption)      | list, 8.00|
| balance      | opening balance of the account (USD)               | 100000    |
| replay       | recognise a repeated idempotency key (see below)   | false     |
| lose_answers | commands (register, renew, transfer, nameservers,  | []        |
|              | lock...) applied whose answer is then lost         |           |
| lost_answer_ | how long the answer is held before it is lost, so  | 0         |
| hold_ms      | that a client's read timeout fires first           |           |

Every command it applies is written to ``SandboxTransaction`` (the registry's transaction log),
under the client's idempotency key. Like a real registry, the simulator does not recognise a key it
has seen (``replay`` off, the default): a repeated command is applied again, or refused as a
registry would refuse it (a renewal whose current expiry no longer matches: 2306; a create of a
name that exists: 2302; a transfer of a name already ours: 2106); the log then keeps the key with
a suffix. With ``replay`` on, a repeated key returns the first result and changes nothing.

``lose_answers`` plays the answer lost after the registry applied the command (a timeout, a closed
connection): the change is committed, then the caller gets ``OutcomeUnknown`` (the front ends:
the REST one answers 504, the EPP one closes the connection without a word).
"""

from __future__ import annotations

import random
import secrets
import time
from contextlib import nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from domains import hooks
from domains.models import (
    RegistrarAccount,
    SandboxBalance,
    SandboxDomain,
    SandboxHost,
    SandboxTransaction,
)
from domains.registrars.base import (
    AuthorizationError,
    CheckResult,
    ConnectionReport,
    ContactData,
    DomainInfo,
    DsData,
    FeeRefusedError,
    HostInfo,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    QuotedFee,
    TransientError,
)

DEFAULT_PRICE = Decimal("8.00")
FAILURES = {
    "transient": lambda: TransientError("Unexpected error, try again later", code=500),
    "permanent": lambda: PermanentError("Parameter value policy error", code=2306),
    "insufficient_funds": lambda: InsufficientFundsError("Insufficient funds", code=260),
    "auth": lambda: AuthorizationError("Authorization error", code=2201),
}


def _platform_cost(tld: str, action: str) -> Decimal | None:
    """The simulated registry charges what the platform's price list says it costs (1 year,
    USD), so that the demo and tests see consistent prices unless ``prices`` says otherwise.
    Billing answers through ``domains.hooks.registry_cost``."""
    return hooks.registry_cost(tld=tld, action=action)


def _info(row: SandboxDomain) -> DomainInfo:
    return DomainInfo(
        name=row.name,
        registered_at=row.registered_at,
        expires_at=row.expires_at,
        statuses=list(row.statuses),
        nameservers=list(row.nameservers),
        locked=row.locked,
        privacy=row.privacy,
        autorenew=row.autorenew,
        ds_records=[DsData(**ds) for ds in row.ds_records],
        contacts=[ContactData(**c) for c in row.contacts],
        reference=f"SBX-{row.pk}",
    )


def _day(value: date | datetime) -> date:
    """A date, from a date or an aware datetime (its UTC day)."""
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


class SandboxRegistry:
    def __init__(self, account: RegistrarAccount, *, rng: random.Random | None = None):
        self.account = account
        self.options = dict(account.settings or {})
        self.rng = rng or random.Random()

    def test_connection(self) -> ConnectionReport:
        """The simulated registry runs inside Nameport: nothing to log in to; its knobs."""
        details = [f"Simulated registry (account {self.account.name})"]
        rate = float(self.options.get("failure_rate", 0) or 0)
        if rate:
            details.append(
                f"Fails {rate:.0%} of changes ({self.options.get('failure_kind', 'transient')})"
            )
        return ConnectionReport(True, 1000, "Command completed successfully", details)

    # --- behaviour knobs ----------------------------------------------------------------------
    def _delay(self) -> None:
        latency = float(self.options.get("latency_ms", 0) or 0)
        if latency > 0:
            time.sleep(latency / 1000)

    def _maybe_fail(self) -> None:
        rate = float(self.options.get("failure_rate", 0) or 0)
        if rate > 0 and self.rng.random() < rate:
            kind = self.options.get("failure_kind", "transient")
            raise FAILURES.get(kind, FAILURES["transient"])()

    def _cost(self, name: str, action: str, years: int) -> Decimal:
        premium = self.options.get("premium", {})
        if name in premium and action == "register":
            return Decimal(str(premium[name])) * years
        tld = name.split(".", 1)[1] if "." in name else name
        per_year = self.options.get("prices", {}).get(tld, {}).get(action)
        if per_year is None:
            # The price list calls a restore from redemption "redemption".
            listed = "redemption" if action == "restore" else action
            per_year = _platform_cost(tld, listed) or DEFAULT_PRICE
        return Decimal(str(per_year)) * years

    def _charge_agreed(self, cost: Decimal, quoted_fee: QuotedFee | None, what: str) -> None:
        """Charge ``cost``, unless it is above the fee the client agreed to pay: then refuse as a
        fee-1.0 registry does (2004) and charge nothing."""
        if quoted_fee is not None and (
            cost > quoted_fee.amount or (quoted_fee.currency or "USD") != "USD"
        ):
            raise FeeRefusedError(
                f"The registry refused to {what} for the agreed {quoted_fee.amount} "
                f"{quoted_fee.currency}: its price is {cost} USD",
                code=2004,
                agreed=quoted_fee,
                price=QuotedFee(amount=cost, currency="USD"),
            )
        self._charge(cost)

    def _charge(self, amount: Decimal) -> None:
        opening = Decimal(str(self.options.get("balance", "100000")))
        balance, _ = SandboxBalance.objects.select_for_update().get_or_create(
            account=self.account.name, defaults={"amount": opening}
        )
        if balance.amount < amount:
            raise InsufficientFundsError("Insufficient funds", code=260)
        balance.amount -= amount
        balance.save(update_fields=["amount"])

    @property
    def replay(self) -> bool:
        """Whether a repeated idempotency key is recognised (off, as at a real registry)."""
        return bool(self.options.get("replay", False))

    def log_key(self, key: str) -> str:
        """The key a command is logged under: the client's, or with replay off (where keys are
        not unique) the client's with a suffix of its own."""
        return key if self.replay else f"{key}#{secrets.token_hex(4)}"

    def _replay(self, key: str) -> SandboxTransaction | None:
        if not self.replay:
            return None
        return SandboxTransaction.objects.filter(idempotency_key=key).first()

    def _remember(self, key: str, command: str, result: dict) -> None:
        SandboxTransaction.objects.create(
            idempotency_key=self.log_key(key),
            account=self.account.name,
            command=command,
            result=result,
        )

    def lose_answer(self, command: str) -> None:
        """The ``lose_answers`` knob, called once ``command`` is applied and committed: hold the
        answer ``lost_answer_hold_ms``, then lose it."""
        if command not in (self.options.get("lose_answers") or []):
            return
        hold = float(self.options.get("lost_answer_hold_ms", 0) or 0)
        if hold > 0:
            time.sleep(hold / 1000)
        raise OutcomeUnknown(
            f"The registry applied {command} but its answer was lost (simulated)", code=504
        )

    def _domain(self, name: str, *, for_update: bool = False) -> SandboxDomain:
        queryset = (
            SandboxDomain.objects.select_for_update() if for_update else SandboxDomain.objects
        )
        row = queryset.filter(name=name).first()
        if row is None:
            raise NotFoundError(f"Domain {name} does not exist", code=2303)
        if row.account != self.account.name:
            raise AuthorizationError(f"Domain {name} is sponsored by another registrar", code=2201)
        return row

    def _mutate(self, key: str, command: str, name: str, apply) -> DomainInfo:
        """Run ``apply`` atomically and return the domain's info; with ``replay`` on, once per
        idempotency key.

        The key is written first, in the same transaction as the change: with replay on, a
        repeated key fails that insert and gets the first call's answer; a failed change forgets
        the key. ``apply`` returns the domain's row as it now is. One call costs one
        ``latency_ms``, as one command to a real registry does (its answer carries the info)."""
        self._delay()
        try:
            with transaction.atomic():
                self._remember(key, command, {"name": name})
                self._maybe_fail()
                row = apply()
        except IntegrityError:
            # This key was used before (or a concurrent call with it won): answer as it did.
            previous = self._replay(key)
            if previous is None:
                raise
            row = self._domain(previous.result["name"])
            return _info(row)
        self.lose_answer(command)
        return _info(row)

    # --- the adapter protocol -----------------------------------------------------------------
    def check(self, names: list[str]) -> list[CheckResult]:
        self._delay()
        taken = set(SandboxDomain.objects.filter(name__in=names).values_list("name", flat=True))
        reserved = set(self.options.get("reserved", []))
        premium = self.options.get("premium", {})
        results = []
        for name in names:
            reason = "registered" if name in taken else ("reserved" if name in reserved else "")
            results.append(
                CheckResult(
                    name=name,
                    available=not reason,
                    premium=name in premium,
                    # Only premium names have a price of their own; others cost what the
                    # price list says (and need no database read in the checking thread).
                    price=self._cost(name, "register", 1) if name in premium else None,
                    reason=reason,
                )
            )
        return results

    def price(self, name: str, action: str, years: int) -> CheckResult:
        self._delay()
        premium = self.options.get("premium", {})
        return CheckResult(
            name=name,
            available=True,
            premium=name in premium and action == "register",  # as _cost prices it
            price=self._cost(name, action, years),
        )

    def register(
        self, *, name, years, nameservers, contacts, privacy, idempotency_key, quoted_fee=None
    ):
        def apply():
            if name in set(self.options.get("reserved", [])):
                raise PermanentError(f"{name} is reserved", code=2302)
            if SandboxDomain.objects.filter(name=name).exists():
                raise PermanentError(f"{name} is not available", code=2302)
            self._charge_agreed(self._cost(name, "register", years), quoted_fee, f"register {name}")
            now = timezone.now()
            return SandboxDomain.objects.create(
                name=name,
                account=self.account.name,
                registered_at=now,
                expires_at=_add_years(now, years),
                statuses=["ok"],
                nameservers=list(nameservers),
                privacy=privacy,
                auth_code=secrets.token_urlsafe(12),
                contacts=[c.__dict__ for c in contacts],
            )

        return self._mutate(idempotency_key, "register", name, apply)

    def renew(self, *, name, years, current_expiry: date | None, idempotency_key, quoted_fee=None):
        def apply():
            row = self._domain(name, for_update=True)
            expiry = row.expires_at.astimezone(UTC).date()
            if current_expiry is not None and _day(current_expiry) != expiry:
                raise PermanentError(
                    f"The current expiry date of {name} is {expiry}, not {_day(current_expiry)}",
                    code=2306,
                )
            self._charge_agreed(self._cost(name, "renew", years), quoted_fee, f"renew {name}")
            row.expires_at = _add_years(row.expires_at, years)
            row.save(update_fields=["expires_at"])
            return row

        return self._mutate(idempotency_key, "renew", name, apply)

    def transfer(self, *, name, auth_code, years, idempotency_key, quoted_fee=None):
        def apply():
            row = SandboxDomain.objects.select_for_update().filter(name=name).first()
            if row is None:
                raise NotFoundError(f"Domain {name} does not exist", code=2303)
            if row.account == self.account.name:
                raise PermanentError(f"{name} is already yours", code=2106)
            if row.locked:
                raise PermanentError(f"{name} is locked against transfer", code=2304)
            if not secrets.compare_digest(row.auth_code, auth_code):
                raise AuthorizationError("Invalid authorization code", code=2202)
            self._charge_agreed(self._cost(name, "transfer", years), quoted_fee, f"transfer {name}")
            row.account = self.account.name
            row.expires_at = _add_years(row.expires_at, years)
            row.auth_code = secrets.token_urlsafe(12)
            row.save()
            return row

        return self._mutate(idempotency_key, "transfer", name, apply)

    def restore(self, *, name, idempotency_key, quoted_fee=None, reason="", deleted_at=None):
        """Restore a domain from redemption (``pendingDelete``), charged at the ``restore``
        price; one that is not in redemption here is already restored: nothing is charged."""

        def apply():
            row = self._domain(name, for_update=True)
            if "pendingDelete" in row.statuses:
                cost = self._cost(name, "restore", 1)
                self._charge_agreed(cost, quoted_fee, f"restore {name}")
                kept = [s for s in row.statuses if s not in ("pendingDelete", "pendingRestore")]
                row.statuses = kept or ["ok"]
                row.save(update_fields=["statuses"])
            return row

        return self._mutate(idempotency_key, "restore", name, apply)

    def info(self, name: str) -> DomainInfo:
        self._delay()
        return _info(self._domain(name))

    def _update(self, key: str, command: str, name: str, **fields) -> DomainInfo:
        if connection.vendor == "postgresql":
            return self._update_in_one_statement(key, command, name, fields)

        def apply():
            row = self._domain(name, for_update=True)
            for field, value in fields.items():
                setattr(row, field, value)
            row.save(update_fields=list(fields))
            return row

        return self._mutate(key, command, name, apply)

    def _update_in_one_statement(self, key: str, command: str, name: str, fields: dict):
        """``_update`` as a single statement (PostgreSQL): change the row and remember the key
        together, so the simulated registry costs one round trip instead of five and stays out
        of the way of what a benchmark measures. A used key fails the insert and rolls the
        change back with it (then the first answer is replayed); an unknown domain or one of
        another registrar changes nothing and remembers nothing."""
        self._delay()
        self._maybe_fail()
        quote = connection.ops.quote_name
        meta, log = SandboxDomain._meta, SandboxTransaction._meta
        assignments = [f"{quote(meta.get_field(f).column)} = %s" for f in fields]
        values = [meta.get_field(f).get_db_prep_save(v, connection) for f, v in fields.items()]
        result = log.get_field("result").get_db_prep_save({"name": name}, connection)
        sql = (
            f"WITH changed AS (UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
            "WHERE name = %s AND account = %s RETURNING id), "
            f"remembered AS (INSERT INTO {quote(log.db_table)} "
            "(idempotency_key, account, command, result, created_at) "
            "SELECT %s, %s, %s, %s, %s WHERE EXISTS (SELECT 1 FROM changed)) "
            "SELECT id FROM changed"
        )
        params = [*values, name, self.account.name]
        params += [self.log_key(key), self.account.name, command, result, timezone.now()]
        # Alone, the statement is its own transaction; inside the caller's, a savepoint keeps a
        # used key's failed insert from spoiling the rest of that transaction.
        guard = transaction.atomic() if connection.in_atomic_block else nullcontext()
        try:
            with guard, connection.cursor() as cursor:
                cursor.execute(sql, params)
                changed = cursor.fetchone()
        except IntegrityError:
            previous = self._replay(key)
            if previous is None:
                raise
            return _info(self._domain(previous.result["name"]))
        if changed is None:
            self._domain(name)  # raises why: no such domain, or another registrar's
            raise PermanentError(f"Domain {name} could not be changed", code=2400)
        self.lose_answer(command)
        return _info(SandboxDomain.objects.get(pk=changed[0]))

    def set_nameservers(self, *, name, nameservers, idempotency_key):
        return self._update(idempotency_key, "nameservers", name, nameservers=list(nameservers))

    def set_lock(self, *, name, locked, idempotency_key):
        return self._update(idempotency_key, "lock", name, locked=locked)

    def set_privacy(self, *, name, enabled, idempotency_key):
        return self._update(idempotency_key, "privacy", name, privacy=enabled)

    def set_autorenew(self, *, name, enabled, idempotency_key):
        return self._update(idempotency_key, "autorenew", name, autorenew=enabled)

    def set_contacts(self, *, name, contacts, idempotency_key):
        return self._update(
            idempotency_key, "contacts", name, contacts=[c.__dict__ for c in contacts]
        )

    def set_ds_records(self, *, name, records, idempotency_key):
        return self._update(
            idempotency_key, "dnssec", name, ds_records=[r.__dict__ for r in records]
        )

    def auth_code(self, name: str) -> str:
        self._delay()
        return self._domain(name).auth_code

    def host_create(self, *, hostname, ipv4, ipv6, idempotency_key):
        self._delay()
        if self._replay(idempotency_key) is None:
            self._maybe_fail()
            with transaction.atomic():
                if SandboxHost.objects.filter(hostname=hostname).exists():
                    raise PermanentError(f"Host {hostname} already exists", code=2302)
                SandboxHost.objects.create(
                    hostname=hostname, account=self.account.name, ipv4=ipv4, ipv6=ipv6
                )
                self._remember(idempotency_key, "host_create", {"name": hostname})
        host = SandboxHost.objects.get(hostname=hostname)
        return HostInfo(hostname=host.hostname, ipv4=host.ipv4, ipv6=host.ipv6)

    def host_update(self, *, hostname, ipv4, ipv6, idempotency_key):
        self._delay()
        if self._replay(idempotency_key) is None:
            self._maybe_fail()
            with transaction.atomic():
                updated = SandboxHost.objects.filter(
                    hostname=hostname, account=self.account.name
                ).update(ipv4=ipv4, ipv6=ipv6)
                if not updated:
                    raise NotFoundError(f"Host {hostname} does not exist", code=2303)
                self._remember(idempotency_key, "host_update", {"name": hostname})
        return HostInfo(hostname=hostname, ipv4=ipv4, ipv6=ipv6)

    def host_delete(self, *, hostname, idempotency_key):
        self._delay()
        if self._replay(idempotency_key) is not None:
            return
        self._maybe_fail()
        with transaction.atomic():
            in_use = SandboxDomain.objects.values_list("nameservers", flat=True).iterator()
            if any(hostname in nameservers for nameservers in in_use):
                raise PermanentError(f"Host {hostname} is in use as a nameserver", code=2305)
            SandboxHost.objects.filter(hostname=hostname, account=self.account.name).delete()
            self._remember(idempotency_key, "host_delete", {"name": hostname})

"""Staff-only changes to the registry set-up: registrar accounts and TLD routing.

Keyword-only, one transaction each, validated with ``full_clean()`` and audited. Secrets
(registrar credentials) are never written to the audit trail: only whether they changed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from domains import names
from domains.models import RegistrarAccount, Tld
from domains.registrars import adapter_for
from domains.registrars.base import ConnectionReport, RegistrarError
from portal.audit import audit
from portal.tenancy import Actor

ACCOUNT_FIELDS = ("name", "kind", "livemode", "settings", "rate_per_second", "max_sessions")
TLD_FIELDS = (
    "registrar_account",
    "grace_days",
    "redemption_days",
    "min_years",
    "max_years",
    "idn_allowed",
    "is_active",
    "reserved_names",
)


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff can change the registry set-up.")


def registrar_account_save(
    *,
    actor: Actor,
    account: RegistrarAccount | None = None,
    name: str,
    kind: str,
    livemode: bool,
    settings: dict,
    rate_per_second: int,
    max_sessions: int,
    is_active: bool = True,
    credentials: str = "",
    clear_credentials: bool = False,
) -> RegistrarAccount:
    """Create (``account=None``) or update a registrar account. Blank ``credentials`` keep the
    stored secret; ``clear_credentials`` removes it. The audit row says whether the secret
    changed, never what it is."""
    _require_staff(actor)
    if not isinstance(settings, dict):
        raise ValidationError({"settings": "Settings must be a JSON object."})
    creating = account is None
    account = account or RegistrarAccount()
    values = {
        "name": (name or "").strip(),
        "kind": kind,
        "livemode": livemode,
        "settings": settings,
        "rate_per_second": rate_per_second,
        "max_sessions": max_sessions,
        "is_active": is_active,
    }
    changed = sorted(k for k, v in values.items() if creating or getattr(account, k) != v)
    with transaction.atomic():
        for key, value in values.items():
            setattr(account, key, value)
        if credentials:
            account.credentials = credentials
        elif clear_credentials:
            account.credentials = ""
        account.full_clean()
        account.save()
        audit(
            actor=actor,
            action="registrar_account." + ("create" if creating else "update"),
            obj=account,
            data={
                "name": account.name,
                "changed": changed,
                "credentials_changed": bool(credentials) or clear_credentials,
                "credentials_cleared": not credentials and clear_credentials,
            },
        )
    return account


def _tld_name(raw: str) -> str:
    """A TLD's name as stored: ASCII, lower case, without the leading dot (com, com.ng)."""
    name = (raw or "").strip().lower().strip(".")
    if not name:
        raise ValidationError({"name": "Enter the TLD without the dot, e.g. com or com.ng."})
    try:
        ascii_name = names._to_ascii(name)
        names._check_ldh(ascii_name, what="TLD")
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    return ascii_name


def tld_create(*, actor: Actor, name: str, **values) -> Tld:
    """Add a TLD to sell (its lifecycle rules and routing as ``tld_update`` takes them)."""
    _require_staff(actor)
    unknown = set(values) - {*TLD_FIELDS, "pending_delete_days", "transfer_default"}
    if unknown:
        raise ValidationError(f"Unknown TLD settings: {', '.join(sorted(unknown))}.")
    name = _tld_name(name)
    if "reserved_names" in values:
        values["reserved_names"] = _reserved(values["reserved_names"], name)
    with transaction.atomic():
        if Tld.objects.filter(name=name).exists():
            raise ValidationError({"name": f".{name} is already on the list."})
        tld = Tld(name=name, **values)
        tld.full_clean()
        tld.save()
        audit(
            actor=actor,
            action="tld.create",
            obj=tld,
            data={
                "name": tld.name,
                "registrar_account": tld.registrar_account_id,
                **{key: getattr(tld, key) for key in TLD_FIELDS if key != "registrar_account"},
            },
        )
    return tld


def _reserved(raw, tld: str) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace(",", "\n").splitlines()
    try:
        return names.normalise_reserved_names(list(raw or []), tld=tld)
    except ValidationError as exc:
        raise ValidationError({"reserved_names": exc.messages}) from None


def tld_update(
    *,
    actor: Actor,
    tld: Tld,
    registrar_account: RegistrarAccount | None,
    grace_days: int,
    redemption_days: int,
    min_years: int,
    max_years: int,
    idn_allowed: bool,
    is_active: bool,
    pending_delete_days: int | None = None,
    transfer_default: str | None = None,
    reserved_names: list[str] | str | None = None,
) -> Tld:
    """Route a TLD to a registrar account and set its lifecycle rules (``reserved_names``:
    None keeps them)."""
    _require_staff(actor)
    values = {
        "registrar_account": registrar_account,
        "grace_days": grace_days,
        "redemption_days": redemption_days,
        "min_years": min_years,
        "max_years": max_years,
        "idn_allowed": idn_allowed,
        "is_active": is_active,
    }
    if pending_delete_days is not None:
        values["pending_delete_days"] = pending_delete_days
    if transfer_default is not None:
        values["transfer_default"] = transfer_default
    if reserved_names is not None:
        values["reserved_names"] = _reserved(reserved_names, tld.name)

    def snapshot(row: Tld) -> dict:
        return {
            key: row.registrar_account_id if key == "registrar_account" else getattr(row, key)
            for key in values
        }

    with transaction.atomic():
        before = snapshot(Tld.objects.select_for_update().get(pk=tld.pk))
        for key, value in values.items():
            setattr(tld, key, value)
        tld.full_clean()
        tld.save()
        after = snapshot(tld)
        audit(
            actor=actor,
            action="tld.update",
            obj=tld,
            data={k: after[k] for k in values if before[k] != after[k]},
        )
    return tld


def registrar_account_test(*, actor: Actor, account: RegistrarAccount) -> ConnectionReport:
    """Log in with the account's adapter on a new session and report what the registry
    answered (code and message). Settings or credentials the adapter cannot use are reported,
    not raised. Audited (the outcome, never a credential)."""
    _require_staff(actor)
    adapter = None
    try:
        adapter = adapter_for(account)
        report = adapter.test_connection()
    except RegistrarError as exc:
        report = ConnectionReport(False, _code(exc.code), exc.message)
    finally:
        close = getattr(adapter, "close", None)
        if callable(close):
            close()
    audit(
        actor=actor,
        action="registrar_account.test",
        obj=account,
        organisation=None,
        data={"ok": report.ok, "code": report.code},
    )
    return report


def _code(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None

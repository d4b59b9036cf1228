"""Every state change of the customers app: organisations, customers, contacts, API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import ApiKey, Organisation
from customers.roles import Right, require
from portal.audit import audit
from portal.tenancy import Actor

API_KEY_PREFIXES = {True: "np_live_", False: "np_test_"}


def hash_api_key(raw_key: str) -> str:
    """API keys carry 256 bits of randomness, so one SHA-256 is enough (no slow KDF needed)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def mint_credential(kind_prefix: str) -> tuple[str, str]:
    """A new secret credential (API key or registrant token): ``(prefix, raw)``, where ``raw``
    is ``<kind_prefix><12 hex digits of lookup>_<43 url-safe characters>`` (256 bits) and
    ``prefix`` its part before the last underscore, stored to find the row (and shown in lists)
    beside :func:`hash_api_key` of ``raw``."""
    prefix = f"{kind_prefix}{secrets.token_hex(6)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def api_key_issue(
    *, actor: Actor, organisation: Organisation, livemode: bool, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the raw key, which is never stored nor shown again."""
    require(actor, Right.API_KEYS)
    if not actor.is_staff and actor.organisation_id != organisation.pk:
        raise PermissionDenied("You may issue keys for your own organisation only.")
    prefix, raw_key = mint_credential(API_KEY_PREFIXES[livemode])
    with transaction.atomic():
        key = ApiKey(
            organisation=organisation,
            name=name,
            livemode=livemode,
            prefix=prefix,
            key_hash=hash_api_key(raw_key),
            created_by=actor.user,
        )
        key.full_clean()
        key.save()
        audit(
            actor=actor,
            action="api_key.issue",
            obj=key,
            organisation=organisation,
            data={"prefix": key.prefix, "livemode": livemode},
        )
    return key, raw_key


def api_key_revoke(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    """Revoke at once: the next request with the key is refused (no cache in front of it)."""
    require(actor, Right.API_KEYS)
    if not actor.is_staff and actor.organisation_id != api_key.organisation_id:
        raise PermissionDenied("You may revoke your own organisation's keys only.")
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit(
                actor=actor,
                action="api_key.revoke",
                obj=api_key,
                organisation=api_key.organisation,
                data={"prefix": api_key.prefix},
            )
    api_key.refresh_from_db()
    return api_key


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key``, or None. Counts the use and marks the time in one
    UPDATE (``F()``, no read-modify-write); read from the database on every request, so a
    revoked key is refused at once."""
    raw_key = raw_key.strip()
    if not raw_key.startswith(tuple(API_KEY_PREFIXES.values())) or raw_key.count("_") < 3:
        return None
    prefix = raw_key[: raw_key.index("_", len("np_live_"))]
    key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if key is None or not secrets.compare_digest(key.key_hash, hash_api_key(raw_key)):
        return None
    if key.revoked_at is not None or not key.organisation.is_active:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(use_count=F("use_count") + 1, last_used_at=now)
    key.last_used_at = now
    key.use_count += 1
    return key

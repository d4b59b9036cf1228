"""Registrant API tokens (seed 004): a customer's Bearer tokens for the read-only registrant API.

A token reads as ``np_reg_<lookup>_<secret>``: its own prefix, so the API-key authentication
(``np_live_``/``np_test_``, portal.auth) never takes one for a key, and the registrant API never
takes an API key. Only the prefix (shown in lists) and a SHA-256 hash (the same one API keys use)
are stored; the token is shown once, when it is created.

Who may create and revoke a customer's tokens (:func:`may_manage`): the customer's own user
(also staff or a reseller signed in as that customer, which the audit row names), its
organisation's owners and admins (the ``customers`` right), and staff. Nobody else: not a
contact, not an API key, not a registrant token.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer, RegistrantToken
from customers.roles import Right, may
from customers.services import hash_api_key, mint_credential
from portal.audit import audit
from portal.tenancy import Actor, ActorKind, scope

TOKEN_PREFIX = "np_reg_"
# np_reg_, 12 hex digits of lookup, _, token_urlsafe(32) (43 characters of A-Z a-z 0-9 _ -).
TOKEN_SHAPE = re.compile(r"np_reg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
# last_used_at is written at most this often per token: a busy script costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def may_manage(actor: Actor, customer: Customer) -> bool:
    if actor.kind == ActorKind.STAFF:
        return True
    if actor.kind == ActorKind.CUSTOMER:
        return actor.customer_id == customer.pk
    if actor.kind == ActorKind.RESELLER:
        return actor.organisation_id == customer.organisation_id and may(actor, Right.CUSTOMERS)
    return False


def _require(actor: Actor, customer: Customer) -> None:
    if not may_manage(actor, customer):
        raise PermissionDenied("You may not manage this customer's registrant API tokens.")


def visible_tokens(actor: Actor) -> QuerySet[RegistrantToken]:
    """The tokens of the customers ``actor`` sees (its own customer's, its organisation's in its
    mode, all for staff; none for a registrant or an API key). Seeing is not managing: a
    contact or a read-only member who asks to revoke one is refused by :func:`token_revoke`."""
    if actor.kind in {ActorKind.REGISTRANT, ActorKind.API_KEY}:
        return RegistrantToken.objects.none()
    return scope(
        RegistrantToken.objects.select_related("customer__organisation"),
        actor,
        organisation="customer__organisation",
        customer="customer",
        livemode="customer__livemode",
    )


def token_create(*, actor: Actor, customer: Customer, name: str) -> tuple[RegistrantToken, str]:
    """A new token for ``customer``; returns the row and the raw token, which is never stored
    nor shown again."""
    _require(actor, customer)
    if customer.is_archived:
        raise ValidationError("This customer account is archived: it cannot have new tokens.")
    prefix, raw = mint_credential(TOKEN_PREFIX)
    with transaction.atomic():
        token = RegistrantToken(
            customer=customer,
            name=(name or "").strip(),
            prefix=prefix,
            token_hash=hash_api_key(raw),
            created_by=actor.user,
        )
        token.full_clean()
        token.save()
        audit(
            actor=actor,
            action="registrant_token.create",
            obj=token,
            organisation=customer.organisation,
            data={"prefix": token.prefix, "customer": customer.pk, "name": token.name},
        )
    return token, raw


def token_revoke(*, actor: Actor, token: RegistrantToken) -> RegistrantToken:
    """Revoke at once: the next request with the token is refused (nothing caches it)."""
    _require(actor, token.customer)
    with transaction.atomic():
        updated = RegistrantToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit(
                actor=actor,
                action="registrant_token.revoke",
                obj=token,
                organisation=token.customer.organisation,
                data={"prefix": token.prefix, "customer": token.customer_id},
            )
    token.refresh_from_db()
    return token


def token_authenticate(raw: str) -> RegistrantToken | None:
    """The active token matching ``raw`` (with its customer and organisation), or None: unknown,
    revoked, of an archived customer or of an inactive organisation. Read from the database on
    every request, so a revoked token is refused at once."""
    raw = (raw or "").strip()
    if not TOKEN_SHAPE.fullmatch(raw):
        return None  # not one of ours (an API key, a near miss, NUL or other junk): no query
    prefix = raw[: raw.find("_", len(TOKEN_PREFIX))]
    token = (
        RegistrantToken.objects.select_related("customer__organisation")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not secrets.compare_digest(token.token_hash, hash_api_key(raw)):
        return None
    customer = token.customer
    if token.revoked_at is not None or customer.is_archived or not customer.organisation.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        RegistrantToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token

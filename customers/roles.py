"""What each member role of an organisation may change: the one table, and the checks that read it.

| role      | billing | support | domains + DNS | customers | team | settings | API keys |
| --------- | ------- | ------- | ------------- | --------- | ---- | -------- | -------- |
| owner     | yes     | yes     | yes           | yes       | yes  | yes      | yes      |
| admin     | yes     | yes     | yes           | yes       | yes  | yes      | yes      |
| billing   | yes     |         |               |           |      |          |          |
| support   |         | yes     |               |           |      |          |          |
| read-only |         |         |               |           |      |          |          |

Every role reads everything of its organisation; the rights are about changes. Only an owner
makes someone an owner or changes or removes an owner, and an organisation always keeps one.

The rules bind reseller members (session sign-ins). Staff may do everything; an API key acts
for its organisation with the rights of an admin except team, settings and API keys (a key cannot
issue keys or invite people); customers and contacts are governed by their own privileges
(``Actor.can``) and never by this table.

Where it is enforced:
- every change a member makes through a page or the native API passes :class:`RoleMiddleware`
  (``customers.middleware``), which maps the URL to its right with :func:`right_for_path` and
  answers 403 with :func:`refusal` when the role lacks it;
- the team, invitation and API-key services call :func:`require` themselves, and the services
  of the other apps that change things carry :func:`requires` (domains and DNS: ``domains``;
  invoices, payments, credit and the price list: ``billing``), so a change made through any
  entry point (a page, the native API, a compatibility API) is refused the same way;
- templates ask :func:`may` (the ``role_rights`` context variable) only to hide what the member
  may not do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied

from customers.models import Membership
from portal.tenancy import Actor, ActorKind


class Right(StrEnum):
    BILLING = "billing"
    SUPPORT = "support"
    DOMAINS = "domains"
    CUSTOMERS = "customers"
    TEAM = "team"
    SETTINGS = "settings"
    API_KEYS = "api_keys"


Role = Membership.Role

RIGHTS: dict[str, frozenset[Right]] = {
    Role.OWNER: frozenset(Right),
    Role.ADMIN: frozenset(Right),
    Role.BILLING: frozenset({Right.BILLING}),
    Role.SUPPORT: frozenset({Right.SUPPORT}),
    Role.READ_ONLY: frozenset(),
}

# What an API key may do: its organisation's work, not its people, settings or keys.
API_KEY_RIGHTS = frozenset(Right) - {Right.TEAM, Right.SETTINGS, Right.API_KEYS}

WHAT = {
    Right.BILLING: "change billing (invoices, payments, prices, orders)",
    Right.SUPPORT: "answer or change support tickets",
    Right.DOMAINS: "change domains or DNS",
    Right.CUSTOMERS: "add or change customers",
    Right.TEAM: "manage the team",
    Right.SETTINGS: "change the organisation's settings",
    Right.API_KEYS: "manage API keys",
}


def may(actor: Actor, right: Right | str) -> bool:
    """May ``actor`` make changes that need ``right``?"""
    right = Right(right)
    if actor.kind == ActorKind.STAFF:
        return True
    if actor.kind == ActorKind.API_KEY:
        return right in API_KEY_RIGHTS
    if actor.kind == ActorKind.RESELLER:
        return right in RIGHTS.get(actor.membership_role, frozenset())
    if actor.kind in {ActorKind.CUSTOMER, ActorKind.CONTACT}:
        # Customers' own work (their domains, invoices, tickets) is limited by Actor.can.
        return right in {Right.BILLING, Right.SUPPORT, Right.DOMAINS}
    return False


def refusal(actor: Actor, right: Right | str) -> str:
    """Why ``actor`` may not do it: the text of the 403 or the form error."""
    right = Right(right)
    if actor.kind == ActorKind.RESELLER:
        label = Role(actor.membership_role).label if actor.membership_role in Role.values else ""
        label = label or "your"
        return (
            f"Your role ({label}) may not {WHAT[right]}. "
            "Ask an owner or admin of your organisation to change your role."
        )
    return f"You may not {WHAT[right]}."


def require(actor: Actor, right: Right | str) -> None:
    """Raise PermissionDenied (403 with the reason) unless ``actor`` may."""
    if not may(actor, right):
        raise PermissionDenied(refusal(actor, right))


F = TypeVar("F", bound=Callable[..., Any])


def requires(right: Right | str) -> Callable[[F], F]:
    """Decorate a service taking ``actor=``: refuse (PermissionDenied, 403 with the reason)
    before it reads or changes anything unless the actor may make changes needing ``right``."""
    right = Right(right)

    def decorate(service: F) -> F:
        @functools.wraps(service)
        def checked(*args: Any, **kwargs: Any) -> Any:
            require(kwargs["actor"], right)
            return service(*args, **kwargs)

        checked.required_right = right  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


def rights_of(actor: Actor) -> dict[str, bool]:
    """Every right by name, for templates (``{% if role_rights.domains %}``)."""
    return {right.value: may(actor, right) for right in Right}


# --- Which right a change needs, by its URL ---------------------------------------------------

# Changes anyone signed in may make to their own sign-in (own password, e-mail, 2FA, sessions),
# the sandbox/live switch and accepting an invitation.
OWN_ACCOUNT_PREFIXES = ("/accounts/", "/account/", "/mode/", "/team/join/")

PAGE_PREFIXES: tuple[tuple[str, Right], ...] = (
    ("/team/api-keys/", Right.API_KEYS),
    ("/team/security/", Right.SETTINGS),
    ("/team/", Right.TEAM),
    ("/settings/", Right.SETTINGS),
    ("/domains/", Right.DOMAINS),
    ("/dns/", Right.DOMAINS),
    ("/billing/", Right.BILLING),
    ("/support/", Right.SUPPORT),
    ("/customers/", Right.CUSTOMERS),
)

API_RESOURCES: dict[str, Right] = {
    "customers": Right.CUSTOMERS,
    "contacts": Right.CUSTOMERS,
    "api-keys": Right.API_KEYS,
    "team-members": Right.TEAM,
    "team-invitations": Right.TEAM,
    "domains": Right.DOMAINS,
    "operations": Right.DOMAINS,
    "zones": Right.DOMAINS,
    "zone-templates": Right.DOMAINS,
    "invoices": Right.BILLING,
    "credit": Right.BILLING,
    "payment-methods": Right.BILLING,
    "markup-rules": Right.BILLING,
    "reseller-prices": Right.BILLING,
    "exchange-rates": Right.BILLING,
    "quotes": Right.BILLING,
    "orders": Right.BILLING,
    "promotion-codes": Right.BILLING,
    "price-groups": Right.BILLING,
    "price-group-memberships": Right.BILLING,
    "reseller-accounts": Right.BILLING,
    "tickets": Right.SUPPORT,
    "ticket-departments": Right.SUPPORT,
    "canned-replies": Right.SUPPORT,
}


def right_for_path(path: str) -> Right | None:
    """The right a change (POST, PUT, PATCH, DELETE) at ``path`` needs; None for one's own
    account. Anything not listed is the organisation's settings (owner and admin): a new page
    is closed to the narrower roles until it is placed here."""
    if path.startswith(OWN_ACCOUNT_PREFIXES):
        return None
    if path.startswith("/api/v1/"):
        resource = path.removeprefix("/api/v1/").split("/", 1)[0]
        return API_RESOURCES.get(resource, Right.SETTINGS)
    for prefix, right in PAGE_PREFIXES:
        if path.startswith(prefix):
            return right
    return Right.SETTINGS

"""Who is acting, and what they may see.

Every request carries an ``Actor`` (``request.actor`` in views, ``self.actor`` in API views).
Each app's ``selectors.py`` narrows its querysets with :func:`scope`, so one rule decides what an
actor sees everywhere: pages, the native API, the compatibility APIs and exports.

| kind        | sees                                                        |
| ----------- | ----------------------------------------------------------- |
| staff       | everything                                                  |
| reseller    | its organisation's rows in the mode it is looking at        |
| api_key     | its organisation's rows of the key's mode (sandbox or live) |
| customer    | its own customer account                                    |
| contact     | its customer's account, limited by the contact's privileges |
| registrant  | its token's customer's held domains, in its mode (read only) |
| anonymous   | nothing                                                     |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

if TYPE_CHECKING:
    from customers.models import ApiKey, Contact, Customer, Organisation, RegistrantToken, User


class ActorKind(StrEnum):
    STAFF = "staff"
    RESELLER = "reseller"
    API_KEY = "api_key"
    CUSTOMER = "customer"
    CONTACT = "contact"
    REGISTRANT = "registrant"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user: User | None = None
    organisation: Organisation | None = None
    customer: Customer | None = None
    contact: Contact | None = None
    api_key: ApiKey | None = None
    registrant_token: RegistrantToken | None = None
    # None: both modes (staff); True: live rows only; False: sandbox rows only.
    livemode: bool | None = True
    membership_role: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def impersonator(self) -> Actor | None:
        """While staff or a reseller signs in as a customer: the real person's own actor."""
        return self.extra.get("impersonator")

    # --- what kind of actor --------------------------------------------------------------
    @property
    def is_staff(self) -> bool:
        return self.kind == ActorKind.STAFF

    @property
    def is_reseller(self) -> bool:
        return self.kind in {ActorKind.RESELLER, ActorKind.API_KEY}

    @property
    def is_customer(self) -> bool:
        return self.kind in {ActorKind.CUSTOMER, ActorKind.CONTACT}

    @property
    def is_authenticated(self) -> bool:
        return self.kind != ActorKind.ANONYMOUS

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.pk if self.organisation else None

    @property
    def customer_id(self) -> int | None:
        return self.customer.pk if self.customer else None

    def __str__(self) -> str:
        """A label for the audit trail; never includes a secret."""
        if self.kind == ActorKind.API_KEY and self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        if self.kind == ActorKind.REGISTRANT and self.registrant_token is not None:
            return f"registrant-token:{self.registrant_token.prefix}"
        if self.impersonator is not None:
            return f"{self.impersonator} as customer:{self.customer_id}"
        if self.user is not None:
            return f"{self.kind}:{self.user.email}"
        return str(self.kind)

    def can(self, section: str, privilege: str, object_id: int | None = None) -> bool:
        """Contacts are limited by their seed-003 privileges; everyone else in scope may act."""
        if self.kind == ActorKind.CONTACT:
            assert self.contact is not None
            return self.contact.has_privilege(section, privilege, object_id)
        return self.kind in {
            ActorKind.STAFF,
            ActorKind.RESELLER,
            ActorKind.API_KEY,
            ActorKind.CUSTOMER,
        }


ANONYMOUS = Actor(kind=ActorKind.ANONYMOUS, livemode=None)
SYSTEM = Actor(kind=ActorKind.STAFF, livemode=None, extra={"system": True})

SESSION_LIVEMODE_KEY = "nameport_livemode"
# "Sign in as this customer": the customer's id, kept in the real person's session
# (customers.impersonation starts and ends it, and audits both).
SESSION_IMPERSONATE_KEY = "nameport_impersonate"
IMPERSONATING_ROLES = frozenset({"owner", "admin"})


def may_impersonate(actor: Actor, customer: Customer) -> bool:
    """Staff may sign in as any customer; a reseller's owner or admin as its own customers;
    nobody else (customers and contacts, other roles, API keys, someone already signed in as a
    customer)."""
    if actor.impersonator is not None:
        return False
    if actor.kind == ActorKind.STAFF:
        return True
    return (
        actor.kind == ActorKind.RESELLER
        and actor.membership_role in IMPERSONATING_ROLES
        and actor.organisation_id is not None
        and customer.organisation_id == actor.organisation_id
    )


def _impersonated(real: Actor, session: Any) -> Actor | None:
    customer_id = session.get(SESSION_IMPERSONATE_KEY)
    if not customer_id:
        return None
    from customers.models import Customer

    customer = Customer.objects.select_related("organisation").filter(pk=customer_id).first()
    if customer is None or not may_impersonate(real, customer):
        return None
    return Actor(
        kind=ActorKind.CUSTOMER,
        user=real.user,
        organisation=customer.organisation,
        customer=customer,
        livemode=customer.livemode,
        extra={"impersonator": real},
    )


def actor_for_user(user: User | None, *, session: Any = None) -> Actor:
    """The actor for a signed-in person: staff, reseller member, customer or contact; while
    staff or a reseller signs in as a customer, that customer (``Actor.impersonator`` is the
    real person, ``Actor.user`` stays the real user, so the audit trail names them)."""
    real = _actor_for_user(user, session=session)
    if session is not None and real.kind in {ActorKind.STAFF, ActorKind.RESELLER}:
        impersonated = _impersonated(real, session)
        if impersonated is not None:
            return impersonated
    return real


def _actor_for_user(user: User | None, *, session: Any = None) -> Actor:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    if user.is_staff:
        return Actor(kind=ActorKind.STAFF, user=user, livemode=None)
    membership = (
        user.memberships.select_related("organisation")
        .filter(organisation__is_active=True)
        .order_by("id")
        .first()
    )
    if membership is not None:
        livemode = True
        if session is not None:
            livemode = bool(session.get(SESSION_LIVEMODE_KEY, True))
        return Actor(
            kind=ActorKind.RESELLER,
            user=user,
            organisation=membership.organisation,
            livemode=livemode,
            membership_role=membership.role,
        )
    from customers.models import Contact, Customer

    customer = Customer.objects.select_related("organisation").filter(user=user).first()
    if customer is not None:
        return Actor(
            kind=ActorKind.CUSTOMER,
            user=user,
            organisation=customer.organisation,
            customer=customer,
            livemode=customer.livemode,
        )
    contact = Contact.objects.select_related("customer__organisation").filter(user=user).first()
    if contact is not None:
        return Actor(
            kind=ActorKind.CONTACT,
            user=user,
            organisation=contact.customer.organisation,
            customer=contact.customer,
            contact=contact,
            livemode=contact.customer.livemode,
        )
    return ANONYMOUS


def actor_for_api_key(api_key: ApiKey) -> Actor:
    return Actor(
        kind=ActorKind.API_KEY,
        organisation=api_key.organisation,
        api_key=api_key,
        livemode=api_key.livemode,
    )


def actor_for_registrant_token(token: RegistrantToken) -> Actor:
    """A registrant API caller: the token's customer, in that customer's mode, read only
    (``customers.roles.may`` grants a registrant no right, ``Actor.can`` no privilege)."""
    customer = token.customer
    return Actor(
        kind=ActorKind.REGISTRANT,
        organisation=customer.organisation,
        customer=customer,
        registrant_token=token,
        livemode=customer.livemode,
    )


def scope(
    queryset: QuerySet,
    actor: Actor,
    *,
    organisation: str | None = "organisation",
    customer: str | None = "customer",
    livemode: str | None = "livemode",
) -> QuerySet:
    """Narrow ``queryset`` to what ``actor`` may see.

    The keyword arguments name the lookups from the queryset's model to the owning organisation,
    customer and livemode flag (None when the model has no such path). A registrant sees
    nothing through it: only its domains, which ``domains.selectors.visible_domains`` gives.
    """
    kind = actor.kind
    if kind == ActorKind.STAFF:
        return queryset
    if kind in {ActorKind.RESELLER, ActorKind.API_KEY}:
        if organisation is None or actor.organisation is None:
            return queryset.none()
        queryset = queryset.filter(**{f"{organisation}_id": actor.organisation.pk})
    elif kind in {ActorKind.CUSTOMER, ActorKind.CONTACT}:
        if customer is None or actor.customer is None:
            return queryset.none()
        queryset = queryset.filter(**{f"{customer}_id": actor.customer.pk})
    else:
        return queryset.none()
    if livemode is not None and actor.livemode is not None:
        queryset = queryset.filter(**{livemode: actor.livemode})
    return queryset

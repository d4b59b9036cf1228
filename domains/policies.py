"""Who may do what with domains, and what of a registry operation each actor sees.

The services call these before they change anything; templates (``{% load domain_policies %}``)
and serializers ask them only to leave out what the actor may not do or see. One rule each:

- ordering (register, transfer in): staff, a reseller for its own customers in its mode, a
  customer for itself, a contact with the ``billing.orders`` privilege;
- acting on one domain: the seed-003 domain privilege for contacts, everyone else in scope;
  answering another registrar's transfer request needs ``eppcode`` (approving releases the
  domain), withdrawing our own transfer in is for whoever may order;
- seeing a domain's transfer code: the ``eppcode`` privilege for contacts, everyone else in
  scope, and a registrant (read only) for its own domains, as the registry shows it to them;
- retrying and cancelling registry operations: staff and resellers;
- an operation's payload: staff see all of it; everyone else sees only the keys that describe
  the change they asked for (``SHOWN_PAYLOAD_KEYS``). The registry's price (``expected_cost``,
  ``accepted_cost``: what the platform pays the registry), what success looks like
  (``expect``, ``cur_exp_date``, ``outcome_unknown``: the worker's check before a retry) and
  anything else a worker adds is platform-internal: resellers do not see it either (their own
  cost is what the price functions of ``billing.pricing`` show them, on the search, the order
  form and the availability API);
- an operation's error: staff read the worker's text; resellers read the registry's message,
  except for an operation held for staff (its text names the registry's price); customers and
  contacts read a sentence written for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domains.models import OPERATION_PARKED_AT
from portal.tenancy import Actor, ActorKind

if TYPE_CHECKING:
    from customers.models import Customer
    from domains.models import Domain, RegistrarOperation

# The keys of a payload that say what was asked (years, nameservers, a flag's value, contact
# roles, glue host addresses, DS records, a restore's reason); everything else is for staff.
SHOWN_PAYLOAD_KEYS = frozenset(
    {"years", "nameservers", "privacy", "value", "roles", "hostname", "ipv4", "ipv6", "ds"}
    | {"reason"}
)

ORDER_REFUSAL = (
    "Your contact login may not place orders (register or transfer domains): the account holder "
    "can give you the orders privilege."
)
HELD_TEXT = "Waiting for our team to check it before it is sent to the registry."
FAILED_TEXT = "The registry refused this change; our support team has been told."
RETRYING_TEXT = "Retrying: the registry did not answer."
WAITING_TEXT = "Waiting for an earlier change to this domain to be done."
AWAITING_FUNDS_TEXT = (
    "Waiting to be sent to the registry; it goes ahead by itself, there is nothing you need to do."
)


# --- ordering ------------------------------------------------------------------------------------
def can_order(actor: Actor, customer: Customer | None = None) -> bool:
    """May ``actor`` register or transfer in names (for ``customer`` when given)?"""
    if actor.is_staff:
        return True
    if actor.is_reseller:
        if customer is None:
            return actor.organisation_id is not None
        return customer.organisation_id == actor.organisation_id and (
            actor.livemode is None or customer.livemode == actor.livemode
        )
    if actor.is_customer:
        if customer is not None and customer.pk != actor.customer_id:
            return False
        return actor.can("billing", "orders")
    return False


def order_refusal(actor: Actor) -> str:
    """Why ``actor`` may not order (the text a refused request shows)."""
    if actor.is_customer and not actor.can("billing", "orders"):
        return ORDER_REFUSAL
    return "You cannot place orders for this customer."


# --- one domain ----------------------------------------------------------------------------------
def can_act(actor: Actor, domain: Domain, privilege: str) -> bool:
    """Contacts act only within their seed-003 domain privileges; others in scope may act."""
    return actor.can("domains", privilege, domain.pk)


def can_answer_transfer(actor: Actor, domain: Domain) -> bool:
    """Approve or reject another registrar's request for a domain we hold. Approving gives the
    domain away, which is what the transfer code allows: the seed-003 ``eppcode`` privilege for
    contacts; others in scope may."""
    return actor.can("domains", "eppcode", domain.pk)


def can_see_transfer_code(actor: Actor, domain: Domain) -> bool:
    """The stored transfer code (shown only while the domain is unlocked: the services say so).
    A registrant reaches only its own domains (``visible_domains``), read only."""
    if actor.kind == ActorKind.REGISTRANT:
        return actor.customer_id is not None and domain.customer_id == actor.customer_id
    return actor.can("domains", "eppcode", domain.pk)


def can_cancel_transfer(actor: Actor, domain: Domain) -> bool:
    """Withdraw our own transfer in: whoever may order it for the domain's customer."""
    return can_order(actor, domain.customer)


def can_suspend(actor: Actor) -> bool:
    """Suspending and unsuspending a domain is the platform's decision: staff only."""
    return actor.is_staff


# A domain can be restored while it is in its redemption period.
RESTORABLE = frozenset({"redemption"})


def can_restore(actor: Actor, domain: Domain, *, now: bool = False) -> bool:
    """Restore a domain from redemption: a paid renewal, so the seed-003 ``renew`` privilege for
    contacts; staff, resellers and customers in scope may. ``now``: and the domain is in its
    redemption period (what the page asks before it offers the action)."""
    if now and domain.status not in RESTORABLE:
        return False
    return actor.can("domains", "renew", domain.pk)


# --- registry operations -------------------------------------------------------------------------
def can_manage_operations(actor: Actor) -> bool:
    """Retry, cancel, resolve differences with the registry: staff and resellers."""
    return actor.is_staff or actor.is_reseller


def operation_payload_for(actor: Actor, operation: RegistrarOperation) -> dict:
    payload = operation.payload or {}
    if actor.is_staff:
        return dict(payload)
    return {key: value for key, value in payload.items() if key in SHOWN_PAYLOAD_KEYS}


def operation_message_for(actor: Actor, operation: RegistrarOperation) -> str:
    """The operation's error or hold reason as ``actor`` may read it ('' when there is none)."""
    error = operation.last_error or ""
    status = operation.status
    if actor.is_staff:
        return error
    if status == "held":
        return HELD_TEXT
    if status == "awaiting_funds" and not actor.is_reseller:
        return AWAITING_FUNDS_TEXT
    if not error or status == "succeeded":
        return ""
    if actor.is_reseller:
        return error
    if status == "failed":
        return FAILED_TEXT
    if status == "pending" and operation.next_attempt_at == OPERATION_PARKED_AT:
        return WAITING_TEXT
    return RETRYING_TEXT if status in {"pending", "running"} else ""


def attempt_view_for(actor: Actor, attempt) -> dict:
    """One recorded attempt as ``actor`` may read it on the operation page: staff see what was
    sent and what came back in full (secrets were never recorded); a reseller sees the command,
    the payload keys it may see, and the registry's code and message, except the reasons of a
    hold (platform prices)."""
    request = dict(attempt.request or {})
    response = dict(attempt.response or {})
    if actor.is_staff:
        return {"request": request, "response": response}
    payload = request.get("payload") or {}
    request["payload"] = {k: v for k, v in payload.items() if k in SHOWN_PAYLOAD_KEYS}
    request.pop("account", None)
    response.pop("log", None)
    if attempt.outcome == "held":
        response["message"] = HELD_TEXT
    return {"request": request, "response": response}

"""The hooks of domains: what it makes happen in the apps above it, which it never imports.

Each hook is a :class:`portal.hooks.Hook`; the app named below registers its implementation in its
``AppConfig.ready()``. Tests replace one with ``hook.replaced(fake)``.

After the registry answered (``guarded``: an implementation that raises is logged and rolled back
to its savepoint, and the outcome is recorded all the same, so a ticket or a zone that cannot be
made never undoes what the registry did):

``operation_stopped(*, operation: RegistrarOperation) -> None``
    An operation stopped: failed for good, or held for staff (``operation.status``,
    ``operation.last_error`` are set). Called by ``domains.outbox`` inside the transaction that
    records the stop. Registered by support: ``support.services.ticket_open_for_operation`` (the
    staff-only ticket and the customer's own). None registered: nothing happens (the operation
    shows as failed or held in the operations list and the admin).

``operations_succeeded(*, operation_ids: list[int]) -> None``
    Operations succeeded (any of them may have stopped before and been retried). Called by
    ``domains.outbox`` inside the transaction that records the successes, once per group.
    Registered by support: ``support.services.ticket_close_for_operations`` (closes their open
    tickets with a note). None registered: nothing happens.

``domain_activated(*, domain: Domain) -> None``
    A registration or an incoming transfer succeeded and the domain's row holds the registry's
    answer. Called by ``domains.outbox``. Registered by dns:
    ``dns.services.zone_create_after_registration`` (a zone from the template when the domain
    uses the platform's nameservers). None registered: no zone is made.

Money, inside the claim's transaction (not guarded: an exception rolls the claim back, so an
operation is never sent unpaid because the ledger could not be read):

``operation_charge(*, operations: list[RegistrarOperation]) -> set[int]``
    Operations just claimed (``running``), about to be sent: charge the costly ones (register,
    transfer, renew, restore) to their organisation's account with the platform, once per charge
    round (a retried claim of one already charged is not charged again). Returns the ids that
    could not be paid: ``domains.outbox`` puts them in ``awaiting_funds`` (not sent, no attempt
    counted; those behind them on their domain stay parked). Called by ``domains.outbox`` right
    after the claim, in the claim's transaction, on the single path (``run_operation``) and the
    drain (``claim_due``). Registered by billing: ``billing.ledger.charge_operations``. None
    registered: ``set()`` (nothing is charged; every operation is sent).

After the outcome (``guarded``, as the hooks above):

``operation_refund(*, operation: RegistrarOperation) -> None``
    An operation that may have been charged will not be applied: it failed for good, was
    cancelled, or the registrar refused it for want of the platform's own funds (then it waits
    in ``awaiting_funds`` and is charged again when it is claimed again). Called by
    ``domains.outbox`` and ``domains.services.operation_cancel`` in the transaction that records
    it. Registered by billing: ``billing.orders.operation_ended`` (the reseller's charge refunded,
    one refund per charge round; what a customer paid for an operation that failed for good or
    was cancelled credited back to its account). None registered: nothing happens.

Orders (not guarded: an exception reaches the caller):

``operation_resumed(*, operation: RegistrarOperation) -> None``
    Staff or a reseller put a failed or cancelled operation back in the queue
    (``domains.services.operation_retry``, inside its transaction). Registered by billing:
    ``billing.orders.operation_resumed`` (what was credited back to the customer for it is taken
    back from its account credit, or the retry is refused with a ValidationError when that
    credit was spent). None registered: nothing happens.

``customer_order(*, actor, customer, action, name, years, idempotency_key, auth_code="",
nameservers=None, id_protection=False, autorenew=True) -> tuple[str, str] | None``
    A customer (or its contact) orders one registration or transfer from the register or
    transfer page: the app that bills places the order and issues its invoice, and answers the
    URL to go on to (the invoice to pay) and the message to show; a ValidationError says why
    not. Resellers and staff do not come here: they order at cost, without invoicing the
    customer. Registered by billing: ``billing.orders.customer_order``. None registered: None
    (the page registers or transfers at once).

Prices, read before anything is sent (not guarded: an exception reaches the caller):

``price_list(actor, tlds, action="register", years=1) -> PriceList``
    The prices of ``action`` for ``years`` of some TLDs (``Tld`` rows or ids) as ``actor`` may see
    them; ``price_list(...).price(tld, registry_quote=None)`` answers a :class:`Quote` or None
    (a premium quote the seller prices on request: ``on_request`` set, ``price`` None), and
    ``premium_on_request(tld)`` says whether premium names of ``tld`` are priced on request.
    Read by availability (search results), the order summary and the premium-price guard's
    expected cost. Registered by billing: ``billing.pricing.PriceList``. None registered: a list
    without prices (no price is shown, no expected cost is recorded, so the guard stays off).

``priced_tlds(*, action: str) -> list[str]``
    The names of the active TLDs the price list has ``action`` prices for, sorted (suggestions
    look under them). Registered by billing: ``billing.pricing.priced_tld_names``. None
    registered: ``[]`` (suggestions look under every active TLD).

``registry_cost(*, tld: str, action: str) -> Decimal | None``
    The platform's price list's registry cost of one year of ``action`` under ``tld`` in USD,
    which the simulated registry charges unless its account's settings say otherwise.
    Registered by billing: ``billing.pricing.platform_cost``. None registered: None (the
    simulator's default price).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from portal.hooks import Hook


class Quote(Protocol):
    """A price as an actor may see it (``billing.pricing.ActorPrice``)."""

    @property
    def price(self) -> Decimal | None: ...  # None only when on_request
    @property
    def currency(self) -> str: ...
    @property
    def cost(self) -> Decimal | None: ...  # what the actor pays upstream; None for customers
    @property
    def premium(self) -> bool: ...
    @property
    def on_request(self) -> bool: ...  # a premium name the seller prices on request


class PriceList(Protocol):
    def price(
        self, tld: Any, registry_quote: tuple[Decimal, str] | None = None
    ) -> Quote | None: ...

    def premium_on_request(self, tld: Any) -> bool: ...


class NoPrices:
    """The price list when no app provides one: it has no price for anything."""

    def __init__(self, actor: Any, tlds: Iterable, action: str = "register", years: int = 1):
        pass

    def price(self, tld: Any, registry_quote: tuple[Decimal, str] | None = None) -> None:
        return None

    def premium_on_request(self, tld: Any) -> bool:
        return False


def _nothing(**kwargs: Any) -> None:
    return None


def _no_tlds(*, action: str) -> list[str]:
    return []


def _nothing_unpaid(*, operations: Any) -> set[int]:
    return set()


operation_stopped = Hook("domains.operation_stopped", default=_nothing, guarded=True)
operations_succeeded = Hook("domains.operations_succeeded", default=_nothing, guarded=True)
domain_activated = Hook("domains.domain_activated", default=_nothing, guarded=True)
operation_charge = Hook("domains.operation_charge", default=_nothing_unpaid, guarded=False)
operation_refund = Hook("domains.operation_refund", default=_nothing, guarded=True)
customer_order = Hook("domains.customer_order", default=_nothing, guarded=False)
operation_resumed = Hook("domains.operation_resumed", default=_nothing, guarded=False)
price_list = Hook("domains.price_list", default=NoPrices, guarded=False)
priced_tlds = Hook("domains.priced_tlds", default=_no_tlds, guarded=False)
registry_cost = Hook("domains.registry_cost", default=_nothing, guarded=False)

ALL = (
    operation_stopped,
    operations_succeeded,
    domain_activated,
    operation_charge,
    operation_refund,
    customer_order,
    operation_resumed,
    price_list,
    priced_tlds,
    registry_cost,
)

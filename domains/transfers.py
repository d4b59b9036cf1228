"""Transfers in progress, both ways, as the registry reports them.

* Incoming (our request for a name held elsewhere, answered 1001 "action pending"): the domain
  stays ``pending_transfer`` until the registry completes or refuses the transfer. Two paths
  tell us, because some registries send no poll message for some cases: the EPP poll queue
  (``domains.poll``) and a transfer query (``RegistrarOperation.Kind.TRANSFER_QUERY``) that
  ``domains.services.transfers_follow`` queues again and again with backoff until the answer is
  no longer "pending". Each answer goes through ``lifecycle.apply_registry_view``.
* Outgoing (another registrar asked for a name we hold, learned by poll or by a sync showing
  ``pendingTransfer``): a :class:`~domains.models.TransferRequest` the customer approves or
  rejects (``transfer_approve`` / ``transfer_reject`` operations) before the registry's window
  ends; Nameport sends the TLD's default shortly before then when nobody answered.

This module records what the registry said; the actions that queue operations live in
``domains.services``. It sits below the actions and the worker side (``domains.outbox``,
``domains.poll``), which both call it, and above ``domains.dispatch``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.utils import timezone

from domains.lifecycle import PENDING, TERMINAL, apply_registry_view
from domains.models import Domain, RegistrarOperation, TransferRequest
from domains.registrars.base import DomainInfo, PermanentError, RegistrarError, TransferInfo
from portal.tenancy import SYSTEM, Actor

Op = RegistrarOperation
KINDS = frozenset(
    {
        Op.Kind.TRANSFER_QUERY,
        Op.Kind.TRANSFER_APPROVE,
        Op.Kind.TRANSFER_REJECT,
        Op.Kind.TRANSFER_CANCEL,
    }
)
# The window a registry gives the sponsor when it does not say (most approve after 5 days).
DEFAULT_WINDOW = timedelta(days=5)
APPROVED = ("clientApproved", "serverApproved")
REJECTED = ("clientRejected",)
CANCELLED = ("clientCancelled", "serverCancelled")
S = TransferRequest.Status


def open_request(domain: Domain, *, for_update: bool = False) -> TransferRequest | None:
    queryset = TransferRequest.objects.filter(domain=domain, status__in=TransferRequest.OPEN)
    if for_update:
        queryset = queryset.select_for_update()
    return queryset.first()


def _set_pending_transfer(domain: Domain, present: bool) -> None:
    """Keep ``pendingTransfer`` in the EPP statuses the portal shows in step with the registry."""
    statuses = [s for s in (domain.epp_statuses or []) if s != "pendingTransfer"]
    if present:
        statuses.append("pendingTransfer")
    if statuses != (domain.epp_statuses or []):
        Domain.objects.filter(pk=domain.pk).update(epp_statuses=statuses)
        domain.epp_statuses = statuses


def outgoing_seen(
    *, domain: Domain, transfer: TransferInfo | None, source: str, pending: bool | None = None
) -> TransferRequest | None:
    """Record the registry's state of another registrar's transfer of ``domain`` (a name we hold),
    inside the caller's transaction: a pending transfer opens the request (or refreshes its dates),
    an ended one closes it. ``transfer`` may be None when all we know is the EPP status
    ``pendingTransfer`` (``pending``): the window is then assumed to be the usual five days."""
    now = timezone.now()
    if pending is None:
        pending = transfer is not None and transfer.pending
    request = open_request(domain, for_update=True)
    if pending:
        _set_pending_transfer(domain, True)
        act_by = transfer.action_at if transfer is not None else None
        if request is None:
            request = TransferRequest.objects.create(
                domain=domain,
                gaining_registrar=(transfer.requested_by if transfer else "")[:100],
                requested_at=(transfer.requested_at if transfer else None) or now,
                act_by=act_by or now + DEFAULT_WINDOW,
                registry_status="pending",
                source=source,
            )
        elif act_by is not None and request.act_by != act_by:
            TransferRequest.objects.filter(pk=request.pk).update(act_by=act_by)
            request.act_by = act_by
        return request
    _set_pending_transfer(domain, False)
    if request is None:
        return None
    status = transfer.status if transfer is not None else ""
    if status in APPROVED:
        final = S.APPROVED
    elif status in REJECTED or (not status and request.status == S.REJECTING):
        final = S.REJECTED
    elif status in CANCELLED or not status:
        final = S.CANCELLED
    else:
        return request
    note = {
        "serverApproved": "The registry approved it at the end of its window.",
        "serverCancelled": "The registry cancelled it.",
        "clientCancelled": "The other registrar withdrew its request.",
        "": f"No longer pending at the registry ({source}).",
    }.get(status, "")
    TransferRequest.objects.filter(pk=request.pk).update(
        status=final, registry_status=status[:20], finished_at=now, note=note
    )
    request.status, request.registry_status, request.finished_at = final, status, now
    return request


def incoming_view(name: str, transfer: TransferInfo, info: DomainInfo | None = None) -> DomainInfo:
    """What the registry says of our own transfer request of ``name``: its current view of the
    name when it is ours now (``info``), else the transfer state alone."""
    if info is not None:
        return replace(info, transfer=transfer)
    statuses = ["pendingTransfer"] if transfer.pending else []
    return DomainInfo(name=name, expires_at=None, statuses=statuses, transfer=transfer)


# --- the worker side: calling the registry, recording its answers ------------------------------
ANSWER_METHODS = {
    Op.Kind.TRANSFER_APPROVE: "transfer_approve",
    Op.Kind.TRANSFER_REJECT: "transfer_reject",
    Op.Kind.TRANSFER_CANCEL: "transfer_cancel",
}


def _method(adapter, name: str):
    method = getattr(adapter, name, None)
    if method is None:
        raise PermanentError(
            "This registry's adapter cannot query or answer transfers (only EPP accounts can)."
        )
    return method


def call(adapter, kind: str, *, name: str, idempotency_key: str) -> DomainInfo | TransferInfo:
    """Send one of the transfer operations (``KINDS``) for ``name``: a query answers the
    registry's view (:func:`incoming_view`, with the name's info once the transfer went through),
    an approve, reject or cancel the transfer's new state."""
    if kind == Op.Kind.TRANSFER_QUERY:
        transfer = _method(adapter, "transfer_query")(name)
        return incoming_view(name, transfer, adapter.info(name) if transfer.approved else None)
    return _method(adapter, ANSWER_METHODS[kind])(name=name, idempotency_key=idempotency_key)


def with_transfer(adapter, name: str, info: DomainInfo) -> DomainInfo:
    """A sync's view with the transfer's details when the registry shows ``pendingTransfer`` on a
    name we hold (who asked, when the registry acts), if the adapter can ask for them."""
    query = getattr(adapter, "transfer_query", None)
    if "pendingTransfer" not in info.statuses or info.transfer is not None or query is None:
        return info
    try:
        return replace(info, transfer=query(name))
    except RegistrarError:
        return info  # the request is recorded without its details


def sync_seen(*, domain_id: int, info: DomainInfo) -> None:
    """After a sync of a name we hold: open, refresh or close its transfer request."""
    domain = Domain.objects.select_for_update().get(pk=domain_id)
    if domain.status in PENDING | TERMINAL:
        return
    pending = "pendingTransfer" in info.statuses or (
        info.transfer is not None and info.transfer.pending
    )
    transfer = info.transfer if info.transfer is not None and pending else None
    if transfer is None and not pending and open_request(domain) is None:
        return
    outgoing_seen(domain=domain, transfer=transfer, source="sync", pending=pending)


def record_answer(operation: Op, result, *, actor: Actor = SYSTEM) -> None:
    """Record a transfer query, approve, reject or cancel that succeeded (inside the outbox's
    transaction). ``result`` is the registry's :class:`TransferInfo`, or for a query the
    :class:`DomainInfo` of :func:`incoming_view`."""
    transfer = result.transfer if isinstance(result, DomainInfo) else result
    domain = Domain.objects.get(pk=operation.domain_id)
    kind = operation.kind
    reason = operation.get_kind_display()
    if kind in (Op.Kind.TRANSFER_QUERY, Op.Kind.TRANSFER_CANCEL):
        view = result if isinstance(result, DomainInfo) else incoming_view(domain.name_puny, result)
        if transfer is not None and not transfer.pending:
            reason = f"Transfer in {transfer.status}"
        apply_registry_view(domain_id=domain.pk, info=view, actor=actor, reason=reason)
    else:
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        outgoing_seen(domain=domain, transfer=transfer, source="answer")
        if transfer is not None and transfer.approved:
            apply_registry_view(
                domain_id=domain.pk,
                info=incoming_view(domain.name_puny, transfer),
                actor=actor,
                reason=f"Transfer away {transfer.status}",
            )
    Op.objects.filter(pk=operation.pk).update(
        result={
            **(operation.result or {}),
            "transfer_status": transfer.status if transfer is not None else "",
        }
    )

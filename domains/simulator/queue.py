"""The sandbox EPP front end's poll queues and transfers in progress, and a desk that plays the
other registrars and the registry's own staff in tests and demos.

Each sandbox account has a poll queue (``SandboxPollMessage`` rows, oldest first; RFC 5730
``<poll op="req">`` answers the head with 1301, ``op="ack"`` removes it). Messages are written in
the shapes of Nomulus, a production registry (``../shared/epp-fixtures/nomulus/poll*``):
"Transfer requested." / "Transfer approved." / ... with ``<domain:trnData>`` (plus
``<domain:panData>`` for the gaining registrar when the registry decided), "Domain was
auto-renewed." with ``<domain:renData>``, "The registry administrator has added the status(es)
[serverHold]." and "Domain deleted." with ``<domain:panData>``.

Transfers (``SandboxDomain.transfer`` keeps the last one of a name): with the upstream account's
setting ``"transfer_mode": "pending"`` a transfer request answers 1001 and waits for the
sponsoring registrar (approve or reject), its cancel by the gaining one, or the end of the window
(``transfer_days``, 5 by default), when the registry approves it (``serverApproved``) the next
time the front end looks (:func:`settle_due`: at every poll and transfer command). Otherwise
(the default) transfers are approved at once, as before. Both parties get poll messages unless
``"transfer_poll": false`` (some registries send none for some cases). A transfer is charged when
it is requested and refunded when it is rejected or cancelled.

:class:`RegistryDesk` does, for tests and ``manage.py sandbox_epp_event``, what the portal
cannot: another registrar asking for one of our names or answering our request, the registry
auto-renewing, holding or deleting a name, or any message put in a queue.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from lxml import etree

from domains.models import RegistrarAccount, SandboxBalance, SandboxDomain, SandboxPollMessage
from domains.simulator.registry import _add_years

EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"

PENDING = "pending"
APPROVED = ("clientApproved", "serverApproved")
REFUSED = ("clientRejected", "clientCancelled", "serverCancelled")
TEXTS = {
    "pending": "Transfer requested.",
    "clientApproved": "Transfer approved.",
    "serverApproved": "Transfer approved.",
    "clientRejected": "Transfer rejected.",
    "clientCancelled": "Transfer cancelled.",
    "serverCancelled": "Transfer cancelled.",
}


def _q(tag: str) -> str:
    return f"{{{DOMAIN}}}{tag}"


def _element(tag: str) -> etree._Element:
    return etree.Element(_q(tag), nsmap={"domain": DOMAIN})


def _sub(parent, tag: str, text: str | None = None, **attrib) -> etree._Element:
    element = etree.SubElement(parent, _q(tag), {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = text
    return element


def when(moment: datetime | None) -> str:
    moment = moment or timezone.now()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def clid_of(account: str, *, ours: str, our_clid: str) -> str:
    """The client id an account is known by at the front end (as ``EppSession._clid_of``)."""
    if account == ours:
        return our_clid
    clid = re.sub(r"[^A-Za-z0-9]", "", account)[:16]
    return clid.ljust(3, "X")


def options(account: str) -> dict:
    row = RegistrarAccount.objects.filter(name=account).first()
    return dict(row.settings or {}) if row is not None else {}


def pending_mode(settings: dict) -> bool:
    return settings.get("transfer_mode") == "pending"


# --- the queues ---------------------------------------------------------------------------------
def enqueue(account: str, text: str, *res_data: etree._Element) -> SandboxPollMessage:
    """Put a message at the end of ``account``'s queue (``res_data``: the children of
    ``<resData>``, e.g. a panData then a trnData)."""
    body = "".join(etree.tostring(e).decode() for e in res_data)
    return SandboxPollMessage.objects.create(account=account, text=text[:500], res_data=body)


def head(account: str) -> tuple[SandboxPollMessage | None, int]:
    messages = SandboxPollMessage.objects.filter(account=account)
    first = messages.order_by("id").first()
    return first, (messages.count() if first is not None else 0)


def ack(account: str, message_id: str) -> tuple[bool, SandboxPollMessage | None, int]:
    """Remove a message: ``(found, the next head, how many are left)``."""
    found = False
    if message_id.isdigit():
        found = bool(
            SandboxPollMessage.objects.filter(account=account, pk=int(message_id)).delete()[0]
        )
    following, count = head(account)
    return found, following, count


def res_data_elements(message: SandboxPollMessage) -> list[etree._Element]:
    if not message.res_data:
        return []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    wrapper = etree.fromstring(f'<w xmlns:domain="{DOMAIN}">{message.res_data}</w>', parser)
    return list(wrapper)


# --- transfers ----------------------------------------------------------------------------------
def trn_data(row: SandboxDomain) -> etree._Element:
    """``<domain:trnData>`` of the row's last transfer (acDate: when it was acted on, or while
    pending when the registry will act)."""
    state = row.transfer
    data = _element("trnData")
    _sub(data, "name", row.name)
    _sub(data, "trStatus", state["status"])
    _sub(data, "reID", state["gaining_id"])
    _sub(data, "reDate", when(_moment(state["requested_at"])))
    _sub(data, "acID", state["losing_id"])
    _sub(data, "acDate", when(_moment(state.get("acted_at") or state["act_by"])))
    if state.get("expires_after"):
        _sub(data, "exDate", when(_moment(state["expires_after"])))
    return data


def ren_data(name: str, expires_at: datetime) -> etree._Element:
    data = _element("renData")
    _sub(data, "name", name)
    _sub(data, "exDate", when(expires_at))
    return data


def pan_data(name: str, *, succeeded: bool, cl_trid: str, moment: datetime) -> etree._Element:
    data = _element("panData")
    _sub(data, "name", name, paResult=int(succeeded))
    trid = etree.SubElement(data, _q("paTRID"))
    if cl_trid:
        etree.SubElement(trid, f"{{{EPP}}}clTRID").text = cl_trid
    etree.SubElement(trid, f"{{{EPP}}}svTRID").text = f"SBX-{secrets.token_hex(8)}"
    _sub(data, "paDate", when(moment))
    return data


def start(
    row: SandboxDomain,
    *,
    gaining: str,
    gaining_id: str,
    losing_id: str,
    years: int,
    cl_trid: str = "",
    cost: Decimal = Decimal("0"),
    now: datetime | None = None,
) -> None:
    """A pending transfer of ``row`` to ``gaining``; the sponsor's queue hears of it."""
    now = now or timezone.now()
    settings = options(row.account)
    days = int(options(gaining).get("transfer_days", settings.get("transfer_days", 5)))
    row.transfer = {
        "status": PENDING,
        "gaining": gaining,
        "gaining_id": gaining_id,
        "losing": row.account,
        "losing_id": losing_id,
        "requested_at": _iso(now),
        "act_by": _iso(now + timedelta(days=days)),
        "acted_at": None,
        "years": years,
        "expires_after": _iso(_add_years(row.expires_at, years)) if years else None,
        "cl_trid": cl_trid,
        "cost": str(cost),
    }
    if "pendingTransfer" not in row.statuses:
        row.statuses = [s for s in row.statuses if s != "ok"] + ["pendingTransfer"]
    row.save(update_fields=["transfer", "statuses"])
    if _tells(row.account, gaining):
        enqueue(row.account, TEXTS[PENDING], trn_data(row))


def _tells(*accounts: str) -> bool:
    return all(options(a).get("transfer_poll", True) is not False for a in accounts if a)


def finish(row: SandboxDomain, status: str, *, now: datetime | None = None) -> None:
    """End the pending transfer of ``row`` with ``status`` (a trStatus other than pending): an
    approval moves the name to the gaining account (expiry extended, a new auth code, the
    sponsor's client statuses dropped); a refusal refunds the gaining account. Both parties'
    queues hear of it; the gaining one gets the pending action's result too when the registry or
    the other registrar decided."""
    now = now or timezone.now()
    state = dict(row.transfer)
    state["status"] = status
    state["acted_at"] = _iso(now)
    row.transfer = state
    row.statuses = [s for s in row.statuses if s != "pendingTransfer"] or ["ok"]
    if status in APPROVED:
        row.account = state["gaining"]
        if state.get("expires_after"):
            row.expires_at = _moment(state["expires_after"])
        row.auth_code = secrets.token_urlsafe(12)
        row.statuses = [s for s in row.statuses if not s.startswith("client")] or ["ok"]
        row.locked = False
    else:
        state["expires_after"] = None
        cost = Decimal(state.get("cost") or "0")
        if cost:
            SandboxBalance.objects.filter(account=state["gaining"]).update(
                amount=F("amount") + cost
            )
    row.save()
    if not _tells(state["gaining"], state["losing"]):
        return
    text = TEXTS[status]
    decided_by_others = status != "clientCancelled"  # the gaining registrar's own cancel
    if decided_by_others:
        pan = pan_data(
            row.name, succeeded=status in APPROVED, cl_trid=state.get("cl_trid", ""), moment=now
        )
        enqueue(state["gaining"], text, pan, trn_data(row))
    if status != "clientApproved" and status != "clientRejected":
        enqueue(state["losing"], text, trn_data(row))  # the sponsor's own answers it knows


def settle_due(now: datetime | None = None) -> int:
    """The registry approves every pending transfer whose window has ended (serverApproved)."""
    now = now or timezone.now()
    done = 0
    for row in SandboxDomain.objects.filter(transfer__status=PENDING):
        act_by = _moment(row.transfer.get("act_by"))
        if act_by is None or act_by > now:
            continue
        with transaction.atomic():
            locked = SandboxDomain.objects.select_for_update().get(pk=row.pk)
            if locked.transfer.get("status") == PENDING:
                finish(locked, "serverApproved", now=now)
                done += 1
    return done


# --- the desk: what other registrars and the registry's staff do ------------------------------
@dataclass
class RegistryDesk:
    """Acts at the sandbox EPP front end serving ``account`` (whose client id is ``client_id``)
    as someone other than that registrar. ``SandboxEppServer.desk`` gives the one of a server."""

    account: str
    client_id: str

    def _clid(self, account: str) -> str:
        return clid_of(account, ours=self.account, our_clid=self.client_id)

    def _row(self, name: str) -> SandboxDomain:
        return SandboxDomain.objects.select_for_update().get(name=name)

    def request_transfer(
        self, name: str, *, gaining: str = "Other registrar", years: int = 1
    ) -> SandboxDomain:
        """Another registrar asks for ``name`` (held by this account): pending until answered."""
        with transaction.atomic():
            row = self._row(name)
            start(
                row,
                gaining=gaining,
                gaining_id=self._clid(gaining),
                losing_id=self._clid(row.account),
                years=years,
                cl_trid=f"OTHER-{secrets.token_hex(6)}",
            )
        return row

    def answer_transfer(self, name: str, status: str) -> SandboxDomain:
        """End a pending transfer as the other party or the registry would: ``clientApproved`` /
        ``clientRejected`` (the sponsor's answer to this account's request), ``clientCancelled``
        (the other registrar withdraws its request), ``serverApproved``, ``serverCancelled``."""
        with transaction.atomic():
            row = self._row(name)
            if row.transfer.get("status") != PENDING:
                raise ValueError(f"{name} has no pending transfer")
            finish(row, status)
        return row

    def end_window(self, name: str) -> SandboxDomain:
        """Move the end of ``name``'s transfer window to now (the next look approves it)."""
        with transaction.atomic():
            row = self._row(name)
            row.transfer = {**row.transfer, "act_by": _iso(timezone.now() - timedelta(seconds=1))}
            row.save(update_fields=["transfer"])
        return row

    def auto_renew(self, name: str, years: int = 1) -> SandboxDomain:
        with transaction.atomic():
            row = self._row(name)
            row.expires_at = _add_years(row.expires_at, years)
            row.save(update_fields=["expires_at"])
            enqueue(row.account, "Domain was auto-renewed.", ren_data(row.name, row.expires_at))
        return row

    def hold(self, name: str) -> SandboxDomain:
        """The registry's staff put ``serverHold`` on the name (Nomulus's message)."""
        with transaction.atomic():
            row = self._row(name)
            row.statuses = [s for s in row.statuses if s != "ok"] + ["serverHold"]
            row.save(update_fields=["statuses"])
            enqueue(
                row.account,
                "The registry administrator has added the status(es) [serverHold].",
                # The transaction of the registry's own staff (Nomulus names one too).
                pan_data(
                    row.name,
                    succeeded=True,
                    cl_trid=f"SBX-ADMIN-{secrets.token_hex(4)}",
                    moment=timezone.now(),
                ),
            )
        return row

    def delete(self, name: str, *, cl_trid: str = "") -> str:
        """The registry deletes the name (the end of its pending delete): "Domain deleted."."""
        with transaction.atomic():
            row = self._row(name)
            account = row.account
            row.delete()
            enqueue(
                account,
                "Domain deleted.",
                pan_data(name, succeeded=True, cl_trid=cl_trid, moment=timezone.now()),
            )
        return account

    def pending_action(self, name: str, *, cl_trid: str, succeeded: bool) -> None:
        """The outcome of a command the registry had left pending (1001)."""
        row = SandboxDomain.objects.filter(name=name).first()
        account = row.account if row is not None else self.account
        text = "Pending action completed." if succeeded else "Pending action failed."
        enqueue(
            account,
            text,
            pan_data(name, succeeded=succeeded, cl_trid=cl_trid, moment=timezone.now()),
        )

    def notice(self, text: str, *res_data: etree._Element) -> SandboxPollMessage:
        """Any message, for this account's queue."""
        return enqueue(self.account, text, *res_data)

    def queue(self) -> list[SandboxPollMessage]:
        return list(SandboxPollMessage.objects.filter(account=self.account).order_by("id"))

    def balance(self) -> Decimal | None:
        row = SandboxBalance.objects.filter(account=self.account).first()
        return row.amount if row is not None else None

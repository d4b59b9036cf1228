"""Issue 9, section 6: the admin changes state only through the services, audited.

Reproduced: a domain's change form saved a new status (no history row, no audit row, nothing
told the registry), an operation's change form saved status, attempts and payload, and a
registrar account's credentials were replaced with no audit row. Now those pages are read only
(a POST is refused and changes nothing); suspend/unsuspend, retry/cancel, close/re-open are
admin actions that call the services (history and audit rows); a credentials change goes through
``registrar_account_save`` and its audit row says that the secret changed, never what it is.
"""

import json
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from billing.models import Payment
from domains.models import (
    Domain,
    DomainStatus,
    DomainStatusChange,
    RegistrarAccount,
    RegistrarOperation,
    Tld,
)
from portal.models import AuditEntry
from support.models import Message, Ticket
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class _Form(HTMLParser):
    """The values a browser would send for the change form (``#..._form``)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form or "name" not in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in {"submit", "button", "file"}:
                self.data.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            self.data.setdefault(name, []).append("")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data.lstrip("\n")

    def unknown_decl(self, data):  # pragma: no cover - admin pages have none
        pass


class _Options(_Form):
    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        a = dict(attrs)
        if tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))


def form_data(client, url) -> dict:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    parser = _Options()
    parser.feed(page.content.decode())
    return {k: v if len(v) > 1 else (v[0] if v else "") for k, v in parser.data.items()}


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client


@pytest.fixture
def operation(world):
    return RegistrarOperation.objects.create(
        organisation=world.a.organisation,
        domain=world.a.domain,
        registrar_account=world.a.domain.tld.registrar_account,
        kind=RegistrarOperation.Kind.RENEW,
        payload={"years": 1},
        status=Status.FAILED,
        attempts=8,
        last_error="2306 Parameter value policy error",
    )


# --- the change forms refuse a change ----------------------------------------------------------
def test_the_domain_change_form_does_not_accept_a_status_change(staff_client, world):
    domain = world.a.domain
    url = admin_url(Domain, "change", domain.pk)
    page = staff_client.get(url).content.decode()
    assert 'name="_save"' not in page  # nothing to save: the page is read only
    response = staff_client.post(
        url,
        {
            "name": domain.name,
            "name_puny": domain.name_puny,
            "status": DomainStatus.DELETED,
            "autorenew": "",
            "registrar_lock": "on",
            "customer": world.b.customer.pk,
            "organisation": world.b.organisation.pk,
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    fresh = Domain.objects.get(pk=domain.pk)
    assert fresh.status == domain.status == DomainStatus.ACTIVE
    assert (fresh.customer_id, fresh.organisation_id) == (
        world.a.customer.pk,
        world.a.organisation.pk,
    )
    assert (fresh.autorenew, fresh.registrar_lock) == (domain.autorenew, domain.registrar_lock)
    assert not DomainStatusChange.objects.filter(domain=domain).exists()
    assert (
        staff_client.post(admin_url(Domain, "delete", domain.pk), {"post": "yes"}).status_code
        == 403
    )
    assert Domain.objects.filter(pk=domain.pk).exists()


def test_the_operation_change_form_does_not_accept_status_payload_or_attempts(
    staff_client, operation
):
    url = admin_url(RegistrarOperation, "change", operation.pk)
    assert 'name="_save"' not in staff_client.get(url).content.decode()
    response = staff_client.post(
        url,
        {
            "kind": "renew",
            "status": "succeeded",
            "attempts": "0",
            "payload": json.dumps({"years": 10, "expected_cost": {"amount": "0.01"}}),
            "result": "{}",
            "_save": "Save",
        },
    )
    assert response.status_code == 403
    fresh = RegistrarOperation.objects.get(pk=operation.pk)
    assert (fresh.status, fresh.attempts, fresh.payload) == (Status.FAILED, 8, {"years": 1})
    assert staff_client.get(admin_url(RegistrarOperation, "add")).status_code == 403


def test_the_ticket_change_form_keeps_status_and_messages(staff_client, world):
    ticket = world.a.ticket
    message = ticket.messages.get()
    url = admin_url(Ticket, "change", ticket.pk)
    data = form_data(staff_client, url)
    assert "status" not in data and "subject" not in data  # read only
    data.update(
        {
            "status": Ticket.Status.CLOSED,
            "subject": "Rewritten",
            "staff_only": "on",
            "priority": Ticket.Priority.URGENT,
            "messages-0-body": "Rewritten history",
            "_save": "Save",
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.subject != "Rewritten"
    assert not ticket.staff_only
    assert Message.objects.get(pk=message.pk).body == message.body
    # Triage is saved, through ticket_update (audited).
    assert ticket.priority == Ticket.Priority.URGENT
    assert AuditEntry.objects.filter(action="ticket.update", object_id=str(ticket.pk)).exists()


def test_ledger_rows_cannot_be_edited(staff_client, world):
    payment = Payment.objects.create(
        invoice=world.a.invoice, amount="10.00", currency="USD", status="pending"
    )
    url = admin_url(Payment, "change", payment.pk)
    response = staff_client.post(url, {"amount": "0.01", "status": "completed"})
    assert response.status_code == 403
    payment.refresh_from_db()
    assert str(payment.amount) == "10.00" and payment.status == "pending"


# --- state changes are admin actions through the services ----------------------------------------
def test_suspend_and_unsuspend_are_actions_with_history_and_audit(staff_client, world):
    domain = world.a.domain
    other = DomainFactory(customer=world.a.customer, status=DomainStatus.PENDING_REGISTRATION)
    changelist = admin_url(Domain, "changelist")
    response = staff_client.post(
        changelist, {"action": "suspend", "_selected_action": [domain.pk, other.pk]}, follow=True
    )
    assert response.status_code == 200
    domain.refresh_from_db()
    other.refresh_from_db()
    assert domain.status == DomainStatus.SUSPENDED
    assert other.status == DomainStatus.PENDING_REGISTRATION  # refused, with the reason shown
    assert "cannot be suspended" in response.content.decode()
    change = DomainStatusChange.objects.get(domain=domain)
    assert (change.from_status, change.to_status) == (DomainStatus.ACTIVE, DomainStatus.SUSPENDED)
    audit = AuditEntry.objects.get(action="domain.suspend")
    assert audit.object_id == str(domain.pk) and audit.user == world.staff
    staff_client.post(changelist, {"action": "unsuspend", "_selected_action": [domain.pk]})
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    assert AuditEntry.objects.filter(action="domain.unsuspend", object_id=str(domain.pk)).exists()


def test_retry_and_cancel_are_actions_through_the_services(staff_client, operation):
    changelist = admin_url(RegistrarOperation, "changelist")
    staff_client.post(changelist, {"action": "retry", "_selected_action": [operation.pk]})
    operation.refresh_from_db()
    assert (operation.status, operation.attempts) == (Status.PENDING, 0)
    assert AuditEntry.objects.filter(action="operation.retry", object_id=str(operation.pk)).exists()
    staff_client.post(changelist, {"action": "cancel", "_selected_action": [operation.pk]})
    operation.refresh_from_db()
    assert operation.status == Status.CANCELLED
    assert AuditEntry.objects.filter(
        action="operation.cancel", object_id=str(operation.pk)
    ).exists()


def test_close_is_an_action_through_the_service(staff_client, world):
    ticket = world.a.ticket
    staff_client.post(
        admin_url(Ticket, "changelist"), {"action": "close", "_selected_action": [ticket.pk]}
    )
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert AuditEntry.objects.filter(action="ticket.close", object_id=str(ticket.pk)).exists()


# --- credentials and routing ---------------------------------------------------------------------
def _account_form(account, **extra):
    return {
        "name": account.name,
        "kind": account.kind,
        "settings": "{}",
        "rate_per_second": "20",
        "max_sessions": "4",
        "is_active": "on",
        **extra,
    }


def test_a_credentials_change_writes_an_audit_row_without_the_secret(staff_client, world):
    account = RegistrarAccount.objects.create(name="EPP .ee", kind="epp", credentials="old-one")
    url = admin_url(RegistrarAccount, "change", account.pk)
    response = staff_client.post(url, _account_form(account, new_credentials="n3w-s3cret-77"))
    assert response.status_code == 302
    assert RegistrarAccount.objects.get(pk=account.pk).credentials == "n3w-s3cret-77"
    entry = AuditEntry.objects.get(action="registrar_account.update", object_id=str(account.pk))
    assert entry.data["credentials_changed"] is True and entry.user == world.staff
    rows = json.dumps(list(AuditEntry.objects.values("data", "actor", "action")))
    assert "n3w-s3cret-77" not in rows and "old-one" not in rows

    staff_client.post(url, _account_form(account, clear_credentials="on"))
    assert RegistrarAccount.objects.get(pk=account.pk).credentials == ""
    cleared = AuditEntry.objects.filter(action="registrar_account.update").latest("id")
    assert cleared.data["credentials_cleared"] is True

    staff_client.post(url, _account_form(account, max_sessions="2"))
    kept = AuditEntry.objects.filter(action="registrar_account.update").latest("id")
    assert kept.data["credentials_changed"] is False and kept.data["changed"] == ["max_sessions"]


def test_tld_routing_edits_are_audited(staff_client, world):
    tld = Tld.objects.get(name="com")
    data = form_data(staff_client, admin_url(Tld, "change", tld.pk))
    data.update({"is_active": "", "max_years": "5", "_save": "Save"})
    response = staff_client.post(admin_url(Tld, "change", tld.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tld.refresh_from_db()
    assert (tld.is_active, tld.max_years) == (False, 5)
    entry = AuditEntry.objects.get(action="tld.update", object_id=str(tld.pk))
    assert entry.data == {"is_active": False, "max_years": 5}

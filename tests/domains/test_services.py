"""Managing a registered domain through the services and the outbox, against the sandbox."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from domains import outbox
from domains.models import (
    DomainContact,
    DomainDrift,
    DomainStatus,
    RegistrarOperation,
    SandboxDomain,
    SandboxHost,
)
from domains.services import (
    domain_register,
    domain_request_auth_code,
    domain_reveal_auth_code,
    domain_set_contacts,
    domain_set_lock,
    domain_set_nameservers,
    domain_sync,
    domain_transfer_in,
    drift_resolve,
    ds_add,
    ds_remove,
    host_create,
    host_delete,
    host_set_addresses,
    operation_cancel,
    operation_retry,
)
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import ContactFactory, CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status
DIGEST = "2BB183AF5F22588179A53B0A98631FAD1A292118"


def drain():
    """Run every due operation, oldest first, as the worker would (new ones included)."""
    for _ in range(10):
        due = list(
            RegistrarOperation.objects.filter(status="pending")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not due:
            return
        for pk in due:
            outbox.run_operation(pk)


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox")


@pytest.fixture
def customer(account):
    TldFactory(name="com", registrar_account=account)
    return CustomerFactory(user=UserFactory())


@pytest.fixture
def domain(customer):
    domain = domain_register(actor=SYSTEM, customer=customer, name="managed.com")
    drain()
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    return domain


def upstream():
    return SandboxDomain.objects.get(name="managed.com")


def test_registration_sends_the_customer_as_the_four_contacts(domain, customer):
    assert set(domain.contacts.values_list("role", flat=True)) == set(DomainContact.Role.values)
    assert {c["email"] for c in upstream().contacts} == {customer.email}


def test_nameservers_reach_the_registry(domain):
    domain_set_nameservers(actor=SYSTEM, domain=domain, nameservers=["ns1.b.net", "ns2.b.net"])
    drain()
    assert upstream().nameservers == ["ns1.b.net", "ns2.b.net"]
    assert list(domain.nameservers.values_list("hostname", flat=True)) == ["ns1.b.net", "ns2.b.net"]


def test_glue_hosts_are_created_updated_and_deleted_upstream(domain):
    host = host_create(
        actor=SYSTEM, domain=domain, hostname="ns1.managed.com", ipv4=["192.0.2.1"], ipv6=[]
    )
    drain()
    assert SandboxHost.objects.get().ipv4 == ["192.0.2.1"]
    host_set_addresses(actor=SYSTEM, host=host, ipv4=["192.0.2.2"], ipv6=["2001:db8::1"])
    drain()
    assert SandboxHost.objects.get().ipv6 == ["2001:db8::1"]
    domain_set_nameservers(
        actor=SYSTEM, domain=domain, nameservers=["ns1.managed.com", "ns2.b.net"]
    )
    with pytest.raises(ValidationError, match=r"one of managed\.com's nameservers"):
        host_delete(actor=SYSTEM, host=host)
    domain_set_nameservers(actor=SYSTEM, domain=domain, nameservers=["ns1.b.net", "ns2.b.net"])
    host_delete(actor=SYSTEM, host=host)
    drain()
    assert not SandboxHost.objects.exists()


@pytest.mark.parametrize(
    ("hostname", "ipv4", "message"),
    [
        ("ns1.elsewhere.net", ["192.0.2.1"], "inside managed.com"),
        ("ns1.managed.com", ["300.1.1.1"], "not an IPv4"),
        ("ns1.managed.com", [], "at least one"),
    ],
)
def test_bad_glue_hosts_are_refused(domain, hostname, ipv4, message):
    with pytest.raises(ValidationError, match=message):
        host_create(actor=SYSTEM, domain=domain, hostname=hostname, ipv4=ipv4, ipv6=[])
    assert not domain.hosts.exists()


def test_ds_records_are_published_and_removed(domain):
    ds = ds_add(
        actor=SYSTEM,
        domain=domain,
        key_tag=12345,
        algorithm=13,
        digest_type=1,
        digest=DIGEST.lower(),
    )
    drain()
    assert upstream().ds_records == [
        {"key_tag": 12345, "algorithm": 13, "digest_type": 1, "digest": DIGEST}
    ]
    with pytest.raises(ValidationError, match="already published"):
        ds_add(
            actor=SYSTEM, domain=domain, key_tag=12345, algorithm=13, digest_type=1, digest=DIGEST
        )
    ds_remove(actor=SYSTEM, ds=ds)
    drain()
    assert upstream().ds_records == []


def test_a_ds_digest_of_the_wrong_length_is_refused(domain):
    with pytest.raises(ValidationError) as error:
        ds_add(actor=SYSTEM, domain=domain, key_tag=1, algorithm=13, digest_type=2, digest="ABCD")
    assert "64 hex characters" in str(error.value)


def test_contacts_update_is_validated_and_pushed(domain):
    with pytest.raises(ValidationError) as error:
        domain_set_contacts(
            actor=SYSTEM, domain=domain, contacts={"registrant": {"email": "not-an-email"}}
        )
    assert "registrant.email" in error.value.message_dict
    domain_set_contacts(
        actor=SYSTEM,
        domain=domain,
        contacts={"tech": {"email": "noc@example.test", "first_name": "Noc"}},
    )
    drain()
    tech = next(c for c in upstream().contacts if c["role"] == "tech")
    assert tech["email"] == "noc@example.test"


class TestAuthCode:
    def test_a_locked_domain_gives_no_code(self, domain):
        with pytest.raises(ValidationError, match="locked against transfers"):
            domain_request_auth_code(actor=SYSTEM, domain=domain)
        assert not RegistrarOperation.objects.filter(kind="auth_code").exists()

    def test_the_code_is_fetched_stored_encrypted_and_every_view_audited(self, domain):
        domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        domain_request_auth_code(actor=SYSTEM, domain=domain)
        drain()
        domain.refresh_from_db()
        assert str(domain.auth_code) == upstream().auth_code
        operation = RegistrarOperation.objects.get(kind="auth_code")
        assert upstream().auth_code not in str(operation.result)
        raw = domain._meta.get_field("auth_code")
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {raw.column} FROM domains_domain WHERE id = %s", [domain.pk])
            stored = cursor.fetchone()[0]
        assert upstream().auth_code not in stored, "stored encrypted"
        assert domain_reveal_auth_code(actor=SYSTEM, domain=domain) == upstream().auth_code
        assert AuditEntry.objects.filter(action="domain.auth_code.view").count() == 1

    def test_a_contact_without_the_eppcode_privilege_cannot_see_it(self, domain, customer):
        contact = ContactFactory(
            customer=customer,
            user=UserFactory(),
            privileges={"domains": {str(domain.pk): ["basic"]}},
        )
        actor = actor_for_user(contact.user)
        with pytest.raises(ValidationError, match="not allowed"):
            domain_reveal_auth_code(actor=actor, domain=domain)


def test_a_transfer_in_with_the_right_code_moves_the_domain(domain, customer):
    """The name is held at the sandbox by another account; the code moves it to ours."""
    SandboxDomain.objects.filter(name="managed.com").update(account="someone-else", locked=False)
    domain.status = DomainStatus.TRANSFERRED_AWAY
    domain.save()
    other = CustomerFactory(organisation=customer.organisation)
    moving = domain_transfer_in(
        actor=SYSTEM, customer=other, name="managed.com", auth_code=upstream().auth_code
    )
    drain()
    moving.refresh_from_db()
    assert moving.status == DomainStatus.ACTIVE
    assert upstream().account == "Sandbox"


def test_a_transfer_with_a_wrong_code_fails_with_the_reason(domain, customer):
    SandboxDomain.objects.filter(name="managed.com").update(account="someone-else", locked=False)
    domain.status = DomainStatus.TRANSFERRED_AWAY
    domain.save()
    moving = domain_transfer_in(
        actor=SYSTEM, customer=customer, name="managed.com", auth_code="wrong"
    )
    drain()
    operation = moving.operations.get()
    assert operation.status == Status.FAILED
    assert "Invalid authorization code" in operation.last_error


def test_sync_records_drift_and_staff_resolve_it(domain):
    SandboxDomain.objects.filter(name="managed.com").update(
        nameservers=["ns9.rogue.net", "ns8.rogue.net"], locked=False, autorenew=True
    )
    domain_sync(actor=SYSTEM, domain=domain)
    drain()
    open_drift = {d.field: d for d in domain.drifts.filter(resolution="open")}
    assert set(open_drift) == {"nameservers", "locked"}
    assert open_drift["nameservers"].registry_value == ["ns9.rogue.net", "ns8.rogue.net"]

    drift_resolve(actor=SYSTEM, drift=open_drift["nameservers"], accept=False)
    drift_resolve(actor=SYSTEM, drift=open_drift["locked"], accept=True)
    drain()
    domain.refresh_from_db()
    assert upstream().nameservers == list(domain.nameservers.values_list("hostname", flat=True))
    assert domain.registrar_lock is False
    with pytest.raises(ValidationError, match="already been resolved"):
        drift_resolve(actor=SYSTEM, drift=open_drift["locked"], accept=True)


def test_sync_takes_the_registrys_expiry(domain):
    later = timezone.now().replace(year=timezone.now().year + 5)
    SandboxDomain.objects.filter(name="managed.com").update(expires_at=later)
    domain_sync(actor=SYSTEM, domain=domain)
    drain()
    domain.refresh_from_db()
    assert domain.expires_at == later
    assert DomainDrift.objects.get(field="expires_at").resolution == "accepted"


def test_failed_operations_can_be_retried_and_pending_ones_cancelled(domain, account):
    account.settings = {"failure_rate": 1, "failure_kind": "permanent"}
    account.save()
    operation = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
    drain()
    operation.refresh_from_db()
    assert operation.status == Status.FAILED
    assert operation_cancel(actor=SYSTEM, operation=operation).status == Status.CANCELLED
    with pytest.raises(ValidationError, match="only pending, held or failed"):
        operation_cancel(actor=SYSTEM, operation=operation)
    account.settings = {}
    account.save()
    operation = operation_retry(actor=SYSTEM, operation=operation)
    assert operation.status == Status.PENDING and operation.attempts == 0
    drain()
    operation.refresh_from_db()
    assert operation.status == Status.SUCCEEDED
    assert upstream().locked is False
    with pytest.raises(ValidationError, match="Only failed"):
        operation_retry(actor=SYSTEM, operation=operation)


def test_customers_cannot_retry_cancel_or_resolve(domain, customer):
    customer_actor = actor_for_user(customer.user)
    operation = domain.operations.first()
    with pytest.raises(PermissionDenied):
        operation_retry(actor=customer_actor, operation=operation)
    with pytest.raises(PermissionDenied):
        operation_cancel(actor=customer_actor, operation=operation)
    drift = DomainDrift.objects.create(
        domain=domain, field="locked", portal_value=True, registry_value=False
    )
    with pytest.raises(PermissionDenied):
        drift_resolve(actor=customer_actor, drift=drift, accept=True)

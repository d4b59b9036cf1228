"""The outbox against the sandbox registry: register, retries, permanent failures, a lost worker."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from domains import dispatch, outbox
from domains.lifecycle import TransitionError, domain_transition, lifecycle_advance
from domains.models import (
    Domain,
    DomainStatus,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxTransaction,
)
from domains.names import parse_domain_name, validate_nameservers
from domains.services import domain_register, domain_set_lock, sync_schedule
from portal.tenancy import SYSTEM, actor_for_user
from support.selectors import visible_tickets
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, RegistrarAccountFactory, TldFactory

pytestmark = pytest.mark.django_db
Status = RegistrarOperation.Status


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox", settings={"balance": "100.00"})


@pytest.fixture
def tld(account):
    TldFactory(name="ng", registrar_account=account)
    return TldFactory(name="com", registrar_account=account)


@pytest.fixture
def customer():
    return CustomerFactory(user=UserFactory())


def register(customer, name="nameport-test.com", **kwargs):
    return domain_register(actor=SYSTEM, customer=customer, name=name, **kwargs)


def only_operation(domain):
    return RegistrarOperation.objects.get(domain=domain)


class TestNames:
    def test_it_finds_the_longest_tld(self, tld, account):
        TldFactory(name="com.ng", registrar_account=account)
        assert parse_domain_name("Shop.COM.ng.").tld.name == "com.ng"
        assert parse_domain_name("shop.ng").tld.name == "ng"

    def test_it_keeps_unicode_and_punycode_of_an_idn(self, tld):
        tld.idn_allowed = True
        tld.save()
        parsed = parse_domain_name("bücher.com")
        assert (parsed.unicode, parsed.ascii) == ("bücher.com", "xn--bcher-kva.com")

    def test_it_refuses_an_idn_where_the_tld_does_not_allow_it(self, tld):
        with pytest.raises(ValidationError, match="internationalised"):
            parse_domain_name("bücher.com")

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("-bad.com", "hyphen"),
            ("bad_name.com", "not a valid"),
            ("a" * 64 + ".com", "Label too long"),
            ("example.xyz", "do not offer .xyz"),
            ("www.example.com", "subdomain"),
            ("nodot", "full domain name"),
        ],
    )
    def test_it_rejects_bad_names_with_a_reason(self, tld, name, message):
        with pytest.raises(ValidationError, match=message):
            parse_domain_name(name)

    def test_seed_000s_nameserver_with_an_at_sign_is_rejected(self):
        with pytest.raises(ValidationError, match="not a valid host name"):
            validate_nameservers(
                "x.com", ["ns1@sedoparking.com", "ns2.sedoparking.com"], glue=set()
            )

    @pytest.mark.parametrize(
        ("hosts", "message"),
        [
            (["ns1.a.net"], "at least two"),
            ([f"ns{i}.a.net" for i in range(14)], "at most thirteen"),
            (["ns1.a.net", "NS1.a.net."], "only once"),
            (["192.0.2.1", "ns1.a.net"], "IP address"),
            (["ns1.x.com", "ns2.a.net"], "glue host"),
        ],
    )
    def test_nameserver_rules(self, hosts, message):
        with pytest.raises(ValidationError, match=message):
            validate_nameservers("x.com", hosts, glue=set())

    def test_an_in_bailiwick_nameserver_with_glue_is_accepted(self):
        hosts = validate_nameservers("x.com", ["ns1.x.com", "ns2.a.net"], glue={"ns1.x.com"})
        assert hosts == ["ns1.x.com", "ns2.a.net"]


class TestRegister:
    def test_it_writes_the_domain_and_the_outbox_row_then_the_worker_registers(
        self, tld, customer, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks() as callbacks:
            domain = register(customer, years=2, nameservers=["ns1.a.net", "ns2.a.net"])
        assert len(callbacks) == 1, "the worker is told only after commit"
        assert domain.status == DomainStatus.PENDING_REGISTRATION
        operation = only_operation(domain)
        assert operation.status == Status.PENDING

        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED

        domain.refresh_from_db()
        operation.refresh_from_db()
        assert operation.status == Status.SUCCEEDED and operation.attempts == 1
        assert domain.status == DomainStatus.ACTIVE
        assert domain.expires_at.year == timezone.now().year + 2
        assert domain.outzone_at == domain.expires_at + timedelta(days=tld.grace_days)
        upstream = SandboxDomain.objects.get(name="nameport-test.com")
        assert upstream.nameservers == ["ns1.a.net", "ns2.a.net"]
        assert domain.status_changes.get().to_status == DomainStatus.ACTIVE

    def test_bad_input_changes_nothing_and_queues_nothing(self, tld, customer):
        with pytest.raises(ValidationError):
            register(customer, years=11)
        with pytest.raises(ValidationError):
            register(customer, nameservers=["ns1@sedoparking.com", "ns2.a.net"])
        assert not RegistrarOperation.objects.exists()
        assert not customer.domains.exists()

    def test_a_repeated_call_after_a_lost_worker_applies_once(self, tld, customer):
        """The worker died after the registry applied the command but before we recorded it."""
        domain = register(customer)
        operation = only_operation(domain)
        outbox.run_operation(operation.pk)
        RegistrarOperation.objects.filter(pk=operation.pk).update(
            status=Status.RUNNING, started_at=timezone.now() - timedelta(hours=1)
        )
        assert outbox.sweep() == [operation.pk]
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert SandboxDomain.objects.filter(name="nameport-test.com").count() == 1
        assert SandboxTransaction.objects.filter(command="register").count() == 1
        assert SandboxBalance.objects.get().amount == Decimal("92.00"), "charged once"

    def test_a_transient_failure_is_retried_later_with_backoff(self, tld, customer, account):
        account.settings = {"failure_rate": 1, "failure_kind": "transient"}
        account.save()
        domain = register(customer)
        operation = only_operation(domain)
        outcome = outbox.run_operation(operation.pk)
        operation.refresh_from_db()
        assert outcome.status == Status.PENDING
        assert outbox.BACKOFF_BASE_SECONDS / 2 <= outcome.retry_in <= outbox.BACKOFF_BASE_SECONDS
        assert operation.attempts == 1
        assert operation.next_attempt_at > timezone.now()
        assert "Unexpected error" in operation.last_error
        assert outbox.run_operation(operation.pk).status == "skipped", "not due yet"

    def test_it_gives_up_after_max_attempts_and_opens_a_ticket(self, tld, customer, account):
        account.settings = {"failure_rate": 1, "failure_kind": "transient"}
        account.save()
        domain = register(customer)
        operation = only_operation(domain)
        RegistrarOperation.objects.filter(pk=operation.pk).update(attempts=7)
        assert outbox.run_operation(operation.pk).status == Status.FAILED
        operation.refresh_from_db()
        assert "gave up after 8 attempts" in operation.last_error
        # One ticket for staff (the registry's words), one written for the customer.
        assert operation.tickets.filter(staff_only=True).count() == 1
        assert operation.tickets.filter(staff_only=False).count() == 1

    def test_a_permanent_failure_stops_opens_a_ticket_and_tells_the_customer(
        self, tld, customer, account
    ):
        account.settings = {"reserved": ["nameport-test.com"]}
        account.save()
        domain = register(customer)
        operation = only_operation(domain)
        assert outbox.run_operation(operation.pk).status == Status.FAILED
        operation.refresh_from_db()
        assert "reserved" in operation.last_error
        ticket = operation.tickets.get(staff_only=True)
        assert ticket.department.name == "Domains" and ticket.is_system
        assert "reserved" in ticket.messages.get().body
        told = operation.tickets.get(staff_only=False)
        assert told.is_system and told.customer == customer
        assert "did not accept the registration of nameport-test.com" in told.messages.get().body
        assert "reserved" not in told.messages.get().body  # the registry's words stay with staff
        customer_actor = actor_for_user(customer.user)
        assert list(visible_tickets(customer_actor)) == [told]
        domain.refresh_from_db()
        assert domain.status == DomainStatus.REGISTRATION_FAILED
        change = domain.status_changes.get()
        assert (change.from_status, change.to_status) == (
            "pending_registration",
            "registration_failed",
        )
        assert "reserved" in change.reason

    def test_insufficient_funds_waits_for_funds_instead_of_failing(self, tld, customer, account):
        account.settings = {"balance": "1.00"}
        account.save()
        operation = only_operation(register(customer))
        assert outbox.run_operation(operation.pk).status == Status.AWAITING_FUNDS
        operation.refresh_from_db()
        assert operation.attempts == 0
        assert "Insufficient funds" in operation.last_error


class TestOrderAndState:
    def test_operations_of_one_domain_run_in_order(
        self, tld, customer, django_capture_on_commit_callbacks, monkeypatch
    ):
        """The second waits parked (no polling) and the end of the first wakes it."""
        sent = []
        monkeypatch.setattr(dispatch, "send", sent.extend)
        domain = register(customer)
        first = only_operation(domain)
        Domain.objects.filter(pk=domain.pk).update(status=DomainStatus.ACTIVE)  # as if registered
        domain.refresh_from_db()
        second = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        outcome = outbox.run_operation(second.pk)
        assert outcome.status == "parked" and outcome.retry_in is None
        second.refresh_from_db()
        assert second.status == Status.PENDING and second.next_attempt_at == dispatch.PARKED_AT
        assert f"Waiting for operation #{first.pk} (pending)" in second.last_error
        assert outbox.run_operation(second.pk).status == "skipped", "parked: not due"
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.run_operation(first.pk).status == Status.SUCCEEDED
        assert sent == [second.pk], "the end of the first wakes the second"
        assert outbox.run_operation(second.pk).status == Status.SUCCEEDED
        assert SandboxDomain.objects.get().locked is False

    def test_a_transition_from_a_wrong_status_raises_and_changes_nothing(self):
        domain = DomainFactory(status=DomainStatus.DELETED)
        with pytest.raises(TransitionError):
            domain_transition(domain=domain, to=DomainStatus.ACTIVE, actor=SYSTEM)
        domain.refresh_from_db()
        assert domain.status == DomainStatus.DELETED
        assert not domain.status_changes.exists()

    def test_the_lifecycle_moves_expired_domains_along_in_bulk(self, tld):
        now = timezone.now()
        expired = DomainFactory.create_batch(3, tld=tld, expires_at=now - timedelta(days=1))
        fresh = DomainFactory(tld=tld, expires_at=now + timedelta(days=10))
        in_redemption = DomainFactory(
            tld=tld,
            status=DomainStatus.REDEMPTION,
            expires_at=now - timedelta(days=70),
            delete_at=now - timedelta(days=1),
        )
        moved = lifecycle_advance(actor=SYSTEM, now=now)
        assert moved == {"active->grace": 3, "redemption->pending_delete": 1}
        for domain in expired:
            domain.refresh_from_db()
            assert domain.status == DomainStatus.GRACE
        fresh.refresh_from_db()
        in_redemption.refresh_from_db()
        assert fresh.status == DomainStatus.ACTIVE
        assert in_redemption.status == DomainStatus.PENDING_DELETE
        assert lifecycle_advance(actor=SYSTEM, now=now) == {}, "a second run moves nothing"


class TestPeriodicSync:
    def test_it_queues_the_closest_to_expiry_first_a_slice_at_a_time(self, tld):
        now = timezone.now()
        late = DomainFactory(
            tld=tld, registrar_account=tld.registrar_account, expires_at=now + timedelta(days=300)
        )
        soon = DomainFactory(
            tld=tld, registrar_account=tld.registrar_account, expires_at=now + timedelta(days=3)
        )
        middle = DomainFactory(
            tld=tld, registrar_account=tld.registrar_account, expires_at=now + timedelta(days=30)
        )
        DomainFactory(
            tld=tld,
            registrar_account=tld.registrar_account,
            expires_at=now + timedelta(days=1),
            last_synced_at=now,
        )  # fresh
        DomainFactory(
            tld=tld,
            registrar_account=tld.registrar_account,
            status=DomainStatus.DELETED,
            expires_at=now,
        )  # not ours any more
        assert sync_schedule(now=now, minimum=2) == 2
        queued = set(
            RegistrarOperation.objects.filter(kind="sync").values_list("domain", flat=True)
        )
        assert queued == {soon.pk, middle.pk}
        assert sync_schedule(now=now, minimum=2) == 1, "pending syncs are not queued twice"
        assert RegistrarOperation.objects.get(kind="sync", domain=late).status == Status.PENDING
        assert sync_schedule(now=now, minimum=2) == 0


@pytest.mark.django_db(transaction=True)
def test_a_backlog_is_drained_by_threads_inside_one_task(tld, customer):
    """The outbox rows are the queue: one drain call runs every due one, each exactly once."""
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip(
            "the in-memory SQLite test database locks whole tables across threads (shared "
            "cache); the embedded default is a WAL file, and CI runs this on PostgreSQL"
        )
    domains = [register(customer, name=f"backlog-{i}.com") for i in range(12)]
    counts = outbox.drain(threads=4, max_seconds=60)
    assert counts.get(Status.SUCCEEDED, 0) >= 12
    for domain in domains:
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
    assert SandboxTransaction.objects.filter(command="register").count() == 12
    assert not RegistrarOperation.objects.filter(kind="register", status=Status.PENDING).exists()


def test_the_sweep_sends_one_drain_task_for_a_big_backlog(tld, customer, monkeypatch):
    from domains import dispatch, tasks

    sent = {"drain": 0, "run": 0}
    monkeypatch.setattr(
        tasks.registrar_operations_drain,
        "delay",
        lambda **kw: sent.__setitem__("drain", sent["drain"] + 1),
    )
    monkeypatch.setattr(
        tasks.registrar_operation_run, "delay", lambda pk: sent.__setitem__("run", sent["run"] + 1)
    )
    monkeypatch.setattr(dispatch, "DRAIN_THRESHOLD", 2)
    for i in range(3):
        register(customer, name=f"lost-{i}.com")
    RegistrarOperation.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert tasks.registrar_operations_sweep() == 3
    assert sent == {"drain": 1, "run": 0}


class TestPremiumPriceGuard:
    @pytest.fixture
    def priced(self, tld):
        from billing.models import Price

        Price.objects.create(tld=tld, action="register", currency="USD", cost="8.00", sell="9.90")
        return tld

    @pytest.fixture(autouse=True)
    def funded(self, customer):
        from tests.billing.ledger_helpers import fund

        fund(customer.organisation, livemode=customer.livemode)

    def test_a_registration_at_the_listed_price_goes_through(self, priced, customer):
        operation = only_operation(register(customer))
        assert operation.payload["expected_cost"] == {"amount": "8.00", "currency": "USD"}
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED

    def test_a_premium_price_stops_for_staff_instead_of_registering_at_a_loss(
        self, priced, customer, account
    ):
        account.settings = {"premium": {"nameport-test.com": "950.00"}}
        account.save()
        operation = only_operation(register(customer))
        assert outbox.run_operation(operation.pk).status == Status.HELD
        operation.refresh_from_db()
        assert "premium price" in operation.last_error and "950.00" in operation.last_error
        assert not SandboxDomain.objects.exists(), "nothing was registered"
        ticket = operation.tickets.get(staff_only=True)
        assert "waiting for our team" in ticket.subject
        assert "950.00" in ticket.messages.get().body
        told = operation.tickets.get(staff_only=False)
        assert "waiting for a check by our team" in told.subject
        assert "950.00" not in told.messages.get().body
        from domains.services import operation_retry
        from tests.billing.ledger_helpers import fund

        # Staff accept the registry's price, which the reseller's account is then charged.
        fund(customer.organisation, "5000.00", livemode=customer.livemode)
        operation_retry(actor=SYSTEM, operation=operation)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert SandboxDomain.objects.filter(name="nameport-test.com").exists()


class TestParkedBehindAnother:
    """An operation waiting behind an unfinished one of its domain is parked, not polled, and
    woken by the end of the one before it (succeeded, failed, cancelled, retried)."""

    @pytest.fixture
    def sent(self, monkeypatch):
        sent = []
        monkeypatch.setattr(dispatch, "send", sent.extend)
        return sent

    @pytest.fixture
    def domain(self, tld, customer):
        """Registered, with nothing queued any more."""
        domain = register(customer, name="queue.com")
        for _ in range(3):
            pending = RegistrarOperation.objects.filter(status=Status.PENDING).order_by("pk")
            for pk in pending.values_list("pk", flat=True):
                outbox.run_operation(pk)
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
        assert not RegistrarOperation.objects.filter(status=Status.PENDING).exists()
        return domain

    def held(self, domain):
        return RegistrarOperation.objects.create(
            domain=domain,
            organisation=domain.organisation,
            registrar_account=domain.registrar_account,
            livemode=domain.livemode,
            kind=RegistrarOperation.Kind.RENEW,
            payload={"years": 1},
            status=Status.HELD,
            last_error="Held for staff",
        )

    def test_behind_a_held_operation_it_is_parked_once_and_the_sweep_leaves_it(self, domain, sent):
        first = self.held(domain)
        behind = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        assert outbox.run_operation(behind.pk) == outbox.Outcome("parked")
        behind.refresh_from_db()
        assert behind.next_attempt_at == dispatch.PARKED_AT
        assert (
            behind.last_error
            == f"Waiting for operation #{first.pk} (held for staff) on this domain to end."
        )
        assert behind.attempts == 0
        from domains.policies import WAITING_TEXT, operation_message_for

        customer_actor = actor_for_user(domain.customer.user)
        assert operation_message_for(customer_actor, behind) == WAITING_TEXT
        # Hours later the sweep has nothing to send: a parked row is neither due nor lost.
        RegistrarOperation.objects.filter(pk=first.pk).update(
            updated_at=timezone.now() - timedelta(hours=5)
        )
        assert outbox.sweep() == []
        assert outbox.run_operation(behind.pk).status == "skipped"

    @pytest.mark.parametrize("end", ["cancel", "retry then succeed", "fail"])
    def test_the_end_of_the_one_before_wakes_it(
        self, domain, sent, account, end, django_capture_on_commit_callbacks
    ):
        from domains.services import operation_cancel, operation_retry

        first = self.held(domain)
        behind = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        outbox.run_operation(behind.pk)
        if end == "cancel":
            sent.clear()
            with django_capture_on_commit_callbacks(execute=True):
                operation_cancel(actor=SYSTEM, operation=first)
        else:
            if end == "fail":
                account.settings = {"failure_rate": 1, "failure_kind": "permanent"}
                account.save()
            with django_capture_on_commit_callbacks(execute=True):
                operation_retry(actor=SYSTEM, operation=first)
            assert sorted(sent[-2:]) == sorted([first.pk, behind.pk])
            # Woken by the retry, it finds the retried one ahead of it and parks again.
            assert outbox.run_operation(behind.pk) == outbox.Outcome("parked")
            sent.clear()
            with django_capture_on_commit_callbacks(execute=True):
                outcome = outbox.run_operation(first.pk)
            assert outcome.status == (Status.FAILED if end == "fail" else Status.SUCCEEDED)
            account.settings = {}
            account.save()
        assert sent == [behind.pk]
        behind.refresh_from_db()
        assert behind.next_attempt_at <= timezone.now() and behind.last_error == ""
        assert outbox.run_operation(behind.pk).status == Status.SUCCEEDED

    def test_only_the_first_parked_operation_of_the_domain_is_woken(
        self, domain, sent, django_capture_on_commit_callbacks
    ):
        from domains.services import operation_cancel

        first = self.held(domain)
        second = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        third = domain_set_lock(actor=SYSTEM, domain=domain, locked=True)
        assert outbox.run_operation(second.pk).status == "parked"
        assert outbox.run_operation(third.pk).status == "parked"
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            operation_cancel(actor=SYSTEM, operation=first)
        assert sent == [second.pk]
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.run_operation(second.pk).status == Status.SUCCEEDED
        assert sent == [third.pk]
        assert outbox.run_operation(third.pk).status == Status.SUCCEEDED
        assert SandboxDomain.objects.get(name="queue.com").locked is True

    def test_the_sweep_wakes_a_parked_operation_whose_wake_was_lost(self, domain, sent):
        first = self.held(domain)
        behind = domain_set_lock(actor=SYSTEM, domain=domain, locked=False)
        outbox.run_operation(behind.pk)
        # The one before ends by a path that sends no wake (staff in the database, say).
        RegistrarOperation.objects.filter(pk=first.pk).update(status=Status.SUCCEEDED)
        assert outbox.sweep() == [behind.pk]
        behind.refresh_from_db()
        assert behind.next_attempt_at <= timezone.now()
        assert outbox.sweep() == [], "sent once; the next sweep finds it due, not lost"


class TestLostWorker:
    """A worker killed during the call leaves its row running; each claim counted an attempt."""

    def lose_the_worker(self, operation):
        """The claim (attempt counted) and then nothing: the worker died mid-call."""
        assert outbox.core.claim(RegistrarOperation, operation.pk)
        RegistrarOperation.objects.filter(pk=operation.pk).update(
            started_at=timezone.now() - timedelta(seconds=outbox.LEASE_SECONDS + 1)
        )

    def test_the_sweep_takes_it_back_with_the_attempt_counted(self, tld, customer):
        operation = only_operation(register(customer))
        self.lose_the_worker(operation)
        assert outbox.sweep() == [operation.pk]
        operation.refresh_from_db()
        assert operation.status == Status.PENDING and operation.attempts == 1
        assert "Worker lost" in operation.last_error

    def test_at_the_limit_the_sweep_stops_it_as_failed_with_a_ticket(self, tld, customer):
        domain = register(customer)
        operation = only_operation(domain)
        RegistrarOperation.objects.filter(pk=operation.pk).update(attempts=7)
        self.lose_the_worker(operation)  # the eighth attempt of eight
        assert outbox.sweep() == []
        operation.refresh_from_db()
        assert operation.status == Status.FAILED and operation.attempts == 8
        assert operation.finished_at is not None
        assert "lost during the call on each of 8 attempts" in operation.last_error
        assert operation.tickets.filter(staff_only=True).count() == 1
        assert operation.tickets.filter(staff_only=False).count() == 1
        domain.refresh_from_db()
        assert domain.status == DomainStatus.REGISTRATION_FAILED
        assert outbox.sweep() == [] and outbox.run_operation(operation.pk).status == "skipped"

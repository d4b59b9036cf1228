"""Fees (RFC 8748 fee-1.0) over real TLS, against the simulator's EPP front end: the fee check gives
the registry's real price (premium names by their class), transforms carry the agreed fee so the
registry itself refuses a higher price, and the outbox's premium-price guard holds an operation
whose registry price rose above the quote, by its check before sending and by the registry's own
refusal. Without the extension the configured price is used and the operation's log says so.

Every frame the server receives and sends is validated against ``epp-all.xsd`` (the ``frames``
fixture of test_epp.py), and a test here checks that the fee elements were really on the wire.
"""

# ruff: noqa: F811 (the fixtures imported from test_epp.py are requested by name)

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.models import Price
from domains import outbox
from domains.models import (
    DomainStatus,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
)
from domains.registrars import epp
from domains.registrars.base import CheckResult, FeeRefusedError, QuotedFee
from domains.services import domain_register, domain_renew, domain_transfer_in, operation_retry
from portal.tenancy import SYSTEM
from tests.billing.ledger_helpers import unmetered
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import DomainFactory, TldFactory
from tests.domains.test_epp import (  # noqa: F401 (fixtures)
    EPP,
    account,
    adapter,
    epp_schema,
    frames,
    make_account,
    other_registrars_domain,
    pki,
    register,
    server,
    upstream,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _unmetered():
    """About the fee guard, not the reseller's account with the platform: operations run
    without charging it (tests/domains/test_charge_at_claim.py covers the charge)."""
    with unmetered():
        yield


Status = RegistrarOperation.Status

FEE = "urn:ietf:params:xml:ns:epp:fee-1.0"
USD = "USD"


def fee(element, tag: str) -> list:
    return list(element.iter(f"{{{FEE}}}{tag}"))


def configure(upstream, **settings):
    upstream.settings = {**upstream.settings, **settings}
    upstream.save()


def balance(upstream) -> Decimal:
    row = SandboxBalance.objects.filter(account=upstream.name).first()
    return row.amount if row else Decimal(upstream.settings.get("balance", "100000"))


# --- the adapter over TLS -------------------------------------------------------------------------
class TestFeeCheck:
    def test_the_login_declares_fee_1_0_because_the_greeting_offers_it(self, adapter, frames):
        assert adapter.greeting().fee
        [login] = frames.commands("login")
        declared = [e.text for e in login.iter(f"{{{EPP}}}extURI")]
        assert FEE in declared

    def test_a_check_asks_the_fee_of_create_renew_transfer_and_restore(
        self, adapter, upstream, frames
    ):
        configure(upstream, premium={"rich.test": "100.00"})
        rich, plain = adapter.check(["rich.test", "plain.test"])
        [check] = frames.commands("check", "domain")
        asked = [
            (c.get("name"), c.find(f"{{{FEE}}}period").text)
            for c in check.getparent().iter(f"{{{FEE}}}command")
        ]
        assert asked == [("create", "1"), ("renew", "1"), ("transfer", "1"), ("restore", "1")]
        assert (rich.premium, rich.price, rich.fee_class, rich.price_configured) == (
            True,
            Decimal("100.00"),
            "premium",
            False,
        )
        assert (plain.premium, plain.price, plain.fee_class) == (False, Decimal("8.00"), "standard")
        assert rich.fee("renew").amount == Decimal("8.00") and not rich.fee("renew").premium
        # The answer came in fee:chkData, in the shapes of Nomulus (one fee:cd per command).
        answers = [d for d in frames.sent() if fee(d, "chkData")]
        assert len(answers) == 1 and len(fee(answers[0], "cd")) == 8

    def test_price_is_the_registrys_real_fee_for_the_period(self, adapter, upstream):
        configure(upstream, premium={"rich.test": "100.00"}, prices={"test": {"renew": "11.00"}})
        create = adapter.price("rich.test", "register", 2)
        assert (create.price, create.currency, create.premium) == (Decimal("200.00"), USD, True)
        assert not create.price_configured
        renew = adapter.price("plain.test", "renew", 3)
        assert (renew.price, renew.premium, renew.fee_class) == (
            Decimal("33.00"),
            False,
            "standard",
        )

    def test_a_reserved_name_has_no_create_price(self, adapter):
        quote = adapter.price("reserved-name.test", "register", 1)
        assert quote.price is None and quote.fee_class == "reserved" and not quote.available


class TestTransformsCarryTheAgreedFee:
    def test_a_create_below_the_registrys_price_is_refused_by_the_registry(
        self, adapter, upstream, frames
    ):
        configure(upstream, premium={"rich.test": "100.00"})
        before = balance(upstream)
        with pytest.raises(FeeRefusedError) as refused:
            register(adapter, "rich.test", "key-rich", quoted_fee=QuotedFee(Decimal("50"), USD))
        assert refused.value.code == 2004
        assert refused.value.price == QuotedFee(Decimal("100.00"), USD)
        assert "100.00" in refused.value.message and "50" in refused.value.message
        assert not SandboxDomain.objects.filter(name="rich.test").exists()
        assert balance(upstream) == before
        [create] = [c for c in frames.commands("create", "domain")]
        agreed = fee(create.getparent(), "create")[0]
        assert [e.text for e in agreed] == [USD, "50.00"]  # <fee:currency>, <fee:fee>
        assert 2004 in frames.result_codes()

    def test_a_create_at_the_registrys_price_goes_through_and_reports_the_charge(
        self, adapter, upstream
    ):
        configure(upstream, premium={"rich.test": "100.00"})
        info = register(adapter, "rich.test", "key-rich", quoted_fee=QuotedFee(Decimal("100"), USD))
        assert info.charged.amount == Decimal("100.00") and info.charged.currency == USD
        assert SandboxDomain.objects.filter(name="rich.test", account=upstream.name).exists()

    def test_a_premium_create_without_a_fee_is_refused(self, adapter, upstream):
        configure(upstream, premium={"rich.test": "100.00"})
        with pytest.raises(epp.PermanentError) as refused:
            register(adapter, "rich.test", "key-rich")
        assert refused.value.code == 2004 and "acknowledged" in refused.value.message

    def test_renew_and_transfer_refuse_a_fee_below_the_price(self, adapter, upstream):
        configure(upstream, prices={"test": {"renew": "15.00", "transfer": "12.00"}})
        created = register(adapter, "mine.test", "key-mine")
        low = QuotedFee(Decimal("9.99"), USD)
        with pytest.raises(FeeRefusedError) as renew:
            adapter.renew(
                name="mine.test",
                years=1,
                current_expiry=created.expires_at.date(),
                idempotency_key="key-mine-renew",
                quoted_fee=low,
            )
        assert renew.value.code == 2004 and renew.value.price.amount == Decimal("15.00")
        other_registrars_domain("theirs.test", auth_code="Their-auth-1")
        with pytest.raises(FeeRefusedError) as transfer:
            adapter.transfer(
                name="theirs.test",
                auth_code="Their-auth-1",
                years=1,
                idempotency_key="key-theirs",
                quoted_fee=low,
            )
        assert transfer.value.price.amount == Decimal("12.00")
        assert SandboxDomain.objects.get(name="theirs.test").account == "Other registrar"
        moved = adapter.transfer(
            name="theirs.test",
            auth_code="Their-auth-1",
            years=1,
            idempotency_key="key-theirs-2",
            quoted_fee=QuotedFee(Decimal("12.00"), USD),
        )
        assert moved.charged.amount == Decimal("12.00")

    def test_another_currency_is_refused(self, adapter):
        with pytest.raises(FeeRefusedError) as refused:
            register(adapter, "euro.test", "key-euro", quoted_fee=QuotedFee(Decimal("90"), "EUR"))
        assert "currency" in refused.value.message.lower()

    def test_every_fee_command_and_answer_is_valid_epp(self, adapter, upstream, frames, epp_schema):
        configure(upstream, premium={"rich.test": "100.00"})
        adapter.check(["rich.test"])
        register(adapter, "rich.test", "key-rich", quoted_fee=QuotedFee(Decimal("100"), USD))
        frames.assert_valid(epp_schema)
        assert any(fee(d, "check") for d in frames.received())
        assert any(fee(d, "create") for d in frames.received())
        assert any(fee(d, "chkData") for d in frames.sent())
        assert any(fee(d, "creData") for d in frames.sent())


class TestWithoutTheExtension:
    def test_no_fee_is_announced_declared_or_sent_and_prices_are_the_configured_ones(
        self, server, pki, upstream, frames
    ):
        configure(upstream, fee=False)
        adapter = epp.EppAdapter(
            make_account(server, pki, name="No fees", prices={"test": {"register": "7.00"}})
        )
        assert not adapter.greeting().fee
        [quote] = adapter.check(["plain.test"])
        assert (quote.price, quote.price_configured, quote.fees) == (Decimal("7.00"), True, [])
        register(adapter, "plain.test", "key-plain", quoted_fee=QuotedFee(Decimal("1"), USD))
        assert SandboxDomain.objects.filter(name="plain.test").exists()
        assert not any(fee(d, "create") or fee(d, "check") for d in frames.received())
        [login] = frames.commands("login")
        assert FEE not in [e.text for e in login.iter(f"{{{EPP}}}extURI")]


# --- the outbox's premium-price guard against the EPP registry ------------------------------------
@pytest.fixture
def feetest(account):
    tld = TldFactory(name="feetest", registrar_account=account)
    for action in ("register", "renew", "transfer"):
        Price.objects.create(tld=tld, action=action, currency=USD, cost="8.00", sell="9.90")
    return tld


@pytest.fixture
def customer():
    return CustomerFactory(user=UserFactory())


def held_at_registry(customer, upstream, name: str, tld, **fields):
    """A domain the portal and the registry both hold (registered with this registrar)."""
    domain = DomainFactory(customer=customer, name=name, tld=tld, **fields)
    SandboxDomain.objects.create(
        name=name,
        account=upstream.name,
        registered_at=domain.registered_at,
        expires_at=domain.expires_at,
        statuses=["ok"],
        auth_code="Own-auth-1",
    )
    return domain


def queued(domain, kind=RegistrarOperation.Kind.REGISTER) -> RegistrarOperation:
    return RegistrarOperation.objects.get(domain=domain, kind=kind)


def log_of(operation) -> list[str]:
    operation.refresh_from_db()
    return [line["message"] for line in operation.result.get("log", [])]


class TestGuard:
    def test_a_registration_at_the_quoted_price_sends_that_fee(
        self, feetest, customer, upstream, frames
    ):
        domain = domain_register(actor=SYSTEM, customer=customer, name="fine.feetest")
        operation = queued(domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE
        [create] = frames.commands("create", "domain")
        assert [e.text for e in fee(create.getparent(), "fee")] == ["8.00"]
        assert any("fee-1.0: the registry's price" in line for line in log_of(operation))

    def test_the_check_before_sending_holds_a_registration_whose_price_rose(
        self, feetest, customer, upstream, frames
    ):
        configure(upstream, prices={"feetest": {"register": "12.00"}})
        before = balance(upstream)
        domain = domain_register(actor=SYSTEM, customer=customer, name="dearer.feetest")
        operation = queued(domain)
        assert outbox.run_operation(operation.pk).status == Status.HELD
        operation.refresh_from_db()
        assert "12.00" in operation.last_error and "8.00" in operation.last_error
        assert operation.payload["registry_cost"] == {"amount": "12.00", "currency": USD}
        assert frames.commands("create", "domain") == []  # nothing was sent
        assert not SandboxDomain.objects.filter(name="dearer.feetest").exists()
        assert balance(upstream) == before

    def test_the_registry_itself_refuses_the_quoted_fee_when_the_price_rose_after_the_check(
        self, feetest, customer, upstream, frames, monkeypatch
    ):
        configure(upstream, prices={"feetest": {"register": "12.00"}})
        before = balance(upstream)
        real_price = epp.EppAdapter.price
        asked = []

        def racing(self, name, action, years):
            """The guard's check still sees the old price; the create meets the new one."""
            asked.append(name)
            if len(asked) == 1:
                return CheckResult(name=name, available=True, price=Decimal("8.00"))
            return real_price(self, name, action, years)

        with monkeypatch.context() as patched:
            patched.setattr(epp.EppAdapter, "price", racing)
            domain = domain_register(actor=SYSTEM, customer=customer, name="raced.feetest")
            operation = queued(domain)
            assert outbox.run_operation(operation.pk).status == Status.HELD
        operation.refresh_from_db()
        assert "refused to register raced.feetest" in operation.last_error
        assert "its price is 12.00 USD" in operation.last_error and "2004" in operation.last_error
        assert not SandboxDomain.objects.filter(name="raced.feetest").exists()
        assert balance(upstream) == before
        assert 2004 in frames.result_codes()

        operation_retry(actor=SYSTEM, operation=operation)  # staff accept the registry's price
        operation.refresh_from_db()
        assert operation.payload["accepted_cost"] == {"amount": "12.00", "currency": USD}
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert SandboxDomain.objects.filter(name="raced.feetest").exists()
        assert balance(upstream) == before - Decimal("12.00")

    def test_a_renewal_and_a_transfer_are_guarded_too(self, feetest, customer, upstream):
        configure(upstream, prices={"feetest": {"renew": "20.00", "transfer": "20.00"}})
        ours = held_at_registry(customer, upstream, "kept.feetest", feetest)
        renewal = domain_renew(actor=SYSTEM, domain=ours, years=1)
        assert renewal.payload["expected_cost"] == {"amount": "8.00", "currency": USD}
        assert outbox.run_operation(renewal.pk).status == Status.HELD
        other_registrars_domain("moving.feetest", auth_code="Their-auth-1")
        moving = domain_transfer_in(
            actor=SYSTEM, customer=customer, name="moving.feetest", auth_code="Their-auth-1"
        )
        transfer = queued(moving, RegistrarOperation.Kind.TRANSFER)
        assert outbox.run_operation(transfer.pk).status == Status.HELD
        assert SandboxDomain.objects.get(name="moving.feetest").account == "Other registrar"

    def test_without_the_extension_the_configured_price_is_used_and_the_log_says_so(
        self, server, pki, upstream, customer, frames
    ):
        configure(upstream, fee=False)
        plain = make_account(server, pki, name="No fees", prices={"nofee": {"register": "8.00"}})
        tld = TldFactory(name="nofee", registrar_account=plain)
        Price.objects.create(tld=tld, action="register", currency=USD, cost="8.00", sell="9.90")
        domain = domain_register(actor=SYSTEM, customer=customer, name="plain.nofee")
        operation = queued(domain)
        assert outbox.run_operation(operation.pk).status == Status.SUCCEEDED
        assert log_of(operation) == [
            "The registry does not offer fee-1.0: the price is the configured one (8.00 USD), "
            "not the registry's; no fee is sent with the command."
        ]
        assert not any(fee(d, "create") for d in frames.received())

    def test_without_the_extension_a_configured_price_above_the_quote_still_holds(
        self, server, pki, upstream, customer
    ):
        configure(upstream, fee=False)
        plain = make_account(server, pki, name="No fees", prices={"nofee": {"register": "30.00"}})
        tld = TldFactory(name="nofee", registrar_account=plain)
        Price.objects.create(tld=tld, action="register", currency=USD, cost="8.00", sell="9.90")
        domain = domain_register(actor=SYSTEM, customer=customer, name="dear.nofee")
        operation = queued(domain)
        assert outbox.run_operation(operation.pk).status == Status.HELD
        assert "30.00" in RegistrarOperation.objects.get(pk=operation.pk).last_error
        assert "configured one (30.00 USD)" in log_of(operation)[0]
        assert not SandboxDomain.objects.filter(name="dear.nofee").exists()


def test_a_domain_the_registry_holds_is_renewed_within_its_fee(feetest, customer, upstream, frames):
    domain = held_at_registry(customer, upstream, "old.feetest", feetest)
    renewal = domain_renew(actor=SYSTEM, domain=domain, years=2)
    assert outbox.run_operation(renewal.pk).status == Status.SUCCEEDED
    row = SandboxDomain.objects.get(name="old.feetest")
    assert row.expires_at.year == domain.expires_at.year + 2
    [renew] = frames.commands("renew", "domain")
    assert [e.text for e in fee(renew.getparent(), "fee")] == ["16.00"]  # 2 years at 8.00

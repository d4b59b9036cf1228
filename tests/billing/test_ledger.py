"""billing.ledger: accounts, top-ups, charges and refunds of registry operations, the forecast."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import ledger
from billing.models import AccountEntry, Price, ResellerAccount
from domains.models import DomainStatus, RegistrarOperation
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, Actor, ActorKind
from tests.customers.factories import CustomerFactory, OrganisationFactory
from tests.domains.factories import (
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
    TldFactory,
)

pytestmark = pytest.mark.django_db
Op = RegistrarOperation
Kind = AccountEntry.Kind


@pytest.fixture
def organisation():
    return OrganisationFactory(default_currency="USD")


@pytest.fixture
def tld():
    tld = TldFactory(name="com", registrar_account=RegistrarAccountFactory(name="Sandbox"))
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=8, sell=10)
    Price.objects.create(tld=tld, action="renew", years=1, currency="USD", cost=8, sell=11)
    Price.objects.create(tld=tld, action="redemption", years=1, currency="USD", cost=60, sell=80)
    Price.objects.create(tld=tld, action="register", years=1, currency="EUR", cost=7, sell=9)
    return tld


def reseller(organisation, livemode=True):
    return Actor(kind=ActorKind.RESELLER, organisation=organisation, livemode=livemode)


def operation(organisation, tld, kind=Op.Kind.REGISTER, livemode=True, **payload):
    customer = CustomerFactory(organisation=organisation, livemode=livemode)
    domain = DomainFactory(customer=customer, tld=tld, livemode=livemode)
    return RegistrarOperationFactory(
        domain=domain,
        organisation=organisation,
        livemode=livemode,
        kind=kind,
        status=Op.Status.RUNNING,
        payload={"years": 1, **payload},
    )


def topped(organisation, amount="100.00", livemode=True, currency="USD"):
    account = ledger.account_for(organisation, currency, livemode)
    ledger.topup(actor=SYSTEM, account=account, amount=amount, reference=f"ref-{amount}")
    return account


class TestAccounts:
    def test_one_account_per_organisation_currency_and_mode(self, organisation):
        live = ledger.account_for(organisation, "usd", True)
        assert ledger.account_for(organisation, "USD", True) == live
        assert ledger.account_for(organisation, "USD", False) != live
        assert ledger.account_for(organisation, "EUR", True) != live
        assert ResellerAccount.objects.count() == 3

    def test_an_account_without_entries_has_a_zero_balance(self, organisation):
        assert ledger.balance(ledger.account_for(organisation, "USD", True)) == Decimal("0.00")

    def test_a_bad_currency_code_is_refused(self, organisation):
        with pytest.raises(ValidationError, match="currency"):
            ledger.account_for(organisation, "dollars", True)

    def test_entries_are_never_updated_below_zero_by_the_database(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        with pytest.raises(IntegrityError), transaction.atomic():
            AccountEntry.objects.create(
                account=account, kind=Kind.ADJUSTMENT, amount=-5, balance_after=-5
            )


class TestTopup:
    def test_staff_top_up_a_live_account_with_a_reference(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        entry = ledger.topup(
            actor=SYSTEM, account=account, amount="25.005", reference="BANK-1", note="wire"
        )
        assert (entry.kind, entry.amount, entry.balance_after) == (
            Kind.TOPUP,
            Decimal("25.01"),
            Decimal("25.01"),
        )
        ledger.topup(actor=SYSTEM, account=account, amount=Decimal("10"), reference="BANK-2")
        assert ledger.balance(account) == Decimal("35.01")
        audit = AuditEntry.objects.filter(action="reseller_account.topup").first()
        assert audit.data["reference"] == "BANK-2" and audit.organisation == organisation

    def test_a_live_top_up_needs_a_reference_and_it_is_unique(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        with pytest.raises(ValidationError, match="reference"):
            ledger.topup(actor=SYSTEM, account=account, amount="10")
        ledger.topup(actor=SYSTEM, account=account, amount="10", reference="BANK-1")
        with pytest.raises(ValidationError, match="already recorded"):
            ledger.topup(actor=SYSTEM, account=account, amount="10", reference="BANK-1")
        assert ledger.balance(account) == Decimal("10.00")

    def test_the_reseller_tops_up_its_sandbox_account_freely(self, organisation):
        account = ledger.account_for(organisation, "USD", False)
        ledger.topup(actor=reseller(organisation, livemode=False), account=account, amount="500")
        assert ledger.balance(account) == Decimal("500.00")

    @pytest.mark.parametrize("amount", ["0", "-5", "0.001", "abc", "NaN", "Infinity", ""])
    def test_zero_negative_and_unreadable_amounts_are_refused(self, organisation, amount):
        account = ledger.account_for(organisation, "USD", True)
        with pytest.raises(ValidationError, match="amount"):
            ledger.topup(actor=SYSTEM, account=account, amount=amount, reference="X")
        assert not AccountEntry.objects.exists()

    def test_another_currency_is_refused(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        with pytest.raises(ValidationError, match="in USD"):
            ledger.topup(actor=SYSTEM, account=account, amount="5", reference="X", currency="EUR")

    def test_a_top_up_clears_the_low_funds_notice(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        ResellerAccount.objects.filter(pk=account.pk).update(low_funds_notified_at=timezone.now())
        ledger.topup(actor=SYSTEM, account=account, amount="5", reference="X")
        account.refresh_from_db()
        assert account.low_funds_notified_at is None

    def test_a_reseller_may_not_top_up_live(self, organisation):
        account = ledger.account_for(organisation, "USD", True)
        with pytest.raises(PermissionDenied):
            ledger.topup(actor=reseller(organisation), account=account, amount="5", reference="X")


class TestCharges:
    def test_each_costly_kind_is_charged_at_the_platform_price(self, organisation, tld):
        topped(organisation, "200.00")
        register = operation(organisation, tld)
        renew = operation(organisation, tld, Op.Kind.RENEW, years=2)
        restore = operation(organisation, tld, Op.Kind.RESTORE)
        lock = operation(organisation, tld, Op.Kind.LOCK, value=True)
        assert ledger.charge_operations(operations=[register, renew, restore, lock]) == set()
        amounts = dict(
            AccountEntry.objects.filter(kind=Kind.CHARGE).values_list("operation_id", "amount")
        )
        assert amounts == {
            register.pk: Decimal("-10.00"),
            renew.pk: Decimal("-22.00"),
            restore.pk: Decimal("-80.00"),
        }

    def test_privacy_is_not_charged_while_the_list_has_no_privacy_price(self, organisation, tld):
        topped(organisation)
        privacy = operation(organisation, tld, Op.Kind.PRIVACY, value=True)
        assert ledger.charge_operations(operations=[privacy]) == set()
        assert not AccountEntry.objects.filter(kind=Kind.CHARGE).exists()

    def test_turning_id_protection_on_costs_a_year_of_the_privacy_price(self, organisation, tld):
        Price.objects.create(tld=tld, action="privacy", years=1, currency="USD", cost=2, sell=3)
        topped(organisation)
        on = operation(organisation, tld, Op.Kind.PRIVACY, value=True)
        off = operation(organisation, tld, Op.Kind.PRIVACY, value=False)
        assert ledger.charge_operations(operations=[on, off]) == set()
        entry = AccountEntry.objects.get(kind=Kind.CHARGE)
        assert (entry.operation, entry.amount) == (on, Decimal("-3.00"))
        assert ledger.refund_operation(operation=on).amount == Decimal("3.00")

    def test_a_registration_and_a_renewal_with_id_protection_pay_for_it_too(
        self, organisation, tld
    ):
        Price.objects.create(tld=tld, action="privacy", years=1, currency="USD", cost=2, sell=3)
        topped(organisation)
        protected = operation(organisation, tld, privacy=True)
        plain = operation(organisation, tld, privacy=False)
        renewal = operation(organisation, tld, Op.Kind.RENEW, years=2)
        renewal.domain.id_protection = True
        renewal.domain.save(update_fields=["id_protection"])
        ledger.charge_operations(operations=[protected, plain, renewal])
        entries = {e.operation_id: e for e in AccountEntry.objects.filter(kind=Kind.CHARGE)}
        assert entries[protected.pk].amount == Decimal("-13.00")  # 10 + 3
        assert entries[plain.pk].amount == Decimal("-10.00")
        assert entries[renewal.pk].amount == Decimal("-28.00")  # 2 x (11 + 3)
        assert "with ID protection" in entries[protected.pk].note
        assert "with ID protection" not in entries[plain.pk].note

    def test_protection_priced_only_in_another_currency_is_not_added(self, organisation, tld):
        Price.objects.create(tld=tld, action="privacy", years=1, currency="EUR", cost=2, sell=3)
        topped(organisation)
        protected = operation(organisation, tld, privacy=True)
        ledger.charge_operations(operations=[protected])
        assert AccountEntry.objects.get(kind=Kind.CHARGE).amount == Decimal("-10.00")

    def test_the_account_is_in_the_organisations_currency(self, tld):
        euros = OrganisationFactory(default_currency="EUR")
        topped(euros, "50.00", currency="EUR")
        ledger.charge_operations(operations=[operation(euros, tld)])
        account = ResellerAccount.objects.get(organisation=euros, currency="EUR")
        assert ledger.balance(account) == Decimal("41.00")

    def test_a_price_staff_accepted_above_the_list_costs_it_with_the_platform_markup(
        self, organisation, tld
    ):
        topped(organisation, "2000.00")
        premium = operation(
            organisation, tld, accepted_cost={"amount": "800.00", "currency": "USD"}
        )
        ledger.charge_operations(operations=[premium])
        # The platform sells the standard name at 10.00 over a cost of 8.00: a 1.25 markup.
        assert AccountEntry.objects.get(operation=premium).amount == Decimal("-1000.00")

    def test_charging_twice_in_one_round_charges_once(self, organisation, tld):
        topped(organisation)
        register = operation(organisation, tld)
        ledger.charge_operations(operations=[register])
        ledger.charge_operations(operations=[register])
        assert AccountEntry.objects.filter(operation=register).count() == 1

    def test_the_first_it_cannot_pay_and_all_after_it_wait(self, organisation, tld):
        topped(organisation, "25.00")
        first, second, third = (operation(organisation, tld) for _ in range(3))
        cheap = operation(organisation, tld)
        unpaid = ledger.charge_operations(operations=[first, second, third, cheap])
        assert unpaid == {third.pk, cheap.pk}
        assert ledger.balance(ResellerAccount.objects.get()) == Decimal("5.00")
        account = ResellerAccount.objects.get()
        assert account.low_funds_notified_at is not None

    def test_a_refund_returns_the_latest_round_once(self, organisation, tld):
        topped(organisation, "25.00")
        register = operation(organisation, tld)
        ledger.charge_operations(operations=[register])
        assert ledger.refund_operation(operation=register).amount == Decimal("10.00")
        assert ledger.refund_operation(operation=register) is None
        assert ledger.balance(ResellerAccount.objects.get()) == Decimal("25.00")
        ledger.charge_operations(operations=[register])
        rounds = list(
            AccountEntry.objects.filter(operation=register)
            .order_by("id")
            .values_list("kind", "round")
        )
        assert rounds == [(Kind.CHARGE, 1), (Kind.REFUND, 1), (Kind.CHARGE, 2)]

    def test_an_operation_never_charged_is_not_refunded(self, organisation, tld):
        assert ledger.refund_operation(operation=operation(organisation, tld)) is None
        assert not AccountEntry.objects.exists()


class TestForecast:
    def test_renewals_due_are_priced_and_the_run_out_date_given(self, organisation, tld):
        topped(organisation, "25.00")
        now = timezone.now()
        for days in (10, 20, 45, 80):
            DomainFactory(
                customer=CustomerFactory(organisation=organisation),
                tld=tld,
                status=DomainStatus.ACTIVE,
                autorenew=True,
                expires_at=now + timedelta(days=days),
            )
        DomainFactory(  # auto-renew off: not counted
            customer=CustomerFactory(organisation=organisation),
            tld=tld,
            status=DomainStatus.ACTIVE,
            autorenew=False,
            expires_at=now + timedelta(days=5),
        )
        [usd] = ledger.forecast(organisation, livemode=True, today=now)
        assert usd.currency == "USD" and usd.balance == Decimal("25.00")
        assert usd.due == {30: Decimal("22.00"), 60: Decimal("33.00"), 90: Decimal("44.00")}
        assert usd.count == {30: 2, 60: 3, 90: 4}
        # 11 + 11 = 22 <= 25; the third renewal (day 45) is the first it cannot cover.
        assert usd.runs_out_on == (now + timedelta(days=45)).date()

    def test_a_balance_that_covers_the_window_runs_out_at_its_pace(self, organisation, tld):
        topped(organisation, "110.00")
        now = timezone.now()
        DomainFactory(
            customer=CustomerFactory(organisation=organisation),
            tld=tld,
            status=DomainStatus.ACTIVE,
            autorenew=True,
            expires_at=now + timedelta(days=30),
        )
        [usd] = ledger.forecast(organisation, livemode=True, today=now)
        # 11.00 per 90 days: 110.00 lasts 900 days.
        assert usd.runs_out_on == (now + timedelta(days=900)).date()

    def test_a_protected_domain_renews_its_protection_too(self, organisation, tld):
        Price.objects.create(tld=tld, action="privacy", years=1, currency="USD", cost=2, sell=3)
        now = timezone.now()
        DomainFactory(
            customer=CustomerFactory(organisation=organisation),
            tld=tld,
            status=DomainStatus.ACTIVE,
            autorenew=True,
            id_protection=True,
            expires_at=now + timedelta(days=10),
        )
        [usd] = ledger.forecast(organisation, livemode=True, today=now)
        assert usd.due[30] == Decimal("14.00")

    def test_nothing_due_nothing_runs_out(self, organisation):
        [usd] = ledger.forecast(organisation, livemode=True)
        assert usd.due[90] == Decimal("0.00") and usd.runs_out_on is None

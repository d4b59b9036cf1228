"""Helpers for tests that need money in a reseller's account with the platform."""

from contextlib import contextmanager
from decimal import Decimal

from billing import ledger
from billing.models import AccountEntry, ResellerAccount
from domains import hooks
from portal.tenancy import SYSTEM


def fund(organisation, amount="1000.00", *, currency="USD", livemode=True, reference=None):
    """Top up the organisation's account (staff), so its priced operations are paid for."""
    account = ledger.account_for(organisation, currency, livemode)
    ledger.topup(
        actor=SYSTEM,
        account=account,
        amount=Decimal(amount),
        reference=reference or f"test-{AccountEntry.objects.count() + 1}",
    )
    return account


def balance_of(organisation, *, currency="USD", livemode=True) -> Decimal:
    account = ResellerAccount.objects.filter(
        organisation=organisation, currency=currency, livemode=livemode
    ).first()
    return ledger.balance(account) if account else Decimal("0.00")


@contextmanager
def unmetered():
    """Priced operations run without the reseller's account with the platform (as with no app
    above domains): for tests about something else (the fee guard, restores over EPP); the
    account is tested in tests/domains/test_charge_at_claim.py and tests/billing/test_ledger.py."""
    with hooks.operation_charge.replaced(None), hooks.operation_refund.replaced(None):
        yield

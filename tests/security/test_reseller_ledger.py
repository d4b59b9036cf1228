"""Attacks on the reseller's account with the platform: topping up live money without staff,
bad amounts, another tenant's account, a retried claim charged twice, two concurrent charges
overdrawing a nearly empty account (real concurrent transactions on PostgreSQL)."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from billing import ledger
from billing.models import AccountEntry, Price, ResellerAccount
from domains import dispatch, outbox
from domains.models import RegistrarOperation
from domains.services import domain_register
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory, OrganisationFactory, UserFactory
from tests.domains.factories import (
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
    TldFactory,
)

BASE = "/api/v1/reseller-accounts/"
Op = RegistrarOperation


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", **headers)


@pytest.fixture
def live(world):
    account = ledger.account_for(world.a.organisation, "USD", True)
    ledger.topup(actor=SYSTEM, account=account, amount="10.00", reference="WIRE-1")
    return account


@pytest.mark.django_db
class TestTopups:
    def test_a_sandbox_key_cannot_reach_the_live_account(self, client, world, live):
        url = f"{BASE}{live.pk}/topup/"
        response = post(client, url, {"amount": "1000"}, HTTP_ACCESS_TOKEN=world.a.sandbox_key_raw)
        assert response.status_code == 404
        assert ledger.balance(live) == Decimal("10.00")

    def test_a_live_key_cannot_top_up_live(self, client, world, live):
        url = f"{BASE}{live.pk}/topup/"
        body = {"amount": "1000", "reference": "FAKE"}
        response = post(client, url, body, HTTP_ACCESS_TOKEN=world.a.live_key_raw)
        assert response.status_code == 403 and "Only staff" in response.json()["message"]
        assert ledger.balance(live) == Decimal("10.00")

    def test_a_reseller_member_cannot_top_up_live(self, client, world, live):
        client.force_login(world.a.member)
        response = post(client, f"{BASE}{live.pk}/topup/", {"amount": "5", "reference": "X"})
        assert response.status_code == 403
        assert AccountEntry.objects.count() == 1

    @pytest.mark.parametrize(
        "amount", ["0", "0.00", "-10", "-0.01", "0.004", "NaN", "Infinity", "1e20", "ten", " "]
    )
    def test_bad_amounts_are_refused_with_a_message(self, client, world, amount):
        sandbox = ledger.account_for(world.a.organisation, "USD", False)
        response = post(
            client,
            f"{BASE}{sandbox.pk}/topup/",
            {"amount": amount},
            HTTP_ACCESS_TOKEN=world.a.sandbox_key_raw,
        )
        assert response.status_code == 400, response.content
        assert response.json()["message"]
        assert not sandbox.entries.exists()

    @pytest.mark.parametrize("currency", ["EUR", "XYZ", "usd1"])
    def test_another_or_an_unknown_currency_is_refused(self, client, world, currency):
        sandbox = ledger.account_for(world.a.organisation, "USD", False)
        response = post(
            client,
            f"{BASE}{sandbox.pk}/topup/",
            {"amount": "5", "currency": currency},
            HTTP_ACCESS_TOKEN=world.a.sandbox_key_raw,
        )
        assert response.status_code == 400
        assert not sandbox.entries.exists()

    def test_an_account_in_an_unknown_currency_cannot_be_opened(self, world):
        with pytest.raises(Exception, match="not a currency code"):
            ledger.account_for(world.a.organisation, "<script>", False)

    def test_another_tenants_account_is_404_everywhere(self, client, world, live):
        for path in ("", "entries/", "topup/"):
            url = f"{BASE}{live.pk}/{path}"
            get = client.get(url, HTTP_ACCESS_TOKEN=world.b.live_key_raw)
            assert get.status_code in (404, 405)
            sent = post(client, url, {"amount": "5"}, HTTP_ACCESS_TOKEN=world.b.live_key_raw)
            assert sent.status_code in (404, 405)
        assert ledger.balance(live) == Decimal("10.00")

    def test_a_reference_cannot_be_used_twice_for_the_same_account(self, client, world, live):
        client.force_login(world.staff)
        url = f"{BASE}{live.pk}/topup/"
        response = post(client, url, {"amount": "5", "reference": "WIRE-1"})
        assert response.status_code == 400
        assert ledger.balance(live) == Decimal("10.00")


@pytest.fixture
def priced_tld():
    tld = TldFactory(name="com", registrar_account=RegistrarAccountFactory(name="Sandbox"))
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=8, sell=10)
    return tld


@pytest.mark.django_db
def test_a_claim_retried_after_a_lost_worker_is_not_charged_again(priced_tld, monkeypatch):
    monkeypatch.setattr(dispatch, "send", lambda ids: None)
    customer = CustomerFactory(user=UserFactory())
    account = ledger.account_for(customer.organisation, "USD", True)
    ledger.topup(actor=SYSTEM, account=account, amount="30.00", reference="WIRE-1")
    domain = domain_register(actor=SYSTEM, customer=customer, name="retried.com")
    operation = Op.objects.get(domain=domain)
    [claimed] = outbox.claim_due(10)  # charged; the worker then dies before calling
    assert claimed.pk == operation.pk
    Op.objects.filter(pk=operation.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert operation.pk in outbox.sweep()  # taken back from the lost worker
    assert outbox.run_operation(operation.pk).status == Op.Status.SUCCEEDED
    assert AccountEntry.objects.filter(operation=operation).count() == 1
    assert ledger.balance(account) == Decimal("20.00")


# --- two charges at once, on PostgreSQL -----------------------------------------------------------
def _a_session_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two concurrent transactions with row locks (run with DATABASE_URL=postgres://)",
)
def test_two_concurrent_charges_never_overdraw_a_nearly_empty_account(priced_tld):
    organisation = OrganisationFactory(default_currency="USD")
    account = ledger.account_for(organisation, "USD", True)
    ledger.topup(actor=SYSTEM, account=account, amount="15.00", reference="WIRE-1")
    operations = [
        RegistrarOperationFactory(
            domain=DomainFactory(customer=CustomerFactory(organisation=organisation)),
            organisation=organisation,
            kind=Op.Kind.REGISTER,
            status=Op.Status.RUNNING,
            payload={"years": 1},
        )
        for _ in range(2)
    ]
    for op in operations:
        op.domain.tld = priced_tld
        op.domain.save(update_fields=["tld"])
        op.refresh_from_db()
    results: dict[str, object] = {}
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = ledger.charge_operations(operations=[operations[0]])
                inside.set()
                assert release.wait(30)
        except Exception as exc:
            results["first"] = exc
        finally:
            inside.set()
            connections.close_all()

    def second() -> None:
        try:
            with transaction.atomic():
                results["second"] = ledger.charge_operations(operations=[operations[1]])
        except Exception as exc:
            results["second"] = exc
        finally:
            connections.close_all()

    one, two = threading.Thread(target=first), threading.Thread(target=second)
    one.start()
    assert inside.wait(30)
    two.start()
    deadline = time.monotonic() + 30
    while two.is_alive() and not _a_session_waits_for_a_lock():
        assert time.monotonic() < deadline, "the second charge neither waited nor finished"
        two.join(0.005)
    assert two.is_alive(), "the second charge waits for the first's lock on the account row"
    release.set()
    one.join(30)
    two.join(30)
    assert results["first"] == set(), results
    assert results["second"] == {operations[1].pk}, "the second cannot be paid: it waits"
    assert ledger.balance(ResellerAccount.objects.get(pk=account.pk)) == Decimal("5.00")
    assert not AccountEntry.objects.filter(balance_after__lt=0).exists()

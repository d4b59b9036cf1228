"""The pages of the reseller's account with the platform: the reseller's page (balances,
forecast, sandbox top-up), one account's ledger, the dashboard box, staff's balances and top-up,
the upstream top-up."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import ledger
from billing.models import AccountEntry, Price
from domains.models import DomainStatus, RegistrarOperation
from portal.models import AuditEntry
from portal.tenancy import SESSION_LIVEMODE_KEY, SYSTEM
from tests.domains.factories import DomainFactory, RegistrarAccountFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def live(world):
    account = ledger.account_for(world.a.organisation, "USD", True)
    ledger.topup(actor=SYSTEM, account=account, amount="80.00", reference="WIRE-1")
    return account


def sandbox_session(client, user):
    client.force_login(user)
    session = client.session
    session[SESSION_LIVEMODE_KEY] = False
    session.save()


def test_the_reseller_page_shows_its_balance_and_no_live_top_up(client, world, live):
    client.force_login(world.a.member)
    html = client.get(reverse("billing:account_list")).content.decode()
    assert 'data-balance="USD">80.00 USD' in html
    assert 'data-section="sandbox-topup"' not in html
    assert "recorded by our staff" in html


def test_the_page_without_an_account_says_so(client, world):
    client.force_login(world.b.member)
    html = client.get(reverse("billing:account_list")).content.decode()
    assert "No account yet." in html and 'data-forecast="USD"' in html


def test_the_forecast_shows_renewals_due_and_when_the_balance_runs_out(client, world, live):
    tld = world.a.domain.tld
    Price.objects.create(tld=tld, action="renew", years=1, currency="USD", cost=30, sell=50)
    now = timezone.now()
    for days in (10, 40):
        DomainFactory(
            customer=world.a.customer,
            tld=tld,
            status=DomainStatus.ACTIVE,
            autorenew=True,
            expires_at=now + timedelta(days=days),
        )
    client.force_login(world.a.member)
    html = client.get(reverse("billing:account_list")).content.decode()
    assert 'data-forecast="USD"' in html
    runs_out = (now + timedelta(days=40)).date()
    assert f"{runs_out:%-d %b %Y}" in html  # 50 is covered, the second 50 is not


def test_the_reseller_tops_up_its_sandbox_account(client, world):
    sandbox_session(client, world.a.member)
    page = client.get(reverse("billing:account_list")).content.decode()
    assert 'data-section="sandbox-topup"' in page
    response = client.post(
        reverse("billing:sandbox_topup"), {"amount": "300", "currency": "USD", "note": "tests"}
    )
    assert response.status_code == 302
    account = ledger.visible_accounts(SYSTEM).get(organisation=world.a.organisation)
    assert not account.livemode and ledger.balance(account) == Decimal("300.00")


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("0", "USD", "more than zero"),
        ("-5", "USD", "more than zero"),
        ("ten", "USD", "Enter an amount"),
        ("5", "XYZ", "not a currency we work in"),
    ],
)
def test_a_bad_sandbox_top_up_says_why_and_changes_nothing(
    client, world, amount, currency, message
):
    sandbox_session(client, world.a.member)
    response = client.post(
        reverse("billing:sandbox_topup"), {"amount": amount, "currency": currency}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not AccountEntry.objects.exists()


def test_a_live_session_cannot_top_up_through_the_sandbox_form(client, world):
    client.force_login(world.a.member)
    response = client.post(reverse("billing:sandbox_topup"), {"amount": "5", "currency": "USD"})
    assert response.status_code == 403
    assert not AccountEntry.objects.exists()


def test_the_ledger_page_and_its_htmx_fragment(client, world, live):
    client.force_login(world.a.member)
    url = reverse("billing:account_detail", args=[live.pk])
    page = client.get(url)
    assert page.status_code == 200 and "WIRE-1" in page.content.decode()
    assert 'data-section="topup"' not in page.content.decode(), "live: staff only"
    fragment = client.get(url, **HX).content.decode()
    assert 'data-table="account-entries"' in fragment and "<html" not in fragment


def test_the_reseller_may_not_top_up_live(client, world, live):
    client.force_login(world.a.member)
    response = client.post(
        reverse("billing:account_topup", args=[live.pk]), {"amount": "5", "reference": "X"}
    )
    assert response.status_code == 403
    assert ledger.balance(live) == Decimal("80.00")


def test_the_top_up_refuses_get(client, world, live):
    client.force_login(world.staff)
    assert client.get(reverse("billing:account_topup", args=[live.pk])).status_code == 405


def test_staff_see_every_balance_and_top_up(client, world, live):
    ledger.account_for(world.b.organisation, "EUR", False)
    client.force_login(world.staff)
    html = client.get(reverse("billing:account_list")).content.decode()
    assert world.a.organisation.name in html and world.b.organisation.name in html
    url = reverse("billing:account_topup", args=[live.pk])
    detail = client.get(reverse("billing:account_detail", args=[live.pk])).content.decode()
    assert 'data-section="topup"' in detail
    response = client.post(url, {"amount": "20.00", "reference": "WIRE-2", "note": "April"}, **HX)
    assert response.status_code == 200 and response["HX-Redirect"]
    assert ledger.balance(live) == Decimal("100.00")
    missing = client.post(url, {"amount": "20.00", "reference": ""}, **HX)
    page = missing.content.decode()
    assert missing.status_code == 422 and "needs the payment&#x27;s reference" in page
    assert 'data-section="topup"' in page, "the whole page again, with the form's error"
    assert ledger.balance(live) == Decimal("100.00")


def test_staff_record_an_upstream_top_up(client, world):
    registrar = RegistrarAccountFactory(name="Upstream", funds_short_since=timezone.now())
    client.force_login(world.staff)
    html = client.get(reverse("billing:account_list")).content.decode()
    assert f'data-registrar="{registrar.pk}"' in html
    response = client.post(reverse("billing:upstream_topped_up"), {"registrar": registrar.pk})
    assert response.status_code == 302
    registrar.refresh_from_db()
    assert registrar.funds_short_since is None
    assert AuditEntry.objects.filter(action="registrar_account.topped_up").exists()


def test_a_reseller_cannot_record_an_upstream_top_up(client, world):
    registrar = RegistrarAccountFactory(name="Upstream", funds_short_since=timezone.now())
    client.force_login(world.a.member)
    response = client.post(reverse("billing:upstream_topped_up"), {"registrar": registrar.pk})
    assert response.status_code == 404
    registrar.refresh_from_db()
    assert registrar.funds_short_since is not None


def test_the_dashboard_loads_the_box_for_resellers_only(client, world, live):
    client.force_login(world.a.member)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("billing:account_box") in dashboard
    box = client.get(reverse("billing:account_box"), **HX).content.decode()
    assert 'data-balance="USD">80.00 USD' in box
    client.force_login(world.a.customer_user)
    assert reverse("billing:account_box") not in client.get(reverse("dashboard")).content.decode()
    assert client.get(reverse("billing:account_box"), **HX).content == b""


def test_another_tenants_account_is_404(client, world, live):
    client.force_login(world.b.member)
    assert client.get(reverse("billing:account_detail", args=[live.pk])).status_code == 404


def test_the_ledger_page_pins_its_query_count(client, world, live, django_assert_max_num_queries):
    for n in range(20):
        ledger.topup(actor=SYSTEM, account=live, amount="1", reference=f"R-{n}")
    RegistrarOperation.objects.all()
    client.force_login(world.a.member)
    with django_assert_max_num_queries(15):
        client.get(reverse("billing:account_detail", args=[live.pk]))

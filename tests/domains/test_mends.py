"""The domain pages people already use, mended (issue 12): the header follows the operation
history's poll, released domains show no lock or auto-renew, Renew is offered once, suggestions do
not repeat the search results, the bulk bar starts hidden, no literal "None"."""

import json
import re

import pytest
from django.urls import reverse

from billing.models import Price
from domains.models import DomainDrift, DomainStatus, Tld
from domains.models import RegistrarOperation as Op
from tests.domains.factories import RegistrarAccountFactory, RegistrarOperationFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def detail(domain, **params):
    return reverse("domains:detail", args=[domain.pk]), params


def events(response) -> dict:
    return json.loads(response.get("HX-Trigger", "{}"))


# --- 1. the header follows the history's poll ---------------------------------------------
def test_the_history_poll_carries_the_header_out_of_band(client, world):
    domain = world.a.domain
    domain.status = DomainStatus.PENDING_REGISTRATION
    domain.save(update_fields=["status"])
    RegistrarOperationFactory(domain=domain, kind=Op.Kind.REGISTER, status=Op.Status.PENDING)
    client.force_login(world.a.customer_user)
    page = client.get(reverse("domains:detail", args=[domain.pk])).content.decode()
    assert 'id="domain-header"' in page
    assert """hx-vals='{"shown": "pending_registration"}'""" in page

    # The worker finished: the next poll says Active in the header, without a reload.
    domain.status = DomainStatus.ACTIVE
    domain.save(update_fields=["status"])
    Op.objects.filter(domain=domain).update(status=Op.Status.SUCCEEDED)
    response = client.get(
        reverse("domains:operations", args=[domain.pk]), {"shown": "pending_registration"}, **HX
    )
    html = response.content.decode()
    header = re.search(r'<div id="domain-header"[^>]*>.*?</h1>', html, re.S)
    assert header, html
    assert 'hx-swap-oob="true"' in header.group(0)
    assert 'data-domain-status="active"' in header.group(0)
    assert "Active" in header.group(0) and "Pending registration" not in header.group(0)
    # ... and the current tab is told to reload (its flags follow the status).
    assert events(response).get("np-domain-changed") is True
    assert 'data-polling="off"' in html


def test_a_poll_that_finds_the_status_unchanged_does_not_reload_the_tab(client, world):
    client.force_login(world.a.customer_user)
    response = client.get(
        reverse("domains:operations", args=[world.a.domain.pk]),
        {"shown": world.a.domain.status},
        **HX,
    )
    assert "np-domain-changed" not in events(response)
    assert 'hx-swap-oob="true"' in response.content.decode()


def test_the_tabs_reload_themselves_when_the_domain_changed(client, world):
    client.force_login(world.a.customer_user)
    url, params = detail(world.a.domain, tab="lock")
    html = client.get(url, params, **HX).content.decode()
    assert re.search(
        r'<span hidden hx-get="[^"]*\?tab=lock" hx-trigger="np-domain-changed from:body"', html
    )


def test_another_tenant_gets_404_on_the_history(client, world):
    client.force_login(world.b.customer_user)
    url = reverse("domains:operations", args=[world.a.domain.pk])
    assert client.get(url, {"shown": "active"}, **HX).status_code == 404


# --- 2. released domains: no lock, no auto-renew ------------------------------------------------
@pytest.mark.parametrize("status", [DomainStatus.DELETED, DomainStatus.TRANSFERRED_AWAY])
def test_a_released_domain_shows_no_lock_or_autorenew(client, world, status):
    domain = world.a.domain
    domain.status = status
    domain.save(update_fields=["status"])
    client.force_login(world.a.member)
    overview = client.get(reverse("domains:detail", args=[domain.pk])).content.decode()
    assert "Registrar lock" not in overview
    assert 'data-section="autorenew"' not in overview
    assert "Auto-renew" not in overview
    assert "data-toggle-to" not in overview
    lock_tab = client.get(reverse("domains:detail", args=[domain.pk]), {"tab": "lock"})
    html = lock_tab.content.decode()
    assert "No registrar lock to show or change." in html
    assert "Locked" not in html and "Unlocked" not in html
    assert "data-toggle-to" not in html
    listing = client.get(reverse("domains:list")).content.decode()
    row = re.search(rf'<tr data-row="{domain.pk}">.*?</tr>', listing, re.S).group(0)
    assert "Locked" not in row and "Unlocked" not in row
    assert ">On<" not in row and ">Off<" not in row


def test_an_active_domain_still_shows_lock_and_autorenew(client, world):
    client.force_login(world.a.member)
    domain = world.a.domain
    overview = client.get(reverse("domains:detail", args=[domain.pk])).content.decode()
    assert "Registrar lock" in overview and 'data-section="autorenew"' in overview
    listing = client.get(reverse("domains:list")).content.decode()
    row = re.search(rf'<tr data-row="{domain.pk}">.*?</tr>', listing, re.S).group(0)
    assert "Locked" in row


# --- 6. Renew once -------------------------------------------------------------------------------
def test_the_domain_page_offers_renew_once(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:detail", args=[world.a.domain.pk])).content.decode()
    renews = re.findall(r"<(?:a|button)\b[^>]*>\s*Renew\s*</(?:a|button)>", html)
    assert len(renews) == 1, renews
    assert 'data-form="renew"' in html


# --- 3. suggestions do not repeat the search results ---------------------------------------------
@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox")
    for name, usd in (("com", "4.90"), ("io", "32.00"), ("ng", "12.00")):
        tld, _ = Tld.objects.update_or_create(name=name, defaults={"registrar_account": account})
        Price.objects.create(
            tld=tld, action="register", years=1, currency="USD", cost=usd, sell=usd
        )
    return account


def test_suggestions_leave_out_the_names_the_results_list(client, world, registry):
    client.force_login(world.a.customer_user)
    page = client.get(reverse("domains:search"), {"q": "tunji"}).content.decode()
    listed = set(re.findall(r'<tr data-name="([^"]+)"', page))
    assert listed == {"tunji.com", "tunji.io", "tunji.ng"}
    response = client.get(reverse("domains:suggestions"), {"q": "tunji"}, **HX)
    suggested = re.findall(r'data-name="([^"]+)"', response.content.decode())
    assert suggested, "the sandbox has free variants to suggest"
    assert listed.isdisjoint(suggested)


# --- 5. the bulk bar starts hidden ---------------------------------------------------------------
def test_the_bulk_bar_starts_hidden_and_its_report_stays_outside(client, world):
    client.force_login(world.a.member)
    html = client.get(reverse("domains:list")).content.decode()
    bar = re.search(r'<form id="bulk-form"[^>]*>', html).group(0)
    assert " hidden" in bar
    # The report of a bulk action stays visible once the list (and its selection) reloads.
    form = re.search(r'<form id="bulk-form".*?</form>', html, re.S).group(0)
    assert 'id="bulk-report"' not in form and 'id="bulk-report"' in html


# --- 7. no literal "None" ------------------------------------------------------------------------
def test_an_account_without_credentials_says_not_set(client, world):
    RegistrarAccountFactory(name="Bare", credentials={})
    client.force_login(world.staff)
    html = client.get(reverse("domains:account_list")).content.decode()
    cells = re.findall(r"<td data-credentials>(.*?)</td>", html, re.S)
    assert cells and any("Not set" in cell for cell in cells)
    assert ">None<" not in html


def test_a_drift_with_an_empty_side_shows_a_dash(client, world):
    domain = world.a.domain
    DomainDrift.objects.create(
        domain=domain, field="auth_code", portal_value=None, registry_value="x"
    )
    client.force_login(world.a.member)
    html = client.get(reverse("domains:detail", args=[domain.pk]), {"tab": "sync"})
    row = re.search(r'<tr data-drift="auth_code">.*?</tr>', html.content.decode(), re.S).group(0)
    assert "None" not in row and "—" in row

"""Pages people already use, mended (issue 12): the domain page's header follows a finished
operation without a reload, the bulk bar shows only with a selection, and the domain list and the
zone editor fit a 390 px wide phone. No Celery worker runs: the test runs the outbox itself."""

import pytest
from playwright.sync_api import expect

from dns.models import Zone
from domains import outbox, services
from domains.models import Domain, DomainStatus, RegistrarOperation
from portal.tenancy import SYSTEM
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "customer@example.com"
RESELLER = "reseller@example.com"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Operation ids the services hand to Celery, kept here instead of a broker."""
    from dns import tasks as dns_tasks
    from domains import tasks

    ids: list[int] = []
    monkeypatch.setattr(tasks.registrar_operation_run, "delay", lambda pk: ids.append(pk))
    monkeypatch.setattr(dns_tasks.dns_push_run, "delay", lambda pk: None)
    return ids


def test_the_header_follows_a_finished_registration_without_a_reload(page, demo, queued):
    customer_domain = Domain.objects.filter(customer__user__email=CUSTOMER).first()
    domain = services.domain_register(
        actor=SYSTEM, customer=customer_domain.customer, name="e2e-mended-header.com", years=1
    )
    assert domain.status == DomainStatus.PENDING_REGISTRATION
    sign_in(page, CUSTOMER)
    page.goto(f"/domains/{domain.pk}/")
    header = page.locator("#domain-header")
    expect(header.locator("[data-domain-status-label]")).to_have_text("Pending registration")
    expect(page.locator("#operation-history")).to_have_attribute("data-polling", "on")

    while queued:  # the worker's part
        outbox.run_operation(queued.pop(0))
    assert RegistrarOperation.objects.get(domain=domain, kind="register").status == "succeeded"

    # The history's poll brings the header (status, expiry) and the overview tab along.
    expect(header.locator("[data-domain-status-label]")).to_have_text("Active", timeout=10_000)
    expect(header.locator("[data-domain-expiry]")).to_contain_text("Expires")
    expect(page.locator("#tab-panel dl.np-facts")).to_contain_text("Active")
    expect(page.locator("#operation-history")).to_have_attribute("data-polling", "off")


def test_the_bulk_bar_shows_only_while_domains_are_ticked(page, demo):
    sign_in(page, RESELLER)
    page.goto("/domains/")
    bar = page.locator("form[data-bulk-form]")
    expect(page.locator("input[data-select-row]").first).to_be_visible()
    expect(bar).to_be_hidden()

    page.locator("input[data-select-row]").first.check()
    expect(bar).to_be_visible()
    expect(bar.locator("[data-selected-count]")).to_have_text("1")

    page.locator("input[data-select-row]").first.uncheck()
    expect(bar).to_be_hidden()

    page.locator("input[data-select-all]").check()
    expect(bar).to_be_visible()
    page.locator("input[data-select-all]").uncheck()
    expect(bar).to_be_hidden()


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _too_wide(page) -> list[str]:
    """The outermost elements that reach past the window's right edge (for the message)."""
    return page.evaluate(
        """() => [...document.body.querySelectorAll('*')].filter(el => {
            const right = el.getBoundingClientRect().right;
            const parent = el.parentElement.getBoundingClientRect().right;
            return right > window.innerWidth + 1 && parent <= window.innerWidth + 1;
        }).map(el => el.tagName + '.' + el.className + ' ' + (el.getAttribute('name') || ''))"""
    )


def _tables_outside_a_scroller(page) -> list[str]:
    """Tables wider than the window that no horizontally scrolling box holds."""
    return page.evaluate(
        """() => [...document.querySelectorAll('table')].filter(table => {
            if (table.getBoundingClientRect().width <= window.innerWidth) return false;
            for (let box = table.parentElement; box; box = box.parentElement) {
                const overflow = getComputedStyle(box).overflowX;
                if (overflow === 'auto' || overflow === 'scroll') return false;
            }
            return true;
        }).map(table => table.getAttribute('data-table') || table.className)"""
    )


def test_the_domain_list_and_the_zone_editor_fit_a_phone(browser, live_server, settings, demo):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in(page, RESELLER)
        page.goto("/domains/")
        expect(page.locator("table[data-table=domains]")).to_be_attached()
        assert _tables_outside_a_scroller(page) == []
        assert _page_width(page) <= PHONE["width"], _too_wide(page)

        # A domain page: its facts stack, its tab bar scrolls on its own.
        domain = Domain.objects.filter(organisation__slug="demo-reseller").order_by("pk").first()
        page.goto(f"/domains/{domain.pk}/")
        expect(page.locator("#domain-tabs")).to_be_visible()
        assert _page_width(page) <= PHONE["width"], _too_wide(page)

        zone = Zone.objects.filter(organisation__slug="demo-reseller").order_by("pk").first()
        page.goto(f"/dns/zones/{zone.pk}/")
        form = page.locator("form[data-form=record-add]")
        expect(form).to_be_visible()
        assert _tables_outside_a_scroller(page) == []
        assert _page_width(page) <= PHONE["width"], _too_wide(page)
        # The add form stacks: the name and content fields take the whole row.
        name_box = form.locator("input[name=new-name]").bounding_box()
        content_box = form.locator("input[name=new-content]").bounding_box()
        assert name_box["width"] > PHONE["width"] / 2
        assert content_box["width"] > PHONE["width"] / 2
        assert content_box["x"] + content_box["width"] <= PHONE["width"]
    finally:
        context.close()

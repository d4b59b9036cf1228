"""A customer runs the DNS of their domain in the browser: adds a record in place, sees a refused
one explained next to the field, edits and deletes rows in place, previews an import with its bad
lines, and rolls the zone back from its history."""

import re

import pytest
from playwright.sync_api import expect

from dns.models import Zone
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = "customer@example.com"


@pytest.fixture
def no_broker(monkeypatch):
    """Zones of the demo are served from the database; nothing is pushed. Keep Celery out."""
    from dns import tasks

    monkeypatch.setattr(tasks.dns_push_run, "delay", lambda pk: None)


def test_a_customer_edits_records_in_place_and_rolls_back(page, demo, no_broker):
    zone = Zone.objects.get(name="ada-bakery.com")
    sign_in(page, CUSTOMER)
    page.goto("/dns/zones/")
    page.click(f"a[href='/dns/zones/{zone.pk}/']")
    expect(page.locator("[data-push-status]")).to_contain_text("Published")
    serial = int(page.locator("[data-serial]").inner_text())

    # Add a record: the form comes back empty and the table gains the row.
    form = page.locator("form[data-form=record-add]")
    form.locator("input[name=new-name]").fill("api")
    form.locator("select[name=new-type]").select_option("A")
    form.locator("input[name=new-content]").fill("192.0.2.77")
    form.locator("button[type=submit]").click()
    row = page.locator("tr[data-row]", has_text="192.0.2.77")
    expect(row).to_be_visible()
    expect(page.locator("form[data-form=record-add] input[name=new-content]")).to_have_value("")
    expect(page.locator("[data-serial]")).not_to_have_text(str(serial))

    # A refused record: the reason sits next to the field, what was typed stays.
    form = page.locator("form[data-form=record-add]")
    form.locator("input[name=new-name]").fill("www")
    form.locator("select[name=new-type]").select_option("A")
    form.locator("input[name=new-content]").fill("192.0.2.1")
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-error-for=type]")).to_contain_text("is a CNAME")
    expect(page.locator("input[name=new-name]")).to_have_value("www")

    # Edit the new row in place.
    row.locator("[data-action=edit]").click()
    editing = page.locator("tr[data-editing]")
    editing.locator("input[name$=-content]").fill("192.0.2.300")
    editing.locator("[data-action=save]").click()
    expect(page.locator("tr[data-editing] [data-error-for=content]")).to_contain_text(
        "not an IPv4 address"
    )
    page.locator("tr[data-editing] input[name$=-content]").fill("192.0.2.78")
    page.locator("tr[data-editing] [data-action=save]").click()
    expect(page.locator("tr[data-editing]")).to_have_count(0)
    expect(page.locator("tr[data-row]", has_text="192.0.2.78")).to_be_visible()

    # Delete it in place (the browser asks first).
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-row]", has_text="192.0.2.78").locator("[data-action=delete]").click()
    expect(page.locator("tr[data-row]", has_text="192.0.2.78")).to_have_count(0)

    # Import preview: every bad line with its number, nothing saved yet.
    page.click("[data-tab-link=import]")
    page.fill("textarea[name=text]", "new A 192.0.2.50\nbad A 1.2.3\n")
    page.check("input[name=mode][value=merge]")
    page.click("[data-action=preview]")
    expect(page.locator("[data-line='2']")).to_contain_text("not an IPv4 address")
    expect(page.locator("[data-import-summary]")).to_contain_text("1 to add")
    assert not zone.records.filter(name="new").exists()

    # History: roll back to the state right after the record was added.
    page.click("[data-tab-link=history]")
    added = zone.changes.get(action="record.create")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"tr[data-row='{added.pk}'] [data-action=rollback]").click()
    expect(page.locator(".alert-success")).to_contain_text(f"Rolled back to serial {added.serial}")
    assert zone.records.filter(name="api", content="192.0.2.77").exists()
    assert page.requests_elsewhere == []
    expect(page).to_have_url(re.compile(r"/history/$"))

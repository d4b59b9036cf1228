"""The zone editor pages: records added, edited and deleted in place with the reasons inline,
push status, import with preview, export, history with rollback, forwarding, DNSSEC, templates."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dns import services
from dns.models import DnssecKey, EmailForward, Record, Zone, ZoneTemplate
from portal.tenancy import SYSTEM
from tests.dns.factories import held_zone
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def zone(world):
    return held_zone("editor.test", customer=world.a.customer)


@pytest.fixture
def member(client, world):
    client.force_login(world.a.member)
    return client


def url(name, *args):
    return reverse(f"dns:{name}", args=args)


def html(response) -> str:
    return response.content.decode()


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', html(response))]


def post_new(client, zone, htmx=True, **fields):
    data = {f"new-{k}": v for k, v in fields.items()}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url("record_add", zone.pk), data, **headers)


# --- adding ----------------------------------------------------------------------------------


def test_the_editor_shows_the_add_form_and_the_status(member, zone):
    page = html(member.get(url("zone_detail", zone.pk)))
    assert 'data-form="record-add"' in page
    assert 'data-push-status="published"' in page
    assert f'serial <span class="np-mono" data-serial>{zone.serial}</span>' in page


def test_adding_a_record_in_place(member, zone):
    response = post_new(member, zone, name="api", type="A", ttl="300", content="192.0.2.5")
    assert response.status_code == 200
    assert "dns-records-changed" in response["HX-Trigger"]
    assert 'data-form="record-add"' in html(response)  # a fresh form
    assert zone.records.filter(name="api", ttl=300, content="192.0.2.5").exists()


def test_a_refused_record_comes_back_with_the_reason_next_to_the_field(member, zone):
    response = post_new(member, zone, name="mail", type="CNAME", content="elsewhere.net.")
    assert response.status_code == 422
    page = html(response)
    assert 'data-error-for="type"' in page and "CNAME cannot sit beside" in page
    assert 'value="elsewhere.net."' in page  # what was typed stays
    response = post_new(member, zone, name="x", type="A", content="1.2.3", ttl="5")
    page = html(response)
    assert re.search(r'data-error-for="content">[^<]*not an IPv4 address', page)
    assert re.search(r'data-error-for="ttl">[^<]*between 60 and 604800', page)
    assert not zone.records.filter(name="x").exists()


def test_without_htmx_a_refused_record_gets_a_page_and_a_good_one_a_redirect(member, zone):
    bad = post_new(member, zone, htmx=False, name="x", type="MX", content="mail")
    assert bad.status_code == 422 and "<html" in html(bad) and "need a priority" in html(bad)
    good = post_new(member, zone, htmx=False, name="x", type="MX", priority="5", content="mail")
    assert good.status_code == 303 and good["Location"] == url("zone_detail", zone.pk)


# --- editing and deleting in place -----------------------------------------------------------


def test_editing_a_row_in_place(member, zone):
    record = zone.records.get(name="mail", type="A")
    form = member.get(url("record_edit", zone.pk, record.pk), HTTP_HX_REQUEST="true")
    assert "data-editing" in html(form) and f'form="record-form-{record.pk}"' in html(form)
    prefix = f"r{record.pk}"
    data = {
        f"{prefix}-name": "mail",
        f"{prefix}-type": "A",
        f"{prefix}-ttl": "600",
        f"{prefix}-priority": "",
        f"{prefix}-content": "192.0.2.25",
    }
    saved = member.post(url("record_edit", zone.pk, record.pk), data, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200 and "data-editing" not in html(saved)
    assert "192.0.2.25" in html(saved) and "dns-zone-changed" in saved["HX-Trigger"]
    record.refresh_from_db()
    assert (record.ttl, record.content) == (600, "192.0.2.25")


def test_a_refused_edit_keeps_the_row_open_with_the_reason(member, zone):
    record = zone.records.get(name="mail", type="A")
    prefix = f"r{record.pk}"
    data = {f"{prefix}-name": "mail", f"{prefix}-type": "AAAA", f"{prefix}-content": "1.2.3.4"}
    response = member.post(url("record_edit", zone.pk, record.pk), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "data-editing" in html(response) and "not an IPv6 address" in html(response)
    record.refresh_from_db()
    assert record.type == "A"


def test_cancel_gives_the_row_back(member, zone):
    record = zone.records.get(name="mail", type="A")
    response = member.get(url("record_row", zone.pk, record.pk), HTTP_HX_REQUEST="true")
    assert rows(response) == [record.pk] and "data-editing" not in html(response)


def test_deleting_a_row(member, zone):
    record = zone.records.get(name="mail", type="A")
    response = member.post(url("record_delete", zone.pk, record.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and html(response) == ""
    assert not Record.objects.filter(pk=record.pk).exists()


def test_the_last_ns_cannot_be_deleted_and_the_row_says_why(member, zone):
    first, second = zone.records.filter(type="NS")
    member.post(url("record_delete", zone.pk, first.pk), HTTP_HX_REQUEST="true")
    response = member.post(url("record_delete", zone.pk, second.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "data-row-error" in html(response)
    assert "at least one NS" in html(response)


def test_actions_refuse_get(member, zone):
    record = zone.records.first()
    for name, args in [
        ("record_add", [zone.pk]),
        ("record_delete", [zone.pk, record.pk]),
        ("zone_publish", [zone.pk]),
        ("zone_delete", [zone.pk]),
    ]:
        assert member.get(url(name, *args)).status_code == 405


def test_the_records_filter_by_name_and_type(member, zone):
    response = member.get(url("zone_detail", zone.pk), {"type": "MX"}, HTTP_HX_REQUEST="true")
    assert rows(response) == list(zone.records.filter(type="MX").values_list("pk", flat=True))
    response = member.get(url("zone_detail", zone.pk), {"name": "mai"}, HTTP_HX_REQUEST="true")
    assert set(rows(response)) == set(zone.records.filter(name="mail").values_list("pk", flat=True))


# --- publishing status -----------------------------------------------------------------------


def test_a_pending_zone_says_not_yet_published_and_polls(member, world):
    zone = held_zone("pending.test", customer=world.a.customer, backend="powerdns")
    status = member.get(url("zone_status", zone.pk), HTTP_HX_REQUEST="true")
    assert "Not yet published" in html(status) and "every 3s" in html(status)
    Zone.objects.filter(pk=zone.pk).update(push_status="published")
    status = member.get(url("zone_status", zone.pk), HTTP_HX_REQUEST="true")
    assert "Published" in html(status) and "every 3s" not in html(status)


# --- export and import -----------------------------------------------------------------------


def test_export_downloads_a_bind_file(member, zone):
    response = member.get(url("zone_export", zone.pk))
    assert response["Content-Disposition"] == 'attachment; filename="editor.test.zone"'
    text = response.content.decode()
    assert "$ORIGIN editor.test.\n" in text and "SOA\tns1.nameport.test." in text
    assert "www\t3600\tIN\tCNAME\teditor.test.\n" in text


def test_import_preview_lists_bad_lines_and_changes_nothing(member, zone):
    before = set(zone.records.values_list("pk", flat=True))
    text = "new A 192.0.2.50\nbad A 999.1.1.1\nwww A 192.0.2.1\n"
    data = {"text": text, "mode": "merge", "action": "preview"}
    response = member.post(url("zone_import", zone.pk), data)
    page = html(response)
    assert response.status_code == 200
    assert 'data-line="2"' in page and "not an IPv4 address" in page
    assert 'data-line="3"' in page and "is a CNAME" in page
    assert "<strong>1</strong> to add" in page
    assert set(zone.records.values_list("pk", flat=True)) == before


def test_import_refuses_a_dirty_file_unless_good_lines_are_asked_for(member, zone):
    text = "new A 192.0.2.50\nbad A 999.1.1.1\n"
    refused = member.post(
        url("zone_import", zone.pk), {"text": text, "mode": "merge", "action": "import"}
    )
    assert refused.status_code == 422 and "Nothing is imported" in html(refused)
    assert not zone.records.filter(name="new").exists()
    done = member.post(
        url("zone_import", zone.pk),
        {"text": text, "mode": "merge", "action": "import", "good_lines_only": "on"},
    )
    assert done.status_code == 303
    assert zone.records.filter(name="new").exists()


def test_import_takes_an_upload(member, zone):
    upload = SimpleUploadedFile("zone.txt", b"up 300 IN A 192.0.2.60\n", "text/plain")
    response = member.post(
        url("zone_import", zone.pk), {"upload": upload, "mode": "merge", "action": "import"}
    )
    assert response.status_code == 303
    assert zone.records.filter(name="up", ttl=300).exists()


def test_import_of_nothing_says_so(member, zone):
    response = member.post(url("zone_import", zone.pk), {"text": " ", "action": "preview"})
    assert response.status_code == 422 and "Paste a zone file" in html(response)


# --- history and rollback --------------------------------------------------------------------


def test_history_lists_changes_and_rolls_back(member, zone):
    first = zone.changes.get()
    services.record_create(actor=SYSTEM, zone=zone, name="api", type="A", content="192.0.2.5")
    page = member.get(url("zone_history", zone.pk))
    assert rows(page)[-1] == first.pk and "+ api 3600 A 192.0.2.5" in html(page)
    response = member.post(url("zone_rollback", zone.pk, first.pk))
    assert response.status_code == 303
    assert not zone.records.filter(name="api").exists()
    assert "Rolled back" in zone.changes.first().summary


def test_a_change_of_another_zone_is_not_found(member, zone, world):
    other = held_zone("other.test", customer=world.a.customer)
    change = other.changes.get()
    assert member.post(url("zone_rollback", zone.pk, change.pk)).status_code == 404


# --- forwarding, e-mail forwarding, DNSSEC ---------------------------------------------------


def test_forwarding_the_domain(member, zone):
    response = member.post(
        url("zone_forwarding", zone.pk),
        {"name": "@", "kind": "URL", "target": "https://elsewhere.example/", "action": "set"},
    )
    assert response.status_code == 303
    assert zone.records.get(name="@", type="URL").content == "https://elsewhere.example/"
    bad = member.post(
        url("zone_forwarding", zone.pk),
        {"name": "@", "kind": "URL", "target": "javascript:alert(1)", "action": "set"},
    )
    assert bad.status_code == 422 and "http:// or https://" in html(bad)


def test_email_forwarding_is_stored_with_the_not_yet_active_note(member, zone):
    response = member.post(
        url("email_forward_add", zone.pk), {"source": "info", "destination": "me@example.org"}
    )
    assert response.status_code == 303
    page = html(member.get(url("zone_forwarding", zone.pk)))
    assert "info@editor.test" in page and "Delivery is not active yet" in page
    forward = EmailForward.objects.get(zone=zone)
    member.post(url("email_forward_delete", zone.pk, forward.pk))
    assert not EmailForward.objects.filter(zone=zone).exists()


def test_dnssec_keys_show_their_ds_record(member, zone):
    key = "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="
    response = member.post(
        url("zone_dnssec", zone.pk), {"flags": "257", "algorithm": "13", "public_key": key}
    )
    assert response.status_code == 303
    dnssec_key = DnssecKey.objects.get(zone=zone)
    page = html(member.get(url("zone_dnssec", zone.pk)))
    assert f"editor.test. IN DS {dnssec_key.key_tag} 13 2 {dnssec_key.digest}" in page
    assert "257 = Key Signing Key (KSK)" in page


# --- zones and templates ---------------------------------------------------------------------


def test_a_reseller_creates_a_zone_for_a_customer(member, world):
    domain = DomainFactory(customer=world.a.customer, name="hand-made.test")
    response = member.post(
        url("zone_create"), {"name": "Hand-Made.test", "customer": world.a.customer.pk}
    )
    zone = Zone.objects.get(name="hand-made.test")
    assert response.status_code == 303 and response["Location"] == url("zone_detail", zone.pk)
    assert zone.domain == domain
    again = member.post(
        url("zone_create"), {"name": "hand-made.test", "customer": world.a.customer.pk}
    )
    assert again.status_code == 422 and "exists already" in html(again)


def test_a_customer_creates_its_own_zone(client, world):
    DomainFactory(customer=world.a.customer, name="mine.test")
    client.force_login(world.a.customer_user)
    response = client.post(url("zone_create"), {"name": "mine.test"})
    assert response.status_code == 303
    assert Zone.objects.get(name="mine.test").customer == world.a.customer


def test_a_customer_creates_a_sub_zone_of_its_domain(client, world):
    client.force_login(world.a.customer_user)
    response = client.post(url("zone_create"), {"name": f"shop.{world.a.domain.name}"})
    assert response.status_code == 303
    zone = Zone.objects.get(name=f"shop.{world.a.domain.name}")
    assert zone.customer == world.a.customer and zone.domain == world.a.domain


def test_a_reseller_edits_its_templates_and_customers_do_not_see_them(client, world):
    client.force_login(world.a.member)
    response = client.post(
        url("template_create"),
        {"name": "Shop", "body": "@ A 192.0.2.80\nwww CNAME @\n", "is_default": "on"},
    )
    assert response.status_code == 303
    template = ZoneTemplate.objects.get(name="Shop")
    assert template.organisation == world.a.organisation and template.is_default
    bad = client.post(url("template_edit", template.pk), {"name": "Shop", "body": "@ A 1.2.3"})
    assert bad.status_code == 422 and "Line 1" in html(bad)
    client.force_login(world.a.customer_user)
    assert client.get(url("template_list")).status_code == 404
    assert client.get(url("template_edit", template.pk)).status_code == 404
    client.force_login(world.b.member)
    assert client.get(url("template_edit", template.pk)).status_code == 404


def test_staff_make_a_platform_template_for_sandbox_zones(client, world):
    client.force_login(world.staff)
    assert "For live zones" in html(client.get(url("template_create")))
    response = client.post(url("template_create"), {"name": "Try", "body": "@ A 192.0.2.81"})
    assert response.status_code == 303
    template = ZoneTemplate.objects.get(name="Try")
    assert template.organisation is None and template.livemode is False
    client.force_login(world.a.member)
    assert "For live zones" not in html(client.get(url("template_create")))
    assert "Try" not in html(client.get(url("template_list")))


def test_deleting_a_zone(member, world):
    zone = held_zone("gone.test", customer=world.a.customer)
    response = member.post(url("zone_delete", zone.pk))
    assert response.status_code == 303 and not Zone.objects.filter(pk=zone.pk).exists()


def test_the_editor_runs_a_fixed_number_of_queries(member, zone, django_assert_max_num_queries):
    for i in range(40):
        services.record_create(
            actor=SYSTEM, zone=zone, name=f"h{i}", type="A", content=f"192.0.2.{i + 1}"
        )
    with django_assert_max_num_queries(10):
        response = member.get(url("zone_detail", zone.pk))
    assert len(rows(response)) == 47

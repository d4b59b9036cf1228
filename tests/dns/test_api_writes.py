"""/api/v1/zones/: create and delete zones, records nested (create, update, delete), import,
export, history, rollback, forwarding, e-mail forwards, DNSSEC keys and zone templates."""

from __future__ import annotations

import pytest

from dns import services
from dns.models import Record, Zone, ZoneTemplate
from portal.tenancy import SYSTEM
from tests.dns.factories import held_zone
from tests.domains.factories import DomainFactory

pytestmark = pytest.mark.django_db
RFC6605_KSK = (
    "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="
)


@pytest.fixture
def api(client, world):
    """The reseller's live API key on every request."""

    class Api:
        headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}

        def get(self, path, data=None):
            return client.get(path, data, **self.headers)

        def send(self, method, path, body=None):
            return getattr(client, method)(
                path, body or {}, content_type="application/json", **self.headers
            )

    return Api()


@pytest.fixture
def zone(world):
    return held_zone("api.test", customer=world.a.customer)


def test_a_reseller_creates_a_zone_from_the_template(api, world):
    domain = DomainFactory(customer=world.a.customer, name="new.test")
    response = api.send(
        "post", "/api/v1/zones/", {"name": "new.test", "customer": world.a.customer.pk}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "new.test" and body["push_status"] == "published"
    assert body["domain"] == domain.pk and body["enabled"] is True
    assert {r["type"] for r in body["records"]} == {"NS", "A", "CNAME", "MX", "TXT"}


def test_a_zone_for_someone_elses_customer_is_refused(api, world):
    response = api.send(
        "post", "/api/v1/zones/", {"name": "x.test", "customer": world.b.customer.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"customer": ["No such customer."]}


def test_records_are_created_updated_and_deleted(api, zone):
    base = f"/api/v1/zones/{zone.pk}/records/"
    created = api.send(
        "post",
        base,
        {
            "name": "_sip._tcp.api.test",
            "type": "SRV",
            "priority": 10,
            "content": [5, 5060, "sip.api.test"],
        },
    )
    assert created.status_code == 201, created.json()
    record = created.json()
    assert (record["name"], record["content"]) == ("_sip._tcp", "5 5060 sip.api.test.")
    updated = api.send("patch", f"{base}{record['id']}/", {"ttl": 300})
    assert updated.status_code == 200 and updated.json()["ttl"] == 300
    assert api.send("delete", f"{base}{record['id']}/").status_code == 204
    assert not Record.objects.filter(pk=record["id"]).exists()
    zone.refresh_from_db()
    assert zone.changes.count() == 4


def test_a_bad_record_answers_400_with_the_reason_per_field(api, zone):
    response = api.send(
        "post",
        f"/api/v1/zones/{zone.pk}/records/",
        {"name": "x", "type": "A", "content": "1.2.3", "ttl": 1},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"content", "ttl"}
    assert "not an IPv4 address" in errors["content"][0]
    missing = api.send("post", f"/api/v1/zones/{zone.pk}/records/", {"name": "x"})
    assert missing.status_code == 400 and "type" in missing.json()["errors"]


def test_import_reports_every_bad_line_and_imports_nothing(api, zone):
    text = "good A 192.0.2.1\nbad A 1.2.3\nworse MX mail\n"
    response = api.send(
        "post", f"/api/v1/zones/{zone.pk}/import/", {"content": text, "mode": "merge"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "2 lines rejected; nothing imported."
    assert [e["line"] for e in body["errors"]] == [2, 3]
    assert not zone.records.filter(name="good").exists()
    dry = api.send(
        "post",
        f"/api/v1/zones/{zone.pk}/import/",
        {"content": text, "mode": "merge", "dry_run": True},
    )
    assert dry.status_code == 200 and dry.json()["create_count"] == 1
    good = api.send(
        "post",
        f"/api/v1/zones/{zone.pk}/import/",
        {"content": text, "mode": "merge", "good_lines_only": True},
    )
    assert good.status_code == 200 and good.json()["applied"] is True
    assert zone.records.filter(name="good").exists()


def test_export_history_and_rollback(api, zone):
    export = api.get(f"/api/v1/zones/{zone.pk}/export/")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/plain")
    assert "$ORIGIN api.test." in export.content.decode()
    first = zone.changes.get()
    services.record_create(actor=SYSTEM, zone=zone, name="tmp", type="A", content="192.0.2.9")
    history = api.get(f"/api/v1/zones/{zone.pk}/history/").json()
    assert [c["action"] for c in history["results"]] == ["record.create", "zone.create"]
    assert history["results"][0]["after"][0]["name"] == "tmp"
    rolled = api.send("post", f"/api/v1/zones/{zone.pk}/rollback/", {"change": first.pk})
    assert rolled.status_code == 200 and rolled.json()["action"] == "zone.rollback"
    assert not zone.records.filter(name="tmp").exists()
    again = api.send("post", f"/api/v1/zones/{zone.pk}/rollback/", {"change": first.pk})
    assert again.status_code == 400 and "already as it was" in again.json()["message"]


def test_forwarding_emails_dnssec_and_the_seed_lists(api, zone):
    forwarding = api.send(
        "put",
        f"/api/v1/zones/{zone.pk}/forwarding/",
        {"type": "FRAME", "target": "https://x.example/"},
    )
    assert forwarding.status_code == 200 and forwarding.json()["type"] == "FRAME"
    email = api.send(
        "post",
        f"/api/v1/zones/{zone.pk}/email-forwards/",
        {"source": "*", "destination": "a@b.org"},
    )
    assert email.status_code == 201 and email.json()["delivery_active"] is False
    key = api.send(
        "post",
        f"/api/v1/zones/{zone.pk}/dnssec-keys/",
        {
            "flags": 257,
            "algorithm": 13,
            "public_key": RFC6605_KSK,
        },
    )
    assert key.status_code == 201 and key.json()["ds"].startswith("api.test. IN DS ")
    assert api.get("/api/v1/zones/record-types/").json()["types"][-3:] == ["URL", "FRAME", "MXE"]
    assert api.get("/api/v1/zones/dnssec-flags/").json() == {
        "flags": {"256": "Zone Signing Key (ZSK)", "257": "Key Signing Key (KSK)"}
    }


def test_zone_templates_belong_to_the_reseller(api, world, client):
    created = api.send("post", "/api/v1/zone-templates/", {"name": "Ours", "body": "@ A 192.0.2.1"})
    assert created.status_code == 201, created.json()
    template = ZoneTemplate.objects.get(pk=created.json()["id"])
    assert template.organisation == world.a.organisation
    bad = api.send("patch", f"/api/v1/zone-templates/{template.pk}/", {"body": "@ A nope"})
    assert bad.status_code == 400 and "Line 1" in bad.json()["errors"]["body"][0]
    other = client.get(
        f"/api/v1/zone-templates/{template.pk}/", HTTP_ACCESS_TOKEN=world.b.live_key_raw
    )
    assert other.status_code == 404


def test_deleting_a_zone(api, zone):
    assert api.send("delete", f"/api/v1/zones/{zone.pk}/").status_code == 204
    assert not Zone.objects.filter(pk=zone.pk).exists()


def test_a_contact_may_not_delete_zones(client, world, zone):
    client.force_login(world.a.contact_user)
    response = client.delete(f"/api/v1/zones/{world.a.zone.pk}/")
    assert response.status_code == 403

"""Finding, buying and managing domains through the native API (/api/v1/)."""

import pytest

from domains import outbox
from domains.models import Domain, DomainStatus, RegistrarOperation, SandboxDomain, Tld
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox")
    for name in ("com", "ng"):  # the world's domains already made .com: route it here
        Tld.objects.update_or_create(name=name, defaults={"registrar_account": account})
    return account


def api(client, tenant, method, path, data=None, key="live", **headers):
    raw = tenant.live_key_raw if key == "live" else tenant.sandbox_key_raw
    send = getattr(client, method)
    return send(path, data or {}, content_type="application/json", HTTP_ACCESS_TOKEN=raw, **headers)


def drain():
    """Run every due operation, oldest first, as the worker would (new ones included)."""
    for _ in range(10):
        due = list(
            RegistrarOperation.objects.filter(status="pending")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not due:
            return
        for pk in due:
            outbox.run_operation(pk)


def register(client, tenant, name="api-bought.com", **extra):
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    fields = {k: v for k, v in extra.items() if not k.startswith("HTTP_")}
    body = {"customer": tenant.customer.pk, "name": name, "years": 1, **fields}
    return api(client, tenant, "post", "/api/v1/domains/", body, **headers)


def test_a_reseller_buys_a_domain_and_it_becomes_active(client, world, registry):
    response = register(client, world.a, nameservers=["ns1.host.net", "ns2.host.net"])
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["domain"]["status"] == "pending_registration"
    assert body["operation"]["kind"] == "register" and body["operation"]["status"] == "pending"
    drain()
    detail = api(client, world.a, "get", f"/api/v1/domains/{body['domain']['id']}/").json()
    assert detail["status"] == "active"
    assert detail["nameservers"] == ["ns1.host.net", "ns2.host.net"]
    operation = api(client, world.a, "get", f"/api/v1/operations/{body['operation']['id']}/")
    assert operation.json()["status"] == "succeeded"


def test_the_same_idempotency_key_and_body_buy_once(client, world, registry):
    first = register(client, world.a, HTTP_IDEMPOTENCY_KEY="order-1")
    again = register(client, world.a, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Domain.objects.filter(name="api-bought.com").count() == 1
    other = register(client, world.a, name="different.com", HTTP_IDEMPOTENCY_KEY="order-1")
    assert other.status_code == 422
    assert "different request" in other.json()["message"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"name": "bad_name.com"}, "not a valid"),
        ({"name": "nope.xyz"}, "do not offer .xyz"),
        ({"years": 11}, "years"),
        ({"nameservers": ["ns1@sedoparking.com", "ns2@sedoparking.com"]}, "not a valid host"),
        ({"nameservers": ["ns1.only.net"]}, "at least two"),
    ],
)
def test_bad_orders_get_a_clear_message_and_change_nothing(client, world, registry, extra, message):
    response = register(client, world.a, **extra)
    assert response.status_code == 400
    assert message in str(response.json())
    assert not RegistrarOperation.objects.filter(kind="register").exists()


def test_another_tenants_customer_is_not_found(client, world, registry):
    response = api(
        client,
        world.a,
        "post",
        "/api/v1/domains/",
        {"customer": world.b.customer.pk, "name": "steal.com"},
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Customer not found."}


def test_a_sandbox_key_cannot_buy_for_a_live_customer(client, world, registry):
    response = api(
        client,
        world.a,
        "post",
        "/api/v1/domains/",
        {"customer": world.a.customer.pk, "name": "mixed.com"},
        key="sandbox",
    )
    assert response.status_code == 404
    ok = api(
        client,
        world.a,
        "post",
        "/api/v1/domains/",
        {"customer": world.a.sandbox_customer.pk, "name": "sandboxed.com"},
        key="sandbox",
    )
    assert ok.status_code == 202
    assert ok.json()["domain"]["livemode"] is False


@pytest.mark.django_db(transaction=True)
def test_availability_and_suggestions(client, world, registry):
    SandboxDomain.objects.create(
        name="taken.com",
        account="x",
        registered_at="2020-01-01T00:00Z",
        expires_at="2030-01-01T00:00Z",
        auth_code="x",
    )
    response = api(
        client,
        world.a,
        "post",
        "/api/v1/domains/availability/",
        {"name": "taken", "tlds": ["com", "ng"]},
    )
    assert response.status_code == 200
    assert {r["name"]: r["status"] for r in response.json()} == {
        "taken.com": "taken",
        "taken.ng": "available",
    }
    assert api(client, world.a, "post", "/api/v1/domains/availability/", {}).status_code == 400
    suggestions = api(
        client, world.a, "post", "/api/v1/domains/suggestions/", {"keyword": "taken", "limit": 5}
    )
    assert suggestions.status_code == 200
    names = [r["name"] for r in suggestions.json()]
    assert "taken.com" not in names and len(names) == 5


class TestManaging:
    @pytest.fixture
    def domain(self, client, world, registry):
        response = register(client, world.a)
        drain()
        return Domain.objects.get(pk=response.json()["domain"]["id"])

    def test_nameservers_lock_privacy_autorenew_renew(self, client, world, domain):
        base = f"/api/v1/domains/{domain.pk}"
        assert (
            api(
                client,
                world.a,
                "put",
                f"{base}/nameservers/",
                {"nameservers": ["ns1.new.net", "ns2.new.net"]},
            ).status_code
            == 202
        )
        assert api(client, world.a, "put", f"{base}/lock/", {"locked": False}).status_code == 202
        assert api(client, world.a, "put", f"{base}/privacy/", {"enabled": True}).status_code == 202
        assert (
            api(client, world.a, "put", f"{base}/autorenew/", {"enabled": False}).status_code == 202
        )
        assert api(client, world.a, "post", f"{base}/renew/", {"years": 2}).status_code == 202
        drain()
        upstream = SandboxDomain.objects.get(name="api-bought.com")
        assert upstream.nameservers == ["ns1.new.net", "ns2.new.net"]
        assert (upstream.locked, upstream.privacy, upstream.autorenew) == (False, True, False)
        domain.refresh_from_db()
        assert domain.expires_at == upstream.expires_at

    def test_the_auth_code_is_refused_while_locked_then_shown(self, client, world, domain):
        base = f"/api/v1/domains/{domain.pk}"
        refused = api(client, world.a, "post", f"{base}/auth-code/")
        assert refused.status_code == 400 and "locked" in refused.json()["message"]
        api(client, world.a, "put", f"{base}/lock/", {"locked": False})
        assert api(client, world.a, "post", f"{base}/auth-code/").status_code == 202
        drain()
        shown = api(client, world.a, "get", f"{base}/auth-code/")
        assert shown.json() == {"auth_code": SandboxDomain.objects.get().auth_code}

    def test_glue_hosts_and_ds_records(self, client, world, domain):
        base = f"/api/v1/domains/{domain.pk}"
        created = api(
            client,
            world.a,
            "post",
            f"{base}/hosts/",
            {"hostname": "ns1.api-bought.com", "ipv4": ["192.0.2.7"]},
        )
        assert created.status_code == 202
        [host] = api(client, world.a, "get", f"{base}/hosts/").json()
        assert host["ipv4"] == ["192.0.2.7"]
        bad = api(
            client,
            world.a,
            "post",
            f"{base}/hosts/",
            {"hostname": "ns2.api-bought.com", "ipv4": ["999.1.1.1"]},
        )
        assert bad.status_code == 400 and "not an IPv4" in str(bad.json())
        ds = api(
            client,
            world.a,
            "post",
            f"{base}/dnssec/",
            {"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "AB" * 32},
        )
        assert ds.status_code == 202
        [row] = api(client, world.a, "get", f"{base}/dnssec/").json()
        assert api(client, world.a, "delete", f"{base}/dnssec/{row['id']}/").status_code == 202
        drain()
        assert SandboxDomain.objects.get().ds_records == []

    def test_a_contact_without_the_privilege_is_refused(self, client, world, domain):
        contact = world.a.contact
        contact.privileges = {"domains": {str(domain.pk): ["basic"]}}
        contact.save()
        client.force_login(world.a.contact_user)
        response = client.put(
            f"/api/v1/domains/{domain.pk}/lock/", {"locked": False}, content_type="application/json"
        )
        assert response.status_code == 403
        assert "reglock" in response.json()["message"]

    def test_staff_and_resellers_retry_failed_operations_customers_cannot(
        self, client, world, domain, registry
    ):
        registry.settings = {"failure_rate": 1, "failure_kind": "permanent"}
        registry.save()
        api(client, world.a, "put", f"/api/v1/domains/{domain.pk}/lock/", {"locked": False})
        drain()
        failed = RegistrarOperation.objects.get(kind="lock", domain=domain, status="failed")
        assert failed.status == "failed"
        listed = api(client, world.a, "get", f"/api/v1/operations/?domain={domain.pk}").json()
        assert "failed" in [o["status"] for o in listed["results"]]
        client.force_login(world.a.customer_user)
        refused = client.post(f"/api/v1/operations/{failed.pk}/retry/")
        assert refused.status_code == 403
        client.logout()
        registry.settings = {}
        registry.save()
        retried = api(client, world.a, "post", f"/api/v1/operations/{failed.pk}/retry/")
        assert retried.status_code == 200 and retried.json()["status"] == "pending"
        drain()
        failed.refresh_from_db()
        assert failed.status == "succeeded"

    def test_sync_reports_drift(self, client, world, domain):
        SandboxDomain.objects.update(nameservers=["ns1.rogue.net", "ns2.rogue.net"])
        api(client, world.a, "post", f"/api/v1/domains/{domain.pk}/sync/")
        drain()
        drifts = api(client, world.a, "get", f"/api/v1/domains/{domain.pk}/drifts/").json()
        assert [(d["field"], d["resolution"]) for d in drifts] == [("nameservers", "open")]
        domain.refresh_from_db()
        assert domain.status == DomainStatus.ACTIVE

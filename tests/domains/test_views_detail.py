"""The domain page: its tabs, the operation history, and one POST URL per action."""

import json
from datetime import UTC

import pytest
from django.urls import reverse

from domains import outbox
from domains.models import (
    DnssecDs,
    DomainContact,
    DomainDrift,
    DomainStatus,
    HostRecord,
    Nameserver,
    SandboxDomain,
    Tld,
)
from domains.models import RegistrarOperation as Op
from portal.models import AuditEntry
from tests.customers.factories import ContactFactory, UserFactory
from tests.domains.factories import (
    DomainContactFactory,
    DomainFactory,
    RegistrarAccountFactory,
    RegistrarOperationFactory,
)

pytestmark = pytest.mark.django_db

TABS = ["overview", "nameservers", "lock", "privacy", "contacts", "hosts", "dnssec", "auth-code"]
TABS += ["sync"]
HX = {"HTTP_HX_REQUEST": "true"}
DIGEST = "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"


@pytest.fixture
def registry(world):
    account = RegistrarAccountFactory(name="Sandbox")
    Tld.objects.update_or_create(name="com", defaults={"registrar_account": account})
    return account


@pytest.fixture
def domain(world):
    return world.a.domain


def url(name, domain, *args):
    return reverse(f"domains:{name}", args=[domain.pk, *args])


def ops(domain, kind=None):
    queryset = Op.objects.filter(domain=domain)
    return list(queryset.filter(kind=kind) if kind else queryset)


def events(response) -> dict:
    return json.loads(response.get("HX-Trigger", "{}"))


def in_registry(domain, registry):
    """The sandbox registry holds the domain too (as if it had been registered there)."""
    return SandboxDomain.objects.create(
        name=domain.name_puny,
        account=registry.name,
        registered_at=domain.registered_at,
        expires_at=domain.expires_at,
        locked=domain.registrar_lock,
        auth_code="Reg1stry-Code",
    )


def action_urls(world):
    domain = world.a.domain
    host = HostRecord.objects.create(
        domain=domain, hostname="ns9.alpha-site.com", ipv4=["192.0.2.9"]
    )
    ds = DnssecDs.objects.create(domain=domain, key_tag=1, algorithm=13, digest_type=2, digest="AB")
    drift = DomainDrift.objects.create(domain=domain, field="locked", portal_value=True)
    names = ["renew", "autorenew", "nameservers", "lock", "privacy", "contacts", "host_create"]
    names += ["ds_add", "auth_code", "auth_code_reveal", "sync"]
    urls = [url(name, domain) for name in names]
    urls += [url("host_edit", domain, host.pk), url("host_delete", domain, host.pk)]
    urls += [url("ds_delete", domain, ds.pk)]
    urls += [url("drift_accept", domain, drift.pk), url("drift_repush", domain, drift.pk)]
    return urls


# --- the page and its tabs -------------------------------------------------------------------
@pytest.mark.parametrize("tab", TABS)
def test_each_tab_is_a_page_and_a_fragment(client, world, domain, tab):
    client.force_login(world.a.member)
    page = client.get(url("detail", domain), {"tab": tab})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and f'data-panel="{tab}"' in html
    assert 'id="operation-history"' in html
    fragment = client.get(url("detail", domain), {"tab": tab}, **HX)
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "<html" not in text
    assert f'data-panel="{tab}"' in text
    assert 'id="operation-history"' not in text
    assert "HX-Request" in fragment["Vary"]


def test_an_unknown_tab_shows_the_overview(client, world, domain):
    client.force_login(world.a.member)
    response = client.get(url("detail", domain), {"tab": "nope"})
    assert 'data-panel="overview"' in response.content.decode()


def test_every_action_refuses_get(client, world):
    client.force_login(world.a.member)
    for action in action_urls(world):
        assert client.get(action).status_code == 405, action


@pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
def test_another_tenant_gets_404_on_every_action(client, world, who):
    urls = action_urls(world)
    client.force_login(getattr(world.b, who))
    for action in urls:
        assert client.post(action, {"value": "0", "years": "1"}).status_code == 404, action
    assert world.a.domain.registrar_lock is True
    assert ops(world.a.domain) == []


def test_detail_query_count_is_fixed(client, world, domain, django_assert_max_num_queries):
    for position in range(1, 6):
        Nameserver.objects.create(domain=domain, position=position, hostname=f"ns{position}.x.net")
    for _ in range(12):
        RegistrarOperationFactory(domain=domain)
    client.force_login(world.a.member)
    for tab in TABS:
        with django_assert_max_num_queries(9):
            assert client.get(url("detail", domain), {"tab": tab}).status_code == 200


# --- renew and auto-renew -------------------------------------------------------------------------
def test_renewing_queues_an_operation_and_redirects_with_a_message(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("renew", domain), {"years": "2"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("?tab=overview")
    assert "Renewal for 2 years queued." in response.content.decode()
    [operation] = ops(domain, Op.Kind.RENEW)
    current = domain.expires_at.astimezone(UTC)
    assert operation.payload == {
        "years": 2,
        "cur_exp_date": current.date().isoformat(),
        "expect": {"expires_on": current.replace(year=current.year + 2).date().isoformat()},
    }


def test_htmx_renew_answers_with_the_tab_a_toast_and_the_history_event(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("renew", domain), {"years": "1"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Renewal for 1 year queued." in html
    fired = events(response)
    assert fired["np-toast"]["message"] == "Renewal for 1 year queued."
    assert "np-operations-changed" in fired


def test_renewing_beyond_the_tld_maximum_shows_the_reason_and_queues_nothing(client, world, domain):
    Tld.objects.filter(pk=domain.tld_id).update(max_years=3)
    client.force_login(world.a.member)
    response = client.post(url("renew", domain), {"years": "5"}, **HX)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert ops(domain) == []


def test_a_pending_domain_cannot_be_renewed(client, world):
    pending = DomainFactory(customer=world.a.customer, status=DomainStatus.PENDING_REGISTRATION)
    client.force_login(world.a.member)
    response = client.post(url("renew", pending), {"years": "1"}, **HX)
    assert response.status_code == 422
    assert "it cannot be renewed now" in response.content.decode()
    assert ops(pending) == []


def test_auto_renew_toggles(client, world, domain):
    client.force_login(world.a.customer_user)
    client.post(url("autorenew", domain), {"value": "0"})
    domain.refresh_from_db()
    assert domain.autorenew is False
    assert ops(domain, Op.Kind.AUTORENEW)[0].payload == {"value": False}


# --- nameservers, lock, privacy -------------------------------------------------------------------
def test_setting_nameservers(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(
        url("nameservers", domain), {"nameservers": "NS1.Host.net\nns2.host.net\n\n"}, **HX
    )
    assert response.status_code == 200
    assert list(domain.nameservers.values_list("hostname", flat=True)) == [
        "ns1.host.net",
        "ns2.host.net",
    ]
    assert ops(domain, Op.Kind.NAMESERVERS)[0].payload == {
        "nameservers": ["ns1.host.net", "ns2.host.net"]
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ns1@sedoparking.com\nns2@sedoparking.com", "is not a valid host name"),
        ("ns1.only.net", "Give at least two nameservers."),
        ("", "Give at least two nameservers."),
        ("ns1.alpha-site.com\nns2.host.net", "create it as a glue host"),
    ],
)
def test_bad_nameservers_show_the_reason_next_to_the_field_and_change_nothing(
    client, world, domain, value, message
):
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.kept.net")
    client.force_login(world.a.member)
    response = client.post(url("nameservers", domain), {"nameservers": value}, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-error-for="nameservers"' in html
    assert message in html.replace("&#x27;", "'")
    assert list(domain.nameservers.values_list("hostname", flat=True)) == ["ns1.kept.net"]
    assert ops(domain) == []


def test_a_normal_post_with_bad_nameservers_renders_the_page_with_the_error(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("nameservers", domain), {"nameservers": "ns1@x.com\nns2@x.com"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html and "is not a valid host name" in html.replace("&#x27;", "'")


def test_unlocking_and_locking(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("lock", domain), {"value": "0"}, **HX)
    assert "is unlocked" in response.content.decode()
    domain.refresh_from_db()
    assert domain.registrar_lock is False
    client.post(url("lock", domain), {"value": "1"})
    domain.refresh_from_db()
    assert domain.registrar_lock is True
    assert [op.payload for op in ops(domain, Op.Kind.LOCK)] == [{"value": True}, {"value": False}]


def test_a_toggle_without_a_value_is_refused(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("lock", domain), {}, **HX)
    assert response.status_code == 422
    assert "Choose on or off." in response.content.decode()
    normal = client.post(url("lock", domain), {}, follow=True)
    assert "Choose on or off." in normal.content.decode()
    assert ops(domain) == []


def test_privacy_toggles(client, world, domain):
    client.force_login(world.a.contact_user)
    client.post(url("privacy", domain), {"value": "1"})
    domain.refresh_from_db()
    assert domain.id_protection is True


def test_a_contact_without_the_privilege_gets_403_and_no_buttons(client, world, domain):
    limited = ContactFactory(
        customer=world.a.customer,
        user=UserFactory(email="basic-only@alpha.test"),
        privileges={"domains": {str(domain.pk): ["basic"]}},
    )
    client.force_login(limited.user)
    page = client.get(url("detail", domain), {"tab": "lock"}).content.decode()
    assert 'data-toggle-to="0"' not in page
    assert client.post(url("lock", domain), {"value": "0"}).status_code == 403
    domain.refresh_from_db()
    assert domain.registrar_lock is True


# --- contacts -------------------------------------------------------------------------------------
CONTACT = {
    "first_name": "Tess",
    "last_name": "Tech",
    "email": "tess@example.test",
    "phone": "+1.3035550000",
    "address_1": "2 Side St",
    "city": "Lagos",
    "country": "ng",
}


def test_changing_one_contact(client, world, domain):
    DomainContactFactory(domain=domain, role="tech")
    client.force_login(world.a.customer_user)
    data = {"role": "tech", **{f"tech-{k}": v for k, v in CONTACT.items()}}
    response = client.post(url("contacts", domain), data, **HX)
    assert response.status_code == 200
    tech = DomainContact.objects.get(domain=domain, role="tech")
    assert (tech.first_name, tech.country) == ("Tess", "NG")
    assert ops(domain, Op.Kind.CONTACTS)[0].payload == {"roles": ["tech"]}


def test_a_bad_contact_shows_the_field_errors(client, world, domain):
    DomainContactFactory(domain=domain, role="tech")
    client.force_login(world.a.member)
    bad = {**CONTACT, "email": "not-an-email"}
    data = {"role": "tech", **{f"tech-{k}": v for k, v in bad.items()}}
    response = client.post(url("contacts", domain), data, **HX)
    assert response.status_code == 422
    assert "Enter a valid email address." in response.content.decode()
    assert DomainContact.objects.get(domain=domain, role="tech").first_name == "Bob"
    assert ops(domain) == []


# --- glue hosts -----------------------------------------------------------------------------------
def test_glue_hosts_create_edit_delete(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(
        url("host_create", domain),
        {"hostname": "ns1.alpha-site.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1"},
        **HX,
    )
    assert response.status_code == 200
    host = HostRecord.objects.get(domain=domain)
    assert (host.ipv4, host.ipv6) == (["192.0.2.1"], ["2001:db8::1"])
    client.post(
        url("host_edit", domain, host.pk),
        {f"host-{host.pk}-ipv4": "192.0.2.2\n192.0.2.3", f"host-{host.pk}-ipv6": ""},
    )
    host.refresh_from_db()
    assert (host.ipv4, host.ipv6) == (["192.0.2.2", "192.0.2.3"], [])
    client.post(url("host_delete", domain, host.pk))
    assert not HostRecord.objects.filter(pk=host.pk).exists()
    kinds = [op.kind for op in ops(domain)]
    assert sorted(kinds) == ["host_create", "host_delete", "host_update"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hostname": "ns1.elsewhere.net", "ipv4": "192.0.2.1"}, "must be inside alpha-site.com"),
        ({"hostname": "ns1.alpha-site.com", "ipv4": "300.1.1.1"}, "is not an IPv4 address"),
        ({"hostname": "ns1.alpha-site.com"}, "at least one IPv4 or IPv6 address"),
    ],
)
def test_a_bad_glue_host_is_refused(client, world, domain, data, message):
    client.force_login(world.a.member)
    response = client.post(url("host_create", domain), data, **HX)
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not HostRecord.objects.filter(domain=domain).exists()
    assert ops(domain) == []


def test_a_glue_host_in_use_as_nameserver_is_not_deleted(client, world, domain):
    host = HostRecord.objects.create(domain=domain, hostname="ns1.alpha-site.com", ipv4=["1.2.3.4"])
    Nameserver.objects.create(domain=domain, position=1, hostname="ns1.alpha-site.com")
    client.force_login(world.a.member)
    response = client.post(url("host_delete", domain, host.pk), **HX)
    assert response.status_code == 422
    assert "replace it there first" in response.content.decode()
    assert HostRecord.objects.filter(pk=host.pk).exists()


def test_a_host_of_another_domain_is_404(client, world, domain):
    other = HostRecord.objects.create(
        domain=world.b.domain, hostname="ns1.bravo-site.com", ipv4=["1.2.3.4"]
    )
    client.force_login(world.a.member)
    assert client.post(url("host_delete", domain, other.pk)).status_code == 404
    assert client.post(url("host_edit", domain, other.pk)).status_code == 404


# --- DNSSEC ---------------------------------------------------------------------------------------
def test_adding_and_removing_a_ds_record(client, world, domain):
    client.force_login(world.a.member)
    data = {"key_tag": "2371", "algorithm": "13", "digest_type": "2", "digest": DIGEST.lower()}
    response = client.post(url("ds_add", domain), data, **HX)
    assert response.status_code == 200
    ds = DnssecDs.objects.get(domain=domain)
    assert (ds.key_tag, ds.digest) == (2371, DIGEST)
    assert "2371" in response.content.decode()
    client.post(url("ds_delete", domain, ds.pk))
    assert not DnssecDs.objects.filter(domain=domain).exists()
    assert ops(domain, Op.Kind.DNSSEC)[0].payload == {"ds": []}  # the latest: removed


def test_a_digest_of_the_wrong_length_is_refused(client, world, domain):
    client.force_login(world.a.member)
    data = {"key_tag": "2371", "algorithm": "13", "digest_type": "2", "digest": "ABCD"}
    response = client.post(url("ds_add", domain), data, **HX)
    assert response.status_code == 422
    assert "A type 2 digest is 64 hex characters." in response.content.decode()
    assert not DnssecDs.objects.filter(domain=domain).exists()


# --- auth code ------------------------------------------------------------------------------------
def test_the_auth_code_is_refused_while_locked(client, world, domain):
    client.force_login(world.a.member)
    response = client.post(url("auth_code", domain), **HX)
    assert response.status_code == 422
    assert "locked against transfers" in response.content.decode()
    reveal = client.post(url("auth_code_reveal", domain), **HX)
    assert reveal.status_code == 422
    assert ops(domain) == []


def test_the_auth_code_is_requested_then_shown_once_and_audited(client, world, domain, registry):
    domain.registrar_lock = False
    domain.save()
    client.force_login(world.a.customer_user)
    response = client.post(url("auth_code", domain), **HX)
    assert response.status_code == 200
    [operation] = ops(domain, Op.Kind.AUTH_CODE)
    in_registry(domain, registry)
    outbox.run_operation(operation.pk)
    domain.refresh_from_db()
    code = str(domain.auth_code)
    assert code
    page = client.get(url("detail", domain), {"tab": "auth-code"}).content.decode()
    assert code not in page
    shown = client.post(url("auth_code_reveal", domain), **HX)
    assert shown.status_code == 200
    assert code in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="domain.auth_code.view", object_id=str(domain.pk))
    assert code not in client.get(url("detail", domain), {"tab": "auth-code"}).content.decode()


# --- sync and drift -------------------------------------------------------------------------------
def test_sync_queues_an_operation(client, world, domain):
    client.force_login(world.a.customer_user)
    response = client.post(url("sync", domain), follow=True)
    assert "Sync queued" in response.content.decode()
    assert len(ops(domain, Op.Kind.SYNC)) == 1


def test_members_resolve_drift_and_customers_do_not(client, world, domain):
    accept = DomainDrift.objects.create(
        domain=domain, field="autorenew", portal_value=True, registry_value=False
    )
    repush = DomainDrift.objects.create(
        domain=domain, field="locked", portal_value=True, registry_value=False
    )
    client.force_login(world.a.customer_user)
    page = client.get(url("detail", domain), {"tab": "sync"}).content.decode()
    assert 'data-drift="autorenew"' in page and "Re-push" not in page
    assert client.post(url("drift_accept", domain, accept.pk)).status_code == 403
    client.force_login(world.a.member)
    page = client.get(url("detail", domain), {"tab": "sync"}).content.decode()
    assert "Re-push" in page
    client.post(url("drift_accept", domain, accept.pk), **HX)
    client.post(url("drift_repush", domain, repush.pk), **HX)
    domain.refresh_from_db()
    assert domain.autorenew is False  # the registry's value
    assert ops(domain, Op.Kind.LOCK)[0].payload == {"value": True}  # ours, pushed again
    again = client.post(url("drift_accept", domain, accept.pk), **HX)
    assert again.status_code == 422
    assert "already been resolved" in again.content.decode()


# --- the operation history ------------------------------------------------------------------------
def test_history_polls_while_an_operation_is_unfinished_and_stops_after(
    client, world, domain, registry
):
    in_registry(domain, registry)
    client.force_login(world.a.member)
    client.post(url("lock", domain), {"value": "0"})
    history = client.get(url("operations", domain), **HX)
    assert history.status_code == 200
    html = history.content.decode()
    assert "<html" not in html
    assert 'hx-trigger="every 2s, np-operations-changed from:body"' in html
    assert 'data-status="pending"' in html
    outbox.run_operation(ops(domain)[0].pk)
    html = client.get(url("operations", domain), **HX).content.decode()
    assert "every 2s" not in html
    assert 'data-status="succeeded"' in html
    assert 'hx-trigger="np-operations-changed from:body"' in html


def test_history_shows_staff_the_error_and_customers_a_plain_message(client, world, domain):
    RegistrarOperationFactory(domain=domain, status="failed", last_error="2201 Authorization")
    client.force_login(world.a.member)
    assert "2201 Authorization" in client.get(url("operations", domain)).content.decode()
    client.force_login(world.a.customer_user)
    html = client.get(url("operations", domain)).content.decode()
    assert "2201" not in html and "The registry refused this change" in html

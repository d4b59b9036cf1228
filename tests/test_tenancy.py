"""The tenancy matrix: every object URL of the UI and every object endpoint of the APIs, asked for
by an actor of another organisation and of another customer, answers 404 and shows nothing.

The URL list is discovered from the URL resolver, so a new object URL without an entry in
OBJECT_URLS below fails ``test_every_object_url_is_in_the_matrix``: the matrix grows with every URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from importlib import import_module

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.customers.factories import CustomerFactory, UserFactory

# URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant).
# Each app lists its own in tests/<app>/tenancy_urls.py; a URL may also be added here.
APPS = ("customers", "domains", "dns", "billing", "support", "compat")
OBJECT_URLS: dict[str, Callable] = {}
for _app in APPS:
    OBJECT_URLS.update(import_module(f"tests.{_app}.tenancy_urls").OBJECT_URLS)

# URL names with path parameters that are not tenant objects (checked elsewhere).
NOT_OBJECT_URLS = {
    "password_reset_confirm",  # uidb64 + token, checked by Django's own token generator
    "team:join",  # an invitation token, for whoever holds it: tests/security/test_team_tokens.py
    "customers:contact_invitation",  # uidb64 + token: tests/customers/test_contacts.py
    # Platform set-up, staff only (everyone else 404): tests/domains/test_views_staff.py
    "domains:account_edit",
    "domains:account_test",
    "domains:tld_edit",
    "domains:tld_page",
    # Exchange rates are the platform's, not a tenant's (staff write them; resellers read them):
    # tests/billing/test_price_api.py
    "api:exchange-rate-detail",
    # RDAP is public by design: anyone may ask about a name Nameport sponsors (live, held
    # names only, personal data redacted): tests/compat/test_rdap.py
    "compat-rdap:domain",
    "compat-rdap:nameserver",
}
# URL prefixes outside the matrix: the admin site is for staff only (tested in test_admin.py).
EXCLUDED_NAMESPACES = {"admin"}

# Object URLs that customers of the owning organisation must not reach either (reseller-only);
# an app's tenancy_urls.py may add its own in RESELLER_ONLY.
RESELLER_ONLY = {"customers:detail"}
for _app in APPS:
    RESELLER_ONLY |= getattr(import_module(f"tests.{_app}.tenancy_urls"), "RESELLER_ONLY", set())

# The compatibility APIs take only their own credentials: KEY_ONLY URLs (the Leanstack
# enterprise API) an API key, REGISTRANT_ONLY URLs (the registrant API) a registrant's Bearer
# token (``tenant.registrant_token_raw``, made by the app's ``prepare``). Anything else is a 401
# there, which shows nothing either; the intruder's own credentials of that kind must get 404.
KEY_ONLY: set[str] = set()
REGISTRANT_ONLY: set[str] = set()
for _app in APPS:
    _module = import_module(f"tests.{_app}.tenancy_urls")
    KEY_ONLY |= getattr(_module, "KEY_ONLY", set())
    REGISTRANT_ONLY |= getattr(_module, "REGISTRANT_ONLY", set())


PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(patterns, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            full_ns = ":".join(filter(None, [namespace, ns])) if ns else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), full_ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, prefix + str(pattern.pattern)


def discovered_object_routes() -> dict[str, str]:
    """Every named URL with a path parameter other than DRF's ``format`` suffix."""
    routes = {}
    for name, route in _walk(get_resolver().url_patterns):
        if name.split(":")[0] in EXCLUDED_NAMESPACES or name in NOT_OBJECT_URLS:
            continue
        parameters = set(PARAMETER.findall(route)) - {"format"}
        if parameters:
            routes[name] = route
    return routes


def test_every_object_url_is_in_the_matrix():
    missing = sorted(set(discovered_object_routes()) - set(OBJECT_URLS))
    assert missing == [], (
        f"add these object URLs to OBJECT_URLS in tests/<app>/tenancy_urls.py: {missing}"
    )


def _is_api(url: str) -> bool:
    return url.startswith("/api/") or url.startswith("/v1/")


def _ask(client, url: str, **headers):
    """GET the URL; for an action that refuses GET, use the first method it allows."""
    response = client.get(url, **headers)
    if response.status_code != 405:
        return response
    allowed = [m.strip() for m in response.get("Allow", "POST").split(",")]
    method = next((m for m in ("POST", "PUT", "PATCH", "DELETE") if m in allowed), "POST")
    send = getattr(client, method.lower())
    return send(url, {}, content_type="application/json", **headers)


def _assert_hidden(response, url: str, who: str, secret_text: str, *, codes=(404,)) -> None:
    assert response.status_code in codes, f"{who} got {response.status_code} for {url}"
    assert secret_text not in response.content.decode(errors="replace"), f"{who} saw data at {url}"


@pytest.fixture
def world(world):
    """The shared two-tenant world, plus what each app's object URLs need (its ``prepare``)."""
    for tenant in (world.a, world.b):
        for app in APPS:
            import_module(f"tests.{app}.tenancy_urls").prepare(tenant)
    return world


def _object_urls(tenant) -> Iterator[tuple[str, str]]:
    for name, kwargs_for in OBJECT_URLS.items():
        yield name, reverse(name, kwargs=kwargs_for(tenant))


def _session_codes(name: str) -> tuple[int, ...]:
    """What a session user may get: 404, or 401 where the API takes no session at all."""
    return (401, 404) if name in KEY_ONLY | REGISTRANT_ONLY else (404,)


def _owner_headers(tenant, name: str) -> dict:
    if name in KEY_ONLY:
        return {"HTTP_ACCESS_TOKEN": tenant.live_key_raw}
    if name in REGISTRANT_ONLY:
        return {"HTTP_AUTHORIZATION": f"Bearer {tenant.registrant_token_raw}"}
    return {}


def test_another_organisation_gets_404_everywhere(world, client):
    victim, intruder = world.a, world.b
    session_users = {
        "member": intruder.member,
        "customer": intruder.customer_user,
        "contact": intruder.contact_user,
    }
    secret = victim.customer.last_name
    for name, url in _object_urls(victim):
        for who, user in session_users.items():
            client.force_login(user)
            _assert_hidden(
                _ask(client, url),
                url,
                f"{who} of {intruder.organisation}",
                secret,
                codes=_session_codes(name),
            )
            client.logout()
        if name in REGISTRANT_ONLY:
            headers = {"HTTP_AUTHORIZATION": f"Bearer {intruder.registrant_token_raw}"}
            _assert_hidden(_ask(client, url, **headers), url, "registrant token", secret)
            for raw in (intruder.live_key_raw, intruder.sandbox_key_raw):
                _assert_hidden(
                    _ask(client, url, HTTP_ACCESS_TOKEN=raw), url, "key", secret, codes=(401,)
                )
        elif _is_api(url):
            for who, raw in (
                ("live key", intruder.live_key_raw),
                ("sandbox key", intruder.sandbox_key_raw),
            ):
                _assert_hidden(_ask(client, url, HTTP_ACCESS_TOKEN=raw), url, who, secret)
                _assert_hidden(
                    _ask(client, url, HTTP_AUTHORIZATION=f"Bearer {raw}"), url, who, secret
                )


def test_another_customer_of_the_same_organisation_gets_404_everywhere(world, client):
    victim = world.a
    neighbour_user = UserFactory(email="neighbour@alpha.test")
    CustomerFactory(organisation=victim.organisation, user=neighbour_user)
    client.force_login(neighbour_user)
    for name, url in _object_urls(victim):
        _assert_hidden(
            _ask(client, url),
            url,
            "neighbour customer",
            victim.customer.email,
            codes=_session_codes(name),
        )


def test_a_sandbox_key_never_reaches_live_objects(world, client):
    for name, url in _object_urls(world.a):
        if _is_api(url) and name not in REGISTRANT_ONLY:
            _assert_hidden(
                _ask(client, url, HTTP_ACCESS_TOKEN=world.a.sandbox_key_raw),
                url,
                "own sandbox key",
                world.a.customer.email,
            )


@pytest.mark.parametrize("role", ["member", "customer_user", "contact_user"])
def test_the_owner_reaches_every_object_url(world, client, role):
    """The matrix would pass vacuously if every URL answered 404: the owners must get 200."""
    client.force_login(getattr(world.a, role))
    for name, url in _object_urls(world.a):
        if role != "member" and name in RESELLER_ONLY | KEY_ONLY:
            continue  # KEY_ONLY: the reseller's software, asked once with the member's role
        response = _ask(client, url, **_owner_headers(world.a, name))
        # Reachable: a page or a read answers 200; an action may refuse an empty body (4xx),
        # but never as "not found", and never with a server error.
        code = response.status_code
        assert code != 404 and code < 500, f"{role} got {code} for {url}"
        if name.endswith(("detail", "list")) and "retry" not in name:
            assert code == 200, f"{role} got {code} for {url}"

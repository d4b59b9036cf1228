"""RDAP (issue 13) against hostile input: malformed or oversized names, odd characters, write
methods, a forged client address. Each is an RDAP error body (RFC 9083) with a 4xx, never a
500 or an HTML page, and nothing changes; personal data never shows."""

from __future__ import annotations

import pytest

from domains.models import Domain, DomainContact
from tests.domains.factories import DomainContactFactory, DomainFactory

pytestmark = pytest.mark.django_db

MEDIA_TYPE = "application/rdap+json"


@pytest.fixture
def held(settings):
    settings.NAMEPORT_RDAP_THROTTLE = "1000/min"
    domain = DomainFactory(name="target-site.com")
    DomainContactFactory(
        domain=domain,
        role=DomainContact.Role.REGISTRANT,
        email="victim@private.test",
        phone="+1.2025550199",
        first_name="Victoria",
        last_name="Hidden",
    )
    return domain


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == MEDIA_TYPE
    body = response.json()
    assert body["errorCode"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], list) and body["description"]
    return body


@pytest.mark.parametrize(
    "name",
    [
        "a" * 300 + ".com",  # longer than a name may be
        ("a" * 63 + ".") * 4 + "com",  # 256 characters
        "target-site.com%00",
        "target-site.com\x00",
        "target\x00site.com",
        "target site.com",
        "victim@private.test",
        "target-site.com/extra",
        "../../etc/passwd",
        "*.com",
        "xn--zz.com",  # a punycode label that decodes to nothing valid
        "xn--.com",
        "\u202etarget-site.com",  # a bidi override
        "%ED%A0%80.com",  # a lone surrogate, UTF-8 encoded
        "%FF%FE.com",  # not UTF-8 at all
        "💥.com",  # an emoji: not IDNA 2008
        "[2001:db8::1]",
        "2001:db8::1",
        "%",
        "%25",
        ".",
        "..",
    ],
)
def test_a_malformed_name_is_a_400_rdap_error(client, held, name):
    for kind in ("domain", "nameserver"):
        body = refused(client.get(f"/rdap/{kind}/{name}"), 400)
        assert "Victoria" not in str(body)


def test_a_query_string_is_ignored(client, held):
    response = client.get("/rdap/domain/target-site.com", {"jsonp": "<script>", "format": "api"})
    assert response.status_code == 200
    assert response["Content-Type"] == MEDIA_TYPE


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_method_is_a_405_rdap_error_and_changes_nothing(client, held, method):
    before = list(Domain.objects.values_list("pk", "name", "status", "updated_at"))
    send = getattr(client, method)
    for path in ("/rdap/domain/target-site.com", "/rdap/nameserver/ns1.x.com", "/rdap/help"):
        response = send(path, '{"status": "deleted"}', content_type="application/json")
        refused(response, 405)
        assert response["Access-Control-Allow-Origin"] == "*"
    assert list(Domain.objects.values_list("pk", "name", "status", "updated_at")) == before


def test_a_forged_forwarded_for_does_not_escape_the_rate_limit(client, held, settings):
    settings.NAMEPORT_RDAP_THROTTLE = "2/min"
    settings.BEHIND_PROXY = False
    for number in range(2):
        response = client.get("/rdap/help", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
        assert response.status_code == 200
    refused(client.get("/rdap/help", HTTP_X_FORWARDED_FOR="203.0.113.99"), 429)


def test_behind_a_proxy_the_client_address_counts_not_the_proxy(client, held, settings):
    settings.NAMEPORT_RDAP_THROTTLE = "1/min"
    settings.BEHIND_PROXY = True
    settings.NAMEPORT_TRUSTED_PROXIES = ["127.0.0.1/32"]
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert client.get("/rdap/help", HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 200
    refused(client.get("/rdap/help", HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy), 429)
    assert client.get("/rdap/help", HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code == 200


def test_credentials_are_neither_needed_nor_read(client, held, world):
    """Public by design: a bad key or a session changes nothing (no 401, the same answer)."""
    anonymous = client.get("/rdap/domain/target-site.com").json()
    with_bad_key = client.get("/rdap/domain/target-site.com", HTTP_ACCESS_TOKEN="np_live_bogus")
    assert with_bad_key.status_code == 200
    client.force_login(world.a.member)
    signed_in = client.get("/rdap/domain/target-site.com").json()
    for answer in (with_bad_key.json(), signed_in):
        assert {**answer, "events": []} == {**anonymous, "events": []}
    for answer in (anonymous, signed_in):
        assert "victim@private.test" not in str(answer)
        assert "+1.2025550199" not in str(answer)


def test_another_tenants_sandbox_domain_is_not_shown_to_anyone(client, world, settings):
    settings.NAMEPORT_RDAP_THROTTLE = "1000/min"
    name = world.a.sandbox_domain.name_puny
    refused(client.get(f"/rdap/domain/{name}"), 404)
    client.force_login(world.a.member)
    refused(client.get(f"/rdap/domain/{name}"), 404)
    assert client.get(f"/rdap/domain/{world.a.domain.name_puny}").status_code == 200

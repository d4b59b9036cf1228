"""RDAP (issue 13): /rdap/domain/<name>, /rdap/nameserver/<name> and /rdap/help, as RFC 7480,
9082, 9083 and the ICANN gTLD RDAP response profile ask of a registrar.

Most tests ask through Django's test client; ``TestWithAnRdapClient`` asks through whoisit (an
RDAP client library from PyPI) over HTTP, against a live server on 127.0.0.1, with a bootstrap
of its own that sends the test's TLDs to that server (nothing leaves loopback: a socket guard
fails any other connection).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from domains.models import DnssecDs, DomainContact, DomainStatus, HostRecord, Nameserver
from tests.customers.factories import CustomerFactory, OrganisationFactory
from tests.domains.factories import DomainContactFactory, DomainFactory, TldFactory
from tests.security import test_schemathesis as native_api_tests

pytestmark = pytest.mark.django_db

MEDIA_TYPE = "application/rdap+json"
CONFORMANCE = {
    "rdap_level_0",
    "icann_rdap_response_profile_1",
    "icann_rdap_technical_implementation_guide_1",
    "redacted",
}
DIGEST = "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"
# The contacts' personal data: none of it may appear in any answer.
PERSONAL = {
    "first_name": "Adaeze",
    "last_name": "Nwankwo-Private",
    "organization": "Okafor Secret Holdings",
    "email": "adaeze.private@mailbox.test",
    "phone": "+234.8099998888",
    "address_1": "17 Hidden Lane",
    "address_2": "Flat 9b",
    "city": "Enugu-Secretcity",
    "zip": "400001",
}


@pytest.fixture
def rdap_settings(settings):
    settings.NAMEPORT_RDAP_REGISTRAR_NAME = "Nameport Registrar Ltd"
    settings.NAMEPORT_RDAP_IANA_ID = "9999"
    settings.NAMEPORT_RDAP_ABUSE_EMAIL = "abuse@registrar.test"
    settings.NAMEPORT_RDAP_ABUSE_PHONE = "+1.5555550100"
    settings.NAMEPORT_RDAP_CONTACT_FORM_URL = ""
    settings.NAMEPORT_RDAP_TERMS_URL = "https://registrar.test/rdap-terms"
    settings.NAMEPORT_RDAP_THROTTLE = "1000/min"
    return settings


@pytest.fixture
def held(rdap_settings):
    """A domain like the demo's okafor.tech: its own nameservers as glue hosts, one more
    nameserver elsewhere, a DS record, four contacts, the registrar lock."""
    organisation = OrganisationFactory(slug="okafor-resell", name="Okafor Reseller Co")
    customer = CustomerFactory(organisation=organisation)
    domain = DomainFactory(
        customer=customer,
        name="okafor-demo.tech",
        tld=TldFactory(name="tech"),
        epp_statuses=["clientTransferProhibited", "clientDeleteProhibited"],
        registered_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        expires_at=datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC),
        registry_reference="D123456-TECH",
    )
    for position, host in enumerate(
        ["ns1.okafor-demo.tech", "ns2.okafor-demo.tech", "ns.elsewhere.net"], start=1
    ):
        Nameserver.objects.create(domain=domain, position=position, hostname=host)
    HostRecord.objects.create(
        domain=domain, hostname="ns1.okafor-demo.tech", ipv4=["192.0.2.53"], ipv6=["2001:db8::53"]
    )
    HostRecord.objects.create(domain=domain, hostname="ns2.okafor-demo.tech", ipv4=["192.0.2.54"])
    DnssecDs.objects.create(
        domain=domain, key_tag=2371, algorithm=13, digest_type=2, digest=DIGEST.lower()
    )
    for role in DomainContact.Role.values:
        DomainContactFactory(
            domain=domain,
            role=role,
            handle=f"NPC-{role.upper()}",
            state="Enugu",
            country="NG",
            **PERSONAL,
        )
    return domain


def rdap(client, path: str, **extra):
    return client.get(f"/rdap/{path}", **extra)


def entity(answer: dict, role: str) -> dict:
    (found,) = [e for e in answer["entities"] if role in e["roles"]]
    return found


def card(entity: dict) -> dict[str, list]:
    return {prop[0]: prop for prop in entity["vcardArray"][1]}


class TestDomain:
    def test_it_answers_every_field_of_the_profile(self, client, held):
        response = rdap(client, "domain/okafor-demo.tech")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA_TYPE
        assert response["Access-Control-Allow-Origin"] == "*"
        answer = response.json()
        assert set(answer["rdapConformance"]) == CONFORMANCE
        assert answer["objectClassName"] == "domain"
        assert answer["handle"] == "D123456-TECH"
        assert answer["ldhName"] == "okafor-demo.tech"
        assert "unicodeName" not in answer
        assert answer["status"] == ["client transfer prohibited", "client delete prohibited"]
        assert "port43" not in answer

        events = {e["eventAction"]: e["eventDate"] for e in answer["events"]}
        assert events["registration"] == "2025-01-02T03:04:05Z"
        assert events["expiration"] == "2027-01-02T03:04:05Z"
        assert "last changed" in events
        database = datetime.fromisoformat(events["last update of RDAP database"])
        assert abs(database - timezone.now()) < timedelta(minutes=1)

        nameservers = {ns["ldhName"]: ns for ns in answer["nameservers"]}
        assert list(nameservers) == [
            "ns1.okafor-demo.tech",
            "ns2.okafor-demo.tech",
            "ns.elsewhere.net",
        ]
        assert all(ns["objectClassName"] == "nameserver" for ns in nameservers.values())
        assert nameservers["ns1.okafor-demo.tech"]["ipAddresses"] == {
            "v4": ["192.0.2.53"],
            "v6": ["2001:db8::53"],
        }
        assert nameservers["ns2.okafor-demo.tech"]["ipAddresses"] == {"v4": ["192.0.2.54"]}
        assert "ipAddresses" not in nameservers["ns.elsewhere.net"]

        assert answer["secureDNS"] == {
            "delegationSigned": True,
            "dsData": [{"keyTag": 2371, "algorithm": 13, "digestType": 2, "digest": DIGEST}],
        }

        (self_link,) = [link for link in answer["links"] if link["rel"] == "self"]
        assert self_link["href"] == "http://testserver/rdap/domain/okafor-demo.tech"
        assert self_link["type"] == MEDIA_TYPE

        notices = {n["title"]: n for n in answer["notices"]}
        assert notices["Terms of Use"]["links"][0]["href"] == "https://registrar.test/rdap-terms"
        assert notices["Status Codes"]["links"][0]["href"] == "https://icann.org/epp"
        assert notices["RDDS Inaccuracy Complaint Form"]["links"][0]["href"] == (
            "https://icann.org/wicf"
        )

    def test_the_registrar_and_reseller_entities(self, client, held):
        answer = rdap(client, "domain/okafor-demo.tech").json()
        registrar = entity(answer, "registrar")
        assert card(registrar)["fn"][3] == "Nameport Registrar Ltd"
        assert registrar["publicIds"] == [{"type": "IANA Registrar ID", "identifier": "9999"}]
        abuse = entity(registrar, "abuse")
        assert card(abuse)["email"][3] == "abuse@registrar.test"
        assert card(abuse)["tel"][3] == "tel:+1.5555550100"
        reseller = entity(answer, "reseller")
        assert card(reseller)["fn"][3] == "Okafor Reseller Co"

    def test_the_contacts_keep_only_state_and_country(self, client, held):
        response = rdap(client, "domain/okafor-demo.tech")
        answer = response.json()
        roles = [e["roles"][0] for e in answer["entities"]]
        assert roles == ["registrar", "reseller", "registrant", "administrative", "technical"]
        for role in ("registrant", "administrative", "technical"):
            contact = entity(answer, role)
            properties = card(contact)
            assert "handle" not in contact
            assert properties["fn"][3] == ""
            assert properties["adr"][3] == ["", "", "", "", "Enugu", "", "NG"]
            assert properties["adr"][1] == {"cc": "NG"}
            assert not {"email", "tel", "org", "contact-uri"} & set(properties)
        text = response.content.decode()
        for value in [*PERSONAL.values(), "NPC-REGISTRANT", "NPC-TECH"]:
            assert value not in text, value
        assert "billing" not in text

    def test_the_redacted_array_names_each_field_with_its_path_and_method(self, client, held):
        answer = rdap(client, "domain/okafor-demo.tech").json()
        redacted = {
            (r["name"].get("type") or r["name"]["description"]): r for r in answer["redacted"]
        }
        for prefix, role in (
            ("Registrant", "registrant"),
            ("Admin", "administrative"),
            ("Tech", "technical"),
        ):
            at = f"$.entities[?(@.roles[0]=='{role}')]"
            name = redacted[f"{prefix} Name"]
            assert name["method"] == "emptyValue"
            assert name["postPath"] == f"{at}.vcardArray[1][?(@[0]=='fn')][3]"
            assert redacted[f"{prefix} Organization"]["method"] == "removal"
            assert redacted[f"{prefix} Street"]["postPath"].endswith("[?(@[0]=='adr')][3][:3]")
            assert redacted[f"{prefix} City"]["postPath"].endswith("[3][3]")
            assert redacted[f"{prefix} Postal Code"]["postPath"].endswith("[3][5]")
            assert redacted[f"{prefix} Phone"]["prePath"] == (f"{at}.vcardArray[1][?(@[0]=='tel')]")
            assert redacted[f"{prefix} Email"]["method"] == "removal"
            assert all(r["pathLang"] == "jsonpath" for r in answer["redacted"])
        assert redacted["Registry Registrant ID"]["prePath"] == (
            "$.entities[?(@.roles[0]=='registrant')].handle"
        )
        # Registered names are types (RFC 9537 section 4.2), the others descriptions.
        assert redacted["Registrant Email"]["name"] == {"type": "Registrant Email"}
        assert redacted["Admin Email"]["name"] == {"description": "Admin Email"}

    def test_a_contact_form_replaces_the_email_when_set(self, client, held, settings):
        settings.NAMEPORT_RDAP_CONTACT_FORM_URL = "https://registrar.test/contact-holder"
        answer = rdap(client, "domain/okafor-demo.tech").json()
        registrant = card(entity(answer, "registrant"))
        assert registrant["contact-uri"][3] == "https://registrar.test/contact-holder"
        assert "email" not in registrant
        (email,) = [r for r in answer["redacted"] if r["name"] == {"type": "Registrant Email"}]
        assert email["method"] == "replacementValue"
        assert email["replacementPath"].endswith("[?(@[0]=='contact-uri')]")

    @pytest.mark.parametrize(
        "name",
        ["okafor-demo.tech", "OKAFOR-DEMO.TECH", "okafor-demo.tech.", "Okafor-Demo.Tech."],
    )
    def test_the_name_is_read_in_any_case_with_or_without_the_trailing_dot(
        self, client, held, name
    ):
        response = rdap(client, f"domain/{name}")
        assert response.status_code == 200
        assert response.json()["ldhName"] == "okafor-demo.tech"

    def test_an_idn_is_found_by_its_unicode_and_its_punycode_name(self, client, rdap_settings):
        DomainFactory(
            name="bücher-straße.de",
            name_puny="xn--bcher-strae-46a18a.de",
            tld=TldFactory(name="de"),
        )
        for asked in ("bücher-straße.de", "xn--bcher-strae-46a18a.de", "BÜCHER-STRAßE.DE."):
            response = rdap(client, f"domain/{asked}")
            assert response.status_code == 200, asked
            answer = response.json()
            assert answer["ldhName"] == "xn--bcher-strae-46a18a.de"
            assert answer["unicodeName"] == "bücher-straße.de"

    def test_an_idn_nameserver_has_its_unicode_name(self, client, held):
        Nameserver.objects.create(domain=held, position=4, hostname="xn--ns-bcher-95a.de")
        answer = rdap(client, "domain/okafor-demo.tech").json()
        ns = answer["nameservers"][-1]
        assert (ns["ldhName"], ns["unicodeName"]) == ("xn--ns-bcher-95a.de", "ns-bücher.de")

    def test_statuses_without_the_registrys_follow_nameports_state(self, client, rdap_settings):
        plain = DomainFactory(name="plain-active.com", registrar_lock=False)
        locked = DomainFactory(name="locked-active.com", registrar_lock=True)
        redemption = DomainFactory(
            name="in-redemption.com", status=DomainStatus.REDEMPTION, registrar_lock=False
        )
        expected = {
            plain: ["active"],
            locked: ["client transfer prohibited"],
            redemption: ["redemption period"],
        }
        for domain, statuses in expected.items():
            assert rdap(client, f"domain/{domain.name}").json()["status"] == statuses
        plain.epp_statuses = ["ok"]
        plain.save()
        assert rdap(client, "domain/plain-active.com").json()["status"] == ["active"]

    def test_a_domain_without_ds_is_not_delegation_signed(self, client, rdap_settings):
        DomainFactory(name="unsigned.com")
        answer = rdap(client, "domain/unsigned.com").json()
        assert answer["secureDNS"] == {"delegationSigned": False}

    def test_without_an_iana_id_the_registrar_has_no_public_ids(self, client, held, settings):
        settings.NAMEPORT_RDAP_IANA_ID = ""
        settings.NAMEPORT_RDAP_ABUSE_PHONE = ""
        registrar = entity(rdap(client, "domain/okafor-demo.tech").json(), "registrar")
        assert "publicIds" not in registrar
        assert "tel" not in card(entity(registrar, "abuse"))

    def test_it_answers_in_a_fixed_number_of_queries(
        self, client, held, django_assert_max_num_queries
    ):
        for number in range(5):
            HostRecord.objects.create(domain=held, hostname=f"h{number}.okafor-demo.tech")
            DnssecDs.objects.create(
                domain=held, key_tag=number, algorithm=13, digest_type=2, digest="AB" * 32
            )
        with django_assert_max_num_queries(5):
            assert rdap(client, "domain/okafor-demo.tech").status_code == 200

    def test_head_answers_like_get_without_a_body(self, client, held):
        response = client.head("/rdap/domain/okafor-demo.tech")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA_TYPE
        assert response.content == b""
        assert client.head("/rdap/domain/unknown-name.tech").status_code == 404

    def test_it_answers_rdap_json_to_a_client_asking_for_json(self, client, held):
        for accept in ("application/json", "text/html", "application/rdap+json"):
            response = rdap(client, "domain/okafor-demo.tech", HTTP_ACCEPT=accept)
            assert response.status_code == 200
            assert response["Content-Type"] == MEDIA_TYPE


def assert_rdap_error(response, status: int, title: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == MEDIA_TYPE
    assert response["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert set(body) == {"rdapConformance", "errorCode", "title", "description"}
    assert set(body["rdapConformance"]) == CONFORMANCE
    assert (body["errorCode"], body["title"]) == (status, title)
    assert body["description"] and all(isinstance(line, str) for line in body["description"])
    return body


class TestNotFound:
    def test_an_unknown_name_is_404(self, client, rdap_settings):
        body = assert_rdap_error(rdap(client, "domain/nobody-has-this.com"), 404, "Not Found")
        assert "nobody-has-this.com" in body["description"][0]

    def test_a_sandbox_domain_is_404(self, client, rdap_settings):
        sandbox = CustomerFactory(livemode=False)
        domain = DomainFactory(customer=sandbox, name="sandbox-only.com")
        assert domain.livemode is False
        assert_rdap_error(rdap(client, "domain/sandbox-only.com"), 404, "Not Found")

    @pytest.mark.parametrize(
        "status",
        [
            DomainStatus.DELETED,
            DomainStatus.TRANSFERRED_AWAY,
            DomainStatus.REGISTRATION_FAILED,
            DomainStatus.TRANSFER_FAILED,
        ],
    )
    def test_a_released_domain_is_404(self, client, rdap_settings, status):
        DomainFactory(name="let-go.com", status=status)
        assert_rdap_error(rdap(client, "domain/let-go.com"), 404, "Not Found")

    def test_the_nameservers_of_sandbox_and_released_domains_are_404(self, client, rdap_settings):
        sandbox = DomainFactory(customer=CustomerFactory(livemode=False), name="sand.com")
        gone = DomainFactory(name="gone.com", status=DomainStatus.DELETED)
        Nameserver.objects.create(domain=sandbox, position=1, hostname="ns1.sand.com")
        HostRecord.objects.create(domain=gone, hostname="ns1.gone.com", ipv4=["192.0.2.9"])
        for host in ("ns1.sand.com", "ns1.gone.com", "ns1.never-seen.com"):
            assert_rdap_error(rdap(client, f"nameserver/{host}"), 404, "Not Found")

    @pytest.mark.parametrize(
        "name",
        ["no-dot", "bad_label.com", "-leading.com", "a..b.com", "192.0.2.1", "x" * 64 + ".com"],
    )
    def test_a_malformed_name_is_400(self, client, rdap_settings, name):
        assert_rdap_error(rdap(client, f"domain/{name}"), 400, "Bad Request")
        assert_rdap_error(rdap(client, f"nameserver/{name}"), 400, "Bad Request")

    def test_other_query_types_are_501_and_other_paths_404(self, client, rdap_settings):
        for path in ("ip/192.0.2.1", "autnum/64496", "entity/NPC-1", "domains?name=a*"):
            assert_rdap_error(rdap(client, path), 501, "Not Implemented")
        assert_rdap_error(rdap(client, "whatever/else"), 404, "Not Found")

    def test_a_write_method_is_405(self, client, held):
        response = client.post("/rdap/domain/okafor-demo.tech", {})
        assert_rdap_error(response, 405, "Method Not Allowed")
        assert "GET" in response["Allow"]


class TestNameserver:
    def test_a_glue_host_has_its_addresses(self, client, held):
        response = rdap(client, "nameserver/NS1.okafor-demo.tech.")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA_TYPE
        answer = response.json()
        assert set(answer["rdapConformance"]) == CONFORMANCE
        assert answer["objectClassName"] == "nameserver"
        assert answer["ldhName"] == "ns1.okafor-demo.tech"
        assert answer["ipAddresses"] == {"v4": ["192.0.2.53"], "v6": ["2001:db8::53"]}
        assert answer["links"][0]["href"] == (
            "http://testserver/rdap/nameserver/ns1.okafor-demo.tech"
        )
        assert {n["title"] for n in answer["notices"]} >= {"Terms of Use", "Status Codes"}

    def test_a_nameserver_elsewhere_has_no_addresses(self, client, held):
        answer = rdap(client, "nameserver/ns.elsewhere.net").json()
        assert answer["ldhName"] == "ns.elsewhere.net"
        assert "ipAddresses" not in answer

    def test_a_glue_host_no_domain_uses_as_nameserver_is_found(self, client, held):
        HostRecord.objects.create(
            domain=held, hostname="spare.okafor-demo.tech", ipv4=["192.0.2.7"]
        )
        answer = rdap(client, "nameserver/spare.okafor-demo.tech").json()
        assert answer["ipAddresses"] == {"v4": ["192.0.2.7"]}

    def test_it_answers_in_a_fixed_number_of_queries(
        self, client, held, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(2):
            assert rdap(client, "nameserver/ns.elsewhere.net").status_code == 200


class TestHelp:
    def test_help_says_what_it_answers_its_terms_and_its_rate(self, client, rdap_settings):
        rdap_settings.NAMEPORT_RDAP_THROTTLE = "30/min"
        response = rdap(client, "help")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA_TYPE
        answer = response.json()
        assert set(answer["rdapConformance"]) == CONFORMANCE
        notices = {n["title"]: n for n in answer["notices"]}
        about = " ".join(notices["About this server"]["description"])
        assert "http://testserver/rdap/domain/<name>" in about
        assert "http://testserver/rdap/nameserver/<name>" in about
        assert "30 queries per min" in notices["Rate limit"]["description"][0]
        assert notices["Terms of Use"]["links"][0]["href"] == "https://registrar.test/rdap-terms"
        assert client.head("/rdap/help").status_code == 200

    def test_the_terms_link_is_the_help_page_by_default(self, client, rdap_settings):
        rdap_settings.NAMEPORT_RDAP_TERMS_URL = ""
        notices = {n["title"]: n for n in rdap(client, "help").json()["notices"]}
        assert notices["Terms of Use"]["links"][0]["href"] == "http://testserver/rdap/help"


class TestRateLimit:
    def test_past_the_rate_it_answers_429_with_the_rdap_error_and_retry_after(
        self, client, held, rdap_settings
    ):
        rdap_settings.NAMEPORT_RDAP_THROTTLE = "3/min"
        for path in ("domain/okafor-demo.tech", "nameserver/ns.elsewhere.net", "help"):
            assert rdap(client, path).status_code == 200
        response = rdap(client, "domain/okafor-demo.tech")
        body = assert_rdap_error(response, 429, "Too Many Requests")
        assert "throttled" in body["description"][0]
        assert 1 <= int(response["Retry-After"]) <= 61
        assert "ldhName" not in body

    def test_each_client_address_has_its_own_count(self, client, held, rdap_settings):
        rdap_settings.NAMEPORT_RDAP_THROTTLE = "1/min"
        first = {"REMOTE_ADDR": "198.51.100.1"}
        assert rdap(client, "help", **first).status_code == 200
        assert rdap(client, "help", **first).status_code == 429
        assert rdap(client, "help", REMOTE_ADDR="198.51.100.2").status_code == 200

    def test_the_native_api_throttle_does_not_count_rdap(self, client, held, settings):
        """A scope of its own: RDAP queries do not use up the native anonymous API rate."""
        settings.NAMEPORT_RDAP_THROTTLE = "1000/min"
        from rest_framework.throttling import SimpleRateThrottle

        rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "2/min"}
        SimpleRateThrottle.THROTTLE_RATES, saved = rates, SimpleRateThrottle.THROTTLE_RATES
        try:
            for _ in range(4):
                assert rdap(client, "help").status_code == 200
        finally:
            SimpleRateThrottle.THROTTLE_RATES = saved


class TestDocs:
    def test_the_openapi_document_lists_the_three_operations(self, client):
        response = client.get("/api/compat/rdap/schema/?format=json")
        assert response.status_code == 200
        schema = response.json()
        assert set(schema["paths"]) == {
            "/rdap/domain/{name}",
            "/rdap/nameserver/{name}",
            "/rdap/help",
        }
        assert schema["info"]["title"].startswith("Nameport RDAP")
        operation = schema["paths"]["/rdap/domain/{name}"]["get"]
        assert {"200", "400", "404", "429"} <= set(operation["responses"])
        assert MEDIA_TYPE in operation["responses"]["200"]["content"]

    def test_the_docs_page_is_served_and_linked_from_the_api_docs(self, client):
        assert client.get(reverse("compat-rdap-docs:docs")).status_code == 200
        index = client.get("/api/docs/").content.decode()
        assert reverse("compat-rdap-docs:docs") in index


# --- through an RDAP client library, over HTTP ---------------------------------------------
# any connection beyond loopback fails the test (the native API tests' guard)
loopback_only = native_api_tests.loopback_only


@pytest.fixture
def server(transactional_db, settings, loopback_only):
    """A live server on 127.0.0.1 (a free port) serving this Django app."""
    from pytest_django.live_server_helper import LiveServer

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    live = LiveServer("127.0.0.1:0")
    try:
        yield live.url
    finally:
        live.stop()


@pytest.fixture
def whoisit_client(server):
    """whoisit, bootstrapped from a local file that sends the test's TLDs to the live server
    (IANA's bootstrap on the internet is never read)."""
    import whoisit

    base = f"{server}/rdap/"
    bootstrap = {
        "timestamp": int(datetime.now(tz=UTC).timestamp()),
        "dns": {"services": [[["tech", "de", "com"], [base]]]},
        "asn": {"services": [[["64496-64511"], [base]]]},
        "ipv4": {"services": [[["192.0.2.0/24"], [base]]]},
        "ipv6": {"services": [[["2001:db8::/32"], [base]]]},
        "object": {"services": [[["test@nameport.test"], ["NPRT"], [base]]]},
    }
    whoisit.clear_bootstrapping()
    whoisit.load_bootstrap_data(json.dumps(bootstrap), allow_insecure=True)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: straight to 127.0.0.1
    yield whoisit, session
    session.close()
    whoisit.clear_bootstrapping()


@pytest.mark.django_db(transaction=True)
class TestWithAnRdapClient:
    def test_whoisit_reads_the_domain(self, whoisit_client, server, held):
        whoisit, session = whoisit_client
        result = whoisit.domain("okafor-demo.tech", session=session)
        assert result["type"] == "domain"
        assert result["handle"] == "D123456-TECH"
        assert result["name"] == "okafor-demo.tech"
        assert result["status"] == ["client transfer prohibited", "client delete prohibited"]
        assert result["registration_date"] == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert result["expiration_date"] == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert result["last_changed_date"] is not None
        assert result["nameservers"] == [
            "ns1.okafor-demo.tech",
            "ns2.okafor-demo.tech",
            "ns.elsewhere.net",
        ]
        assert result["nameserver_ips"]["ns1.okafor-demo.tech"] == ["192.0.2.53", "2001:db8::53"]
        assert result["dnssec"] is True
        assert result["dnssec_ds_data"] == [
            {"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": DIGEST}
        ]
        assert result["terms_of_service_url"] == "https://registrar.test/rdap-terms"
        assert result["url"] == f"{server}/rdap/domain/okafor-demo.tech"
        (registrar,) = result["entities"]["registrar"]
        assert registrar["name"] == "Nameport Registrar Ltd"
        assert registrar["public_ids"] == [{"type": "IANA Registrar ID", "identifier": "9999"}]
        (abuse,) = result["entities"]["abuse"]
        assert abuse["email"] == "abuse@registrar.test"
        assert result["entities"]["reseller"][0]["name"] == "Okafor Reseller Co"
        for role in ("registrant", "administrative", "technical"):
            (contact,) = result["entities"][role]
            assert contact.get("name", "") == ""
            assert "email" not in contact and "tel" not in contact
            assert contact["address"]["region"] == "Enugu"
            assert contact["address"]["country"] == "NG"
            assert contact["address"]["street_address"] == ""
        assert {"Registrant Name", "Registrant Email", "Tech Email"} <= set(result["redacted"])
        text = json.dumps(result, default=str)
        assert not [value for value in PERSONAL.values() if value in text]

    def test_whoisit_reads_an_idn_by_its_unicode_name(self, whoisit_client, rdap_settings):
        whoisit, session = whoisit_client
        DomainFactory(name="bücher.de", name_puny="xn--bcher-kva.de", tld=TldFactory(name="de"))
        result = whoisit.domain("bücher.de", session=session)
        assert (result["name"], result["unicode_name"]) == ("xn--bcher-kva.de", "bücher.de")
        result = whoisit.domain("xn--bcher-kva.de", session=session)
        assert result["unicode_name"] == "bücher.de"

    def test_whoisit_gets_not_found_for_a_sandbox_domain(self, whoisit_client, rdap_settings):
        whoisit, session = whoisit_client
        DomainFactory(customer=CustomerFactory(livemode=False), name="sandbox-only.com")
        with pytest.raises(whoisit.errors.ResourceDoesNotExist) as raised:
            whoisit.domain("sandbox-only.com", session=session)
        body = json.loads(raised.value.response)
        assert body["errorCode"] == 404

    def test_whoisit_gets_rate_limited_with_the_rdap_error(self, whoisit_client, held, settings):
        whoisit, session = whoisit_client
        settings.NAMEPORT_RDAP_THROTTLE = "1/min"
        whoisit.domain("okafor-demo.tech", session=session)
        with pytest.raises(whoisit.errors.RateLimitedError) as raised:
            whoisit.domain("okafor-demo.tech", session=session)
        assert json.loads(raised.value.response)["errorCode"] == 429

    def test_the_nameserver_and_help_over_http(self, server, held):
        session = requests.Session()
        session.trust_env = False
        ns = session.get(f"{server}/rdap/nameserver/ns1.okafor-demo.tech", timeout=10)
        assert ns.headers["Content-Type"] == MEDIA_TYPE
        assert ns.json()["ipAddresses"]["v4"] == ["192.0.2.53"]
        assert ns.json()["links"][0]["href"].startswith(server)
        help_ = session.get(f"{server}/rdap/help", timeout=10)
        assert help_.status_code == 200 and help_.json()["notices"]
        head = session.head(f"{server}/rdap/domain/okafor-demo.tech", timeout=10)
        assert head.status_code == 200 and head.content == b""
        session.close()


def test_an_unsupported_query_type_is_not_logged_as_a_server_error(client, rdap_settings, caplog):
    with caplog.at_level("WARNING", logger="django.request"):
        assert client.get("/rdap/ip/192.0.2.1").status_code == 501
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

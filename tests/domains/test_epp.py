"""EPP over real TLS sockets: the sandbox EPP server (domains/simulator/epp_server.py) and the
adapter built on epptools (domains/registrars/epp.py).

Every frame the server receives (so every command the adapter sends) and every frame it sends is
validated against the official EPP schemas in ``../shared/epp-xsd/epp-all.xsd``. The TLS material
(a CA, a server and a client certificate) is generated for the test session in a temporary
directory. The server runs in threads with their own database connections, so the tests are
transactional (PostgreSQL, or SQLite's shared in-memory test database).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import epptools
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from lxml import etree

from domains import outbox
from domains.models import (
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    SandboxBalance,
    SandboxDomain,
    SandboxHost,
)
from domains.registrars import adapter_for, epp
from domains.registrars.base import (
    AuthorizationError,
    ContactData,
    DsData,
    InsufficientFundsError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from domains.services import domain_register
from domains.simulator.epp_server import EppSession, read_frame, serve, write_frame
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import RegistrarAccountFactory, TldFactory

XSD_DIR = Path(__file__).resolve().parents[3] / "shared" / "epp-xsd"
EPP = "urn:ietf:params:xml:ns:epp-1.0"
DOMAIN = "urn:ietf:params:xml:ns:domain-1.0"
CLID = "np-registrar"
PASSWORD = "Secret-pw-1"
DS = DsData(key_tag=12345, algorithm=13, digest_type=2, digest="AB" * 32)

pytestmark = pytest.mark.django_db(transaction=True)


# --- TLS material -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _make_pki(directory: Path) -> Pki:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def write_key(key, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def write_cert(cert, path: Path) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("Nameport test CA"))
        .issuer_name(name("Nameport test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common_name: str, usage, alt_names: list) -> tuple:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), False)
        return key, builder.sign(ca_key, hashes.SHA256())

    server_key, server_cert = leaf(
        "localhost",
        ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client_key, client_cert = leaf("np-registrar", ExtendedKeyUsageOID.CLIENT_AUTH, [])
    return Pki(
        ca=write_cert(ca_cert, directory / "ca.pem"),
        server_cert=write_cert(server_cert, directory / "server.pem"),
        server_key=write_key(server_key, directory / "server.key"),
        client_cert=write_cert(client_cert, directory / "client.pem"),
        client_key=write_key(client_key, directory / "client.key"),
    )


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Pki:
    return _make_pki(tmp_path_factory.mktemp("epp-pki"))


# --- schema validation of every frame -------------------------------------------------------------
@pytest.fixture(scope="session")
def epp_schema() -> etree.XMLSchema:
    path = XSD_DIR / "epp-all.xsd"
    if not path.exists():
        pytest.skip(f"The EPP schemas are not at {XSD_DIR} (the shared epp-xsd checkout)")
    return etree.XMLSchema(etree.parse(str(path)))


def _xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(data, parser)


class Frames:
    """Records every frame the server receives ("in") and sends ("out")."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []
        self.exempt: set[bytes] = set()
        self._lock = threading.Lock()

    def __call__(self, direction: str, data: bytes) -> None:
        with self._lock:
            self.items.append((direction, data))

    def received(self) -> list[etree._Element]:
        return [
            _xml(d) for direction, d in self.items if direction == "in" and d not in self.exempt
        ]

    def sent(self) -> list[etree._Element]:
        return [_xml(d) for direction, d in self.items if direction == "out"]

    def commands(self, verb: str, obj: str | None = None) -> list[etree._Element]:
        found = []
        for doc in self.received():
            command = doc.find(f"{{{EPP}}}command")
            element = command.find(f"{{{EPP}}}{verb}") if command is not None else None
            if element is None:
                continue
            body = etree.QName(element[0]) if len(element) else None
            if obj is None or (body is not None and body.namespace.endswith(f":{obj}-1.0")):
                found.append(element)
        return found

    def hellos(self) -> int:
        return sum(1 for doc in self.received() if doc.find(f"{{{EPP}}}hello") is not None)

    def result_codes(self) -> list[int]:
        return [int(e.get("code")) for doc in self.sent() for e in doc.iter(f"{{{EPP}}}result")]

    def assert_valid(self, schema: etree.XMLSchema) -> None:
        for direction, data in self.items:
            if data in self.exempt:
                continue
            if not schema.validate(_xml(data)):
                error = schema.error_log.last_error
                raise AssertionError(f"invalid {direction} frame: {error}\n{data.decode()[:3000]}")


# --- servers, accounts, adapters ----------------------------------------------------------------
@pytest.fixture
def upstream(db) -> RegistrarAccount:
    """The sandbox registry the EPP server fronts (its knobs: balance, reserved names, ...)."""
    return RegistrarAccountFactory(
        name="EPP upstream", settings={"balance": "1000", "reserved": ["reserved-name.test"]}
    )


def _start(pki: Pki, frames: Frames, upstream: RegistrarAccount, *, mtls: bool = False):
    return serve(
        background=True,
        host="127.0.0.1",
        port=0,
        certfile=pki.server_cert,
        keyfile=pki.server_key,
        cafile=pki.ca if mtls else None,
        account=upstream.name,
        client_id=CLID,
        password=PASSWORD,
        on_frame=frames,
    )


@pytest.fixture
def frames(epp_schema):
    recorded = Frames()
    yield recorded
    recorded.assert_valid(epp_schema)


@pytest.fixture
def server(pki, frames, upstream):
    running = _start(pki, frames, upstream)
    yield running
    epp.close_sessions()
    running.stop()


def make_account(server, pki: Pki, *, name="EPP registrar", password=PASSWORD, **settings):
    return RegistrarAccount.objects.create(
        name=name,
        kind=RegistrarAccount.Kind.EPP,
        settings={
            "host": "127.0.0.1",
            "port": server.port,
            "cafile": str(pki.ca),
            "timeout": 10,
            **settings,
        },
        credentials=json.dumps({"client_id": CLID, "password": password}),
        max_sessions=2,
    )


@pytest.fixture
def account(server, pki) -> RegistrarAccount:
    return make_account(server, pki)


@pytest.fixture
def adapter(account) -> epp.EppAdapter:
    return adapter_for(account)


def contact(role: str, first="Ada", last="Lovelace") -> ContactData:
    return ContactData(
        role=role,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}@example.test",
        phone="+44.2071234567",
        address_1="12 St James's Square",
        address_2="Floor 2",
        city="London",
        country="gb",
        organization="Analytical Engines Ltd",
        zip="SW1Y 4JH",
    )


def register(adapter, name, key, **kwargs):
    options = {
        "years": 1,
        "nameservers": ["ns1.dns-host.test", "ns2.dns-host.test"],
        "contacts": [contact("registrant"), contact("admin"), contact("tech", "Tim", "Berners")],
        "privacy": False,
        **kwargs,
    }
    return adapter.register(name=name, idempotency_key=key, **options)


def other_registrars_domain(name: str, auth_code: str = "Their-auth-1") -> SandboxDomain:
    now = timezone.now()
    return SandboxDomain.objects.create(
        name=name,
        account="Other registrar",
        registered_at=now - timedelta(days=100),
        expires_at=now + timedelta(days=265),
        statuses=["ok"],
        auth_code=auth_code,
    )


# --- a raw EPP client for what the adapter never sends -------------------------------------------
class RawEpp:
    def __init__(self, port: int, pki: Pki):
        context = ssl.create_default_context(cafile=str(pki.ca))
        plain = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = context.wrap_socket(plain, server_hostname="127.0.0.1")
        self.greeting = self.read()
        self.counter = 0

    def read(self) -> etree._Element | None:
        data = read_frame(self.sock)
        return _xml(data) if data is not None else None

    def send(self, payload: bytes | str) -> etree._Element | None:
        write_frame(self.sock, payload.encode() if isinstance(payload, str) else payload)
        return self.read()

    def command(self, body: str, extension: str = "") -> etree._Element:
        self.counter += 1
        extension = f"<extension>{extension}</extension>" if extension else ""
        return self.send(
            f'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="{EPP}"><command>{body}'
            f"{extension}<clTRID>RAW-{self.counter:04d}</clTRID></command></epp>"
        )

    def login(self, password: str = PASSWORD) -> etree._Element:
        return self.command(
            f"<login><clID>{CLID}</clID><pw>{password}</pw><options><version>1.0</version>"
            f"<lang>en</lang></options><svcs><objURI>{DOMAIN}</objURI></svcs></login>"
        )

    def close(self) -> None:
        self.sock.close()


def check_xml(name: str) -> str:
    return (
        f'<check><domain:check xmlns:domain="{DOMAIN}"><domain:name>{name}</domain:name>'
        "</domain:check></check>"
    )


def code(doc: etree._Element) -> int:
    return int(doc.find(f".//{{{EPP}}}result").get("code"))


@pytest.fixture
def raw(server, pki):
    client = RawEpp(server.port, pki)
    yield client
    client.close()


# --- the protocol front end -----------------------------------------------------------------------
class TestServer:
    def test_greeting_announces_the_services_and_hello_repeats_it(self, raw):
        greeting = raw.greeting.find(f"{{{EPP}}}greeting")
        assert greeting.findtext(f"{{{EPP}}}svID") == "Nameport sandbox EPP server"
        assert [e.text for e in greeting.iter(f"{{{EPP}}}objURI")] == [
            DOMAIN,
            "urn:ietf:params:xml:ns:host-1.0",
            "urn:ietf:params:xml:ns:contact-1.0",
        ]
        assert [e.text for e in greeting.iter(f"{{{EPP}}}extURI")] == [
            "urn:ietf:params:xml:ns:secDNS-1.1",
            "urn:ietf:params:xml:ns:rgp-1.0",
            "urn:ietf:params:xml:ns:epp:fee-1.0",
        ]
        again = raw.send(f'<epp xmlns="{EPP}"><hello/></epp>')
        assert again.find(f"{{{EPP}}}greeting") is not None

    def test_commands_need_a_session_and_logout_ends_it(self, raw):
        check = check_xml("a.test")
        assert code(raw.command(check)) == 2002
        assert code(raw.login()) == 1000
        answer = raw.command(check)
        assert code(answer) == 1000
        assert answer.findtext(f".//{{{EPP}}}clTRID") == "RAW-0003"
        assert answer.findtext(f".//{{{EPP}}}svTRID").startswith("SBX-")
        assert code(raw.command("<logout/>")) == 1500
        assert raw.read() is None  # the server closed the connection

    def test_three_bad_logins_close_the_connection(self, raw):
        assert code(raw.login("Wrong-pw-1")) == 2200
        assert code(raw.login("Wrong-pw-2")) == 2200
        assert code(raw.login("Wrong-pw-3")) == 2501
        assert raw.read() is None

    def test_malformed_xml_answers_2001_and_the_connection_stays_usable(self, raw, frames):
        broken = [
            b"<epp><command><check>",  # not well-formed
            b'<?xml version="1.0"?><!DOCTYPE epp [<!ENTITY x "boom">]><epp>&x;</epp>',
            b"\xff\xfe not even text",
            f'<epp xmlns="{EPP}"><response/></epp>'.encode(),  # well-formed, not a command
        ]
        frames.exempt.update(broken)
        for payload in broken:
            answer = raw.send(payload)
            assert code(answer) == 2001
        assert code(raw.login()) == 1000
        check = check_xml("ok.test")
        assert code(raw.command(check)) == 1000

    def test_renew_checks_the_current_expiry_date(self, raw, adapter):
        info = register(adapter, "renew-date.test", "key-renew-date")
        assert code(raw.login()) == 1000
        wrong = (info.expires_at + timedelta(days=1)).date().isoformat()
        renew = (
            f'<renew><domain:renew xmlns:domain="{DOMAIN}"><domain:name>renew-date.test'
            f"</domain:name><domain:curExpDate>{wrong}</domain:curExpDate>"
            '<domain:period unit="y">1</domain:period></domain:renew></renew>'
        )
        assert code(raw.command(renew)) == 2306
        assert SandboxDomain.objects.get(name="renew-date.test").expires_at == info.expires_at

    def test_with_the_schema_an_invalid_command_is_a_syntax_error(
        self, pki, frames, upstream, epp_schema
    ):
        running = serve(
            background=True,
            port=0,
            certfile=pki.server_cert,
            keyfile=pki.server_key,
            account=upstream.name,
            client_id=CLID,
            password=PASSWORD,
            schema=epp_schema,
            on_frame=frames,
        )
        client = RawEpp(running.port, pki)
        try:
            assert code(client.login()) == 1000
            invalid = f'<check><domain:check xmlns:domain="{DOMAIN}"/></check>'
            answer = client.command(invalid)
            frames.exempt.add(frames.items[-2][1])
            assert code(answer) == 2001
            assert code(client.command(check_xml("fine.test"))) == 1000
        finally:
            client.close()
            running.stop()

    def test_contacts_check_create_info_update_delete(self, server, pki):
        config = epptools.Config(
            host="127.0.0.1",
            port=server.port,
            clid=CLID,
            password=PASSWORD,
            ca_file=str(pki.ca),
            login_security=False,
        )
        client = epptools.Client(config).throw_on_failure(False)
        client.connect()
        client.login()
        grace = {
            "name": "Grace Hopper",
            "city": "Arlington",
            "cc": "US",
            "street": ["1 Navy Way"],
            "voice": "+1.7035550100",
            "email": "grace@example.test",
            "auth_info": "Contact-pw-1",
        }
        try:
            assert client.contact.check(["C-NEW-1"]).availability() == {"C-NEW-1": True}
            assert client.contact.create("C-NEW-1", **grace).code() == 1000
            assert client.contact.create("C-NEW-1", **grace).code() == 2302
            info = client.contact.info("C-NEW-1")
            assert info.value("name") == "Grace Hopper"
            assert info.value("voice") == "+1.7035550100"
            changed = client.contact.update("C-NEW-1", chg={"email": "hopper@example.test"})
            assert changed.code() == 1000
            assert client.contact.info("C-NEW-1").value("email") == "hopper@example.test"
            assert client.contact.delete("C-NEW-1").code() == 1000
            assert client.contact.info("C-NEW-1").code() == 2303
        finally:
            client.logout()
            client.disconnect()


# --- the adapter ----------------------------------------------------------------------------------
class TestAdapter:
    def test_wrong_password_is_an_authorization_error(self, server, pki):
        adapter = adapter_for(make_account(server, pki, password="Not-the-pw"))
        with pytest.raises(AuthorizationError):
            adapter.check(["anything.test"])

    def test_missing_credentials_are_a_permanent_error(self, server, pki):
        account = make_account(server, pki)
        account.credentials = ""
        with pytest.raises(PermanentError):
            adapter_for(account).check(["anything.test"])

    def test_it_checks_many_names_in_one_command(self, adapter, frames):
        other_registrars_domain("taken.test")
        names = ["free-one.test", "taken.test", "reserved-name.test", "free-two.test", "x.test"]
        results = adapter.check(names)
        assert [(r.name, r.available, r.reason) for r in results] == [
            ("free-one.test", True, ""),
            ("taken.test", False, "registered"),
            ("reserved-name.test", False, "reserved"),
            ("free-two.test", True, ""),
            ("x.test", True, ""),
        ]
        checks = frames.commands("check", "domain")
        assert len(checks) == 1
        assert len(checks[0][0]) == 5

    def test_register_with_nameservers_contacts_and_ds_then_info_shows_them(self, adapter):
        created = register(adapter, "new-domain.test", "key-create", years=2, ds_records=[DS])
        assert created.name == "new-domain.test"
        assert created.reference.endswith("-SBX")
        assert created.expires_at.year == created.registered_at.year + 2
        info = adapter.info("new-domain.test")
        assert info.nameservers == ["ns1.dns-host.test", "ns2.dns-host.test"]
        assert info.ds_records == [DS]
        assert info.statuses == ["ok"] and info.locked is False
        roles = {c.role: c for c in info.contacts}
        assert set(roles) == {"registrant", "admin", "tech"}
        assert roles["registrant"].handle == roles["admin"].handle  # one person, one contact
        assert roles["tech"].handle != roles["admin"].handle
        assert (roles["tech"].first_name, roles["tech"].last_name) == ("Tim", "Berners")
        assert roles["admin"].phone == "+44.2071234567"
        assert roles["admin"].country == "GB" and roles["admin"].address_2 == "Floor 2"
        assert SandboxHost.objects.filter(hostname__startswith="ns").count() == 2
        assert len(adapter.auth_code("new-domain.test")) >= 12

    def test_a_repeated_registration_is_applied_once(self, adapter, upstream):
        first = register(adapter, "once.test", "key-once")
        again = register(adapter, "once.test", "key-once")
        assert again.expires_at == first.expires_at
        assert SandboxBalance.objects.get(account=upstream.name).amount == Decimal("992.00")

    def test_a_repeated_renewal_is_refused_not_applied_twice(self, adapter, upstream, frames):
        created = register(adapter, "renew-me.test", "key-renew-create")
        renewed = adapter.renew(
            name="renew-me.test",
            years=2,
            current_expiry=created.expires_at,
            idempotency_key="key-renew",
        )
        assert renewed.expires_at.year == created.expires_at.year + 2
        # The response was "lost" and the same renewal goes again: the server (replay off, as a
        # real registry) does not know the clTRID, but the curExpDate recorded when the renewal
        # was queued no longer matches, so it refuses instead of renewing twice.
        with pytest.raises(PermanentError) as refused:
            adapter.renew(
                name="renew-me.test",
                years=2,
                current_expiry=created.expires_at,
                idempotency_key="key-renew",
            )
        assert refused.value.code == 2306
        row = SandboxDomain.objects.get(name="renew-me.test")
        assert row.expires_at == renewed.expires_at
        assert SandboxBalance.objects.get(account=upstream.name).amount == Decimal("976.00")
        sent = [r.findtext(f".//{{{DOMAIN}}}curExpDate") for r in frames.commands("renew")]
        assert sent == [created.expires_at.date().isoformat()] * 2, "never read again"

    def test_renew_needs_the_recorded_current_expiry(self, adapter, frames):
        register(adapter, "no-expiry.test", "key-ne-create")
        with pytest.raises(PermanentError, match="No current expiry"):
            adapter.renew(
                name="no-expiry.test", years=1, current_expiry=None, idempotency_key="key-ne"
            )
        assert frames.commands("renew") == []

    def test_transfer_needs_the_right_auth_code(self, adapter, upstream):
        row = other_registrars_domain("move-me.test", auth_code="Their-auth-1")
        with pytest.raises(AuthorizationError):
            adapter.transfer(
                name="move-me.test", auth_code="wrong", years=1, idempotency_key="key-t1"
            )
        info = adapter.transfer(
            name="move-me.test", auth_code="Their-auth-1", years=1, idempotency_key="key-t2"
        )
        assert info.expires_at.year == row.expires_at.year + 1
        row.refresh_from_db()
        assert row.account == upstream.name
        assert row.auth_code != "Their-auth-1"

    def test_nameserver_and_lock_updates(self, adapter):
        register(adapter, "update-me.test", "key-update-create")
        info = adapter.set_nameservers(
            name="update-me.test",
            nameservers=["ns2.dns-host.test", "ns3.other-dns.test"],
            idempotency_key="key-ns",
        )
        assert info.nameservers == ["ns2.dns-host.test", "ns3.other-dns.test"]
        locked = adapter.set_lock(name="update-me.test", locked=True, idempotency_key="key-lock")
        assert locked.locked is True and locked.statuses == ["clientTransferProhibited"]
        assert SandboxDomain.objects.get(name="update-me.test").locked is True
        # Nameservers still change on a locked domain (the lock is transfer-only).
        adapter.set_nameservers(
            name="update-me.test", nameservers=["ns1.dns-host.test"], idempotency_key="key-ns2"
        )
        unlocked = adapter.set_lock(name="update-me.test", locked=False, idempotency_key="key-ul")
        assert unlocked.locked is False and unlocked.nameservers == ["ns1.dns-host.test"]

    def test_ds_records_contacts_privacy_and_autorenew(self, adapter):
        register(adapter, "sec.test", "key-sec-create", ds_records=[DS])
        other = DsData(key_tag=54321, algorithm=8, digest_type=2, digest="cd" * 32)
        info = adapter.set_ds_records(name="sec.test", records=[other], idempotency_key="key-ds")
        assert info.ds_records == [DsData(54321, 8, 2, "CD" * 32)]
        cleared = adapter.set_ds_records(name="sec.test", records=[], idempotency_key="key-ds0")
        assert cleared.ds_records == []
        changed = adapter.set_contacts(
            name="sec.test",
            contacts=[contact("registrant", "Alan", "Turing"), contact("admin", "Alan", "Turing")],
            idempotency_key="key-contacts",
        )
        roles = {c.role: c for c in changed.contacts}
        assert roles["registrant"].first_name == "Alan" and roles["admin"].first_name == "Alan"
        assert roles["tech"].first_name == "Tim"  # not mentioned: left alone
        assert adapter.set_privacy(name="sec.test", enabled=True, idempotency_key="p").privacy
        assert (
            adapter.set_autorenew(name="sec.test", enabled=False, idempotency_key="a").autorenew
            is False
        )

    def test_glue_host_create_update_delete(self, adapter):
        register(adapter, "glue.test", "key-glue-create")
        host = adapter.host_create(
            hostname="ns1.glue.test", ipv4=["192.0.2.1"], ipv6=[], idempotency_key="key-h1"
        )
        assert (host.ipv4, host.ipv6) == (["192.0.2.1"], [])
        host = adapter.host_update(
            hostname="ns1.glue.test",
            ipv4=["192.0.2.2"],
            ipv6=["2001:db8::53"],
            idempotency_key="key-h2",
        )
        assert (host.ipv4, host.ipv6) == (["192.0.2.2"], ["2001:db8::53"])
        adapter.set_nameservers(
            name="glue.test",
            nameservers=["ns1.glue.test", "ns1.dns-host.test"],
            idempotency_key="k",
        )
        with pytest.raises(PermanentError) as refused:
            adapter.host_delete(hostname="ns1.glue.test", idempotency_key="key-h3")
        assert refused.value.code == 2305  # in use as a nameserver
        adapter.set_nameservers(
            name="glue.test", nameservers=["ns1.dns-host.test"], idempotency_key="k2"
        )
        adapter.host_delete(hostname="ns1.glue.test", idempotency_key="key-h4")
        assert not SandboxHost.objects.filter(hostname="ns1.glue.test").exists()
        with pytest.raises(NotFoundError):
            adapter.host_info("ns1.glue.test")
        # A glue host under a domain of the registry needs its address.
        with pytest.raises(PermanentError):
            adapter.host_create(hostname="ns2.glue.test", ipv4=[], ipv6=[], idempotency_key="h5")

    def test_delete_puts_the_domain_in_redemption_and_restore_brings_it_back(self, adapter):
        register(adapter, "gone.test", "key-gone-create")
        deleted = adapter.delete(name="gone.test", idempotency_key="key-delete")
        assert deleted.statuses == ["pendingDelete"]
        with pytest.raises(PermanentError) as refused:
            adapter.renew(
                name="gone.test",
                years=1,
                current_expiry=deleted.expires_at,
                idempotency_key="key-renew-gone",
            )
        assert refused.value.code == 2304
        restored = adapter.restore(name="gone.test", idempotency_key="key-restore")
        assert restored.statuses == ["ok"]

    def test_insufficient_funds_is_reported_as_such(self, adapter, upstream):
        upstream.settings = {"balance": "5.00"}
        upstream.save()
        with pytest.raises(InsufficientFundsError) as refused:
            register(adapter, "too-dear.test", "key-dear")
        assert refused.value.code == 2104
        assert not SandboxDomain.objects.filter(name="too-dear.test").exists()

    def test_the_sandbox_failure_knob_is_a_transient_command_failure(self, adapter, upstream):
        created = register(adapter, "flaky.test", "key-flaky")
        upstream.settings = {**upstream.settings, "failure_rate": 1, "failure_kind": "transient"}
        upstream.save()
        with pytest.raises(TransientError) as failed:
            adapter.renew(
                name="flaky.test",
                years=1,
                current_expiry=created.expires_at,
                idempotency_key="key-flaky-renew",
            )
        assert failed.value.code == 2400
        assert not isinstance(failed.value, OutcomeUnknown), "the registry said it failed"

    def test_another_registrars_domain_is_not_ours_to_change(self, adapter):
        other_registrars_domain("theirs.test")
        with pytest.raises(AuthorizationError):
            adapter.info("theirs.test")
        with pytest.raises(NotFoundError):
            adapter.info("nobody.test")


class TestSessions:
    def test_one_session_is_reused_across_calls(self, adapter, frames):
        adapter.check(["a.test"])
        adapter.check(["b.test"])
        assert len(frames.commands("login")) == 1

    def test_the_adapter_reconnects_after_the_server_drops_the_connection(
        self, adapter, server, frames
    ):
        adapter.check(["before.test"])
        assert server.drop_sessions() == 1
        assert adapter.check(["after.test"])[0].available
        assert len(frames.commands("login")) == 2

    def test_the_adapter_logs_in_again_after_2500(self, adapter, server, frames):
        created = register(adapter, "expired-session.test", "key-es")
        server.expire_sessions()
        renewed = adapter.renew(
            name="expired-session.test",
            years=1,
            current_expiry=created.expires_at,
            idempotency_key="key-es-r",
        )
        assert 2500 in frames.result_codes()
        assert len(frames.commands("login")) == 2
        assert renewed.expires_at.year == created.expires_at.year + 1

    def test_an_idle_session_is_kept_alive_with_hello(self, adapter, account, frames):
        adapter.check(["a.test"])
        epp._POOLS[account.pk]._idle[0].last_used -= 10_000
        adapter.check(["b.test"])
        assert frames.hellos() == 1
        assert len(frames.commands("login")) == 1

    def test_a_clTRID_mismatch_is_transient(self, adapter, monkeypatch):
        adapter.check(["a.test"])
        monkeypatch.setattr(EppSession, "echo_cltrid", lambda self, cltrid: "SOMEONE-ELSES")
        with pytest.raises(TransientError):
            adapter.check(["b.test"])
        monkeypatch.undo()
        assert adapter.check(["c.test"])[0].available

    def test_no_server_is_transient(self, server, pki):
        adapter = adapter_for(make_account(server, pki))
        server.stop()
        with pytest.raises(TransientError):
            adapter.check(["a.test"])

    def test_sessions_never_exceed_the_accounts_limit(self):
        pool = epp._Pool(fingerprint="x", config=None, max_sessions=1, keepalive=60)
        with pool.session(wait=1), pytest.raises(TransientError), pool.session(wait=0.01):
            pass


class TestMutualTls:
    @pytest.fixture
    def mtls_server(self, pki, frames, upstream):
        running = _start(pki, frames, upstream, mtls=True)
        yield running
        epp.close_sessions()
        running.stop()

    def test_a_client_certificate_is_required_when_configured(self, mtls_server, pki):
        anonymous = adapter_for(make_account(mtls_server, pki, name="No certificate"))
        with pytest.raises(TransientError):
            anonymous.check(["a.test"])
        known = adapter_for(
            make_account(
                mtls_server,
                pki,
                name="With certificate",
                certfile=str(pki.client_cert),
                keyfile=str(pki.client_key),
            )
        )
        assert known.check(["a.test"])[0].available


def test_the_outbox_registers_a_domain_over_epp(account, upstream):
    TldFactory(name="epptest", registrar_account=account)
    customer = CustomerFactory(user=UserFactory())
    domain = domain_register(actor=SYSTEM, customer=customer, name="outbox-epp.epptest")
    operation = RegistrarOperation.objects.get(domain=domain)

    outcome = outbox.run_operation(operation.pk)

    assert outcome.status == RegistrarOperation.Status.SUCCEEDED
    domain.refresh_from_db()
    assert domain.status == DomainStatus.ACTIVE
    assert domain.registry_reference.endswith("-SBX")
    assert domain.expires_at is not None
    row = SandboxDomain.objects.get(name="outbox-epp.epptest")
    assert row.account == upstream.name
    assert row.nameservers == ["ns1.nameport.test", "ns2.nameport.test"]
    assert {c["role"] for c in row.contacts} == {"registrant", "admin", "tech", "billing"}
    assert len({c["handle"] for c in row.contacts}) == 1  # the customer, once


def test_the_management_command_needs_a_password(pki, monkeypatch):
    monkeypatch.delenv("NAMEPORT_SANDBOX_EPP_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        call_command(
            "run_sandbox_epp",
            "--cert",
            str(pki.server_cert),
            "--key",
            str(pki.server_key),
            "--client-id",
            CLID,
            "--port",
            "0",
        )

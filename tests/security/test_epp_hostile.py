"""Issue 10, section 3: hostile EPP responses are refused without expanding anything.

A registry (or whoever sits on its address with a certificate we trust) may answer with an
entity-expansion bomb (billion laughs, quadratic blowup), an external entity (XXE: a local file
or a URL), parameter entities or a DTD to fetch. The response layer parses every document with
defusedxml, which refuses any DTD before reading it: HostileResponseError (permanent: a registry
that sends this is broken or compromised). The adapter's transport runs that parser over every
frame, the greeting included, before epptools (which parses with xml.etree) sees it.

Checked here: each document through every reader of the response layer (refused, quickly, in
little memory, without the entity's target in the error), then through the adapter over a real
TLS socket from a tiny hostile EPP server on 127.0.0.1 (a hostile greeting: refused before the
login is sent; a hostile answer to a command: refused, the command not sent again), and through
the outbox (the queued registration fails for staff, the secret appears nowhere).
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import secrets
import socket
import ssl
import struct
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import epptools.response
import pytest

from domains.models import DomainStatus, RegistrarAccount, RegistrarOperation
from domains.outbox import run_operation
from domains.registrars import adapter_for, epp
from domains.registrars import epp_responses as r
from domains.registrars.base import HostileResponseError, PermanentError
from domains.services import domain_register
from portal.tenancy import SYSTEM
from tests.customers.factories import CustomerFactory, UserFactory
from tests.domains.factories import TldFactory

EPP = "urn:ietf:params:xml:ns:epp-1.0"
SECRET = "NP-SECRET-" + secrets.token_hex(8)
CLID = "np-hostile"
PASSWORD = "Hostile-pw-1"


# --- the hostile documents ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def secret_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "secret.txt"
    path.write_text(SECRET)
    return path


class Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # shared by the handler instances, on purpose

    def do_GET(self):
        Recorder.requests.append(self.path)
        body = f'<!ENTITY leak "{SECRET}">'.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_url():
    """A web server on 127.0.0.1 that would serve a DTD: it must never be asked."""
    Recorder.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    assert Recorder.requests == []


def greeting_body(svid: str = "Hostile registry") -> str:
    return (
        f"<greeting><svID>{svid}</svID><svDate>2026-04-03T22:00:00Z</svDate><svcMenu>"
        "<version>1.0</version><lang>en</lang>"
        "<objURI>urn:ietf:params:xml:ns:domain-1.0</objURI>"
        "<objURI>urn:ietf:params:xml:ns:host-1.0</objURI></svcMenu></greeting>"
    )


def check_body(name: str, cltrid: str) -> str:
    return (
        '<response><result code="1000"><msg>Command completed successfully</msg></result>'
        '<resData><domain:chkData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:cd>'
        f'<domain:name avail="1">{name}</domain:name></domain:cd></domain:chkData></resData>'
        f"<trID><clTRID>{cltrid}</clTRID><svTRID>SV-1</svTRID></trID></response>"
    )


def hostile(kind: str, body: str, *, secret_file: Path, url: str) -> str:
    """An EPP document whose ``&x;`` in ``body`` is the attack of ``kind``."""
    epp_open = f'<epp xmlns="{EPP}">'
    declaration = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if kind == "billion laughs":
        entities = ['<!ENTITY x0 "ha">'] + [
            f'<!ENTITY x{i} "{f"&x{i - 1};" * 10}">' for i in range(1, 10)
        ]
        dtd = f'<!DOCTYPE epp [{"".join(entities)}<!ENTITY x "&x9;">]>'
    elif kind == "quadratic blowup":
        dtd = f'<!DOCTYPE epp [<!ENTITY a "{"A" * 100_000}">]>'
        body = body.replace("&x;", "&a;" * 5_000)
    elif kind == "external entity file":
        dtd = f'<!DOCTYPE epp [<!ENTITY x SYSTEM "{secret_file.as_uri()}">]>'
    elif kind == "external entity http":
        dtd = f'<!DOCTYPE epp [<!ENTITY x SYSTEM "{url}/secret">]>'
    elif kind == "parameter entity":
        dtd = f'<!DOCTYPE epp [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p; <!ENTITY x "&leak;">]>'
    elif kind == "internal parameter entity":
        dtd = "<!DOCTYPE epp [<!ENTITY % d \"<!ENTITY x 'boom'>\"> %d;]>"
    elif kind == "dtd retrieval":
        dtd = f'<!DOCTYPE epp SYSTEM "{url}/epp.dtd">'
        body = body.replace("&x;", "x")
    elif kind == "public dtd retrieval":
        dtd = f'<!DOCTYPE epp PUBLIC "-//Hostile//EPP//EN" "{url}/public.dtd">'
        body = body.replace("&x;", "x")
    else:  # pragma: no cover
        raise AssertionError(kind)
    return f"{declaration}{dtd}{epp_open}{body}</epp>"


KINDS = [
    "billion laughs",
    "quadratic blowup",
    "external entity file",
    "external entity http",
    "parameter entity",
    "internal parameter entity",
    "dtd retrieval",
    "public dtd retrieval",
]
READERS = [
    r.document,
    r.parse_response,
    r.parse_greeting,
    r.parse_domain_check,
    r.parse_domain_info,
    r.parse_poll,
    r.parse_fee_charge,
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", READERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_the_response_layer_refuses_without_expanding(
    kind, reader, as_bytes, secret_file, http_url
):
    body = greeting_body("&x;") if reader is r.parse_greeting else check_body("&x;", "NP-1")
    document = hostile(kind, body, secret_file=secret_file, url=http_url)
    data = document.encode() if as_bytes else document
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(HostileResponseError) as refused:
            reader(data)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * 1024 * 1024 + 4 * len(document)  # nothing expanded (a bomb is gigabytes)
    assert isinstance(refused.value, PermanentError) and not refused.value.retryable
    assert refused.value.code == r.HOSTILE
    message = refused.value.message
    assert "refused unread" in message and "broken or compromised" in message
    for leaked in (SECRET, str(secret_file), http_url, "boom", "haha"):
        assert leaked not in message
    assert Recorder.requests == []


# --- a hostile EPP server over TLS --------------------------------------------------------------
@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Tls:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("hostile-tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    paths = Tls(cert=directory / "cert.pem", key=directory / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def write_frame(sock, payload: bytes) -> None:
    sock.sendall(struct.pack("!I", len(payload) + 4) + payload)


def read_frame(sock) -> bytes | None:
    def exactly(n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    header = exactly(4)
    if header is None:
        return None
    return exactly(struct.unpack("!I", header)[0] - 4)


@dataclass
class HostileServer:
    """An EPP server on 127.0.0.1 that answers with ``greeting`` and, after a normal login, each
    command with ``answer(frame)``; it records connections and the frames it received."""

    tls: Tls
    greeting: str
    answer: object = None
    connections: int = 0
    frames: list[bytes] = field(default_factory=list)

    def start(self) -> HostileServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert, self.tls.key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # accept() wakes up to see stop()
        self.stopping = threading.Event()
        self.port = self.listener.getsockname()[1]
        self.context = context
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                plain, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            try:
                with self.context.wrap_socket(plain, server_side=True) as conn:
                    conn.settimeout(10)
                    self._session(conn)
            except (OSError, ssl.SSLError):
                continue

    def _session(self, conn) -> None:
        write_frame(conn, self.greeting.encode())
        while (frame := read_frame(conn)) is not None:
            self.frames.append(frame)
            text = frame.decode()
            cltrid = text.split("<clTRID>")[-1].split("</clTRID>")[0] if "<clTRID>" in text else ""
            if "<login>" in text:
                write_frame(conn, _login_answer(cltrid).encode())
            elif self.answer is not None:
                write_frame(conn, self.answer(cltrid).encode())
            else:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.listener.close()

    def received(self, verb: str) -> int:
        return sum(1 for f in self.frames if f"<{verb}" in f.decode())


def _login_answer(cltrid: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="{EPP}"><response>'
        '<result code="1000"><msg>Command completed successfully</msg></result>'
        f"<trID><clTRID>{cltrid}</clTRID><svTRID>SV-0</svTRID></trID></response></epp>"
    )


def plain_greeting() -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="{EPP}">{greeting_body()}</epp>'


@pytest.fixture
def parsed_by_epptools(monkeypatch) -> list[str]:
    """Every document epptools' own parser (xml.etree) is given."""
    seen: list[str] = []
    original = epptools.response.Response.from_xml.__func__

    def spy(cls, xml):
        seen.append(xml)
        return original(cls, xml)

    monkeypatch.setattr(epptools.response.Response, "from_xml", classmethod(spy))
    return seen


def account_for(server: HostileServer, tls: Tls) -> RegistrarAccount:
    return RegistrarAccount.objects.create(
        name="Hostile EPP registry",
        kind=RegistrarAccount.Kind.EPP,
        settings={
            "host": "127.0.0.1",
            "port": server.port,
            "cafile": str(tls.cert),
            "timeout": 5,
        },
        credentials=json.dumps({"client_id": CLID, "password": PASSWORD}),
        max_sessions=1,
    )


@pytest.fixture
def serve(tls):
    started: list[HostileServer] = []

    def start(greeting: str, answer=None) -> HostileServer:
        server = HostileServer(tls=tls, greeting=greeting, answer=answer).start()
        started.append(server)
        return server

    yield start
    epp.close_sessions()
    for server in started:
        server.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["external entity file", "billion laughs", "dtd retrieval"])
def test_a_hostile_greeting_is_refused_before_the_login_is_sent(
    kind, serve, tls, secret_file, http_url, parsed_by_epptools
):
    server = serve(hostile(kind, greeting_body("&x;"), secret_file=secret_file, url=http_url))
    adapter = adapter_for(account_for(server, tls))
    started = time.monotonic()
    with pytest.raises(HostileResponseError) as refused:
        adapter.check(["anything.example"])
    assert time.monotonic() - started < 5
    assert server.connections == 1  # no reconnect
    assert server.frames == []  # our login (and password) never went to it
    assert f"EPP server 127.0.0.1:{server.port}" in refused.value.message
    assert refused.value.code == r.HOSTILE
    assert SECRET not in refused.value.message and str(secret_file) not in refused.value.message
    assert parsed_by_epptools == []  # epptools' xml.etree never saw it
    assert Recorder.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["external entity file", "quadratic blowup", "parameter entity"])
def test_a_hostile_answer_to_a_command_is_refused_and_the_command_not_repeated(
    kind, serve, tls, secret_file, http_url, parsed_by_epptools
):
    def answer(cltrid: str) -> str:
        return hostile(kind, check_body("&x;", cltrid), secret_file=secret_file, url=http_url)

    server = serve(plain_greeting(), answer)
    adapter = adapter_for(account_for(server, tls))
    with pytest.raises(HostileResponseError) as refused:
        adapter.check(["anything.example"])
    assert server.connections == 1
    assert (server.received("login"), server.received("check")) == (1, 1)
    assert SECRET not in refused.value.message
    assert all("<!DOCTYPE" not in doc for doc in parsed_by_epptools)
    assert len(parsed_by_epptools) == 2  # the greeting and the login answer, both plain
    assert Recorder.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_queued_registration_against_a_hostile_registry_fails_for_staff(
    serve, tls, secret_file, http_url
):
    def answer(cltrid: str) -> str:
        body = check_body("&x;", cltrid)
        return hostile("external entity file", body, secret_file=secret_file, url=http_url)

    server = serve(plain_greeting(), answer)
    TldFactory(name="hostiletest", registrar_account=account_for(server, tls))
    customer = CustomerFactory(user=UserFactory())
    domain = domain_register(actor=SYSTEM, customer=customer, name="victim.hostiletest")
    operation = RegistrarOperation.objects.get(domain=domain)

    outcome = run_operation(operation.pk)

    operation.refresh_from_db()
    assert outcome.status == RegistrarOperation.Status.FAILED == operation.status
    assert operation.attempts == 1  # permanent: no retry against that registry
    assert "broken or compromised" in operation.last_error
    assert SECRET not in operation.last_error
    domain.refresh_from_db()
    assert domain.status != DomainStatus.ACTIVE
    assert server.connections == 1 and server.received("login") == 1

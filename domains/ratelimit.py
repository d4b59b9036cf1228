"""Each registrar account's rate budget, shared by every worker process and thread.

An account allows ``rate_per_second`` calls per second and ``max_sessions`` calls in flight at
once (e.g. about 20 requests per second at Name.com, four EPP sessions at .ee). With a Redis
broker the counters live in Redis, so any number of worker processes on any number of machines
stay within the budget together; with the embedded filesystem broker (one machine, one worker
process) they live in the process.

* Rate: a counter per account per wall-clock second (``INCR`` + ``EXPIRE``); a caller over the
  budget waits for the next second.
* Sessions: the calls in flight, as members of a sorted set scored by their expiry (a killed
  worker's slot frees itself after ``SLOT_TTL_SECONDS``); a caller over the budget waits, and
  gives up with a transient error after ``MAX_WAIT_SECONDS`` so the outbox retries it later.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings

from domains.registrars.base import TransientError

MAX_WAIT_SECONDS = 30.0
SLOT_TTL_SECONDS = 120
POLL_SECONDS = 0.02


@lru_cache(maxsize=1)
def _redis():
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=5)


class _LocalCounters:
    def __init__(self):
        self.lock = threading.Lock()
        self.per_second: dict[tuple[int, int], int] = {}
        self.in_flight: dict[int, int] = {}


_local = _LocalCounters()


def _take_rate_slot(account_id: int, rate: int, deadline: float) -> None:
    client = _redis()
    while True:
        now = time.time()
        second = int(now)
        if client is not None:
            key = f"nameport:rate:{account_id}:{second}"
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2)
            count = pipe.execute()[0]
        else:
            with _local.lock:
                count = _local.per_second.get((account_id, second), 0) + 1
                _local.per_second[(account_id, second)] = count
                for stale in [k for k in _local.per_second if k[1] < second - 1]:
                    del _local.per_second[stale]
        if count <= rate:
            return
        if time.monotonic() > deadline:
            raise TransientError("The registrar account's rate budget is used up; retrying later")
        time.sleep(max(second + 1 - now, POLL_SECONDS))


def _take_session(account_id: int, limit: int, deadline: float) -> str:
    """A slot among the account's calls in flight; returns its token (give it back after).

    In Redis the slots are members of a sorted set scored by their expiry, so a slot held by a
    worker that was killed mid-call frees itself after ``SLOT_TTL_SECONDS`` instead of leaking.
    """
    client = _redis()
    key = f"nameport:sessions:{account_id}"
    token = uuid.uuid4().hex
    while True:
        if client is not None:
            now = time.time()
            pipe = client.pipeline()
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {token: now + SLOT_TTL_SECONDS})
            pipe.zcard(key)
            pipe.expire(key, SLOT_TTL_SECONDS)
            count = pipe.execute()[2]
            if count <= limit:
                return token
            client.zrem(key, token)
        else:
            with _local.lock:
                count = _local.in_flight.get(account_id, 0)
                if count < limit:
                    _local.in_flight[account_id] = count + 1
                    return token
        if time.monotonic() > deadline:
            raise TransientError("All of the registrar account's sessions are busy; retrying later")
        time.sleep(POLL_SECONDS)


def _give_session(account_id: int, token: str) -> None:
    client = _redis()
    if client is not None:
        client.zrem(f"nameport:sessions:{account_id}", token)
    else:
        with _local.lock:
            _local.in_flight[account_id] = max(0, _local.in_flight.get(account_id, 1) - 1)


@contextmanager
def budget(account, *, max_wait: float = MAX_WAIT_SECONDS) -> Iterator[None]:
    """Hold one of ``account``'s sessions and one of this second's calls while the body runs."""
    deadline = time.monotonic() + max_wait
    token = _take_session(account.pk, max(1, account.max_sessions), deadline)
    try:
        _take_rate_slot(account.pk, max(1, account.rate_per_second), deadline)
        yield
    finally:
        _give_session(account.pk, token)

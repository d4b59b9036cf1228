"""Each registrar account's rate budget, shared by every worker process and thread.

An account allows ``rate_per_second`` calls per second and ``max_sessions`` calls in flight at
once (e.g. about 20 requests per second at Name.com, four EPP sessions at .ee). The counters live
in the broker's Redis (``redis://``, ``rediss://``, or the embedded server of ``make run`` on a
unix socket, ``redis+socket://``), so any number of worker processes on any number of machines
stay within the budget together; with the tests' in-memory broker they live in the process.

* Rate: a counter per account per wall-clock second; a caller over the budget waits for the next
  second.
* Sessions: the calls in flight, as members of a sorted set scored by their expiry (a killed
  worker's slot frees itself after ``SLOT_TTL_SECONDS``); a caller over the budget waits, and
  gives up with a transient error after ``MAX_WAIT_SECONDS`` so the outbox retries it later.

Each check is one Lua script, so one round trip to Redis. ``budget()`` takes a session and one
call for a single operation and gives the session back after. A drain uses a :class:`Lease`:
each of its calling threads keeps its session between calls (as a registry client keeps an EPP
session open, checked every quarter second) unless other callers are waiting for one, and takes
this second's calls from Redis in small chunks: a busy drain makes a small fraction of a round
trip per call instead of three.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from domains.registrars.base import TransientError
from portal.broker import broker_redis

MAX_WAIT_SECONDS = 30.0
SLOT_TTL_SECONDS = 120
POLL_SECONDS = 0.02
RATE_CHUNK_MAX = 16  # calls a lease takes from Redis at once (fewer for a small rate)
SESSION_CHECK_SECONDS = 0.25  # how long a kept session is used before Redis is asked again

# KEYS[1]: the account's sorted set of sessions, KEYS[2]: its "someone is waiting" flag.
# ARGV: now, expiry, token, limit, ttl. A token already in the set is refreshed (a lease keeping
# its session). 0: no session (the flag is raised); 1: held; 2: held, but others are waiting.
_SESSION_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    redis.call('SET', KEYS[2], '1', 'PX', 2000)
    return 0
  end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
return 1
"""
# KEYS[1]: the account's counter for this second. ARGV: calls wanted, rate. Calls granted.
_RATE_SCRIPT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used)
if grant <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], grant)
redis.call('EXPIRE', KEYS[1], 2)
return grant
"""


@lru_cache(maxsize=1)
def _redis():
    client = broker_redis()
    if client is None:
        return None
    return client, client.register_script(_SESSION_SCRIPT), client.register_script(_RATE_SCRIPT)


class _LocalCounters:
    def __init__(self):
        self.lock = threading.Lock()
        self.per_second: dict[tuple[int, int], int] = {}
        self.in_flight: dict[int, set[str]] = {}
        self.waiting_until: dict[int, float] = {}


_local = _LocalCounters()


def _take_rate(account_id: int, rate: int, deadline: float, want: int = 1) -> tuple[int, int]:
    """``(second, calls)``: up to ``want`` calls of that second (at least one; waits for a second
    that has room, or raises a transient error at ``deadline``)."""
    redis = _redis()
    while True:
        now = time.time()
        second = int(now)
        if redis is not None:
            granted = int(
                redis[2](keys=[f"nameport:rate:{account_id}:{second}"], args=[want, rate])
            )
        else:
            with _local.lock:
                used = _local.per_second.get((account_id, second), 0)
                granted = max(0, min(want, rate - used))
                _local.per_second[(account_id, second)] = used + granted
                for stale in [k for k in _local.per_second if k[1] < second - 1]:
                    del _local.per_second[stale]
        if granted:
            return second, granted
        if time.monotonic() > deadline:
            raise TransientError("The registrar account's rate budget is used up; retrying later")
        time.sleep(max(second + 1 - now, POLL_SECONDS))


def _take_session(
    account_id: int, limit: int, deadline: float, token: str | None = None
) -> tuple[str, bool]:
    """A slot among the account's calls in flight: ``(token, others_waiting)``; give the token
    back after. Passing a token held before keeps it (or takes it again if it expired).
    ``others_waiting`` says that callers were turned away lately: a lease then gives its
    session back after the call instead of keeping it."""
    redis = _redis()
    key = f"nameport:sessions:{account_id}"
    token = token or uuid.uuid4().hex
    while True:
        if redis is not None:
            now = time.time()
            args = [now, now + SLOT_TTL_SECONDS, token, limit, SLOT_TTL_SECONDS]
            held = int(redis[1](keys=[key, f"nameport:waiting:{account_id}"], args=args))
            if held:
                return token, held == 2
        else:
            with _local.lock:
                mine = _local.in_flight.setdefault(account_id, set())
                now = time.monotonic()
                if token in mine or len(mine) < limit:
                    mine.add(token)
                    return token, _local.waiting_until.get(account_id, 0) > now
                _local.waiting_until[account_id] = now + 2
        if time.monotonic() > deadline:
            raise TransientError("All of the registrar account's sessions are busy; retrying later")
        time.sleep(POLL_SECONDS)


def _give_session(account_id: int, token: str) -> None:
    redis = _redis()
    if redis is not None:
        redis[0].zrem(f"nameport:sessions:{account_id}", token)
    else:
        with _local.lock:
            _local.in_flight.get(account_id, set()).discard(token)


@contextmanager
def budget(account, *, max_wait: float = MAX_WAIT_SECONDS) -> Iterator[None]:
    """Hold one of ``account``'s sessions and one of this second's calls while the body runs."""
    deadline = time.monotonic() + max_wait
    token, _ = _take_session(account.pk, max(1, account.max_sessions), deadline)
    try:
        _take_rate(account.pk, max(1, account.rate_per_second), deadline)
        yield
    finally:
        _give_session(account.pk, token)


class Lease:
    """A drain's share of its accounts' budgets, for its calling threads.

    ``call(account)`` takes one of the account's sessions and one call of this second. The drain
    keeps the sessions it took between calls (as a registry client keeps EPP sessions open) and
    asks Redis about a kept one at most every ``SESSION_CHECK_SECONDS``; when that check says
    other callers are waiting for a session, it goes back after the call. This second's calls
    come from the shared counter in chunks. ``release()`` (when the drain ends) gives every
    session back; a drain that dies loses them to their expiry, as a killed worker does.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._rate: dict[int, list[int]] = {}  # account id -> [second, calls left]
        self._turns: dict[int, threading.Semaphore] = {}
        # account id -> sessions held but not in a call, with when Redis last confirmed them
        self._idle: dict[int, list[tuple[str, float]]] = {}

    @contextmanager
    def call(self, account, *, max_wait: float = MAX_WAIT_SECONDS) -> Iterator[None]:
        deadline = time.monotonic() + max_wait
        limit = max(1, account.max_sessions)
        # Threads of the drain queue here for one of the account's sessions, so no more of them
        # ask Redis than it could grant (and an idle held session is always free to reuse);
        # across processes, Redis decides.
        turn = self._turn(account.pk, limit)
        if not turn.acquire(timeout=max_wait):
            raise TransientError("All of the registrar account's sessions are busy; retrying later")
        try:
            with self._lock:
                idle = self._idle.setdefault(account.pk, [])
                token, checked = idle.pop() if idle else (None, 0.0)
            others_waiting = False
            if token is None or time.monotonic() - checked > SESSION_CHECK_SECONDS:
                token, others_waiting = _take_session(account.pk, limit, deadline, token)
                checked = time.monotonic()
            try:
                self._take_rate(account, deadline)
                yield
            finally:
                if others_waiting:
                    _give_session(account.pk, token)
                else:
                    with self._lock:
                        self._idle.setdefault(account.pk, []).append((token, checked))
        finally:
            turn.release()

    def release(self) -> None:
        """Give back every session the drain keeps."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for account_id, tokens in idle.items():
            for token, _ in tokens:
                _give_session(account_id, token)

    def _turn(self, account_id: int, limit: int) -> threading.Semaphore:
        with self._lock:
            if account_id not in self._turns:
                self._turns[account_id] = threading.Semaphore(limit)
            return self._turns[account_id]

    def _take_rate(self, account, deadline: float) -> None:
        rate = max(1, account.rate_per_second)
        with self._lock:
            second, left = self._rate.get(account.pk, (0, 0))
            if second == int(time.time()) and left > 0:
                self._rate[account.pk] = [second, left - 1]
                return
        chunk = max(1, min(RATE_CHUNK_MAX, rate // 8))
        second, granted = _take_rate(account.pk, rate, deadline, want=chunk)
        with self._lock:
            # Another thread may have taken a chunk of the same second meanwhile: keep both.
            held, left = self._rate.get(account.pk, (0, 0))
            self._rate[account.pk] = [second, granted - 1 + (left if held == second else 0)]


# --- one holder at a time -------------------------------------------------------------------------
# KEYS[1]: the lock; ARGV[1]: its holder's token. Frees the lock only for its holder.
_UNLOCK_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_held: dict[str, tuple[str, float]] = {}  # name -> (token, expiry), without Redis


@contextmanager
def exclusive(name: str, *, ttl: float) -> Iterator[bool]:
    """Hold the lock ``name`` while the body runs, shared by every worker process and machine
    through the broker's Redis (in the process without one): the body gets True when this
    caller holds it, False when someone else does (then it should do nothing). A lock whose
    holder died frees itself after ``ttl`` seconds; the body should end well before that."""
    key = f"nameport:lock:{name}"
    token = uuid.uuid4().hex
    redis = _redis()
    if redis is not None:
        acquired = bool(redis[0].set(key, token, nx=True, px=max(1, int(ttl * 1000))))
    else:
        with _local.lock:
            holder = _held.get(key)
            acquired = holder is None or holder[1] < time.monotonic()
            if acquired:
                _held[key] = (token, time.monotonic() + ttl)
    try:
        yield acquired
    finally:
        if acquired:
            if redis is not None:
                redis[0].eval(_UNLOCK_SCRIPT, 1, key, token)
            else:
                with _local.lock:
                    if _held.get(key, ("",))[0] == token:
                        del _held[key]

"""A registrar account's budget (calls per second, calls in flight) holds across threads, and
across processes when the counters live in Redis (CI)."""

import os
import threading
import time
import uuid
from collections import Counter
from types import SimpleNamespace

import pytest

from domains import ratelimit

REDIS_URL = os.environ.get("CELERY_BROKER_URL", "")
BACKENDS = ["memory://"] + ([REDIS_URL] if REDIS_URL.startswith("redis://") else [])


@pytest.fixture(params=BACKENDS, ids=lambda url: url.split(":")[0])
def backend(request, settings):
    settings.CELERY_BROKER_URL = request.param
    ratelimit._redis.cache_clear()
    yield request.param
    ratelimit._redis.cache_clear()


def account(**budget):
    # A fresh id per test so Redis counters of earlier runs never interfere.
    return SimpleNamespace(pk=uuid.uuid4().int % 10**9, **budget)


def run_threads(count, target, *others):
    """``count`` threads of each target, all at once."""
    threads = [threading.Thread(target=t) for t in (target, *others) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)


def test_no_more_calls_in_flight_than_sessions(backend):
    acct = account(rate_per_second=1000, max_sessions=2)
    lock = threading.Lock()
    state = {"now": 0, "most": 0, "done": 0}

    def call():
        with ratelimit.budget(acct):
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.05)  # the registry call being limited
            with lock:
                state["now"] -= 1
                state["done"] += 1

    run_threads(8, call)
    assert state["done"] == 8
    assert state["most"] == 2


def test_no_more_calls_per_second_than_the_rate(backend):
    acct = account(rate_per_second=3, max_sessions=50)
    seconds = []
    lock = threading.Lock()

    def call():
        with ratelimit.budget(acct), lock:
            seconds.append(int(time.time()))

    run_threads(7, call)
    per_second = Counter(seconds)
    assert sum(per_second.values()) == 7
    assert max(per_second.values()) <= 3


def test_a_budget_that_never_frees_up_gives_a_transient_error(backend):
    acct = account(rate_per_second=100, max_sessions=1)
    with (
        ratelimit.budget(acct),
        pytest.raises(ratelimit.TransientError, match="sessions"),
        ratelimit.budget(acct, max_wait=0.1),
    ):
        pass


def test_a_slot_held_by_a_killed_worker_frees_itself(backend, monkeypatch):
    if not backend.startswith("redis://"):
        pytest.skip("in one process a killed worker takes its counters with it")
    acct = account(rate_per_second=100, max_sessions=1)
    monkeypatch.setattr(ratelimit, "SLOT_TTL_SECONDS", 60)
    ratelimit._take_session(acct.pk, 1, time.monotonic() + 1)  # taken, never given back
    with pytest.raises(ratelimit.TransientError, match="sessions"):
        ratelimit._take_session(acct.pk, 1, time.monotonic() + 0.1)
    later = time.time() + 61  # past the slot's expiry
    monkeypatch.setattr(ratelimit.time, "time", lambda: later)
    with ratelimit.budget(acct, max_wait=0.5):
        pass


def test_a_drain_lease_keeps_its_session_between_calls_and_gives_it_back(backend):
    """A calling thread of a drain holds one session across its calls (like an open EPP
    session): another caller cannot take it meanwhile, and gets it once the lease is released."""
    acct = account(rate_per_second=1000, max_sessions=1)
    lease = ratelimit.Lease()
    for _ in range(3):
        with lease.call(acct):
            pass
    with (
        pytest.raises(ratelimit.TransientError, match="sessions"),
        ratelimit.budget(acct, max_wait=0.1),
    ):
        pass
    lease.release()
    with ratelimit.budget(acct, max_wait=0.5):
        pass


def test_a_drain_lease_gives_its_session_up_to_a_waiting_caller(backend):
    """More calling threads than sessions: a holder gives its session back after a call as soon
    as someone is waiting, so nobody waits for the whole drain."""
    acct = account(rate_per_second=1000, max_sessions=1)
    lease = ratelimit.Lease()
    with lease.call(acct):
        pass
    got_in = threading.Event()

    def waiter():
        with ratelimit.budget(acct, max_wait=5):
            got_in.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    deadline = time.monotonic() + 5
    while not got_in.is_set() and time.monotonic() < deadline:
        with lease.call(acct, max_wait=5):  # the holder works on; it sees the waiter, lets go
            time.sleep(0.01)
        time.sleep(0.05)  # between two calls (the waiter polls every 20 ms)
    thread.join(timeout=5)
    assert got_in.is_set()


def test_a_drain_lease_stays_within_the_rate(backend):
    """Calls taken in chunks still never exceed the account's calls per second, with other
    callers taking single calls at the same time."""
    acct = account(rate_per_second=20, max_sessions=100)
    lease = ratelimit.Lease()
    seconds = []
    lock = threading.Lock()

    def leased():
        for _ in range(5):
            with lease.call(acct), lock:
                seconds.append(int(time.time()))

    def single():
        with ratelimit.budget(acct), lock:
            seconds.append(int(time.time()))

    run_threads(6, leased, single)
    lease.release()
    per_second = Counter(seconds)
    assert sum(per_second.values()) == 36
    assert max(per_second.values()) <= 20

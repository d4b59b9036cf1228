"""A Redis client on the broker's Redis, for the counters every process must share (the registry
rate budgets, the API throttles): ``redis://``, ``rediss://`` or the embedded server of ``make
run`` on a unix socket (kombu's ``redis+socket://``). None with another broker (the tests'
``memory://``): the callers then count in their own process."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


def broker_redis() -> redis.Redis | None:
    return _client_for(settings.CELERY_BROKER_URL)


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis | None:
    if url.startswith("redis+socket://"):  # kombu's spelling; redis-py says unix://
        url = "unix://" + url.removeprefix("redis+socket://")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    return redis.Redis.from_url(url, socket_timeout=5)

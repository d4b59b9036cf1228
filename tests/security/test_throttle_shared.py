"""The API throttles count in the broker's Redis, not in one process: with gunicorn's several
workers (and several hosts) a client used to get the rate once per process, since Django's
default cache is in-process. A count that survives wiping this process's cache is one any
other process reads. With Redis down the API still answers, counting in the process."""

from __future__ import annotations

import socket

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from portal.auth import THROTTLE_KEY_PREFIX
from portal.broker import broker_redis

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not django_settings.CELERY_BROKER_URL.startswith("redis"),
        reason="needs a Redis broker (CI and make test on PostgreSQL/Redis)",
    ),
]


def help_page(client, address="198.51.100.20"):
    return client.get("/rdap/help", REMOTE_ADDR=address)


def test_the_count_is_in_redis_and_survives_this_processs_cache(client, settings):
    settings.NAMEPORT_RDAP_THROTTLE = "3/min"
    for _ in range(3):
        assert help_page(client).status_code == 200
        cache.clear()  # what another gunicorn worker would have: nothing of this process's
    refused = help_page(client)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61
    [key] = broker_redis().scan_iter(f"{THROTTLE_KEY_PREFIX}*")
    assert key.decode().endswith("198.51.100.20")
    assert broker_redis().zcard(key) == 3  # the refused request is not counted
    assert help_page(client, "198.51.100.21").status_code == 200  # another address


def test_the_native_api_counts_in_redis_too(client, settings, world):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "user": "2/min"}
    SimpleRateThrottle.THROTTLE_RATES, saved = rates, SimpleRateThrottle.THROTTLE_RATES
    try:
        headers = {"HTTP_ACCESS_TOKEN": world.a.live_key_raw}
        for _ in range(2):
            assert client.get("/api/v1/domains/", **headers).status_code == 200
            cache.clear()
        refused = client.get("/api/v1/domains/", **headers)
        assert refused.status_code == 429
        assert "Retry-After" in refused
    finally:
        SimpleRateThrottle.THROTTLE_RATES = saved


def test_with_redis_down_the_api_answers_and_counts_in_the_process(client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once it is closed
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port}/0"
    settings.NAMEPORT_RDAP_THROTTLE = "2/min"
    assert help_page(client).status_code == 200
    assert help_page(client).status_code == 200
    assert help_page(client).status_code == 429


def test_a_limit_of_zero_refuses_every_query_with_a_429_not_a_500(client, settings):
    settings.NAMEPORT_RDAP_THROTTLE = "0/min"
    refused = help_page(client)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61


@pytest.mark.parametrize("raw", ["120/mni", "fast", "-1/min", "120", "1.5/s"])
def test_a_mistyped_rate_stops_the_start_with_its_name(monkeypatch, raw):
    """Read at start-up (settings): a rate DRF cannot parse would make every request a 500."""
    from portal.env import env_rate

    monkeypatch.setenv("NAMEPORT_RDAP_THROTTLE", raw)
    with pytest.raises(ValueError, match="NAMEPORT_RDAP_THROTTLE must be a rate like 60/min"):
        env_rate("NAMEPORT_RDAP_THROTTLE", "120/min", allow_empty=True)


def test_the_documented_rates_are_read(monkeypatch):
    from portal.env import env_rate

    for raw in ("120/min", "5/s", "1000/hour", "3/day", "10/minute"):
        monkeypatch.setenv("API_THROTTLE_ANON", raw)
        assert env_rate("API_THROTTLE_ANON", "60/min") == raw
    monkeypatch.setenv("NAMEPORT_RDAP_THROTTLE", "")
    assert env_rate("NAMEPORT_RDAP_THROTTLE", "120/min", allow_empty=True) is None

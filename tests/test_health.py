"""``/healthz``: what a load balancer and ``.ci/run`` poll."""

import socket
import subprocess
import time

import pytest
from django.urls import reverse


def closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_it_answers_ok_without_login(client):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_it_is_not_cached(client):
    response = client.get(reverse("healthz"))

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_unreachable(client, settings):
    port = closed_loopback_port()
    settings.CELERY_BROKER_URL = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"] == "error"
    # The body never shows the broker's address or password.
    text = response.content.decode()
    assert "hunter2" not in text
    assert str(port) not in text


@pytest.mark.django_db
def test_it_answers_503_when_nothing_listens_on_the_embedded_socket(client, settings, tmp_path):
    # The default broker when CELERY_BROKER_URL is unset: make run's Redis, here not running.
    settings.CELERY_BROKER_URL = f"redis+socket://{tmp_path / 'redis.sock'}"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert str(tmp_path) not in response.content.decode()


@pytest.fixture
def embedded_redis(tmp_path):
    """A Redis on a unix socket, configured and found as make run does (portal.supervise)."""
    from portal import supervise

    (tmp_path / "redis").mkdir()
    config = tmp_path / "redis" / "redis.conf"
    config.write_text(supervise.redis_config(tmp_path))
    server = subprocess.Popen(
        [supervise.redis_server_binary(), str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not supervise.ping(tmp_path / "redis.sock"):
            assert server.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer in time"
            time.sleep(0.02)
        yield supervise.embedded_broker_url(tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.django_db
def test_it_answers_ok_with_the_embedded_redis(client, settings, embedded_redis):
    settings.CELERY_BROKER_URL = embedded_redis
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


def test_it_refuses_post(client):
    response = client.post(reverse("healthz"))

    assert response.status_code == 405

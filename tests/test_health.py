"""``/healthz``: what a load balancer and ``.ci/run`` poll."""

import socket

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
def test_it_answers_503_when_the_filesystem_queue_is_missing(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "missing"),
        "data_folder_out": str(tmp_path / "missing"),
    }

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert str(tmp_path) not in response.content.decode()


@pytest.mark.django_db
def test_it_accepts_a_writable_filesystem_queue(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "processed_folder": str(tmp_path),
    }

    response = client.get(reverse("healthz"))

    assert response.status_code == 200


def test_it_refuses_post(client):
    response = client.post(reverse("healthz"))

    assert response.status_code == 405

"""Support tests: attachments in a temporary MEDIA_ROOT, Celery tasks run in the test."""

import pytest

from tests.support.tenancy_urls import PNG


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.NAMEPORT_SUPPORT_FROM_EMAIL = "Nameport Support <support@nameport.test>"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def eager():
    """Celery tasks run at once, in this process (``.delay`` included)."""
    from portal.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def png():
    return PNG

"""Issue 9, section 5: no secret in any log.

An API key sent as ``?access_token=`` is refused, but gunicorn's access log (Procfile:
``--access-logfile -``) wrote the request line whole, key included. The web command of the
Procfile is loaded here as gunicorn loads it (its own option parser, its logger class) and the
refused request is written through it; Django's and Celery's handlers get the same request and
the same key (a 500's traceback, runserver's request line, a task's arguments).
"""

from __future__ import annotations

import io
import logging
import shlex
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import signals
from gunicorn.config import Config

from customers.services import api_key_issue
from portal.tenancy import SYSTEM
from tests.customers.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def raw_key() -> str:
    """A real live key whose secret part has a dash (token_urlsafe makes one half the time)."""
    organisation = OrganisationFactory()
    for _ in range(64):
        _key, raw = api_key_issue(actor=SYSTEM, organisation=organisation, livemode=True)
        if "-" in raw.split("_", 3)[3]:
            return raw
    raise AssertionError("no key with a dash in 64 tries")


def key_parts(raw: str) -> list[str]:
    """The key and every part of it that is not the generic ``np_live_`` prefix."""
    _np, _mode, lookup, secret = raw.split("_", 3)
    return [raw, lookup, secret, *(piece for piece in secret.split("-") if len(piece) >= 6)]


def assert_no_part_of(raw: str, text: str) -> None:
    leaked = [part for part in key_parts(raw) if part in text]
    assert not leaked, f"the log holds {leaked!r}:\n{text}"


def procfile_gunicorn_config() -> Config:
    """The web line of the Procfile, parsed by gunicorn's own parser as ``gunicorn`` does."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    argv = shlex.split(line.partition(":")[2])
    assert Path(argv[0]).name == "gunicorn"
    config = Config()
    args = config.parser().parse_args(argv[1:])
    for name, value in vars(args).items():
        if value is not None and name != "args":
            config.set(name.lower(), value)
    return config


def access_log_line(config: Config, raw_uri: str, headers: dict[str, str]) -> str:
    """What gunicorn's access log writes for one request, with the configured logger class and
    format (``--access-logfile -`` writes to stdout: here, a buffer)."""
    logger = config.logger_class(config)
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    request = SimpleNamespace(headers=[(name.upper(), value) for name, value in headers.items()])
    response = SimpleNamespace(status="401 Unauthorized", headers=[], sent=59)
    logger.access(response, request, environ, timedelta(milliseconds=12))
    return buffer.getvalue()


def test_an_api_key_in_the_query_string_is_refused_and_kept_out_of_the_access_log(client, raw_key):
    uri = f"/api/v1/domains/?access_token={raw_key}&page=2"

    refused = client.get(uri)
    assert refused.status_code in {401, 403}

    config = procfile_gunicorn_config()
    assert config.accesslog == "-"
    line = access_log_line(
        config, uri, {"Referer": f"http://127.0.0.1:8000{uri}", "User-Agent": "curl/8"}
    )
    assert "GET /api/v1/domains/?access_token=[redacted]&page=2 HTTP/1.1" in line
    assert_no_part_of(raw_key, line)


def test_no_format_an_operator_picks_writes_the_key(raw_key):
    config = procfile_gunicorn_config()
    config.set(
        "access_log_format",
        '%(r)s %(q)s %(U)s "%(f)s" %({access-token}i)s %({authorization}i)s '
        "%({query_string}e)s %({raw_uri}e)s",
    )
    uri = f"/api/v1/domains/?q={raw_key}&access_token={raw_key}"

    line = access_log_line(
        config,
        uri,
        {"Referer": uri, "Access-Token": raw_key, "Authorization": f"Bearer {raw_key}"},
    )

    assert_no_part_of(raw_key, line)
    assert "/api/v1/domains/" in line


def test_a_password_reset_token_in_the_path_is_kept_out_of_the_access_log():
    token = "c5x3k2-0123456789abcdef0123456789abcdef"

    line = access_log_line(procfile_gunicorn_config(), f"/accounts/password-reset/MQ/{token}/", {})

    assert token not in line
    assert "/accounts/password-reset/MQ/[redacted]/" in line


@pytest.fixture
def console():
    """Django's configured console handler (LOGGING), writing into a buffer for the test."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    yield buffer
    logging.getLogger().setLevel(old_level)
    handler.setStream(previous)


def test_djangos_logging_of_the_same_request_holds_no_key(client, raw_key, console):
    uri = f"/api/v1/domains/?access_token={raw_key}&page=2"

    client.get(uri)  # django.request: "Unauthorized: /api/v1/domains/"
    # runserver's line for it (django.server), and a 500 on it whose error names the key.
    logging.getLogger("django.server").info('"%s" %s %s', f"GET {uri} HTTP/1.1", 401, 59)
    try:
        raise ValueError(f"no such key: {raw_key}")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: %s", uri)

    text = console.getvalue()
    assert "Unauthorized: /api/v1/domains/" in text
    assert "Internal Server Error" in text
    assert_no_part_of(raw_key, text)


def test_celery_task_arguments_hold_no_key(raw_key):
    """A worker's handlers are Celery's own; the app adds the same filter to them."""
    logger = logging.getLogger("nameport-test-celery-worker")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        signals.after_setup_logger.send(
            sender=None,
            logger=logger,
            loglevel=logging.INFO,
            logfile=None,
            format="",
            colorize=False,
        )
        # As celery.app.trace logs a failure: the task's arguments in the message.
        logger.error(
            "Task %(name)s[%(id)s] raised unexpected: %(exc)s args=%(args)s kwargs=%(kwargs)s",
            {
                "name": "customers.tasks.notify",
                "id": "6f1c",
                "exc": "ValueError()",
                "args": [raw_key],
                "kwargs": {"access_token": raw_key},
            },
        )
    finally:
        logger.removeHandler(handler)

    text = buffer.getvalue()
    assert "customers.tasks.notify" in text
    assert_no_part_of(raw_key, text)

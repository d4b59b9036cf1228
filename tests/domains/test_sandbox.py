"""The sandbox registry's promises for changes, on every database (on PostgreSQL a simple update
is one statement, elsewhere the ORM path): a key is applied once, a refused change remembers
nothing, and its knobs can be cached by a long-running front end."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from domains.models import SandboxDomain, SandboxTransaction
from domains.registrars.base import AuthorizationError, NotFoundError, TransientError
from domains.simulator.registry import SandboxRegistry
from domains.simulator.rest_server import SandboxRestApp
from tests.domains.factories import RegistrarAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return RegistrarAccountFactory(name="Sandbox")


@pytest.fixture
def registry(account):
    return SandboxRegistry(account)


@pytest.fixture
def domain(account):
    now = timezone.now()
    return SandboxDomain.objects.create(
        name="kept.com",
        account=account.name,
        registered_at=now,
        expires_at=now + timedelta(days=365),
        auth_code="code",
        locked=True,
    )


def test_a_repeated_key_answers_as_the_first_call_and_changes_nothing(registry, domain):
    key = str(uuid.uuid4())
    assert registry.set_lock(name=domain.name, locked=False, idempotency_key=key).locked is False
    registry.set_lock(name=domain.name, locked=True, idempotency_key=str(uuid.uuid4()))
    again = registry.set_lock(name=domain.name, locked=False, idempotency_key=key)
    assert again.locked is True, "the retry is not applied a second time"
    assert SandboxTransaction.objects.filter(idempotency_key=key).count() == 1


def test_an_unknown_domain_changes_nothing_and_remembers_no_key(registry):
    key = str(uuid.uuid4())
    with pytest.raises(NotFoundError, match="does not exist"):
        registry.set_privacy(name="nowhere.com", enabled=True, idempotency_key=key)
    assert not SandboxTransaction.objects.filter(idempotency_key=key).exists()


def test_another_registrars_domain_is_refused_untouched(domain):
    other = SandboxRegistry(RegistrarAccountFactory(name="Other"))
    key = str(uuid.uuid4())
    with pytest.raises(AuthorizationError, match="another registrar"):
        other.set_nameservers(name=domain.name, nameservers=["ns1.x.test"], idempotency_key=key)
    domain.refresh_from_db()
    assert domain.nameservers == []
    assert not SandboxTransaction.objects.filter(idempotency_key=key).exists()


def test_an_injected_failure_changes_nothing(account, domain):
    account.settings = {"failure_rate": 1, "failure_kind": "transient"}
    account.save()
    key = str(uuid.uuid4())
    with pytest.raises(TransientError):
        SandboxRegistry(account).set_lock(name=domain.name, locked=False, idempotency_key=key)
    domain.refresh_from_db()
    assert domain.locked is True
    assert not SandboxTransaction.objects.filter(idempotency_key=key).exists()


def test_the_rest_front_end_reads_its_knobs_again_after_the_settings_ttl(account):
    clock = {"now": 0.0}
    app = SandboxRestApp(
        account=account, username="u", api_token="t", settings_ttl=5, clock=lambda: clock["now"]
    )
    assert app.registry().options == {}
    account.settings = {"latency_ms": 7}
    account.save()
    clock["now"] = 4.0
    assert app.registry().options == {}, "cached within the ttl"
    clock["now"] = 5.5
    assert app.registry().options == {"latency_ms": 7}

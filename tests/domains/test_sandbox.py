"""The sandbox registry's promises for changes, on every database (on PostgreSQL a simple update
is one statement, elsewhere the ORM path): like a real registry it does not recognise a repeated
idempotency key unless its ``replay`` setting is on, a refused change remembers nothing, an answer
can be lost after the change (``lose_answers``), and its knobs can be cached by a long-running
front end."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from domains.models import SandboxDomain, SandboxTransaction
from domains.registrars.base import (
    AuthorizationError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
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


def test_with_replay_on_a_repeated_key_answers_as_the_first_call_and_changes_nothing(
    account, domain
):
    account.settings = {"replay": True}
    account.save()
    registry = SandboxRegistry(account)
    key = str(uuid.uuid4())
    assert registry.set_lock(name=domain.name, locked=False, idempotency_key=key).locked is False
    registry.set_lock(name=domain.name, locked=True, idempotency_key=str(uuid.uuid4()))
    again = registry.set_lock(name=domain.name, locked=False, idempotency_key=key)
    assert again.locked is True, "the retry is not applied a second time"
    assert SandboxTransaction.objects.filter(idempotency_key=key).count() == 1


def test_by_default_a_repeated_key_is_a_new_command(registry, domain):
    key = str(uuid.uuid4())
    registry.set_lock(name=domain.name, locked=False, idempotency_key=key)
    registry.set_lock(name=domain.name, locked=True, idempotency_key=str(uuid.uuid4()))
    again = registry.set_lock(name=domain.name, locked=False, idempotency_key=key)
    assert again.locked is False, "applied again, as a registry that replays no key would"
    logged = SandboxTransaction.objects.filter(idempotency_key__startswith=key)
    assert logged.count() == 2, "both logged, each under a key of its own"


def test_a_repeated_renewal_is_refused_when_its_current_expiry_no_longer_matches(registry, domain):
    key = str(uuid.uuid4())
    before = domain.expires_at
    renewed = registry.renew(
        name=domain.name, years=1, current_expiry=before.date(), idempotency_key=key
    )
    assert renewed.expires_at.year == before.year + 1
    with pytest.raises(PermanentError, match="current expiry date") as refused:
        registry.renew(name=domain.name, years=1, current_expiry=before, idempotency_key=key)
    assert refused.value.code == 2306
    domain.refresh_from_db()
    assert domain.expires_at == renewed.expires_at, "renewed once"


def test_a_repeated_create_is_refused_and_a_transfer_of_our_own_name_too(registry, domain):
    arguments = {"years": 1, "nameservers": [], "contacts": [], "privacy": False}
    registry.register(name="new.com", idempotency_key="k-1", **arguments)
    with pytest.raises(PermanentError, match="not available") as exists:
        registry.register(name="new.com", idempotency_key="k-1", **arguments)
    assert exists.value.code == 2302
    with pytest.raises(PermanentError, match="already yours") as ours:
        registry.transfer(name=domain.name, auth_code="code", years=1, idempotency_key="k-2")
    assert ours.value.code == 2106
    domain.refresh_from_db()
    assert domain.expires_at.date() == (timezone.now() + timedelta(days=365)).date()


def test_a_lost_answer_comes_after_the_change(account, domain):
    account.settings = {"lose_answers": ["renew"]}
    account.save()
    registry = SandboxRegistry(account)
    with pytest.raises(OutcomeUnknown, match="answer was lost"):
        registry.renew(
            name=domain.name, years=2, current_expiry=domain.expires_at, idempotency_key="k"
        )
    row = SandboxDomain.objects.get(pk=domain.pk)
    assert row.expires_at.year == domain.expires_at.year + 2, "applied, and committed"
    assert SandboxTransaction.objects.filter(command="renew").count() == 1


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

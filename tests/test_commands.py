"""The management commands a person types: ``seed_demo`` and ``issue_api_key``."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from customers.models import ApiKey, Organisation
from customers.services import api_key_authenticate
from domains.models import Domain, DomainStatus

DEMO_LOGINS = ["staff@example.com", "reseller@example.com", "customer@example.com"]
OUR_APPS = ["portal", "customers", "domains", "dns", "billing", "support"]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for label in [*OUR_APPS, "auth"]
        for model in apps.get_app_config(label).get_models()
    }


@pytest.fixture
def seeded(db):
    return run("seed_demo")


def test_seed_demo_twice_creates_nothing_the_second_time(seeded):
    first = row_counts()
    second_output = run("seed_demo")

    assert row_counts() == first
    assert "nothing changed" in second_output


def test_seed_demo_fills_every_table_staff_look_at(seeded):
    empty = [label for label, count in row_counts().items() if count == 0]

    # Tables written only by the running system (the sandbox registry's journal, attachments,
    # API keys, the audit trail) may stay empty; everything a page lists has rows.
    for label in [
        "customers.Organisation",
        "customers.Customer",
        "customers.Contact",
        "domains.Domain",
        "domains.Tld",
        "domains.RegistrarOperation",
        "dns.Zone",
        "dns.Record",
        "billing.Invoice",
        "billing.InvoiceLine",
        "billing.Price",
        "billing.PaymentMethod",
        "billing.CreditEntry",
        "support.Ticket",
        "support.Message",
    ]:
        assert label not in empty


def test_seed_demo_has_a_domain_in_every_status(seeded):
    present = set(Domain.objects.values_list("status", flat=True))

    assert present == set(DomainStatus.values)


def test_seed_demo_has_domains_expiring_within_30_days(seeded):
    from datetime import timedelta

    from django.utils import timezone

    soon = Domain.objects.filter(
        status=DomainStatus.ACTIVE, expires_at__lte=timezone.now() + timedelta(days=30)
    )

    assert soon.count() >= 2


def test_seed_demo_prices_follow_the_seed_documents(seeded):
    from billing.models import Price

    def platform(tld, currency):
        return str(
            Price.objects.get(
                organisation=None, tld__name=tld, action="register", years=1, currency=currency
            ).sell
        )

    assert platform("com", "USD") == "4.90"
    assert platform("com", "NGN") == "4000.00"
    assert platform("tech", "USD") == "41.00"
    assert platform("tech", "NGN") == "15000.00"
    reseller = Price.objects.get(
        organisation__slug="demo-reseller", tld__name="com", action="register", currency="USD"
    )
    assert reseller.sell > reseller.cost


def test_seed_demo_payment_methods_carry_seed_003_fees(seeded):
    from billing.models import PaymentMethod

    fees = {m.name: (str(m.fixed_fee), str(m.percent_fee)) for m in PaymentMethod.objects.all()}

    assert fees["Bank Transfer"] == ("0.00", "0.00")
    assert fees["Stripe"] == ("0.50", "2.90")
    assert fees["Credit Card"] == ("0.10", "2.40")
    assert fees["PayPal"] == ("0.30", "2.90")


def test_seed_demo_has_a_failed_operation_with_a_ticket_for_staff(seeded):
    from domains.models import RegistrarOperation

    failed = RegistrarOperation.objects.get(status=RegistrarOperation.Status.FAILED)

    assert failed.last_error
    assert failed.tickets.filter(is_system=True, staff_only=True).exists()
    # The customer is told in a ticket written for them (with a message they can read).
    told = failed.tickets.get(staff_only=False)
    assert told.messages.filter(is_internal=False).exists()
    assert failed.last_error not in told.messages.get().body


def test_the_demo_logins_sign_in_with_the_demo_password(seeded, rf):
    for email in DEMO_LOGINS:
        user = authenticate(rf.post("/accounts/login/"), username=email, password="nameport-demo")

        assert user is not None
        assert user.email == email


def test_the_demo_logins_are_who_the_output_says(seeded):
    from customers.models import User
    from portal.tenancy import ActorKind, actor_for_user

    kinds = {email: actor_for_user(User.objects.get(email=email)).kind for email in DEMO_LOGINS}

    assert kinds == {
        "staff@example.com": ActorKind.STAFF,
        "reseller@example.com": ActorKind.RESELLER,
        "customer@example.com": ActorKind.CUSTOMER,
    }
    for email in DEMO_LOGINS:
        assert email in seeded
    reseller = actor_for_user(User.objects.get(email="reseller@example.com"))
    assert reseller.organisation.slug == "demo-reseller"
    customer = actor_for_user(User.objects.get(email="customer@example.com"))
    assert customer.organisation.slug == "demo-reseller"


def test_seed_demo_keeps_a_password_someone_changed(seeded, rf):
    from customers.models import User

    user = User.objects.get(email="reseller@example.com")
    user.set_password("a-new-password-9")
    user.save()

    run("seed_demo")

    request = rf.post("/accounts/login/")
    assert authenticate(request, username=user.email, password="a-new-password-9") is not None


@pytest.mark.django_db
def test_issue_api_key_prints_a_working_sandbox_key_on_the_last_line():
    organisation = Organisation.objects.create(slug="acme", name="Acme")

    output = run("issue_api_key", "acme", "--name", "ci")

    raw_key = output.strip().splitlines()[-1]
    key = api_key_authenticate(raw_key)
    assert key is not None
    assert key.organisation == organisation
    assert key.livemode is False
    assert key.name == "ci"
    assert raw_key not in ApiKey.objects.values_list("key_hash", flat=True)


@pytest.mark.django_db
def test_issue_api_key_live_gives_a_live_key():
    Organisation.objects.create(slug="acme", name="Acme")

    output = run("issue_api_key", "acme", "--live")

    key = api_key_authenticate(output.strip().splitlines()[-1])
    assert key is not None
    assert key.livemode is True


@pytest.mark.django_db
def test_issue_api_key_refuses_an_unknown_slug():
    Organisation.objects.create(slug="acme", name="Acme")

    with pytest.raises(CommandError, match="No organisation with the slug 'nope'"):
        run("issue_api_key", "nope")

    assert ApiKey.objects.count() == 0


def test_seed_demo_dates_agree_with_the_lifecycle(seeded):
    from domains.lifecycle import lifecycle_advance
    from portal.tenancy import SYSTEM

    before = dict(Domain.objects.values_list("pk", "status"))

    moved = lifecycle_advance(actor=SYSTEM)

    assert moved == {}
    assert dict(Domain.objects.values_list("pk", "status")) == before


def test_seed_demo_prints_working_api_keys_of_the_demo_reseller(db):
    """A fresh `make run` can be tried with software written against the seed APIs at once:
    the printed demo keys authenticate as Demo Reseller, one live and one sandbox."""
    output = run("seed_demo")
    printed = output.split("Demo API keys", 1)[1].split()
    keys = {word for word in printed if word.startswith(("np_live_", "np_test_"))}

    assert len(keys) == 2
    found = {api_key_authenticate(raw) for raw in keys}
    assert {key.organisation.slug for key in found} == {"demo-reseller"}
    assert {key.livemode for key in found} == {True, False}
    assert "Demo API keys" in run("seed_demo")  # printed again on the next run

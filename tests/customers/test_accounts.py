"""customers.accounts: create, edit, archive and unarchive customers; an archived customer
places no new orders (billing.orders.order_place, domains register, transfer and renew)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models import Order, Price
from billing.orders import order_place
from customers import accounts
from customers.models import Customer
from domains import services as domain_services
from domains.models import Domain, RegistrarOperation
from portal.models import AuditEntry
from portal.tenancy import SYSTEM, actor_for_user
from tests.customers.factories import MembershipFactory

pytestmark = pytest.mark.django_db

VALUES = {
    "first_name": "Ada",
    "last_name": "Obi",
    "email": "Ada.Obi@Example.test",
    "phone": "+234.8012345678",
    "address": "2 Broad Street",
    "city": "Lagos",
    "post_code": "100001",
    "country": "ng",
}


def member(world):
    return actor_for_user(world.a.member)


def create(world, **changes):
    return accounts.customer_create(
        actor=member(world),
        organisation=world.a.organisation,
        livemode=True,
        values={**VALUES, **changes},
    )


def test_it_creates_a_customer_with_its_address_and_audits_it(world):
    customer = create(world)
    customer.refresh_from_db()
    assert customer.email == "ada.obi@example.test"
    assert customer.country == "NG"
    assert customer.currency == world.a.organisation.default_currency
    assert customer.organisation == world.a.organisation and customer.livemode
    entry = AuditEntry.objects.get(action="customer.create")
    assert entry.user == world.a.member and entry.object_id == str(customer.pk)


def test_the_same_email_in_the_organisation_is_refused_with_the_seed_message(world):
    create(world)
    with pytest.raises(ValidationError) as caught:
        create(world, email="ADA.OBI@example.test", first_name="Other")
    assert caught.value.messages == ["Customer already exists for organisation"]
    assert Customer.objects.filter(email="ada.obi@example.test").count() == 1


def test_the_same_email_is_allowed_in_another_organisation_or_mode(world):
    create(world)
    accounts.customer_create(
        actor=actor_for_user(world.b.member),
        organisation=world.b.organisation,
        livemode=True,
        values=VALUES,
    )
    accounts.customer_create(
        actor=member(world), organisation=world.a.organisation, livemode=False, values=VALUES
    )
    assert Customer.objects.filter(email="ada.obi@example.test").count() == 3


@pytest.mark.parametrize("phone", ["08012345678", "234 801", "+0.123456", "call me"])
def test_a_phone_without_its_country_code_is_refused(world, phone):
    with pytest.raises(ValidationError) as caught:
        create(world, phone=phone)
    assert "phone" in caught.value.message_dict
    assert not Customer.objects.filter(email="ada.obi@example.test").exists()


@pytest.mark.parametrize("missing", ["first_name", "email", "address", "city", "country"])
def test_a_required_field_left_empty_is_refused(world, missing):
    with pytest.raises(ValidationError) as caught:
        create(world, **{missing: ""})
    assert missing in caught.value.message_dict


def test_a_reseller_cannot_add_customers_to_another_organisation(world):
    with pytest.raises(PermissionDenied):
        accounts.customer_create(
            actor=member(world), organisation=world.b.organisation, livemode=True, values=VALUES
        )


@pytest.mark.parametrize("role", ["billing", "support", "read_only"])
def test_a_member_without_the_customers_right_cannot_add_one(world, role):
    user = MembershipFactory(organisation=world.a.organisation, role=role).user
    with pytest.raises(PermissionDenied):
        accounts.customer_create(
            actor=actor_for_user(user),
            organisation=world.a.organisation,
            livemode=True,
            values=VALUES,
        )


def test_an_update_changes_only_what_was_given_and_records_it(world):
    customer = world.a.customer
    updated = accounts.customer_update(
        actor=member(world), customer=customer, values={"company": "Obi Ltd", "city": "Abuja"}
    )
    assert (updated.company, updated.city, updated.email) == ("Obi Ltd", "Abuja", customer.email)
    entry = AuditEntry.objects.get(action="customer.update")
    assert entry.data["changed"]["city"] == {"from": "Lagos", "to": "Abuja"}


def test_an_update_to_a_taken_email_is_refused(world):
    other = create(world)
    with pytest.raises(ValidationError) as caught:
        accounts.customer_update(
            actor=member(world), customer=world.a.customer, values={"email": other.email}
        )
    assert caught.value.messages == ["Customer already exists for organisation"]
    world.a.customer.refresh_from_db()
    assert world.a.customer.email != other.email


def test_archive_keeps_everything_and_unarchive_brings_it_back(world):
    customer = world.a.customer
    archived = accounts.customer_archive(actor=member(world), customer=customer)
    assert archived.is_archived
    assert Domain.objects.filter(customer=customer).exists()
    assert customer.invoices.exists() and customer.tickets.exists()
    active = accounts.customer_unarchive(actor=member(world), customer=customer)
    assert not active.is_archived
    assert list(
        AuditEntry.objects.filter(object_id=str(customer.pk)).values_list("action", flat=True)
    ) == ["customer.unarchive", "customer.archive"]


@pytest.fixture
def archived(world):
    com = world.a.domain.tld
    for action in ("register", "renew", "transfer"):
        Price.objects.create(tld=com, action=action, currency="USD", cost="5.00", sell="10.00")
    accounts.customer_archive(actor=member(world), customer=world.a.customer)
    world.a.customer.refresh_from_db()
    return world.a.customer


def test_an_archived_customer_cannot_place_an_order(world, archived):
    with pytest.raises(ValidationError) as caught:
        order_place(
            actor=actor_for_user(world.a.customer_user),
            customer=archived,
            items=[{"type": "domain", "action": "register", "name": "new-one.com", "years": 1}],
            idempotency_key="archived-1",
            check_registry=False,
        )
    assert caught.value.messages == [accounts.ARCHIVED_MESSAGE]
    assert not Order.objects.filter(customer=archived).exists()


def test_an_archived_customer_gets_no_registration_transfer_or_renewal(world, archived):
    reseller = member(world)
    with pytest.raises(ValidationError, match="archived"):
        domain_services.domain_register(actor=reseller, customer=archived, name="fresh-one.com")
    with pytest.raises(ValidationError, match="archived"):
        domain_services.domain_transfer_in(
            actor=reseller, customer=archived, name="moving-in.com", auth_code="secret-1"
        )
    with pytest.raises(ValidationError, match="archived"):
        domain_services.domain_renew(actor=reseller, domain=world.a.domain, years=1)
    assert not Domain.objects.filter(name__in=["fresh-one.com", "moving-in.com"]).exists()
    assert not RegistrarOperation.objects.filter(domain=world.a.domain).exists()


def test_work_paid_before_the_archive_still_goes_ahead(world, archived):
    operation = domain_services.domain_renew(actor=SYSTEM, domain=world.a.domain, years=1)
    assert operation.kind == RegistrarOperation.Kind.RENEW


def test_after_unarchive_the_customer_orders_again(world, archived):
    accounts.customer_unarchive(actor=member(world), customer=archived)
    domain = domain_services.domain_register(
        actor=member(world), customer=archived, name="back-again.com"
    )
    assert domain.customer == archived

"""Shared fixtures. ``world`` builds two tenants (organisations) with everything a page shows."""

from dataclasses import dataclass

import pytest

from customers.models import ApiKey, Contact, Customer, Organisation, User
from customers.services import api_key_issue
from portal.tenancy import SYSTEM


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    from django.core.cache import cache

    from portal.auth import THROTTLE_KEY_PREFIX
    from portal.broker import broker_redis

    # Throttle counters live in the broker's Redis (or the cache without one): every test
    # starts with none.
    cache.clear()
    client = broker_redis()
    if client is not None:
        stale = list(client.scan_iter(f"{THROTTLE_KEY_PREFIX}*", count=1000))
        if stale:
            client.delete(*stale)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Tenant:
    organisation: Organisation
    member: User
    customer: Customer
    customer_user: User
    contact: Contact
    contact_user: User
    domain: object
    zone: object
    record: object
    invoice: object
    ticket: object
    live_key: ApiKey
    live_key_raw: str
    sandbox_key: ApiKey
    sandbox_key_raw: str
    sandbox_customer: Customer
    sandbox_domain: object


def make_tenant(slug: str) -> Tenant:
    from tests.billing.factories import InvoiceFactory
    from tests.customers.factories import (
        ContactFactory,
        CustomerFactory,
        MembershipFactory,
        OrganisationFactory,
        UserFactory,
    )
    from tests.dns.factories import RecordFactory, ZoneFactory
    from tests.domains.factories import DomainFactory
    from tests.support.factories import MessageFactory, TicketFactory

    organisation = OrganisationFactory(slug=slug, name=slug.title())
    member = MembershipFactory(
        organisation=organisation, user=UserFactory(email=f"member@{slug}.test")
    ).user
    customer_user = UserFactory(email=f"customer@{slug}.test")
    customer = CustomerFactory(organisation=organisation, user=customer_user)
    contact_user = UserFactory(email=f"contact@{slug}.test")
    contact = ContactFactory(customer=customer, user=contact_user)
    domain = DomainFactory(customer=customer, name=f"{slug}-site.com")
    zone = ZoneFactory(domain=domain)
    record = RecordFactory(zone=zone)
    invoice = InvoiceFactory(customer=customer)
    ticket = TicketFactory(customer=customer, created_by=customer_user)
    MessageFactory(ticket=ticket)
    live_key, live_raw = api_key_issue(actor=SYSTEM, organisation=organisation, livemode=True)
    sandbox_key, sandbox_raw = api_key_issue(
        actor=SYSTEM, organisation=organisation, livemode=False
    )
    sandbox_customer = CustomerFactory(organisation=organisation, livemode=False)
    sandbox_domain = DomainFactory(customer=sandbox_customer, name=f"{slug}-sandbox.com")
    return Tenant(
        organisation=organisation,
        member=member,
        customer=customer,
        customer_user=customer_user,
        contact=contact,
        contact_user=contact_user,
        domain=domain,
        zone=zone,
        record=record,
        invoice=invoice,
        ticket=ticket,
        live_key=live_key,
        live_key_raw=live_raw,
        sandbox_key=sandbox_key,
        sandbox_key_raw=sandbox_raw,
        sandbox_customer=sandbox_customer,
        sandbox_domain=sandbox_domain,
    )


@dataclass
class World:
    staff: User
    a: Tenant
    b: Tenant


@pytest.fixture
def world(db) -> World:
    from tests.customers.factories import StaffFactory

    return World(
        staff=StaffFactory(email="staff@nameport.test"),
        a=make_tenant("alpha"),
        b=make_tenant("bravo"),
    )

"""Helpers of the invoice and payment tests: actors, methods, tax rules, an issued invoice."""

from __future__ import annotations

from decimal import Decimal

from billing import services
from billing.models import PaymentMethod, TaxRule
from customers.models import Customer
from portal.tenancy import Actor, actor_for_user
from tests.customers.factories import CustomerFactory, MembershipFactory, UserFactory


def reseller_of(customer: Customer) -> Actor:
    member = MembershipFactory(organisation=customer.organisation, user=UserFactory())
    actor = actor_for_user(member.user)
    if not customer.livemode:
        from dataclasses import replace

        actor = replace(actor, livemode=False)
    return actor


def customer_actor(customer: Customer) -> Actor:
    if customer.user is None:
        customer.user = UserFactory()
        customer.save(update_fields=["user"])
    return actor_for_user(customer.user)


def method(name="Stripe", fixed="0.50", percent="2.90", gateway="test", organisation=None):
    return PaymentMethod.objects.create(
        name=name,
        fixed_fee=Decimal(fixed),
        percent_fee=Decimal(percent),
        gateway=gateway,
        organisation=organisation,
    )


def vat(country="NG", rate="7.50", level=1, name="VAT", organisation=None, **extra):
    return TaxRule.objects.create(
        country=country,
        rate=Decimal(rate),
        level=level,
        name=name,
        organisation=organisation,
        **extra,
    )


def issued_invoice(customer=None, lines=None, actor=None, **create):
    customer = customer or CustomerFactory()
    actor = actor or reseller_of(customer)
    lines = lines or [("Domain registration example.com (1 year)", Decimal("10.00"), 1, True)]
    draft = services.invoice_create(actor=actor, customer=customer, lines=lines, **create)
    return services.invoice_issue(actor=actor, invoice=draft)

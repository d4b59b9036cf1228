from datetime import date, timedelta
from decimal import Decimal

import factory

from billing.models import Invoice, InvoiceLine
from tests.customers.factories import CustomerFactory


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    organisation = factory.SelfAttribute("customer.organisation")
    livemode = factory.SelfAttribute("customer.livemode")
    number = factory.Sequence(lambda n: f"2026/11/{n + 1}")
    status = Invoice.Status.UNPAID
    date = factory.LazyFunction(date.today)
    duedate = factory.LazyFunction(lambda: date.today() + timedelta(days=7))
    paybefore = factory.SelfAttribute("duedate")
    subtotal = Decimal("10.00")
    total = Decimal("10.00")
    currency = "USD"


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    description = "Domain registration example.com (1 year)"
    amount = Decimal("10.00")
    linetotal = Decimal("10.00")

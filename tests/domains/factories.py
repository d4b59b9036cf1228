from datetime import timedelta

import factory
from django.utils import timezone

from domains.models import (
    Domain,
    DomainContact,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    Tld,
)
from tests.customers.factories import CustomerFactory


class RegistrarAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrarAccount
        django_get_or_create = ("name",)

    name = "Sandbox registry"
    kind = RegistrarAccount.Kind.SANDBOX


class TldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tld
        django_get_or_create = ("name",)

    name = "com"
    registrar_account = factory.SubFactory(RegistrarAccountFactory)


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    customer = factory.SubFactory(CustomerFactory)
    organisation = factory.SelfAttribute("customer.organisation")
    livemode = factory.SelfAttribute("customer.livemode")
    tld = factory.SubFactory(TldFactory)
    name = factory.Sequence(lambda n: f"example-{n}.com")
    name_puny = factory.SelfAttribute("name")
    status = DomainStatus.ACTIVE
    registered_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=200))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=165))


class DomainContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DomainContact

    domain = factory.SubFactory(DomainFactory)
    role = DomainContact.Role.REGISTRANT
    handle = factory.Sequence(lambda n: f"REG-{n}")
    first_name = "Bob"
    last_name = "Brown"
    email = "bob@example.test"
    phone = "+1.3035555555"
    address_1 = "1 Main St"
    city = "Denver"
    country = "US"


class RegistrarOperationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegistrarOperation

    domain = factory.SubFactory(DomainFactory)
    organisation = factory.SelfAttribute("domain.organisation")
    livemode = factory.SelfAttribute("domain.livemode")
    kind = RegistrarOperation.Kind.REGISTER

import factory

from dns.models import Record, Zone
from tests.domains.factories import DomainFactory


class ZoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Zone

    domain = factory.SubFactory(DomainFactory)
    customer = factory.SelfAttribute("domain.customer")
    organisation = factory.SelfAttribute("domain.organisation")
    livemode = factory.SelfAttribute("domain.livemode")
    name = factory.SelfAttribute("domain.name_puny")
    serial = 2026112301


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Record

    zone = factory.SubFactory(ZoneFactory)
    name = "www"
    type = Record.Type.A
    content = "192.0.2.10"

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


def held_zone(name: str, *, customer=None, domain_name: str | None = None, actor=None, **kwargs):
    """A zone made by ``dns.services.zone_create`` as the portal makes one: for a domain its
    customer holds (``domain_name``, the zone's own name unless it is a sub-zone), made here when
    the customer has none of that name."""
    from dns import services
    from dns.rdata import zone_ascii
    from domains.models import Domain
    from portal.tenancy import SYSTEM
    from tests.customers.factories import CustomerFactory

    customer = customer or CustomerFactory()
    unicode_name = domain_name or name
    puny = zone_ascii(unicode_name)
    held = Domain.objects.filter(customer=customer, name_puny=puny).exists()
    if not held:
        DomainFactory(customer=customer, name=unicode_name.lower(), name_puny=puny)
    return services.zone_create(actor=actor or SYSTEM, customer=customer, name=name, **kwargs)

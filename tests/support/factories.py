import factory

from support.models import CannedReply, Department, Message, Ticket
from tests.customers.factories import CustomerFactory


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("organisation", "name")

    organisation = None
    name = "Billing"
    email = "billing@nameport.test"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    organisation = factory.SelfAttribute("customer.organisation")
    livemode = factory.LazyAttribute(lambda t: t.customer.livemode if t.customer else True)
    department = factory.SubFactory(DepartmentFactory)
    ticket_number = factory.Sequence(lambda n: f"{100000 + n:06d}")
    subject = "Cannot update nameservers"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    author_name = "Bob Brown"
    author_email = "bob@example.test"
    body = "Please help."
    is_internal = False
    is_staff = factory.LazyAttribute(lambda message: message.is_internal)


class CannedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedReply

    organisation = None
    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Thanks for writing. We are looking into it."

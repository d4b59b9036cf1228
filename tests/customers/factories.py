import factory

from customers.models import Contact, Customer, Membership, Organisation, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Reseller {n}")
    default_currency = "USD"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Membership.Role.OWNER


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organisation = factory.SubFactory(OrganisationFactory)
    livemode = True
    first_name = "Bob"
    last_name = factory.Sequence(lambda n: f"Brown{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    phone = "+234.8012345678"
    address = "1 Marina Road"
    city = "Lagos"
    post_code = "100001"
    country = "NG"
    currency = "USD"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    email = factory.Sequence(lambda n: f"contact{n}@example.test")
    first_name = "Mary"
    last_name = factory.Sequence(lambda n: f"Sue{n}")
    privileges = factory.LazyFunction(
        lambda: {
            "billing": ["payinvoice", "balance", "orders"],
            "support": ["newticket", "tickets"],
            "domains": {"full": 1},
        }
    )

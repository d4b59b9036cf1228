"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

OBJECT_URLS = {
    "customers:detail": lambda t: {"pk": t.customer.pk},
    "customers:edit": lambda t: {"pk": t.customer.pk},
    "customers:archive": lambda t: {"pk": t.customer.pk},
    "customers:impersonate": lambda t: {"pk": t.customer.pk},
    "customers:contact_create": lambda t: {"pk": t.customer.pk},
    "customers:contact_edit": lambda t: {"pk": t.contact.pk},
    "customers:contact_invite": lambda t: {"pk": t.contact.pk},
    "customers:contact_delete": lambda t: {"pk": t.spare_contact.pk},
    "api:customer-detail": lambda t: {"pk": t.customer.pk},
    "api:customer-archive": lambda t: {"pk": t.customer.pk},
    "api:customer-unarchive": lambda t: {"pk": t.customer.pk},
    "api:contact-detail": lambda t: {"pk": t.contact.pk},
    "api:contact-invite": lambda t: {"pk": t.contact.pk},
    "api:api-key-detail": lambda t: {"pk": t.live_key.pk},
    "api:api-key-revoke": lambda t: {"pk": t.live_key.pk},
    "api:team-member-detail": lambda t: {"pk": t.spare_membership.pk},
    "api:team-invitation-detail": lambda t: {"pk": t.invitation.pk},
    "api:team-invitation-revoke": lambda t: {"pk": t.invitation.pk},
    # The team and API keys pages (tests/customers/test_team_views.py).
    "team:member_role": lambda t: {"pk": t.spare_membership.pk},
    "team:member_remove": lambda t: {"pk": t.spare_membership.pk},
    "team:invitation_revoke": lambda t: {"pk": t.invitation.pk},
    "team:api_key_revoke": lambda t: {"pk": t.live_key.pk},
    # The account page's registrant API tokens (tests/customers/test_registrant_tokens.py): a
    # spare token, so the matrix's revoke leaves the tenant's own token working.
    "account:registrant_token_revoke": lambda t: {"pk": t.spare_registrant_token.pk},
}

# The reseller's pages (customers, contacts, the team): customers and contacts get 404 too.
RESELLER_ONLY = {
    "customers:edit",
    "customers:archive",
    "customers:impersonate",
    "customers:contact_create",
    "customers:contact_edit",
    "customers:contact_invite",
    "customers:contact_delete",
    "api:customer-archive",
    "api:customer-unarchive",
    "api:contact-invite",
    "api:api-key-detail",
    "api:api-key-revoke",
    "api:team-member-detail",
    "api:team-invitation-detail",
    "api:team-invitation-revoke",
    "team:member_role",
    "team:member_remove",
    "team:invitation_revoke",
    "team:api_key_revoke",
}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from customers.registrant_tokens import token_create
    from portal.tenancy import SYSTEM

    tenant.spare_registrant_token = token_create(
        actor=SYSTEM, customer=tenant.customer, name="spare"
    )[0]
    from tests.customers.factories import ContactFactory

    # A contact the matrix may remove (the owner's POST to contact_delete removes it).
    tenant.spare_contact = ContactFactory(
        customer=tenant.customer, email=f"spare@{tenant.organisation.slug}.test"
    )
    # A second member and an open invitation for the team pages.
    from datetime import timedelta

    from django.utils import timezone

    from customers.models import Invitation, Membership
    from tests.customers.factories import MembershipFactory, UserFactory

    tenant.spare_membership = MembershipFactory(
        organisation=tenant.organisation,
        user=UserFactory(email=f"readonly@{tenant.organisation.slug}.test"),
        role=Membership.Role.READ_ONLY,
    )
    tenant.invitation = Invitation.objects.create(
        organisation=tenant.organisation,
        email=f"invited@{tenant.organisation.slug}.test",
        role=Membership.Role.SUPPORT,
        token_hash=f"{tenant.organisation.slug:0<64}"[:64],
        expires_at=timezone.now() + timedelta(days=7),
    )

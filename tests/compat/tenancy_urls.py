"""The compatibility APIs' object URLs for the tenancy matrix (tests/test_tenancy.py).

KEY_ONLY: the Leanstack enterprise API's URLs (API keys only). REGISTRANT_ONLY: the registrant
API's URLs (registrant Bearer tokens only; ``prepare`` gives each tenant
``registrant_token_raw``, a token of its customer). RDAP is public by design (anyone may ask
about any name Nameport sponsors), so its URLs are in test_tenancy.NOT_OBJECT_URLS.
"""

OBJECT_URLS: dict = {
    # The registrant API (seed 004): a domain by its uuid (tests/contract/test_seed004.py).
    "compat-registrant:domain": lambda t: {"uuid": str(t.domain.uuid)},
    # The Leanstack enterprise API (seeds 000/001): tests/contract/test_seed000.py.
    "compat-leanstack:customer-detail": lambda t: {"customer_id": t.customer.pk},
    "compat-leanstack:domain-detail": lambda t: {"domain_id": t.domain.pk},
    "compat-leanstack:domain-nameservers": lambda t: {"domain_id": t.domain.pk},
    "compat-leanstack:domain-registrar-lock": lambda t: {"domain_id": t.domain.pk},
    "compat-leanstack:domain-secret": lambda t: {"domain_id": t.domain.pk},
}
# The Leanstack API takes API keys only (a session is a 401 there): all its URLs.
KEY_ONLY: set[str] = {
    f"compat-leanstack:{name}"
    for name in (
        "customer-add",
        "add-customer",
        "customer-detail",
        "customer-list",
        "domain-availability",
        "domain-suggestion",
        "domain-suggestion-enterprise",
        "domain-order",
        "domain-list",
        "domain-detail",
        "domain-nameservers",
        "domain-registrar-lock",
        "domain-secret",
    )
}
REGISTRANT_ONLY: set[str] = {"compat-registrant:domain"}


def prepare(t) -> None:
    """Objects the compat URLs need beyond the shared world."""
    from customers.registrant_tokens import token_create
    from portal.tenancy import SYSTEM

    t.registrant_token_raw = token_create(actor=SYSTEM, customer=t.customer, name="matrix")[1]
    # The owner's walk revokes ``t.live_key`` (api:api-key-revoke) before it reaches the
    # Leanstack URLs, which it asks with ``t.live_key_raw``: that is a spare live key of the
    # same organisation (the revoke URL still revokes ``t.live_key``).
    from customers.services import api_key_issue

    t.live_key_raw = api_key_issue(actor=SYSTEM, organisation=t.organisation, livemode=True)[1]

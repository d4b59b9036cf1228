"""The compatibility APIs' object URLs for the tenancy matrix (tests/test_tenancy.py).

KEY_ONLY: the Leanstack enterprise API's URLs (API keys only). REGISTRANT_ONLY: the registrant
API's URLs (registrant Bearer tokens only; ``prepare`` gives each tenant
``registrant_token_raw``, a token of its customer). RDAP is public by design (anyone may ask
about any name Nameport sponsors), so its URLs are in test_tenancy.NOT_OBJECT_URLS.
"""

OBJECT_URLS: dict = {
    # The registrant API (seed 004): a domain by its uuid (tests/contract/test_seed004.py).
    "compat-registrant:domain": lambda t: {"uuid": str(t.domain.uuid)},
}
KEY_ONLY: set[str] = set()
REGISTRANT_ONLY: set[str] = {"compat-registrant:domain"}


def prepare(t) -> None:
    """Objects the compat URLs need beyond the shared world."""
    from customers.registrant_tokens import token_create
    from portal.tenancy import SYSTEM

    t.registrant_token_raw = token_create(actor=SYSTEM, customer=t.customer, name="matrix")[1]

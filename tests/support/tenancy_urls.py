"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

OBJECT_URLS = {
    "support:ticket_detail": lambda t: {"ticket_number": t.ticket.ticket_number},
    "api:ticket-detail": lambda t: {"ticket_number": t.ticket.ticket_number},
}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""

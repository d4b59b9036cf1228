"""Pages of long lists: capped counts, and deep pages read by id first (a deferred join)."""

import pytest

from domains.models import Domain
from portal.pagination import DEFERRED_JOIN_FROM, CappedPaginator
from tests.customers.factories import CustomerFactory
from tests.domains.factories import TldFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def domains():
    customer = CustomerFactory()
    tld = TldFactory(name="com")
    count = DEFERRED_JOIN_FROM + 120
    Domain.objects.bulk_create(
        Domain(
            organisation=customer.organisation,
            customer=customer,
            livemode=customer.livemode,
            tld=tld,
            name=f"d{i:04}.com",
            name_puny=f"d{i:04}.com",
            status="active",
        )
        for i in range(count)
    )
    return Domain.objects.select_related("customer", "tld").order_by("-name_puny")


def test_a_deep_page_has_the_rows_a_plain_slice_would_have(domains, django_assert_num_queries):
    paginator = CappedPaginator(domains, 50)
    number = DEFERRED_JOIN_FROM // 50 + 2  # past the deferred-join offset
    bottom = (number - 1) * 50
    expected = [d.name for d in domains[bottom : bottom + 50]]
    with django_assert_num_queries(3):  # count, ids of the page, rows with their joins
        page = paginator.page(number)
        rows = list(page)
        names = [d.name for d in rows]
        customers = {d.customer.email for d in rows}  # joined: no query per row
    assert names == expected
    assert len(customers) == 1


def test_the_last_page_is_complete_and_the_first_is_one_query(domains, django_assert_num_queries):
    paginator = CappedPaginator(domains, 50)
    last = paginator.page(paginator.num_pages)
    assert len(list(last)) == (DEFERRED_JOIN_FROM + 120) % 50 or 50
    assert list(last)[-1].name == "d0000.com"
    with django_assert_num_queries(1):
        assert len(list(paginator.page(1))) == 50


def test_a_text_search_counts_to_a_lower_cap(domains, client, monkeypatch):
    """A partial-name search says "N+" past SEARCH_COUNT_CAP (in the API and the pages), where a
    plain list would count on to COUNT_CAP."""
    from customers.models import Membership
    from portal import pagination
    from tests.customers.factories import UserFactory

    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", 30)
    member = UserFactory()
    Membership.objects.create(user=member, organisation=domains.first().organisation)
    client.force_login(member)

    searched = client.get("/api/v1/domains/", {"q": "d0", "page_size": 10}).json()
    assert (searched["count"], searched["count_exact"]) == (30, False)
    listed = client.get("/api/v1/domains/", {"page_size": 10}).json()
    assert (listed["count"], listed["count_exact"]) == (DEFERRED_JOIN_FROM + 120, True)
    page = client.get("/domains/", {"q": "d0"}).content.decode()
    assert 'data-result-count="30"' in page

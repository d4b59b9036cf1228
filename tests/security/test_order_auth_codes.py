"""A transfer ordered in the cart keeps its auth code encrypted on the order item until the
invoice is paid: it never reaches the admin's order pages, the order API's answer or the audit
trail."""

from __future__ import annotations

import json

import pytest

from billing.models import Order, Price
from portal.models import AuditEntry
from tests.billing.test_orders import place

pytestmark = pytest.mark.django_db
CODE = "Sekr1t-Transfer-Code"


@pytest.fixture
def ordered(world):
    Price.objects.create(
        tld=world.a.domain.tld, action="transfer", currency="USD", cost="5.00", sell="10.00"
    )
    item = {"type": "domain", "action": "transfer", "name": "moving.com", "auth_code": CODE}
    return place(world, [item])


def test_the_code_is_not_in_the_admin_or_the_audit_trail(client, world, ordered):
    client.force_login(world.staff)
    item = ordered.items.get()
    for url in (
        f"/admin/billing/order/{ordered.pk}/change/",
        f"/admin/billing/orderitem/{item.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert CODE not in page.content.decode()
    audited = json.dumps(list(AuditEntry.objects.values_list("data", flat=True)))
    assert CODE not in audited


def test_the_code_is_not_in_the_order_api(client, world, ordered):
    client.force_login(world.a.customer_user)
    answer = client.get(f"/api/v1/orders/{ordered.pk}/")
    assert answer.status_code == 200
    assert CODE not in answer.content.decode()
    assert Order.objects.get(pk=ordered.pk).items.get().auth_code == CODE  # kept, encrypted

"""The cart page (/billing/cart/): quote, then place the order once per form token."""

from __future__ import annotations

import pytest

from billing.models import Order, Price

pytestmark = pytest.mark.django_db
URL = "/billing/cart/"


@pytest.fixture
def priced(world):
    com = world.a.domain.tld
    for action in ("register", "renew"):
        Price.objects.create(tld=com, action=action, currency="USD", cost="5.00", sell="10.00")
    return com


def body(**extra):
    return {"names": "cart-one.com\ncart-two.com", "years": "1", "token": "tok-1", **extra}


def test_a_customer_quotes_then_orders_once_whatever_the_double_clicks(
    client, world, priced, monkeypatch
):
    from billing import quotes

    monkeypatch.setattr(quotes, "_check_registry", lambda actor, items: None)  # no registry
    client.force_login(world.a.customer_user)
    page = client.get(URL)
    assert page.status_code == 200 and 'name="token"' in page.content.decode()

    quoted = client.post(URL, body(action="quote"))
    html = quoted.content.decode()
    assert quoted.status_code == 200 and "20.00 USD" in html and 'data-action="order"' in html

    first = client.post(URL, body(action="order"))
    again = client.post(URL, body(action="order"))
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Order.objects.filter(customer=world.a.customer).count() == 1


def test_bad_input_is_422_and_orders_nothing(client, world, priced, monkeypatch):
    from billing import quotes

    monkeypatch.setattr(quotes, "_check_registry", lambda actor, items: None)
    client.force_login(world.a.customer_user)
    empty = client.post(URL, body(names="  ", action="quote"))
    assert empty.status_code == 422 and "at least one domain name" in empty.content.decode()
    bad = client.post(URL, body(names="not a domain", action="order"))
    assert bad.status_code == 422 and "not a domain" in bad.content.decode()
    assert not Order.objects.exists()


def test_a_reseller_chooses_one_of_its_customers(client, world, priced, monkeypatch):
    from billing import quotes

    monkeypatch.setattr(quotes, "_check_registry", lambda actor, items: None)
    client.force_login(world.a.member)
    other = client.post(URL, body(action="order", customer=str(world.b.customer.pk)))
    assert other.status_code == 422 and not Order.objects.exists()
    mine = client.post(URL, body(action="order", customer=str(world.a.customer.pk)))
    assert mine.status_code == 302
    assert Order.objects.get().customer == world.a.customer

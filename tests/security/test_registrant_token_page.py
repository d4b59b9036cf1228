"""Bad input on the account page's registrant-token form: the page again (400) with the reason,
never a 500, and no token made. An archived customer account (the service refuses it new
tokens) used to end in a 500."""

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import RegistrantToken

pytestmark = pytest.mark.django_db

CREATE = "account:registrant_token_create"


def test_an_archived_account_gets_the_reason_not_a_500_and_no_token(client, world):
    customer = world.a.customer
    customer.archived_at = timezone.now()
    customer.save(update_fields=["archived_at"])
    client.force_login(world.a.customer_user)
    page = client.get(reverse("account:page")).content.decode()
    assert "data-archived" in page and "create-registrant-token" not in page

    response = client.post(reverse(CREATE), {"name": "Monitor"})
    assert response.status_code == 400
    assert "archived: it cannot have new tokens" in response.content.decode()
    assert not RegistrantToken.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 101, "nul\x00byte"],
    ids=["empty", "blank", "too-long", "nul"],
)
def test_a_bad_name_is_shown_under_the_field_and_makes_no_token(client, world, name):
    client.force_login(world.a.customer_user)
    response = client.post(reverse(CREATE), {"name": name})
    assert response.status_code == 400
    assert "data-error" in response.content.decode()
    assert not RegistrantToken.objects.exists()

"""The ticket form, mended (issue 12): its empty choices read as words, not a literal "None"."""

import re

import pytest
from django.urls import reverse

from tests.support.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["customer_user", "member"])
def test_the_ticket_form_has_no_none_option(client, world, who):
    DepartmentFactory(name="Technical")
    client.force_login(getattr(world.a, who))
    html = client.get(reverse("support:ticket_new")).content.decode()
    empty = re.findall(r'<option value="" ?[^>]*>([^<]*)</option>', html)
    assert empty, "the optional choices have an empty option"
    assert all(not label.startswith("None") for label in empty), empty
    assert ("Not about a domain" if who == "customer_user" else "Not about a customer") in " ".join(
        empty
    )
    assert ">None<" not in html

"""A customer makes a registrant API token on its account page (shown once), reads its domains
with it, revokes it; and the API docs page leads to each compatibility API's Swagger page, every
one rendered from files this server serves."""

import pytest

from customers.models import RegistrantToken
from domains.models import Domain
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

REGISTRANT_DOMAINS = "/api/v1/registrant/domains"


def test_a_customer_creates_uses_and_revokes_a_registrant_token(page, demo):
    sign_in(page, "customer@example.com")
    page.click("[data-nav=account]")
    page.wait_for_load_state("networkidle")

    # A nameless token is refused under the field; nothing is made.
    page.click("[data-action=create-registrant-token]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-registrant-tokens] [data-error]").count() == 1
    assert not RegistrantToken.objects.exists()

    page.fill("#id_registrant_token_name", "Renewal reminder script")
    page.click("[data-action=create-registrant-token]")
    page.wait_for_load_state("networkidle")
    raw = page.locator("[data-raw-token]").inner_text().strip()
    assert raw.startswith("np_reg_")
    token = RegistrantToken.objects.get(name="Renewal reminder script")
    assert token.customer.email == "customer@example.com"

    bearer = {"Authorization": f"Bearer {raw}"}
    answer = page.request.get(REGISTRANT_DOMAINS, headers=bearer)
    assert answer.status == 200
    names = {domain["name"] for domain in answer.json()}
    assert "ada-bakery.com" in names
    shown = Domain.objects.filter(uuid__in=[domain["id"] for domain in answer.json()])
    assert shown.count() == len(names)
    assert set(shown.values_list("customer", flat=True)) == {token.customer_id}  # Ada's only

    page.click("[data-action=done]")
    page.wait_for_load_state("networkidle")
    row = page.locator(f"[data-registrant-token='{token.prefix}']")
    assert raw not in page.content()
    assert "Never" not in row.inner_text()  # last used: the request above

    row.locator("[data-action=revoke-registrant-token]").click()
    page.wait_for_load_state("networkidle")
    page.click("[data-action=confirm-revoke-registrant-token]")
    page.wait_for_load_state("networkidle")
    assert "Revoked" in page.locator(f"[data-registrant-token='{token.prefix}']").inner_text()
    refused = page.request.get(REGISTRANT_DOMAINS, headers=bearer)
    assert refused.status == 401
    assert refused.json() == {"errors": ["Invalid or revoked registrant token"]}
    assert page.requests_elsewhere == []


@pytest.mark.parametrize(
    ("link", "title"),
    [
        ("Nameport API", "Nameport API"),
        ("Leanstack enterprise API (seeds 000 and 001)", "Leanstack enterprise API (Nameport)"),
        ("Registrant API (seed 004)", "Nameport registrant API (seed 004)"),
        ("RDAP (RFC 9082/9083)", "Nameport RDAP (RFC 9082/9083)"),
    ],
)
def test_the_api_docs_page_leads_to_each_apis_rendered_docs(page, link, title):
    page.goto("/api/docs/")
    page.click(f"[data-api-docs] a:text-is('{link}')")
    page.wait_for_selector(".swagger-ui .info .title")
    assert title in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".swagger-ui .opblock").count() >= 2
    assert page.requests_elsewhere == []

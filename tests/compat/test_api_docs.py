"""The API documentation page links every API's docs and OpenAPI document, all served here."""

from __future__ import annotations

import re

import pytest

DOCUMENTS = {
    "/api/v1/schema/": "/api/v1/",
    "/api/compat/leanstack/schema/": "/v1/enterprise/customer",
    "/api/compat/registrant/schema/": "/api/v1/registrant/domains",
    "/api/compat/rdap/schema/": "/rdap/domain/",
}


@pytest.mark.django_db
def test_the_docs_page_links_the_native_and_every_compatibility_api(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    for title in ("Nameport API", "Leanstack enterprise API", "Registrant API", "RDAP"):
        assert title in html
    links = set(re.findall(r'href="([^"]+)"', html))
    assert set(DOCUMENTS) <= links
    assert {
        "/api/v1/docs/",
        "/api/compat/leanstack/docs/",
        "/api/compat/registrant/docs/",
        "/api/compat/rdap/docs/",
    } <= links


@pytest.mark.django_db
@pytest.mark.parametrize("url,a_path", DOCUMENTS.items())
def test_each_document_is_openapi_and_describes_its_own_paths_only(client, url, a_path):
    response = client.get(url, HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    paths = list(document["paths"])
    assert any(p.startswith(a_path) for p in paths), paths
    own_prefix = {"/v1/enterprise/customer": "/v1/", "/rdap/domain/": "/rdap/"}.get(a_path, a_path)
    assert all(p.startswith(own_prefix) for p in paths), paths
    if a_path == "/api/v1/":  # the native document leaves the registrant API to its own
        assert not any(p.startswith("/api/v1/registrant/") for p in paths), paths


@pytest.mark.django_db
def test_the_docs_pages_render_locally_without_a_cdn(client):
    for url in ("/api/compat/leanstack/docs/", "/api/compat/registrant/docs/"):
        html = client.get(url).content.decode()
        assert "swagger" in html.lower()
        assert "cdn" not in html.lower() and "unpkg" not in html.lower()

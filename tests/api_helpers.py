"""Helpers shared by the API tests: ask as one of a tenant's actors."""

from __future__ import annotations

INTRUDERS = ["member", "customer_user", "contact_user", "live_key", "sandbox_key", "bearer"]


def get_as(client, tenant, who: str, url: str, data=None):
    """GET ``url`` as one of ``tenant``'s actors: a session user, or an API key by header."""
    client.logout()
    if who == "bearer":
        return client.get(url, data, HTTP_AUTHORIZATION=f"Bearer {tenant.live_key_raw}")
    if who.endswith("_key"):
        return client.get(url, data, HTTP_ACCESS_TOKEN=getattr(tenant, f"{who}_raw"))
    client.force_login(getattr(tenant, who))
    return client.get(url, data)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]

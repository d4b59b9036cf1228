"""Fixtures of the contract tests (the seed documents' APIs replayed against Nameport)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from billing.models import ExchangeRate, Price


@dataclass
class Leanstack:
    """The Leanstack API (seeds 000/001) as tenant ``world.a``'s software calls it."""

    world: object
    client: object
    tld: object

    def call(self, method: str, path: str, body=None, *, key: str | None = None, **headers):
        """``body``: a dict/list is sent as JSON, a str or bytes as given."""
        if key is None:
            key = self.world.a.live_key_raw
        if key:
            headers.setdefault("HTTP_ACCESS_TOKEN", key)
        send = getattr(self.client, method.lower())
        if method.upper() == "GET":
            return send(path, body or {}, **headers)
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        return send(path, body or "", content_type="application/json", **headers)


@pytest.fixture
def lean(world, client) -> Leanstack:
    return make_lean(world, client)


def make_lean(world, client) -> Leanstack:
    """``world`` with a price list: .com costs the reseller 5 USD (the platform's sell price,
    the registry's cost 4), 3000 NGN at today's rate of 600."""
    tld = world.a.domain.tld
    Price.objects.create(tld=tld, action="register", years=1, currency="USD", cost=4, sell=5)
    ExchangeRate.objects.create(
        base="USD", quote="NGN", rate=Decimal(600), valid_from=date.today() - timedelta(days=1)
    )
    return Leanstack(world=world, client=client, tld=tld)

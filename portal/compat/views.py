"""The API documentation page: the native API and each compatibility API, each with its own
OpenAPI document and interactive docs, all served locally."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse

APIS = (
    (
        "Nameport API",
        "The native REST API: customers, domains, DNS zones, invoices, tickets, team and "
        "settings. API key (`access-token`) or session.",
        "api:docs",
        "api:schema",
    ),
    (
        "Leanstack enterprise API (seeds 000 and 001)",
        "For reseller software written against the Leanstack enterprise API: customers and "
        "their domains under /v1/enterprise/. API key in the `access-token` (or `access_token`) "
        "header.",
        "compat-leanstack-docs:docs",
        "compat-leanstack-docs:schema",
    ),
    (
        "Registrant API (seed 004)",
        "Read-only view of the domains a registrant holds, under /api/v1/registrant/. Bearer "
        "token from the customer's account page.",
        "compat-registrant-docs:docs",
        "compat-registrant-docs:schema",
    ),
    (
        "RDAP (RFC 9082/9083)",
        "Public registration data of the names Nameport sponsors, under /rdap/, with "
        "personal data redacted.",
        "compat-rdap-docs:docs",
        "compat-rdap-docs:schema",
    ),
)


def api_docs_index(request):
    apis = [
        {"title": title, "summary": summary, "docs": reverse(docs), "schema": reverse(schema)}
        for title, summary, docs, schema in APIS
    ]
    return render(request, "compat/api_docs.html", {"apis": apis})

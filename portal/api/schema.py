"""OpenAPI pieces drf-spectacular cannot guess: how an API key is sent."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """``access-token: <key>`` or ``Authorization: Bearer <key>`` (either one suffices)."""

    target_class = "portal.auth.ApiKeyAuthentication"
    name = ["apiKey", "bearerApiKey"]

    def get_security_requirement(self, auto_schema):
        return [{"apiKey": []}, {"bearerApiKey": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "access-token",
                "description": (
                    "An organisation's API key (np_live_... or np_test_...). A sandbox key sees "
                    "only sandbox rows, a live key only live rows. The old header spelling "
                    "`access_token` is accepted too."
                ),
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "The same API key sent as `Authorization: Bearer <key>`.",
            },
        ]

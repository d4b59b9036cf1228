"""OpenAPI pieces drf-spectacular cannot guess: how an API key is sent, and the error answers
every operation can give."""

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


def native_endpoints_only(endpoints: list) -> list:
    """drf-spectacular preprocessing hook: the native document describes /api/v1/ only, not
    the compatibility APIs mounted beside it (the registrant API's /api/v1/registrant/ too),
    which have documents of their own (portal/compat/)."""
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith("/api/v1/") and not endpoint[0].startswith("/api/v1/registrant/")
    ]


# --- the error answers of every operation -------------------------------------------------------
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal of the native API (portal.api.exceptions).",
    "properties": {
        "message": {"type": "string", "description": "What went wrong, in one sentence"},
        "errors": {
            "type": "object",
            "description": "For invalid input: the messages per field "
            '(`non_field_errors` for the request as a whole), e.g. {"years": ["..."]}',
            "additionalProperties": {},
        },
    },
    "required": ["message"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_ANSWERS = {
    "400": "Invalid input (a parameter or the body); nothing changed",
    "401": "No valid credentials",
    "403": "The caller may not do this",
    "404": "Not found, or not the caller's",
    "415": "The body's media type is none the operation reads (JSON, form or multipart)",
    "429": "Too many requests (API_THROTTLE_USER, API_THROTTLE_ANON); Retry-After says when",
}
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _error_content() -> dict:
    return {"application/json": {"schema": ERROR_REF}}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every operation documents its error answers with
    the one error body ``{"message", "errors"}``: 400 and 429 always, 404 where the path names
    an object or a list has pages, 415 where it reads a body, 401/403 where a caller must
    authenticate. A 4xx an operation declared without a body (or with another body that a
    validation error can replace) gets the error body too."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400", "429"]  # the throttles apply to every view
            pages = any(p.get("name") == "page" for p in operation.get("parameters", []))
            if "{" in path or pages:  # an object by id, or a page past the end
                codes.append("404")
            if "requestBody" in operation:
                codes.append("415")
            security = operation.get("security")
            if security and {} not in security:
                codes += ["401", "403"]
            for code in codes:
                responses.setdefault(code, {"description": ERROR_ANSWERS[code]})
            for code, response in responses.items():
                if not str(code).startswith("4"):
                    continue
                content = response.get("content")
                if not content:
                    response["content"] = _error_content()
                    response.setdefault("description", ERROR_ANSWERS.get(str(code), ""))
                    continue
                for media in content.values():
                    schema = media.get("schema")
                    if schema and schema != ERROR_REF and "anyOf" not in schema:
                        # e.g. a zone import's line report, or the error body when the request
                        # itself is invalid
                        media["schema"] = {"anyOf": [schema, ERROR_REF]}
    return result

"""The registrant API's OpenAPI document: its own error body on every refusal."""

from __future__ import annotations

from portal.compat.registrant import authentication  # noqa: F401  (registers the Bearer scheme)

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal of the registrant API, as seed 004 shows it: "
    '`{"errors": ["Domain not found"]}`.',
    "properties": {
        "errors": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "description": "What went wrong, one sentence each",
        }
    },
    "required": ["errors"],
}
ERROR_REF = {"$ref": "#/components/schemas/Errors"}
ANSWERS = {
    "400": "A bad parameter",
    "401": "No token, or a wrong or revoked one (`WWW-Authenticate: Bearer`)",
    "404": "Not found, or not the token's customer's",
    "405": "A method other than GET",
    "429": "Too many requests (as the native API's throttles); Retry-After says when",
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: 400, 401, 405 and 429 on every operation, 404 where
    the path names a domain, each with the ``{"errors": [...]}`` body."""
    result.setdefault("components", {}).setdefault("schemas", {})["Errors"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400", "401", "405", "429"] + (["404"] if "{" in path else [])
            for code in codes:
                responses.setdefault(code, {"description": ANSWERS[code]})
            for code, response in responses.items():
                if str(code).startswith("4"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result

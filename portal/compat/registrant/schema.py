"""The registrant API's OpenAPI document: its own error body on every refusal."""

from __future__ import annotations

from portal.compat.docs import add_error_answers
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
    return add_error_answers(result, schema_name="Errors", schema=ERROR_SCHEMA, answers=ANSWERS)

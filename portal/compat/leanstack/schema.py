"""The Leanstack API's OpenAPI document: its description and its error answers."""

from __future__ import annotations

from portal.compat.docs import add_error_answers

DESCRIPTION = """Nameport serves the Leanstack enterprise API (seeds 000 and 001) for reseller
software written against it: the paths, methods and bodies are the documents', at the root of
the site (`/v1/enterprise/...`, `/v1/rest/domain_suggestion`), without trailing slashes.

**Authentication.** An API key of the organisation in the `access-token` header (seed 001's
`access_token` is read too; `Authorization: Bearer <key>` also works). A sandbox key
(`np_test_...`) sees and creates sandbox customers and domains only, pushed to the sandbox
registry and charged to the sandbox account; a live key live ones only. A key acts as the
organisation's admins. No key, or an unknown or revoked one: 401.

**debug-id.** An optional `debug-id` (or `debug_id`) header is echoed in the answer's
`debug-id` header (printable ASCII, at most 128 characters; anything else is dropped) and
written with the request to Nameport's request log, so support can find the request.

**Errors.** As the document says, an answer carrying `message` means the request is not
complete: every refusal is `{"message": "..."}` with a 4xx status: 400 bad input (malformed
JSON, a body that is not an object, wrong types, missing fields, invalid names), 401 no valid
key, 404 an unknown id or one of another organisation or mode, 405 a method the path does not
take, 409 a conflict with the current state (`Customer already exists for organisation`, a
name that is taken, a locked domain's secret), 429 too many requests (`Retry-After` says when).
Ids in paths are whole numbers; anything else is a 404.

**Seed 001.** `POST /v1/enterprise/add_customer` adds a customer (a GET there is refused with
405), `postcode` is read for `post_code`, and availability and suggestion also answer GET with
their fields in the query string.
"""

MESSAGE_SCHEMA = {
    "type": "object",
    "description": "A refusal: the request is not complete.",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
    "additionalProperties": False,
}
ANSWERS = {
    "400": "Bad input (JSON, types, missing fields, invalid names); nothing changed",
    "401": "No valid API key",
    "404": "Not found, or not the organisation's in this mode",
    "405": "Method not allowed",
    "429": "Too many requests; Retry-After says when",
}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Every operation answers 400, 401, 405 and 429 with ``{"message"}``; one with an id in
    its path also 404. Any 4xx it declares gets the same body."""
    result.get("components", {}).get("schemas", {}).pop("Message", None)
    return add_error_answers(
        result, schema_name="LeanstackMessage", schema=MESSAGE_SCHEMA, answers=ANSWERS
    )

"""The registrant API's OpenAPI document and docs page, at /api/compat/registrant/."""

from portal.compat.docs import document_urls

app_name = "compat-registrant-docs"

DESCRIPTION = """\
The registrant API of the Estonian registry (internetee, seed 004), served by Nameport for the \
people who hold the domains: a read-only view of one customer's domains.

* Authentication: `Authorization: Bearer <token>` with a registrant token (`np_reg_...`). A \
customer creates and revokes its tokens on its account page ("Registrant API tokens"); \
`manage.py issue_registrant_token EMAIL` prints one. Sessions and API keys are not accepted.
* Scope: the token's customer's domains, in that customer's mode (sandbox or live), that it \
still holds. Another customer's domain, or one of the other mode, is "Domain not found".
* Paths exactly as the document, without a trailing slash.
* Errors: `{"errors": ["..."]}` with a 4xx status, e.g. 404 `{"errors": ["Domain not found"]}`, \
400 `{"errors": ["limit must be an integer between 1 and 200"]}`, 401 for a missing, wrong or \
revoked token.
* The list's body, written `{ [ ... ] }` in the document, is a JSON array.
* Field mapping: see each field's description in the `RegistrantDomain` schema. Notably \
`registrar` is the reseller (its brand's portal name, else its name), `registrant_id` the \
customer's id, `transfer_code` the auth code only while the domain is unlocked (else null; each \
answer showing one is audited), `statuses` the EPP statuses (`["ok"]` when none), `outzone_at` \
and `delete_at` the lifecycle's dates, `locked_by_registrant_at` when the registrar lock was set \
(null when unlocked).
"""

SCHEMA_SETTINGS = {
    "TITLE": "Nameport registrant API (seed 004)",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1/registrant",
    # the native settings' hooks keep the native endpoints only and add the native error body
    "PREPROCESSING_HOOKS": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.compat.registrant.schema.add_error_responses",
    ],
}

urlpatterns = document_urls(
    app_name, "portal.compat.registrant.urls", SCHEMA_SETTINGS, mount="api/v1/registrant/"
)

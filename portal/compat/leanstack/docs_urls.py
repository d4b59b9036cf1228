"""The Leanstack API's OpenAPI document and its Swagger page, under /api/compat/leanstack/."""

from portal.compat.docs import document_urls
from portal.compat.leanstack.schema import DESCRIPTION

app_name = "compat-leanstack-docs"

SETTINGS = {
    "TITLE": "Leanstack enterprise API (Nameport)",
    "DESCRIPTION": DESCRIPTION,
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # the native settings keep the native endpoints only, and add the native error body
    "PREPROCESSING_HOOKS": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.compat.leanstack.schema.add_error_responses",
    ],
}

urlpatterns = document_urls(app_name, "portal.compat.leanstack.urls", SETTINGS)

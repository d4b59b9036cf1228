"""The Leanstack API's OpenAPI document and its Swagger page, under /api/compat/leanstack/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

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

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(
            urlconf="portal.compat.leanstack.urls",
            custom_settings=SETTINGS,
            permission_classes=[AllowAny],
            authentication_classes=[],
        ),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="compat-leanstack-docs:schema",
            permission_classes=[AllowAny],
            authentication_classes=[],
        ),
        name="docs",
    ),
]

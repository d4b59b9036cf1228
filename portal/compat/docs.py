"""Each compatibility API's OpenAPI document and Swagger page, served locally and public (the
documents describe the API, not anyone's data): ``schema/`` and ``docs/`` under
/api/compat/<name>/, linked from /api/docs/."""

from __future__ import annotations

from django.urls import URLPattern, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

PUBLIC = {"permission_classes": [AllowAny], "authentication_classes": []}


def document_urls(
    app_name: str, urlconf: str, settings: dict, mount: str | None = None
) -> list[URLPattern]:
    """The two routes of one API's document: ``urlconf`` is the API's own URL module, mounted
    at ``mount`` (its prefix in portal/urls.py) so the document gives the full paths; the API's
    ``settings`` override the native SPECTACULAR_SETTINGS (title, description, hooks)."""
    patterns = [path(mount, include(urlconf))] if mount else None
    return [
        path(
            "schema/",
            SpectacularAPIView.as_view(
                urlconf=urlconf, patterns=patterns, custom_settings=settings, **PUBLIC
            ),
            name="schema",
        ),
        path(
            "docs/",
            SpectacularSwaggerSplitView.as_view(
                url_name=f"{app_name}:schema", title=settings["TITLE"], **PUBLIC
            ),
            name="docs",
        ),
    ]


def add_error_answers(
    result: dict, *, schema_name: str, schema: dict, answers: dict[str, str]
) -> dict:
    """For a drf-spectacular postprocessing hook: every operation answers 400, 401, 405 and 429,
    one with an id in its path also 404, and each 4xx it declares has the API's own error body
    (``schema``, added to the components as ``schema_name``) and a description from ``answers``
    unless it has its own."""
    result.setdefault("components", {}).setdefault("schemas", {})[schema_name] = schema
    ref = f"#/components/schemas/{schema_name}"
    for route, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = ["400", "401", "405", "429"] + (["404"] if "{" in route else [])
            for code in codes:
                responses.setdefault(code, {"description": answers[code]})
            for code, response in responses.items():
                if str(code).startswith("4"):
                    response["content"] = {"application/json": {"schema": {"$ref": ref}}}
                    if not response.get("description"):
                        response["description"] = answers.get(str(code), "Refused")
    return result

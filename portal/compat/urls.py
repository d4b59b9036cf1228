"""The compatibility APIs' routes, mounted by portal/urls.py at the root (their documents fix
the paths), and their OpenAPI documents under /api/compat/."""

from django.urls import include, path

from portal.compat import views

compat_urlpatterns = [
    path("", include("portal.compat.leanstack.urls")),
    path("api/v1/registrant/", include("portal.compat.registrant.urls")),
    path("rdap/", include("portal.compat.rdap.urls")),
]

docs_urlpatterns = [
    path("api/docs/", views.api_docs_index, name="api_docs"),
    path("api/compat/leanstack/", include("portal.compat.leanstack.docs_urls")),
    path("api/compat/registrant/", include("portal.compat.registrant.docs_urls")),
    path("api/compat/rdap/", include("portal.compat.rdap.docs_urls")),
]

"""The registrant API's routes (seed 004), mounted at /api/v1/registrant/ by portal.compat.urls:
the document's paths exactly, without a trailing slash; anything else under the prefix is a 404
in the document's error shape."""

from django.urls import path, re_path

from portal.compat.registrant import views

app_name = "compat-registrant"
urlpatterns = [
    path("domains", views.DomainList.as_view(), name="domains"),
    path("domains/<str:uuid>", views.DomainDetail.as_view(), name="domain"),
    re_path(r"^.*$", views.NotFoundView.as_view()),
]

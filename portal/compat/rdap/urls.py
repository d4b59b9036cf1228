"""RDAP's routes (RFC 9082), mounted at /rdap/ by portal.compat.urls. A name may hold any
character (a slash too: it is then a 400, not a miss of the routes); anything else under /rdap/
is an RDAP error too (501 for the query types this server does not answer, else 404)."""

from django.urls import path, re_path

from portal.compat.rdap import views

app_name = "compat-rdap"
urlpatterns = [
    path("domain/<path:name>", views.DomainView.as_view(), name="domain"),
    path("nameserver/<path:name>", views.NameserverView.as_view(), name="nameserver"),
    path("help", views.HelpView.as_view(), name="help"),
    re_path(r"^(?P<rest>.*)$", views.OtherView.as_view()),
]

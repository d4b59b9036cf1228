"""The Leanstack enterprise API's routes, exactly as seeds 000 and 001 write them (no trailing
slashes; portal/compat/urls.py mounts them at the root of the site)."""

from django.urls import path

from portal.compat.leanstack import views

app_name = "compat-leanstack"

ENTERPRISE = "v1/enterprise"

urlpatterns = [
    path(f"{ENTERPRISE}/customer", views.CustomerAddView.as_view(), name="customer-add"),
    # seed 001's spelling
    path(f"{ENTERPRISE}/add_customer", views.CustomerAddOldView.as_view(), name="add-customer"),
    path(
        f"{ENTERPRISE}/customer/<str:customer_id>",
        views.CustomerView.as_view(),
        name="customer-detail",
    ),
    path(f"{ENTERPRISE}/customers", views.CustomerListView.as_view(), name="customer-list"),
    path(
        f"{ENTERPRISE}/domain_availability",
        views.AvailabilityView.as_view(),
        name="domain-availability",
    ),
    path("v1/rest/domain_suggestion", views.SuggestionView.as_view(), name="domain-suggestion"),
    # the document's "HTTP Request" line
    path(
        f"{ENTERPRISE}/domain_suggestion",
        views.SuggestionView.as_view(),
        name="domain-suggestion-enterprise",
    ),
    # before domain/<id>: "order" is not an id
    path(f"{ENTERPRISE}/domain/order", views.OrderView.as_view(), name="domain-order"),
    path(f"{ENTERPRISE}/domains", views.DomainListView.as_view(), name="domain-list"),
    path(f"{ENTERPRISE}/domain/<str:domain_id>", views.DomainView.as_view(), name="domain-detail"),
    path(
        f"{ENTERPRISE}/domain/<str:domain_id>/nameservers",
        views.NameserversView.as_view(),
        name="domain-nameservers",
    ),
    path(
        f"{ENTERPRISE}/domain/<str:domain_id>/registrar_lock",
        views.RegistrarLockView.as_view(),
        name="domain-registrar-lock",
    ),
    path(
        f"{ENTERPRISE}/domain/<str:domain_id>/domain_secret",
        views.DomainSecretView.as_view(),
        name="domain-secret",
    ),
]

from django.contrib import admin
from django.urls import include, path

from portal import health, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("mode/", views.set_mode, name="set_mode"),
    path("accounts/", include("portal.account_urls")),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("domains/", include("domains.urls")),
    path("dns/", include("dns.urls")),
    path("billing/", include("billing.urls")),
    path("support/", include("support.urls")),
    path("api/v1/", include("portal.api.urls")),
]

handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"

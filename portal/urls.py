from django.contrib import admin
from django.urls import include, path

from portal import health, views, views_audit
from portal.compat.urls import compat_urlpatterns, docs_urlpatterns

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    path("mode/", views.set_mode, name="set_mode"),
    path("audit/", views_audit.audit_log, name="audit_log"),
    path("accounts/", include("portal.account_urls")),
    path("accounts/", include("customers.signin_urls")),
    path("account/", include("customers.account_urls")),
    path("team/", include("customers.team_urls")),
    path("settings/", include("customers.settings_urls")),
    path("brand/", include("customers.brand_urls")),
    path("admin/", admin.site.urls),
    path("customers/", include("customers.urls")),
    path("domains/", include("domains.urls")),
    path("dns/", include("dns.urls")),
    path("billing/", include("billing.urls")),
    path("support/", include("support.urls")),
    # before api/v1/: the registrant API lives under /api/v1/registrant/ (its document says so)
    *compat_urlpatterns,
    *docs_urlpatterns,
    path("api/v1/", include("portal.api.urls")),
]

handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"

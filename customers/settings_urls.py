"""The organisation's settings page, mounted at /settings/."""

from django.urls import path

from customers import org_settings_views

app_name = "org_settings"
urlpatterns = [
    path("", org_settings_views.settings_page, name="page"),
]

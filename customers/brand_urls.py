"""The brand's files, mounted at /brand/ (customers.branding)."""

from django.urls import path

from customers import branding

app_name = "brand"
urlpatterns = [
    path("logo/", branding.logo, name="logo"),
]

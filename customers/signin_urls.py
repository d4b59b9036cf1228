"""The second factor's sign-in pages, mounted at /accounts/ beside portal/account_urls.py."""

from django.urls import path

from customers import account_views

urlpatterns = [
    path("otp/", account_views.otp, name="otp"),
    path("otp/setup/", account_views.otp_setup, name="otp_setup"),
]

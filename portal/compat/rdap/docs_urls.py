from django.urls import path  # noqa: F401

app_name = "compat-rdap-docs"
urlpatterns: list = []

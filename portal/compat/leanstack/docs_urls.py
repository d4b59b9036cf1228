from django.urls import path  # noqa: F401

app_name = "compat-leanstack-docs"
urlpatterns: list = []

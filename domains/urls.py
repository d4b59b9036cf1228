from django.urls import path

from domains import views

app_name = "domains"
urlpatterns = [
    path("", views.domain_list, name="list"),
    path("<int:pk>/", views.domain_detail, name="detail"),
    path("operations/", views.operation_list, name="operation_list"),
]

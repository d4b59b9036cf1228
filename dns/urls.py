from django.urls import path

from dns import views

app_name = "dns"
urlpatterns = [
    path("zones/", views.zone_list, name="zone_list"),
    path("zones/<int:pk>/", views.zone_detail, name="zone_detail"),
]

from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<str:ticket_number>/", views.ticket_detail, name="ticket_detail"),
]

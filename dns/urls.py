from django.urls import path

from dns import views

app_name = "dns"
urlpatterns = [
    path("zones/", views.zone_list, name="zone_list"),
    path("zones/new/", views.zone_create, name="zone_create"),
    path("zones/<int:pk>/", views.zone_detail, name="zone_detail"),
    path("zones/<int:pk>/status/", views.zone_status, name="zone_status"),
    path("zones/<int:pk>/export/", views.zone_export, name="zone_export"),
    path("zones/<int:pk>/import/", views.zone_import, name="zone_import"),
    path("zones/<int:pk>/history/", views.zone_history, name="zone_history"),
    path(
        "zones/<int:pk>/history/<int:change_pk>/rollback/",
        views.zone_rollback,
        name="zone_rollback",
    ),
    path("zones/<int:pk>/publish/", views.zone_publish, name="zone_publish"),
    path("zones/<int:pk>/delete/", views.zone_delete, name="zone_delete"),
    path("zones/<int:pk>/records/add/", views.record_add, name="record_add"),
    path("zones/<int:pk>/records/<int:record_pk>/", views.record_row, name="record_row"),
    path("zones/<int:pk>/records/<int:record_pk>/edit/", views.record_edit, name="record_edit"),
    path(
        "zones/<int:pk>/records/<int:record_pk>/delete/",
        views.record_delete,
        name="record_delete",
    ),
    path("zones/<int:pk>/forwarding/", views.zone_forwarding, name="zone_forwarding"),
    path("zones/<int:pk>/email-forwards/add/", views.email_forward_add, name="email_forward_add"),
    path(
        "zones/<int:pk>/email-forwards/<int:forward_pk>/delete/",
        views.email_forward_delete,
        name="email_forward_delete",
    ),
    path("zones/<int:pk>/dnssec/", views.zone_dnssec, name="zone_dnssec"),
    path(
        "zones/<int:pk>/dnssec/<int:key_pk>/delete/",
        views.dnssec_key_delete,
        name="dnssec_key_delete",
    ),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
]

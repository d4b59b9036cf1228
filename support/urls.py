from django.urls import path

from support import canned_views, views

app_name = "support"
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<str:ticket_number>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<str:ticket_number>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<str:ticket_number>/reply-form/", views.ticket_reply_form, name="reply_form"),
    path("tickets/<str:ticket_number>/close/", views.ticket_close, name="ticket_close"),
    path("tickets/<str:ticket_number>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("tickets/<str:ticket_number>/update/", views.ticket_update, name="ticket_update"),
    path("tickets/<str:ticket_number>/retry/", views.ticket_retry, name="ticket_retry"),
    path("tickets/<str:ticket_number>/escalate/", views.ticket_escalate, name="ticket_escalate"),
    path(
        "tickets/<str:ticket_number>/escalation-answer/",
        views.ticket_escalation_answer,
        name="ticket_escalation_answer",
    ),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("canned/", canned_views.canned_list, name="canned_list"),
    path("canned/new/", canned_views.canned_new, name="canned_new"),
    path("canned/<int:pk>/", canned_views.canned_edit, name="canned_edit"),
    path("canned/<int:pk>/delete/", canned_views.canned_delete, name="canned_delete"),
]

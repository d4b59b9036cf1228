from __future__ import annotations

from django.contrib import admin

from portal.admin import register_remaining
from support.models import Attachment, CannedReply, Department, Message, Ticket


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "email", "is_public", "position")
    list_filter = ("is_public", ("organisation", admin.EmptyFieldListFilter))
    search_fields = ("name", "email", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


class MessageInline(admin.StackedInline):
    model = Message
    extra = 0
    fields = ("author_name", "author_email", "body", "is_staff", "is_internal", "via")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "ticket_number",
        "subject",
        "customer",
        "department",
        "status",
        "priority",
        "is_system",
        "updated_at",
    )
    list_filter = ("status", "priority", "is_system", "department")
    search_fields = ("ticket_number", "subject", "customer__email", "customer__last_name")
    list_select_related = ("customer", "department", "organisation")
    autocomplete_fields = (
        "organisation",
        "customer",
        "department",
        "domain",
        "invoice",
        "order",
        "assignee",
    )
    raw_id_fields = ("operation", "created_by", "follow_up_of")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")
    inlines = (MessageInline,)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "ticket",
        "author_name",
        "is_staff",
        "is_internal",
        "via",
        "created_at",
    )
    list_filter = ("is_staff", "is_internal", "via")
    search_fields = (
        "body",
        "author_name",
        "author_email",
        "ticket__ticket_number",
        "email_message_id",
    )
    list_select_related = ("ticket",)
    autocomplete_fields = ("ticket",)
    raw_id_fields = ("author",)
    date_hierarchy = "created_at"


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "message", "size", "content_type", "created_at")
    list_filter = ("content_type",)
    search_fields = ("filename", "message__ticket__ticket_number")
    list_select_related = ("message", "message__ticket")
    raw_id_fields = ("message",)
    date_hierarchy = "created_at"


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "organisation", "position")
    list_filter = (("organisation", admin.EmptyFieldListFilter),)
    search_fields = ("title", "body", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


register_remaining("support")

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from portal.admin import AuditedAdminMixin, ReadOnlyAdminMixin, admin_actor, register_remaining
from support import services
from support.models import Attachment, CannedReply, Department, Message, Ticket


@admin.register(Department)
class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "organisation", "email", "is_public", "position")
    list_filter = ("is_public", ("organisation", admin.EmptyFieldListFilter))
    search_fields = ("name", "email", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


class MessageInline(ReadOnlyAdminMixin, admin.StackedInline):
    """The conversation as it was written: staff answer in the portal (``ticket_reply``)."""

    model = Message
    extra = 0
    fields = ("created_at", "author_name", "author_email", "body", "is_staff", "is_internal", "via")
    readonly_fields = fields


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
    autocomplete_fields = ("department", "assignee")
    date_hierarchy = "created_at"
    # Priority, department and assignee are triage (saved through ``ticket_update``, audited);
    # the rest is the ticket's record: its status moves with the actions (``ticket_close``,
    # ``ticket_reopen``), who and what it is about never change here.
    fields = (
        "ticket_number",
        "subject",
        "organisation",
        "customer",
        "department",
        "priority",
        "assignee",
        "status",
        "is_system",
        "staff_only",
        "domain",
        "invoice",
        "order",
        "operation",
        "follow_up_of",
        "created_by",
        "client_read",
        "created_at",
        "updated_at",
        "last_reply_at",
        "first_response_at",
        "closed_at",
    )
    readonly_fields = tuple(f for f in fields if f not in {"department", "priority", "assignee"})
    inlines = (MessageInline,)
    actions = ("close", "reopen")

    def has_add_permission(self, request) -> bool:
        return False  # tickets are opened in the portal, by e-mail or by Nameport itself

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        ticket = Ticket.objects.get(pk=obj.pk)
        try:
            services.ticket_update(
                actor=admin_actor(request),
                ticket=ticket,
                priority=obj.priority,
                department=obj.department,
                assignee=obj.assignee,
            )
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
            self.message_user(request, reason, messages.ERROR)

    def _each(self, request, queryset, perform, done: str) -> None:
        actor, changed = admin_actor(request), 0
        for ticket in queryset:
            try:
                perform(actor, ticket)
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
                self.message_user(request, f"#{ticket.ticket_number}: {reason}", messages.ERROR)
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{done}: {changed}.", messages.SUCCESS)

    @admin.action(description="Close the selected tickets")
    def close(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda actor, ticket: services.ticket_close(actor=actor, ticket=ticket),
            "Closed",
        )

    @admin.action(description="Re-open the selected tickets")
    def reopen(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            lambda actor, ticket: services.ticket_reopen(actor=actor, ticket=ticket),
            "Re-opened",
        )


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("filename", "message", "size", "content_type", "created_at")
    list_filter = ("content_type",)
    search_fields = ("filename", "message__ticket__ticket_number")
    list_select_related = ("message", "message__ticket")
    raw_id_fields = ("message",)
    date_hierarchy = "created_at"


@admin.register(CannedReply)
class CannedReplyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "organisation", "position")
    list_filter = (("organisation", admin.EmptyFieldListFilter),)
    search_fields = ("title", "body", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


register_remaining("support")

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from portal.api.fields import BooleanField
from support.models import Attachment, CannedReply, Department, Message, Ticket
from support.selectors import is_agent, visible_messages


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Download it from here (same credentials).")

    class Meta:
        model = Attachment
        fields = ["id", "filename", "size", "content_type", "url", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: Attachment) -> str:
        return reverse(
            "api:ticket-attachment",
            kwargs={
                "ticket_number": attachment.message.ticket.ticket_number,
                "attachment_id": attachment.pk,
            },
            request=self.context.get("request"),
        )


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    type = serializers.SerializerMethodField(
        help_text='Seed 003\'s reply type: "Admin" (the support team) or "Client".'
    )
    ticket_number = serializers.CharField(source="ticket.ticket_number", read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket_number",
            "author_name",
            "type",
            "is_staff",
            "is_internal",
            "via",
            "body",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields

    def get_type(self, message: Message) -> str:
        return "Admin" if message.is_staff else "Client"


class TicketSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="name", read_only=True)
    department_id = serializers.IntegerField(read_only=True)
    # Both are null until set (an unassigned ticket; a ticket that follows up none).
    assignee = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    follow_up_of = serializers.SlugRelatedField(
        slug_field="ticket_number", read_only=True, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = [
            "ticket_number",
            "subject",
            "status",
            "priority",
            "department",
            "department_id",
            "customer",
            "domain",
            "invoice",
            "order",
            "operation",
            "assignee",
            "is_system",
            "client_read",
            "follow_up_of",
            "created_at",
            "updated_at",
            "last_reply_at",
            "first_response_at",
            "closed_at",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its conversation; internal notes are shown to the support team only."""

    messages = serializers.SerializerMethodField()
    escalated_at = serializers.SerializerMethodField(
        help_text="When the reseller escalated it to the platform's staff (support team only; "
        "null for customers)."
    )
    escalation_answered_at = serializers.SerializerMethodField(
        help_text="When the platform's staff answered the escalation (support team only)."
    )

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "escalated_at",
            "escalation_answered_at",
            "messages",
        ]
        read_only_fields = fields

    def _for_agents(self, ticket: Ticket, value):
        if value is None or not is_agent(self.context["actor"], ticket):
            return None
        return serializers.DateTimeField().to_representation(value)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_escalated_at(self, ticket: Ticket) -> str | None:
        return self._for_agents(ticket, ticket.escalated_at)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_escalation_answered_at(self, ticket: Ticket) -> str | None:
        return self._for_agents(ticket, ticket.escalation_answered_at)

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket: Ticket) -> list[dict]:
        messages = visible_messages(self.context["actor"], ticket).select_related("ticket")
        return MessageSerializer(messages, many=True, context=self.context).data


def _files_help() -> str:
    return (
        f"Files (multipart/form-data), at most {settings.NAMEPORT_ATTACHMENT_MAX_FILES}, each up "
        f"to {settings.NAMEPORT_ATTACHMENT_MAX_BYTES} bytes, of the types "
        f"{', '.join(settings.NAMEPORT_ATTACHMENT_EXTENSIONS)}."
    )


class TicketCreateSerializer(serializers.Serializer):
    department = serializers.IntegerField(help_text="A department id (GET ticket-departments).")
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField()
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, default="medium")
    customer = serializers.IntegerField(
        required=False, allow_null=True, help_text="Resellers and staff: the customer it is for."
    )
    domain = serializers.IntegerField(required=False, allow_null=True)
    invoice = serializers.IntegerField(required=False, allow_null=True)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=_files_help()
    )


class ReplyCreateSerializer(serializers.Serializer):
    body = serializers.CharField()
    internal = BooleanField(
        default=False, help_text="An internal note (support team only; never e-mailed)."
    )
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text=_files_help()
    )


class TicketUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    department = serializers.IntegerField(required=False)
    assignee = serializers.IntegerField(
        required=False, allow_null=True, help_text="A user id; null to unassign."
    )


class EscalateSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=5000, help_text="What the reseller needs from the platform's staff."
    )


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "email", "is_public", "organisation"]
        read_only_fields = fields


class CannedReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedReply
        fields = ["id", "title", "body"]
        read_only_fields = fields

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from support.models import Attachment, Message, Ticket
from support.selectors import visible_messages


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "filename", "size", "content_type", "created_at"]
        read_only_fields = fields


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "author_name",
            "is_staff",
            "is_internal",
            "body",
            "attachments",
            "created_at",
        ]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "ticket_number",
            "subject",
            "status",
            "priority",
            "department",
            "customer",
            "domain",
            "invoice",
            "client_read",
            "created_at",
            "updated_at",
            "last_reply_at",
            "closed_at",
        ]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its conversation; internal notes are shown to staff only."""

    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket: Ticket) -> list[dict]:
        messages = visible_messages(self.context["actor"], ticket)
        return MessageSerializer(messages, many=True, context=self.context).data

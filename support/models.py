"""Help desk: departments, tickets, messages and attachments."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from billing.models import Invoice, Order
from customers.models import Customer, Organisation
from domains.models import Domain, RegistrarOperation

# Every organisation has a department of this name, made with the organisation
# (``support.services.department_ensure_default``): its customers' tickets land there.
DEFAULT_DEPARTMENT = "Support"


class Department(models.Model):
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="departments",
        help_text="Empty: a platform department (staff answer it).",
    )
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    is_public = models.BooleanField(default=True, help_text="Customers may open tickets in it")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="department_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "Open"
        ANSWERED = "Answered"
        CUSTOMER_REPLY = "Customer-Reply"
        ON_HOLD = "On Hold"
        CLOSED = "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    # Sandbox or live, like the rows it is about: a sandbox key never reads or answers a live
    # ticket (nor the organisation's own live tickets, which have no customer).
    livemode = models.BooleanField(default=True)
    ticket_number = models.CharField(
        max_length=6, unique=True, validators=[RegexValidator(r"^[0-9]{6}$")]
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    client_read = models.BooleanField(default=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    operation = models.ForeignKey(
        RegistrarOperation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    is_system = models.BooleanField(default=False, help_text="Opened by Nameport itself")
    staff_only = models.BooleanField(
        default=False,
        help_text="Only platform staff see it (a system ticket in the registry's words); the "
        "customer is told in a ticket written for them.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_reply_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Escalation (support.escalation): a reseller's agent asks the platform's staff for help.
    # The ticket stays in the reseller's department; staff find it in their queue while it waits
    # (escalated, not yet answered) and answer the reseller in an internal note.
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_answered_at = models.DateTimeField(null=True, blank=True)
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        help_text="The closed ticket this one continues (a reply came too long after closing).",
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["Open", "Answered", "Customer-Reply", "On Hold", "Closed"]),
                name="ticket_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["low", "medium", "high", "urgent"]),
                name="ticket_priority_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["customer", "status"]),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_number} {self.subject}"

    @property
    def is_escalated(self) -> bool:
        """Escalated to the platform's staff and waiting for their answer."""
        return self.escalated_at is not None and self.escalation_answered_at is None

    @property
    def first_response_time(self):
        """From opening to the first answer of an agent (None while unanswered)."""
        if self.first_response_at is None:
            return None
        return self.first_response_at - self.created_at

    @property
    def resolution_time(self):
        """From opening to the (last) closing (None while open)."""
        if self.closed_at is None or self.status != self.Status.CLOSED:
            return None
        return self.closed_at - self.created_at


class Via(models.TextChoices):
    WEB = "web", "Portal"
    EMAIL = "email", "E-mail"
    API = "api", "API"
    SYSTEM = "system", "Nameport"


class Message(models.Model):
    Via = Via

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200)
    author_email = models.EmailField(blank=True)
    body = models.TextField()
    is_staff = models.BooleanField(default=False)
    is_internal = models.BooleanField(
        default=False, help_text="Internal note: never shown to customers"
    )
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.WEB)
    email_message_id = models.CharField(
        max_length=255, blank=True, help_text="Message-ID of the e-mail it came from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(via__in=["web", "email", "api", "system"]), name="message_via_valid"
            ),
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(is_staff=True),
                name="message_internal_only_from_staff",
            ),
        ]
        indexes = [models.Index(fields=["email_message_id"])]

    def __str__(self) -> str:
        return f"{self.author_name} on {self.ticket}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Under MEDIA_ROOT (never served by the web server): a random folder per file, so names
    cannot be guessed and two files of the same name never collide."""
    return f"attachments/{instance.message.ticket.ticket_number}/{secrets.token_hex(8)}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    size = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


class CannedReply(models.Model):
    """A ready answer agents insert into a reply; platform ones (no organisation) for staff."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_replies",
        help_text="Empty: a platform reply for staff.",
    )
    title = models.CharField(max_length=100)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]
        verbose_name_plural = "canned replies"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "title"], name="canned_reply_unique")
        ]

    def __str__(self) -> str:
        return self.title

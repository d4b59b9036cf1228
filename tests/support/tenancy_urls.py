"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

TICKET = {
    name: (lambda t: {"ticket_number": t.ticket.ticket_number})
    for name in (
        "support:ticket_detail",
        "support:ticket_reply",
        "support:reply_form",
        "support:ticket_close",
        "support:ticket_reopen",
        "support:ticket_update",
        "support:ticket_retry",
        "support:ticket_escalate",
        "support:ticket_escalation_answer",
        "api:ticket-detail",
        "api:ticket-replies",
        "api:ticket-open",
        "api:ticket-close",
        "api:ticket-retry",
        "api:ticket-escalate",
    )
}

OBJECT_URLS = {
    **TICKET,
    "support:attachment": lambda t: {"pk": t.attachment.pk},
    "support:canned_edit": lambda t: {"pk": t.canned_reply.pk},
    "support:canned_delete": lambda t: {"pk": t.canned_reply.pk},
    "api:ticket-attachment": lambda t: {
        "ticket_number": t.ticket.ticket_number,
        "attachment_id": t.attachment.pk,
    },
}

# Canned replies are the support team's: the owning organisation's customers get 404 too.
RESELLER_ONLY = {"support:canned_edit", "support:canned_delete"}

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from django.core.files.base import ContentFile

    from support.models import Attachment, CannedReply

    message = tenant.ticket.messages.first()
    attachment = Attachment(message=message, filename="screen.png", content_type="image/png")
    attachment.size = len(PNG)
    attachment.file.save("screen.png", ContentFile(PNG), save=False)
    attachment.save()
    tenant.attachment = attachment
    tenant.canned_reply = CannedReply.objects.create(
        organisation=tenant.organisation, title="Thanks", body="Thank you for writing."
    )

"""The help desk pages: opening a ticket, the HTMX reply box, actions, attachments, the queue."""

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from portal.tenancy import actor_for_user
from support import services
from support.models import Attachment, Message, Ticket
from tests.support.factories import CannedReplyFactory, DepartmentFactory, TicketFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-row="(\d+)"', response.content.decode())]


def url(name, ticket):
    return reverse(f"support:{name}", args=[ticket.ticket_number])


@pytest.fixture
def desk():
    return DepartmentFactory(name="Technical", email="tech@nameport.test")


class TestOpen:
    def test_the_form_offers_public_departments_only(self, client, world, desk):
        DepartmentFactory(name="Registry operations", is_public=False)
        client.force_login(world.a.customer_user)
        page = client.get(reverse("support:ticket_new")).content.decode()
        assert "Technical" in page and "Registry operations" not in page
        assert 'enctype="multipart/form-data"' in page

    def test_a_customer_opens_a_ticket_with_an_attachment(self, client, world, desk, png):
        client.force_login(world.a.customer_user)
        response = client.post(
            reverse("support:ticket_new"),
            {
                "department": desk.pk,
                "subject": "Site down",
                "priority": "high",
                "body": "Since 9:00",
                "attachments": [SimpleUploadedFile("error.png", png, content_type="image/png")],
            },
        )
        ticket = Ticket.objects.get(subject="Site down")
        assert response.status_code == 302
        assert response.url == url("ticket_detail", ticket)
        assert ticket.priority == "high" and ticket.created_by == world.a.customer_user
        assert ticket.messages.get().attachments.get().filename == "error.png"
        page = client.get(response.url).content.decode()
        assert f"Ticket #{ticket.ticket_number} is open." in page
        assert "error.png" in page and "<img" in page

    def test_empty_body_or_forbidden_file_shows_the_error_and_stores_nothing(
        self, client, world, desk
    ):
        client.force_login(world.a.customer_user)
        before = Ticket.objects.count()
        response = client.post(
            reverse("support:ticket_new"),
            {"department": desk.pk, "subject": "x", "priority": "low", "body": ""},
        )
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        response = client.post(
            reverse("support:ticket_new"),
            {
                "department": desk.pk,
                "subject": "x",
                "priority": "low",
                "body": "y",
                "attachments": [SimpleUploadedFile("run.exe", b"MZ")],
            },
        )
        assert response.status_code == 400
        assert "run.exe: this type of file is not accepted" in response.content.decode()
        assert Ticket.objects.count() == before

    def test_a_contact_without_newticket_is_refused(self, client, world, desk):
        world.a.contact.privileges = {"support": ["tickets"]}
        world.a.contact.save()
        client.force_login(world.a.contact_user)
        assert client.get(reverse("support:ticket_new")).status_code == 403


class TestReplyBox:
    def test_an_htmx_reply_answers_the_conversation_fragment(self, client, world, png):
        ticket = world.a.ticket
        client.force_login(world.a.customer_user)
        response = client.post(
            url("ticket_reply", ticket),
            {"body": "More details", "attachments": [SimpleUploadedFile("a.png", png)]},
            HTTP_HX_REQUEST="true",
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html
        assert 'id="conversation"' in html
        assert "More details" in html and "a.png" in html
        assert 'id="ticket-status" hx-swap-oob="true"' in html and "Customer Reply" in html
        assert "np-toast" in response["HX-Trigger"]
        assert ticket.messages.count() == 2

    def test_an_empty_htmx_reply_shows_the_error_in_the_box(self, client, world):
        client.force_login(world.a.customer_user)
        response = client.post(
            url("ticket_reply", world.a.ticket), {"body": "  "}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        assert world.a.ticket.messages.count() == 1

    def test_a_plain_post_redirects_back_to_the_ticket(self, client, world):
        client.force_login(world.staff)
        response = client.post(url("ticket_reply", world.a.ticket), {"body": "Hello"})
        assert response.status_code == 302
        world.a.ticket.refresh_from_db()
        assert world.a.ticket.status == Ticket.Status.ANSWERED

    def test_staff_write_internal_notes_customers_never_see_them(self, client, world):
        ticket = world.a.ticket
        client.force_login(world.staff)
        page = client.post(
            url("ticket_reply", ticket), {"body": "Private remark", "internal": "on"}, follow=True
        ).content.decode()
        assert "Internal note added." in page
        assert Message.objects.get(body="Private remark").is_internal
        client.force_login(world.a.customer_user)
        page = client.get(url("ticket_detail", ticket)).content.decode()
        assert "Private remark" not in page
        assert "Internal note" not in page

    def test_a_customer_cannot_smuggle_an_internal_flag(self, client, world):
        client.force_login(world.a.customer_user)
        client.post(url("ticket_reply", world.a.ticket), {"body": "Hi", "internal": "on"})
        assert not Message.objects.get(body="Hi").is_internal

    def test_actions_refuse_get(self, client, world):
        client.force_login(world.staff)
        for name in ("ticket_reply", "ticket_close", "ticket_reopen", "ticket_update"):
            assert client.get(url(name, world.a.ticket)).status_code == 405

    @pytest.mark.parametrize("who", ["member", "customer_user", "contact_user"])
    def test_replying_to_another_customers_ticket_is_404_and_stores_nothing(
        self, client, world, who
    ):
        client.force_login(getattr(world.b, who))
        response = client.post(url("ticket_reply", world.a.ticket), {"body": "Intrusion"})
        assert response.status_code == 404
        assert not Message.objects.filter(body="Intrusion").exists()

    def test_a_canned_reply_fills_the_box(self, client, world):
        canned = CannedReplyFactory(title="Whois cache", body="Whois caches take 24 hours.")
        client.force_login(world.staff)
        page = client.get(url("ticket_detail", world.a.ticket)).content.decode()
        assert "Whois cache" in page
        fragment = client.get(
            url("reply_form", world.a.ticket), {"canned": canned.pk}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "Whois caches take 24 hours." in fragment and "<html" not in fragment
        client.force_login(world.a.customer_user)
        page = client.get(url("ticket_detail", world.a.ticket)).content.decode()
        assert "Whois cache" not in page


class TestActions:
    def test_the_customer_reading_an_answer_marks_it_read(self, client, world):
        ticket = world.a.ticket
        services.ticket_reply(actor=actor_for_user(world.staff), ticket=ticket, body="Answer")
        client.force_login(world.a.customer_user)
        assert "new answer" in client.get(reverse("support:ticket_list")).content.decode()
        client.get(url("ticket_detail", ticket))
        ticket.refresh_from_db()
        assert ticket.client_read is True

    def test_close_and_reopen(self, client, world):
        ticket = world.a.ticket
        client.force_login(world.a.customer_user)
        client.post(url("ticket_close", ticket))
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CLOSED
        page = client.get(url("ticket_detail", ticket)).content.decode()
        assert "The ticket is closed." in page and 'data-action="reopen"' in page
        client.post(url("ticket_reopen", ticket))
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.CUSTOMER_REPLY

    def test_reopening_too_late_says_why(self, client, world):
        ticket = world.a.ticket
        Ticket.objects.filter(pk=ticket.pk).update(
            status="Closed", closed_at=timezone.now() - timedelta(days=60)
        )
        client.force_login(world.a.customer_user)
        response = client.post(url("ticket_reopen", ticket), follow=True)
        assert "please open a new ticket" in response.content.decode()

    def test_staff_triage_and_customers_may_not(self, client, world):
        ticket = world.a.ticket
        client.force_login(world.staff)
        response = client.post(
            url("ticket_update", ticket),
            {
                "status": "On Hold",
                "priority": "urgent",
                "department": ticket.department_id,
                "assignee": world.staff.pk,
            },
        )
        assert response.status_code == 302
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == ("On Hold", world.staff)
        client.force_login(world.a.customer_user)
        refused = client.post(url("ticket_update", ticket), {"status": "Closed"})
        assert refused.status_code == 403


class TestAttachments:
    def _attachment(self, ticket, png, internal=False):
        message = services.ticket_reply(
            actor=actor_for_user(ticket.customer.user if not internal else self.staff),
            ticket=ticket,
            body="See the screenshot",
            internal=internal,
            attachments=[ContentFile(png, name="shot.png")],
        )
        return message.attachments.get()

    @pytest.fixture(autouse=True)
    def _staff(self, world):
        self.staff = world.staff

    def test_the_owner_gets_the_image_inline_with_safe_headers(self, client, world, png):
        attachment = self._attachment(world.a.ticket, png)
        client.force_login(world.a.customer_user)
        response = client.get(reverse("support:attachment", args=[attachment.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == png
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert response["Content-Disposition"].startswith("inline")
        download = client.get(reverse("support:attachment", args=[attachment.pk]), {"download": 1})
        assert download["Content-Disposition"].startswith("attachment")

    def test_another_tenant_and_customers_on_internal_notes_get_404(self, client, world, png):
        attachment = self._attachment(world.a.ticket, png)
        client.force_login(world.b.customer_user)
        assert client.get(reverse("support:attachment", args=[attachment.pk])).status_code == 404
        internal = self._attachment(world.a.ticket, png, internal=True)
        client.force_login(world.a.customer_user)
        assert client.get(reverse("support:attachment", args=[internal.pk])).status_code == 404
        client.force_login(world.staff)
        assert client.get(reverse("support:attachment", args=[internal.pk])).status_code == 200

    def test_files_live_under_media_root_not_under_static(self, world, png, settings):
        attachment = self._attachment(world.a.ticket, png)
        path = attachment.file.path
        assert path.startswith(str(settings.MEDIA_ROOT))
        assert not path.startswith(str(settings.BASE_DIR / "static"))
        assert Attachment.objects.get(pk=attachment.pk).file.name.startswith("attachments/")


class TestQueue:
    def test_the_staff_queue_refreshes_itself_and_the_customer_list_does_not(self, client, world):
        client.force_login(world.staff)
        page = client.get(reverse("support:ticket_list")).content.decode()
        assert 'hx-trigger="every 30s"' in page and "Support queue" in page
        client.force_login(world.a.customer_user)
        page = client.get(reverse("support:ticket_list")).content.decode()
        assert "every 30s" not in page

    def test_filters_by_department_assignee_and_age(self, client, world, desk):
        customer = world.a.customer
        in_desk = TicketFactory(customer=customer, department=desk, assignee=world.staff)
        old = TicketFactory(customer=customer)
        Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
        client.force_login(world.staff)
        list_url = reverse("support:ticket_list")
        assert rows(client.get(list_url, {"department": desk.pk})) == [in_desk.pk]
        assert rows(client.get(list_url, {"assignee": "me"})) == [in_desk.pk]
        unassigned = rows(client.get(list_url, {"assignee": "none"}))
        assert in_desk.pk not in unassigned and old.pk in unassigned
        assert rows(client.get(list_url, {"age": "7"})) == [old.pk]
        fragment = client.get(list_url, {"age": "7"}, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in fragment and f'data-row="{old.pk}"' in fragment

    def test_the_staff_dashboard_shows_the_medians(self, client, world):
        services.ticket_reply(actor=actor_for_user(world.staff), ticket=world.a.ticket, body="Hi")
        client.force_login(world.staff)
        page = client.get(reverse("dashboard")).content.decode()
        assert "Median time to first response" in page
        assert "Median time to resolution" in page
        client.force_login(world.a.member)
        assert "Median time" not in client.get(reverse("dashboard")).content.decode()

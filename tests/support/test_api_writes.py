"""/api/v1/tickets/ writes: open (JSON or multipart), reply, attachments, open/close, triage;
/api/v1/ticket-departments/ and /api/v1/canned-replies/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from support.models import Message, Ticket
from tests.support.factories import CannedReplyFactory, DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    return DepartmentFactory(name="Technical", email="tech@nameport.test")


def as_key(tenant):
    return {"HTTP_ACCESS_TOKEN": tenant.live_key_raw}


class TestOpen:
    def test_a_customer_opens_a_ticket_with_json(self, client, world, desk):
        client.force_login(world.a.customer_user)
        response = client.post(
            "/api/v1/tickets/",
            {"department": desk.pk, "subject": "API ticket", "body": "Hello", "priority": "low"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        data = response.json()
        assert len(data["ticket_number"]) == 6
        assert (data["department"], data["status"], data["priority"]) == (
            "Technical",
            "Open",
            "low",
        )
        assert data["customer"] == world.a.customer.pk
        assert [m["type"] for m in data["messages"]] == ["Client"]

    def test_a_reseller_key_opens_one_for_its_customer_with_attachments(
        self, client, world, desk, png
    ):
        response = client.post(
            "/api/v1/tickets/",
            {
                "department": desk.pk,
                "subject": "With files",
                "body": "See attached",
                "customer": world.a.customer.pk,
                "attachments": [
                    SimpleUploadedFile("a.png", png),
                    SimpleUploadedFile("b.txt", b"x"),
                ],
            },
            **as_key(world.a),
        )
        assert response.status_code == 201, response.content
        [message] = response.json()["messages"]
        assert [a["filename"] for a in message["attachments"]] == ["a.png", "b.txt"]
        download = client.get(message["attachments"][0]["url"], **as_key(world.a))
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == png
        assert download["Content-Disposition"].startswith("attachment")
        other = client.get(message["attachments"][0]["url"], **as_key(world.b))
        assert other.status_code == 404

    def test_bad_input_is_a_400_with_field_errors_and_nothing_stored(self, client, world, desk):
        client.force_login(world.a.customer_user)
        before = Ticket.objects.count()
        theirs = DepartmentFactory(organisation=world.b.organisation, name="Bravo desk")
        for body, field in [
            ({"department": theirs.pk, "subject": "x", "body": "y"}, "department"),
            ({"department": desk.pk, "subject": "x", "body": ""}, "body"),
            ({"department": desk.pk, "subject": "", "body": "y"}, "subject"),
        ]:
            response = client.post("/api/v1/tickets/", body, content_type="application/json")
            assert response.status_code == 400, body
            assert field in response.json()["errors"]
        response = client.post(
            "/api/v1/tickets/",
            {
                "department": desk.pk,
                "subject": "x",
                "body": "y",
                "attachments": [SimpleUploadedFile("evil.svg", b"<svg/>")],
            },
        )
        assert response.status_code == 400
        assert "not accepted" in response.json()["errors"]["attachments"][0]
        assert Ticket.objects.count() == before

    def test_an_idempotency_key_opens_the_ticket_once(self, client, world, desk):
        body = {"department": desk.pk, "subject": "Once", "body": "Only once"}
        headers = {**as_key(world.a), "HTTP_IDEMPOTENCY_KEY": "abc-1"}
        first = client.post("/api/v1/tickets/", body, content_type="application/json", **headers)
        again = client.post("/api/v1/tickets/", body, content_type="application/json", **headers)
        assert first.json()["ticket_number"] == again.json()["ticket_number"]
        assert Ticket.objects.filter(subject="Once").count() == 1


class TestReplies:
    def test_a_contact_replies(self, client, world):
        ticket = world.a.ticket
        client.force_login(world.a.contact_user)
        response = client.post(
            f"/api/v1/tickets/{ticket.ticket_number}/replies/",
            {"body": "Still broken"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["type"] == "Client"
        assert response.json()["ticket_number"] == ticket.ticket_number
        ticket.refresh_from_db()
        assert ticket.status == "Customer-Reply"

    @pytest.mark.parametrize("who", ["session", "key"])
    def test_replying_to_another_tenants_ticket_is_404(self, client, world, who):
        url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/replies/"
        headers = as_key(world.b) if who == "key" else {}
        if who == "session":
            client.force_login(world.b.customer_user)
        response = client.post(url, {"body": "x"}, content_type="application/json", **headers)
        assert response.status_code == 404
        assert not Message.objects.filter(body="x").exists()

    def test_an_empty_reply_is_400(self, client, world):
        client.force_login(world.a.customer_user)
        response = client.post(
            f"/api/v1/tickets/{world.a.ticket.ticket_number}/replies/",
            {"body": ""},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "body" in response.json()["errors"]

    def test_only_the_support_team_writes_internal_notes(self, client, world):
        url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/replies/"
        body = {"body": "Note", "internal": True}
        refused = client.post(url, body, content_type="application/json", **as_key(world.a))
        assert refused.status_code == 403
        client.force_login(world.staff)
        created = client.post(url, body, content_type="application/json")
        assert created.status_code == 201 and created.json()["is_internal"] is True
        client.force_login(world.a.customer_user)
        detail = client.get(f"/api/v1/tickets/{world.a.ticket.ticket_number}/").json()
        assert "Note" not in [m["body"] for m in detail["messages"]]


class TestStatus:
    def test_close_then_open_like_seed_003(self, client, world):
        world.a.contact.privileges["support"].append("closeticket")
        world.a.contact.save()
        client.force_login(world.a.contact_user)
        base = f"/api/v1/tickets/{world.a.ticket.ticket_number}"
        closed = client.put(f"{base}/close/")
        assert closed.status_code == 200 and closed.json()["status"] == "Closed"
        again = client.put(f"{base}/close/")
        assert again.status_code == 400 and again.json()["message"] == (
            "This ticket is already closed."
        )
        reopened = client.put(f"{base}/open/")
        assert reopened.status_code == 200 and reopened.json()["status"] == "Customer-Reply"

    def test_staff_triage_with_patch_customers_get_403(self, client, world):
        url = f"/api/v1/tickets/{world.a.ticket.ticket_number}/"
        client.force_login(world.staff)
        response = client.patch(
            url,
            {"status": "On Hold", "assignee": world.staff.pk},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["assignee"]) == (
            "On Hold",
            world.staff.email,
        )
        client.force_login(world.a.customer_user)
        refused = client.patch(url, {"status": "Closed"}, content_type="application/json")
        assert refused.status_code == 403


def test_departments_list_public_ones_to_customers(client, world, desk):
    DepartmentFactory(name="Registry operations", is_public=False)
    DepartmentFactory(organisation=world.b.organisation, name="Bravo desk")
    client.force_login(world.a.customer_user)
    names = [d["name"] for d in client.get("/api/v1/ticket-departments/").json()["results"]]
    assert names == ["Billing", "Technical"] or names == ["Technical", "Billing"]
    assert "Registry operations" not in names and "Bravo desk" not in names


def test_canned_replies_are_for_the_support_team(client, world):
    CannedReplyFactory(title="Platform answer")
    CannedReplyFactory(title="Bravo answer", organisation=world.b.organisation)
    client.force_login(world.staff)
    titles = [c["title"] for c in client.get("/api/v1/canned-replies/").json()["results"]]
    assert titles == ["Platform answer"]
    client.force_login(world.a.customer_user)
    assert client.get("/api/v1/canned-replies/").json()["results"] == []

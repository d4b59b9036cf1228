"""The reseller's help desk: its customers' tickets land in its departments, its support team
triages them (assignee within the team, status, priority, internal notes, canned replies, the
self-refreshing queue) and escalates them to the platform's staff; billing and read-only members
read and change nothing."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers import hooks as customer_hooks
from customers.models import Membership
from portal.models import AuditEntry
from portal.tenancy import actor_for_user
from support import canned, escalation, services
from support.models import DEFAULT_DEPARTMENT, CannedReply, Department, Message, Ticket
from tests.customers.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.support.factories import CannedReplyFactory, MessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def actor(user):
    return actor_for_user(user)


def url(name, ticket):
    return reverse(f"support:{name}", args=[ticket.ticket_number])


def member(world, role: str, slug: str = "a"):
    tenant = getattr(world, slug)
    return MembershipFactory(
        organisation=tenant.organisation,
        user=UserFactory(email=f"{role}@{tenant.organisation.slug}.test"),
        role=role,
    ).user


@pytest.fixture
def desk(world):
    """Alpha's default department, with a ticket of its customer in it."""
    department = services.department_ensure_default(organisation=world.a.organisation)
    ticket = TicketFactory(
        customer=world.a.customer, department=department, created_by=world.a.customer_user
    )
    MessageFactory(ticket=ticket, body="My site is down.")
    return ticket


class TestDefaultDepartment:
    def test_a_new_organisation_gets_its_default_department(self):
        organisation = OrganisationFactory()
        customer_hooks.organisation_created(organisation=organisation)
        department = Department.objects.get(organisation=organisation)
        assert department.name == DEFAULT_DEPARTMENT and department.is_public
        assert AuditEntry.objects.filter(action="department.create", organisation=organisation)

    def test_the_admin_makes_it_with_the_organisation(self, client):
        from tests.customers.factories import StaffFactory

        client.force_login(StaffFactory(email="admin@nameport.test"))
        response = client.post(
            "/admin/customers/organisation/add/",
            {
                "slug": "new-reseller",
                "name": "New Reseller",
                "default_currency": "USD",
                "is_active": "on",
                "renewal_invoice_days": "14",
                "memberships-TOTAL_FORMS": "0",
                "memberships-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code in {200, 302}
        if response.status_code == 200:  # the admin form asks for more: show what
            pytest.fail(re.findall(r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode()))
        assert Department.objects.filter(
            organisation__slug="new-reseller", name=DEFAULT_DEPARTMENT
        ).exists()

    def test_the_migration_gives_one_to_each_organisation_without_it(self, world):
        Department.objects.filter(organisation__isnull=False).delete()
        own = Department.objects.create(organisation=world.b.organisation, name="Support")
        module = importlib.import_module("support.migrations.0006_default_departments")
        module.add_default_departments(apps, None)
        assert Department.objects.get(organisation=world.a.organisation).name == "Support"
        assert list(Department.objects.filter(organisation=world.b.organisation)) == [own]

    def test_a_customer_opens_its_ticket_in_the_resellers_department(self, client, world):
        Department.objects.create(organisation=None, name="Platform desk", is_public=True)
        default = services.department_ensure_default(organisation=world.a.organisation)
        client.force_login(world.a.customer_user)
        page = client.get(reverse("support:ticket_new")).content.decode()
        assert "Support" in page and "Platform desk" not in page
        response = client.post(
            reverse("support:ticket_new"),
            {"department": default.pk, "subject": "Help", "priority": "medium", "body": "Hi"},
        )
        assert response.status_code == 302
        ticket = Ticket.objects.get(subject="Help")
        assert ticket.department == default
        # The reseller's member answers it as an agent, in its queue.
        client.force_login(world.a.member)
        queue = client.get(reverse("support:ticket_list")).content.decode()
        assert "Support queue" in queue and f'data-row="{ticket.pk}"' in queue


class TestTriage:
    def test_the_assignee_select_offers_only_the_team(self, client, world, desk):
        support = member(world, "support")
        read_only = member(world, "read_only")
        outsider = member(world, "support", slug="b")
        client.force_login(world.a.member)
        page = client.get(url("ticket_detail", desk)).content.decode()
        select = page[page.index('name="assignee"') :]
        select = select[: select.index("</select>")]
        assert world.a.member.email in select and support.email in select
        assert read_only.email not in select and outsider.email not in select
        assert world.staff.email not in select

    def test_assigning_outside_the_team_is_refused_with_a_reason(self, world, desk):
        outsiders = [
            member(world, "support", slug="b"),
            member(world, "read_only"),
            world.staff,
            world.a.customer_user,
        ]
        for outsider in outsiders:
            with pytest.raises(ValidationError, match="Only members of Alpha who answer"):
                services.ticket_update(actor=actor(world.a.member), ticket=desk, assignee=outsider)
        desk.refresh_from_db()
        assert desk.assignee is None

    def test_the_page_shows_the_refusal_and_changes_nothing(self, client, world, desk):
        outsider = member(world, "support", slug="b")
        client.force_login(world.a.member)
        response = client.post(
            url("ticket_update", desk),
            {
                "status": "On Hold",
                "priority": "high",
                "department": desk.department_id,
                "assignee": outsider.pk,
            },
            follow=True,
        )
        assert "Only members of Alpha who answer tickets" in response.content.decode()
        desk.refresh_from_db()
        assert (desk.status, desk.priority, desk.assignee) == ("Open", "medium", None)

    def test_the_support_role_triages_and_writes_internal_notes(self, client, world, desk):
        support = member(world, "support")
        client.force_login(support)
        client.post(
            url("ticket_update", desk),
            {
                "status": "On Hold",
                "priority": "urgent",
                "department": desk.department_id,
                "assignee": support.pk,
            },
        )
        desk.refresh_from_db()
        assert (desk.status, desk.priority, desk.assignee) == ("On Hold", "urgent", support)
        client.post(url("ticket_reply", desk), {"body": "Customer owes us money", "internal": "on"})
        note = desk.messages.get(body="Customer owes us money")
        assert note.is_internal and note.is_staff
        # The customer does not see the note.
        client.force_login(world.a.customer_user)
        page = client.get(url("ticket_detail", desk)).content.decode()
        assert "My site is down." in page and "Customer owes us money" not in page

    def test_a_reseller_moves_tickets_only_among_its_own_departments(self, world, desk):
        platform = Department.objects.create(organisation=None, name="Platform", is_public=True)
        with pytest.raises(ValidationError, match="your own departments"):
            services.ticket_update(actor=actor(world.a.member), ticket=desk, department=platform)

    @pytest.mark.parametrize("role", ["read_only", "billing"])
    def test_read_only_and_billing_members_are_refused(self, client, world, desk, role):
        person = member(world, role)
        who = actor(person)
        with pytest.raises(PermissionDenied, match="may not answer or change support tickets"):
            services.ticket_update(actor=who, ticket=desk, priority="low")
        with pytest.raises(PermissionDenied):
            services.ticket_reply(actor=who, ticket=desk, body="Hello")
        with pytest.raises(PermissionDenied):
            services.ticket_reply(actor=who, ticket=desk, body="Note", internal=True)
        with pytest.raises(PermissionDenied):
            services.ticket_close(actor=who, ticket=desk)
        with pytest.raises(PermissionDenied):
            escalation.ticket_escalate(actor=who, ticket=desk, reason="Help")
        with pytest.raises(PermissionDenied):
            canned.canned_reply_create(actor=who, title="Hi", body="Hello")
        client.force_login(person)
        page = client.get(url("ticket_detail", desk))
        assert page.status_code == 200  # every role reads
        assert client.post(url("ticket_update", desk), {"priority": "low"}).status_code == 403
        desk.refresh_from_db()
        assert desk.priority == "medium" and desk.messages.count() == 1

    def test_the_queue_refreshes_itself_for_the_reseller(self, client, world, desk):
        client.force_login(world.a.member)
        page = client.get(reverse("support:ticket_list")).content.decode()
        assert 'hx-trigger="every 30s"' in page
        fragment = client.get(reverse("support:ticket_list"), HTTP_HX_REQUEST="true")
        body = fragment.content.decode()
        assert f'data-row="{desk.pk}"' in body and "<html" not in body
        assert f'data-row="{world.b.ticket.pk}"' not in body


class TestCannedReplies:
    def test_the_team_lists_adds_edits_and_deletes_its_own(self, client, world, desk):
        CannedReplyFactory(organisation=world.b.organisation, title="Bravo's hello")
        CannedReplyFactory(organisation=None, title="Platform hello")
        client.force_login(member(world, "support"))
        response = client.post(
            reverse("support:canned_new"),
            {"title": "Restarted", "body": "We restarted it; please try again.", "position": 1},
        )
        assert response.status_code == 302
        reply = CannedReply.objects.get(title="Restarted")
        assert reply.organisation == world.a.organisation
        page = client.get(reverse("support:canned_list")).content.decode()
        assert "Restarted" in page and "Bravo&#x27;s hello" not in page
        assert "Platform hello" not in page
        client.post(
            reverse("support:canned_edit", args=[reply.pk]),
            {"title": "Restarted it", "body": "Try again now.", "position": 2},
        )
        reply.refresh_from_db()
        assert (reply.title, reply.body) == ("Restarted it", "Try again now.")
        assert client.post(reverse("support:canned_delete", args=[reply.pk])).status_code == 302
        assert not CannedReply.objects.filter(pk=reply.pk).exists()
        actions = set(
            AuditEntry.objects.filter(action__startswith="canned_reply.").values_list(
                "action", flat=True
            )
        )
        assert actions == {"canned_reply.create", "canned_reply.update", "canned_reply.delete"}

    def test_a_duplicate_title_is_a_form_error(self, client, world):
        CannedReplyFactory(organisation=world.a.organisation, title="Hello")
        client.force_login(world.a.member)
        response = client.post(
            reverse("support:canned_new"), {"title": "hello", "body": "x", "position": 0}
        )
        assert response.status_code == 400
        assert "already have a canned reply with this title" in response.content.decode()
        assert CannedReply.objects.filter(organisation=world.a.organisation).count() == 1

    def test_another_resellers_canned_reply_is_404(self, client, world):
        theirs = CannedReplyFactory(organisation=world.b.organisation, title="Bravo only")
        client.force_login(world.a.member)
        edit = reverse("support:canned_edit", args=[theirs.pk])
        assert client.get(edit).status_code == 404
        assert client.post(edit, {"title": "Mine", "body": "x", "position": 0}).status_code == 404
        delete = reverse("support:canned_delete", args=[theirs.pk])
        assert client.post(delete).status_code == 404
        theirs.refresh_from_db()
        assert theirs.title == "Bravo only"

    def test_staff_manage_the_platforms_replies(self, client, world):
        CannedReplyFactory(organisation=world.a.organisation, title="Alpha only")
        client.force_login(world.staff)
        client.post(reverse("support:canned_new"), {"title": "Ours", "body": "x", "position": 0})
        assert CannedReply.objects.get(title="Ours").organisation is None
        page = client.get(reverse("support:canned_list")).content.decode()
        assert "Ours" in page and "Alpha only" not in page

    def test_customers_have_no_canned_replies_page(self, client, world):
        client.force_login(world.a.customer_user)
        assert client.get(reverse("support:canned_list")).status_code == 404

    def test_a_canned_reply_fills_the_reply_box(self, client, world, desk):
        own = CannedReplyFactory(organisation=world.a.organisation, body="Ours: try again.")
        theirs = CannedReplyFactory(organisation=world.b.organisation, body="Theirs: secret.")
        client.force_login(world.a.member)
        page = client.get(url("ticket_detail", desk)).content.decode()
        assert f'<option value="{own.pk}">' in page and f'value="{theirs.pk}"' not in page
        filled = client.get(url("reply_form", desk), {"canned": own.pk}).content.decode()
        assert "Ours: try again." in filled
        other = client.get(url("reply_form", desk), {"canned": theirs.pk}).content.decode()
        assert "Theirs: secret." not in other


class TestEscalation:
    def test_escalation_is_seen_by_staff_and_answered_back_to_the_reseller(
        self, client, world, desk
    ):
        client.force_login(world.a.member)
        response = client.post(
            url("ticket_escalate", desk), {"reason": "The registry refuses the DS record."}
        )
        assert response.status_code == 302
        desk.refresh_from_db()
        assert desk.is_escalated and desk.escalated_by == world.a.member
        note = desk.messages.get(body__startswith="Escalated to Nameport")
        assert note.is_internal and "DS record" in note.body
        assert AuditEntry.objects.filter(action="ticket.escalate", object_id=str(desk.pk))

        # Staff find it in their queue, filtered on escalations waiting for them.
        other = TicketFactory(customer=world.b.customer, department=desk.department)
        client.force_login(world.staff)
        queue = client.get(reverse("support:ticket_list"), {"escalation": "waiting"})
        body = queue.content.decode()
        assert f'data-row="{desk.pk}"' in body and f'data-row="{other.pk}"' not in body
        assert "data-escalated" in body
        everything = client.get(reverse("support:ticket_list")).content.decode()
        assert 'data-action="escalations"' in everything and "Escalated to us" in everything
        page = client.get(url("ticket_detail", desk)).content.decode()
        assert "The registry refuses the DS record." in page
        assert 'data-action="answer-escalation"' in page
        client.post(url("ticket_escalation_answer", desk), {"body": "Publish the new DS first."})
        desk.refresh_from_db()
        assert not desk.is_escalated and desk.escalation_answered_at is not None
        answer = desk.messages.get(body="Publish the new DS first.")
        assert answer.is_internal and answer.author == world.staff

        # The reseller reads the answer; the customer reads neither.
        client.force_login(world.a.member)
        page = client.get(url("ticket_detail", desk)).content.decode()
        assert "Publish the new DS first." in page and 'data-escalation="answered"' in page
        client.force_login(world.a.customer_user)
        page = client.get(url("ticket_detail", desk)).content.decode()
        assert "Publish the new DS first." not in page
        assert "DS record" not in page and "data-escalation" not in page

    def test_another_reseller_sees_no_escalation(self, client, world, desk):
        escalation.ticket_escalate(actor=actor(world.a.member), ticket=desk, reason="Help us")
        client.force_login(world.b.member)
        assert client.get(url("ticket_detail", desk)).status_code == 404
        queue = client.get(reverse("support:ticket_list"), {"escalation": "any"}).content.decode()
        assert f'data-row="{desk.pk}"' not in queue
        assert client.post(url("ticket_escalate", desk), {"reason": "x"}).status_code == 404

    def test_twice_or_on_a_closed_ticket_is_refused(self, world, desk):
        who = actor(world.a.member)
        escalation.ticket_escalate(actor=who, ticket=desk, reason="First")
        with pytest.raises(ValidationError, match="already escalated"):
            escalation.ticket_escalate(actor=who, ticket=desk, reason="Again")
        with pytest.raises(ValidationError, match="cannot be empty"):
            escalation.ticket_escalate(actor=who, ticket=desk, reason="   ")
        other = TicketFactory(customer=world.a.customer, department=desk.department)
        services.ticket_close(actor=who, ticket=other)
        with pytest.raises(ValidationError, match="Re-open"):
            escalation.ticket_escalate(actor=who, ticket=other, reason="Help")
        assert Message.objects.filter(body__startswith="Escalated").count() == 1

    def test_only_staff_answer_and_only_what_waits(self, world, desk):
        with pytest.raises(ValidationError, match="not waiting"):
            escalation.ticket_escalation_answer(actor=actor(world.staff), ticket=desk, body="Hi")
        escalation.ticket_escalate(actor=actor(world.a.member), ticket=desk, reason="Help")
        with pytest.raises(PermissionDenied):
            escalation.ticket_escalation_answer(
                actor=actor(world.a.member), ticket=desk, body="I answer myself"
            )
        # Staff do not escalate to themselves, nor a reseller a platform ticket it does not own.
        with pytest.raises(PermissionDenied):
            escalation.ticket_escalate(actor=actor(world.staff), ticket=desk, reason="x")
        with pytest.raises(PermissionDenied):
            escalation.ticket_escalate(
                actor=actor(world.a.member), ticket=world.a.ticket, reason="x"
            )

    def test_the_support_role_escalates(self, world, desk):
        support = member(world, "support")
        assert Membership.objects.get(user=support).role == "support"
        escalation.ticket_escalate(actor=actor(support), ticket=desk, reason="Help")
        desk.refresh_from_db()
        assert desk.is_escalated


def test_a_customers_mail_to_the_platforms_address_lands_with_its_reseller(world, settings):
    from tests.support.test_mail_in import ALPHA_PASSED, OUR_MX, build, mail_in

    settings.NAMEPORT_MAILIN_AUTHSERV_ID = [OUR_MX]
    Department.objects.create(organisation=None, name="Technical", email="tech@nameport.test")
    default = services.department_ensure_default(organisation=world.a.organisation)
    outcome = mail_in(build(subject="By mail", body="Hello there", headers=ALPHA_PASSED))
    assert outcome.startswith("opened #")
    ticket = Ticket.objects.get(ticket_number=outcome.split("#")[1])
    assert ticket.department == default and ticket.customer == world.a.customer


def test_the_resellers_software_escalates_through_the_api(client, world, desk):
    response = client.post(
        f"/api/v1/tickets/{desk.ticket_number}/escalate/",
        {"reason": "Registry says 2400"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert response.status_code == 200, response.content
    assert response.json()["escalated_at"] is not None
    assert any("Registry says 2400" in m["body"] for m in response.json()["messages"])
    again = client.post(
        f"/api/v1/tickets/{desk.ticket_number}/escalate/",
        {"reason": "Again"},
        content_type="application/json",
        HTTP_ACCESS_TOKEN=world.a.live_key_raw,
    )
    assert again.status_code == 400 and "already escalated" in again.json()["message"]
    # The customer reads the ticket without the escalation or its note.
    client.force_login(world.a.customer_user)
    mine = client.get(f"/api/v1/tickets/{desk.ticket_number}/").json()
    assert mine["escalated_at"] is None
    assert not any("Registry says 2400" in m["body"] for m in mine["messages"])
    refused = client.post(
        f"/api/v1/tickets/{desk.ticket_number}/escalate/",
        {"reason": "Me too"},
        content_type="application/json",
    )
    assert refused.status_code == 403

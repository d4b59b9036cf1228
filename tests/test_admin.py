"""The admin site, as platform staff use it: every page opens, and no secret is ever shown."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from billing.models import CreditEntry
from customers.models import User
from domains.models import Domain, RegistrarAccount
from portal.models import AuditEntry

OUR_APPS = ["portal", "customers", "domains", "dns", "billing", "support"]


def registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff_client(client, world):
    client.force_login(world.staff)
    return client


def test_every_model_of_every_app_is_registered():
    missing = [
        model._meta.label
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if not admin.site.is_registered(model)
    ]

    assert missing == []


def test_the_site_is_called_nameport_administration(staff_client):
    response = staff_client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert "Nameport administration" in response.content.decode()


def test_every_changelist_opens_and_searches(staff_client):
    failures = []
    for model, _model_admin in registered():
        url = admin_url(model, "changelist")
        for query in ("", "?q=x"):
            status = staff_client.get(url + query).status_code
            if status != 200:
                failures.append((model._meta.label, query, status))

    assert failures == []


def test_every_add_page_opens_where_adding_is_allowed(staff_client, rf, world):
    request = rf.get("/")
    request.user = world.staff
    failures = []
    for model, model_admin in registered():
        if not model_admin.has_add_permission(request):
            continue
        status = staff_client.get(admin_url(model, "add")).status_code
        if status != 200:
            failures.append((model._meta.label, status))

    assert failures == []


def test_every_change_page_of_an_existing_row_opens(staff_client):
    failures = []
    for model, _model_admin in registered():
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        status = staff_client.get(admin_url(model, "change", obj.pk)).status_code
        if status != 200:
            failures.append((model._meta.label, status))

    assert failures == []


def test_the_domain_list_does_not_grow_queries_with_rows(
    staff_client, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = staff_client.get(admin_url(Domain, "changelist"))

    assert response.status_code == 200
    assert world.a.domain.name in response.content.decode()


def test_the_registrar_account_page_never_shows_the_stored_credentials(staff_client):
    account = RegistrarAccount.objects.create(
        name="Name.com", kind="reseller_rest", credentials="apiuser:s3cret-token-4242"
    )
    stored = RegistrarAccount.objects.filter(pk=account.pk).values_list("credentials", flat=True)

    for url in (
        admin_url(RegistrarAccount, "change", account.pk),
        admin_url(RegistrarAccount, "changelist"),
    ):
        page = staff_client.get(url).content.decode()
        assert "s3cret-token-4242" not in page
        assert stored[0] not in page  # nor its ciphertext


def registrar_form(account, **extra):
    return {
        "name": account.name,
        "kind": account.kind,
        "settings": "{}",
        "rate_per_second": "20",
        "max_sessions": "4",
        "is_active": "on",
        **extra,
    }


def test_filling_the_credentials_field_replaces_the_secret(staff_client):
    account = RegistrarAccount.objects.create(name="EPP .ee", kind="epp", credentials="old")

    response = staff_client.post(
        admin_url(RegistrarAccount, "change", account.pk),
        registrar_form(account, new_credentials="new-secret"),
    )

    assert response.status_code == 302
    assert RegistrarAccount.objects.get(pk=account.pk).credentials == "new-secret"


def test_leaving_the_credentials_field_empty_keeps_the_secret(staff_client):
    account = RegistrarAccount.objects.create(name="EPP .ee", kind="epp", credentials="keep-me")

    response = staff_client.post(
        admin_url(RegistrarAccount, "change", account.pk),
        registrar_form(account, max_sessions="2"),
    )

    assert response.status_code == 302
    account = RegistrarAccount.objects.get(pk=account.pk)
    assert account.credentials == "keep-me"
    assert account.max_sessions == 2


def test_the_domain_page_does_not_show_the_auth_code(staff_client, world):
    domain = world.a.domain
    domain.auth_code = "Epp-AuthCode-777"
    domain.save()

    page = staff_client.get(admin_url(Domain, "change", domain.pk)).content.decode()

    assert "Epp-AuthCode-777" not in page


def test_api_keys_cannot_be_added_and_their_hash_is_never_shown(staff_client, world):
    key = world.a.live_key

    assert staff_client.get(admin_url(type(key), "add")).status_code == 403
    page = staff_client.get(admin_url(type(key), "change", key.pk)).content.decode()
    assert key.prefix in page
    assert key.key_hash not in page
    assert world.a.live_key_raw not in page


def test_api_keys_are_revoked_not_deleted(staff_client, world):
    key = world.a.live_key

    response = staff_client.post(
        admin_url(type(key), "changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert staff_client.get(admin_url(type(key), "delete", key.pk)).status_code == 403


def test_credit_entries_are_append_only(staff_client, world):
    entry = CreditEntry.objects.create(
        organisation=world.a.organisation,
        customer=world.a.customer,
        amount="5.00",
        currency="USD",
        reason="Goodwill",
    )

    assert staff_client.get(admin_url(CreditEntry, "add")).status_code == 200
    assert staff_client.get(admin_url(CreditEntry, "delete", entry.pk)).status_code == 403
    response = staff_client.post(
        admin_url(CreditEntry, "change", entry.pk),
        {"amount": "500.00", "currency": "USD", "reason": "Changed"},
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert str(entry.amount) == "5.00"


def test_the_audit_trail_is_read_only(staff_client, world):
    entry = AuditEntry.objects.first()  # the fixture's API keys were issued through the service
    assert entry is not None

    assert staff_client.get(admin_url(AuditEntry, "add")).status_code == 403
    assert staff_client.get(admin_url(AuditEntry, "delete", entry.pk)).status_code == 403
    page = staff_client.get(admin_url(AuditEntry, "change", entry.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_people_who_are_not_staff_are_sent_to_the_admin_login(client, world):
    client.force_login(world.a.member)

    response = client.get(admin_url(Domain, "changelist"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_every_change_page_opens_on_the_demo_data(staff_client):
    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    failures = []
    for model, _model_admin in registered():
        for obj in model._default_manager.order_by("-pk")[:2]:
            status = staff_client.get(admin_url(model, "change", obj.pk)).status_code
            if status != 200:
                failures.append((model._meta.label, obj.pk, status))

    assert failures == []


def test_staff_add_a_user_who_can_then_sign_in(staff_client, rf):
    from django.contrib.auth import authenticate

    response = staff_client.post(
        admin_url(User, "add"),
        {
            "email": "new.person@example.com",
            "usable_password": "true",
            "password1": "a-long-new-password-1",
            "password2": "a-long-new-password-1",
        },
    )

    assert response.status_code == 302
    user = authenticate(
        rf.post("/"), username="new.person@example.com", password="a-long-new-password-1"
    )
    assert user is not None


def test_models_without_a_hand_written_admin_still_hide_secret_fields(staff_client, world):
    from portal.admin import _generic_admin

    generic = _generic_admin(Domain)(Domain, admin.site)
    request = staff_client.get(reverse("admin:index")).wsgi_request

    form_fields = generic.get_form(request, world.a.domain).base_fields

    assert "auth_code" not in form_fields
    assert "name" in form_fields

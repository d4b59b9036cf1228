from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from customers.models import ApiKey, Contact, Customer, Membership, Organisation, User
from customers.services import api_key_revoke
from portal.admin import AuditedAdminMixin, register_remaining
from portal.tenancy import actor_for_user


class UserCreateForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user", "organisation")


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "first_name", "last_name")
    date_hierarchy = "date_joined"
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = (MembershipInline,)

    def get_inlines(self, request, obj):
        # Adding is one short step (e-mail and password); memberships come on the change page.
        return self.inlines if obj is not None else ()


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "default_currency", "is_active", "created_at")
    list_filter = ("is_active", "default_currency")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    date_hierarchy = "created_at"
    inlines = (MembershipInline,)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            from customers import hooks

            hooks.organisation_created(organisation=obj)


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation")
    search_fields = ("user__email", "organisation__name", "organisation__slug")
    list_select_related = ("user", "organisation")
    autocomplete_fields = ("user", "organisation")


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("email", "first_name", "last_name", "type", "user")
    raw_id_fields = ("user",)
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "email",
        "company",
        "organisation",
        "livemode",
        "country",
        "currency",
        "created_at",
    )
    list_filter = ("livemode", "organisation", "country", "currency")
    search_fields = ("first_name", "last_name", "email", "company", "phone")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation", "user")
    date_hierarchy = "created_at"
    inlines = (ContactInline,)

    def get_readonly_fields(self, request, obj=None):
        # Whose customer it is and its mode decide what every row under it belongs to: chosen
        # once, when it is added.
        if obj is None:
            return ("created_at", "updated_at")
        return ("organisation", "livemode", "created_at", "updated_at")


@admin.register(Contact)
class ContactAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "customer", "type", "user", "last_login")
    list_filter = ("type",)
    search_fields = ("email", "first_name", "last_name", "company_name", "customer__email")
    list_select_related = ("customer", "user")
    autocomplete_fields = ("customer", "user")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return ("customer", "last_login") if obj is not None else ("last_login",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued by ``manage.py issue_api_key`` or the reseller's API-key page, never here:
    the raw key exists only at issue time and only its hash is stored (never shown)."""

    list_display = (
        "prefix",
        "name",
        "organisation",
        "mode",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("livemode", ("revoked_at", admin.EmptyFieldListFilter), "organisation")
    search_fields = ("prefix", "name", "organisation__name", "organisation__slug")
    list_select_related = ("organisation", "created_by")
    date_hierarchy = "created_at"
    fields = (
        "organisation",
        "name",
        "livemode",
        "prefix",
        "public_id",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = (
        "organisation",
        "livemode",
        "prefix",
        "public_id",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ("revoke",)

    @admin.display(description="mode", ordering="livemode")
    def mode(self, obj: ApiKey) -> str:
        return "live" if obj.livemode else "sandbox"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Revoke instead: the row stays for the audit trail.
        return False

    @admin.action(description="Revoke the selected API keys")
    def revoke(self, request, queryset) -> None:
        actor = getattr(request, "actor", None) or actor_for_user(request.user)
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("organisation"):
            api_key_revoke(actor=actor, api_key=key)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


register_remaining("customers")

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import BooleanField, ExpressionWrapper, Q

from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainStatusChange,
    HostRecord,
    Nameserver,
    RegistrarAccount,
    RegistrarOperation,
    Tld,
)
from portal.admin import ReadOnlyAdminMixin, register_remaining


class RegistrarAccountForm(forms.ModelForm):
    """Credentials are write-only: the stored secret is never put into the page. Filling the
    field replaces it; ticking "clear" removes it; leaving both alone keeps it."""

    new_credentials = forms.CharField(
        label="Credentials",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: type a new secret to replace the stored one; leave empty to keep it",
    )
    clear_credentials = forms.BooleanField(label="Remove the stored credentials", required=False)

    class Meta:
        model = RegistrarAccount
        fields = (
            "name",
            "kind",
            "livemode",
            "is_active",
            "settings",
            "rate_per_second",
            "max_sessions",
        )

    def save(self, commit: bool = True):
        if self.cleaned_data.get("new_credentials"):
            self.instance.credentials = self.cleaned_data["new_credentials"]
        elif self.cleaned_data.get("clear_credentials"):
            self.instance.credentials = ""
        return super().save(commit=commit)


@admin.register(RegistrarAccount)
class RegistrarAccountAdmin(admin.ModelAdmin):
    form = RegistrarAccountForm
    list_display = (
        "name",
        "kind",
        "livemode",
        "rate_per_second",
        "max_sessions",
        "has_credentials",
        "is_active",
    )
    list_filter = ("kind", "livemode", "is_active")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("name", "kind", "livemode", "is_active")}),
        ("Secret", {"fields": ("new_credentials", "clear_credentials")}),
        ("Options", {"fields": ("settings", "rate_per_second", "max_sessions")}),
    )

    def get_queryset(self, request):
        # The encrypted column is never even read (nor decrypted) to draw these pages.
        return (
            super()
            .get_queryset(request)
            .defer("credentials")
            .annotate(
                _has_credentials=ExpressionWrapper(
                    ~Q(credentials="") & Q(credentials__isnull=False),
                    output_field=BooleanField(),
                )
            )
        )

    @admin.display(boolean=True, description="credentials set")
    def has_credentials(self, obj: RegistrarAccount) -> bool:
        return bool(getattr(obj, "_has_credentials", False))


@admin.register(Tld)
class TldAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "registrar_account",
        "min_years",
        "max_years",
        "grace_days",
        "redemption_days",
        "idn_allowed",
        "is_active",
    )
    list_editable = ("registrar_account", "is_active")
    list_filter = ("is_active", "idn_allowed", "registrar_account")
    search_fields = ("name",)
    list_select_related = ("registrar_account",)


class NameserverInline(admin.TabularInline):
    model = Nameserver
    extra = 0


class DomainContactInline(admin.StackedInline):
    model = DomainContact
    extra = 0


class HostRecordInline(admin.TabularInline):
    model = HostRecord
    extra = 0


class DnssecDsInline(admin.TabularInline):
    model = DnssecDs
    extra = 0


class DomainStatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DomainStatusChange
    extra = 0
    fields = ("created_at", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "customer",
        "organisation",
        "status",
        "livemode",
        "expires_at",
        "autorenew",
        "registrar_account",
    )
    list_filter = ("status", "livemode", "autorenew", "registrar_lock", "tld", "registrar_account")
    search_fields = (
        "name",
        "name_puny",
        "registry_reference",
        "customer__email",
        "customer__last_name",
        "organisation__name",
    )
    list_select_related = ("customer", "organisation", "registrar_account")
    autocomplete_fields = ("organisation", "customer", "tld", "registrar_account")
    date_hierarchy = "expires_at"
    # The EPP auth code is a secret: it is not part of any admin page.
    exclude = ("auth_code",)
    readonly_fields = ("uuid", "created_at", "updated_at", "last_synced_at")
    inlines = (
        NameserverInline,
        DomainContactInline,
        HostRecordInline,
        DnssecDsInline,
        DomainStatusChangeInline,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("auth_code")


@admin.register(Nameserver)
class NameserverAdmin(admin.ModelAdmin):
    list_display = ("hostname", "domain", "position")
    search_fields = ("hostname", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    list_filter = ("position",)


@admin.register(HostRecord)
class HostRecordAdmin(admin.ModelAdmin):
    list_display = ("hostname", "domain", "ipv4", "ipv6", "created_at")
    search_fields = ("hostname", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    list_filter = ("domain__livemode",)
    date_hierarchy = "created_at"


@admin.register(DomainContact)
class DomainContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "domain", "role", "handle", "email", "country")
    list_filter = ("role", "country")
    search_fields = ("handle", "email", "first_name", "last_name", "organization", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)


@admin.register(DnssecDs)
class DnssecDsAdmin(admin.ModelAdmin):
    list_display = ("domain", "key_tag", "algorithm", "digest_type", "digest")
    list_filter = ("algorithm", "digest_type")
    search_fields = ("domain__name", "digest")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)


@admin.register(DomainStatusChange)
class DomainStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "domain", "from_status", "to_status", "reason", "actor")
    list_filter = ("to_status", "from_status")
    search_fields = ("domain__name", "reason", "actor")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    date_hierarchy = "created_at"


@admin.register(RegistrarOperation)
class RegistrarOperationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "domain",
        "organisation",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "kind", "livemode", "registrar_account")
    search_fields = ("domain__name", "last_error", "upstream_reference", "organisation__name")
    list_select_related = ("domain", "organisation", "registrar_account")
    raw_id_fields = ("domain", "created_by")
    autocomplete_fields = ("organisation", "registrar_account")
    date_hierarchy = "created_at"
    readonly_fields = (
        "idempotency_key",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
    )


register_remaining("domains")

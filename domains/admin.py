"""The domains admin: registry set-up (accounts, TLD routing) is edited here through
``domains.admin_services`` (audited, secrets never in the audit row); domains, their
nameservers, contacts, glue hosts, DS records and registry operations are shown read only,
because a change there must reach the registry through the outbox. State changes are admin
actions that call the services (suspend, unsuspend, sync; retry, cancel; accept or re-push a
difference), each audited."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q

from domains import admin_services, services
from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainDrift,
    DomainStatusChange,
    HostRecord,
    Nameserver,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
    Tld,
    TransferRequest,
)
from portal.admin import ReadOnlyAdminMixin, admin_actor, register_remaining


def _run_each(modeladmin, request, queryset, perform, done: str) -> None:
    """Call a service for each selected row; report how many it changed and why others not."""
    actor = admin_actor(request)
    changed, refused = 0, []
    for obj in queryset:
        try:
            perform(actor, obj)
        except (ValidationError, PermissionDenied) as exc:
            reason = " ".join(getattr(exc, "messages", None) or [str(exc)])
            refused.append(f"{obj}: {reason}")
        else:
            changed += 1
    if changed:
        modeladmin.message_user(request, f"{done}: {changed}.", messages.SUCCESS)
    for reason in refused[:10]:
        modeladmin.message_user(request, reason, messages.ERROR)


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

    def save_model(self, request, obj, form, change) -> None:
        """Through ``registrar_account_save``: validated, audited (whether the secret changed,
        never the secret)."""
        data = form.cleaned_data
        current = RegistrarAccount.objects.get(pk=obj.pk) if change else None
        saved = admin_services.registrar_account_save(
            actor=admin_actor(request),
            account=current,
            name=data["name"],
            kind=data["kind"],
            livemode=data["livemode"],
            settings=data["settings"],
            rate_per_second=data["rate_per_second"],
            max_sessions=data["max_sessions"],
            is_active=data["is_active"],
            credentials=data.get("new_credentials") or "",
            clear_credentials=bool(data.get("clear_credentials")),
        )
        obj.pk = saved.pk
        obj._state.adding = False


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
        "transfer_default",
        "is_active",
    )
    list_editable = ("registrar_account", "is_active")
    list_filter = ("is_active", "idn_allowed", "registrar_account")
    search_fields = ("name",)
    list_select_related = ("registrar_account",)

    def get_readonly_fields(self, request, obj=None):
        # Domains are filed under the TLD's name: it is chosen once.
        return ("name",) if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        """Through ``tld_create`` / ``tld_update`` (audited), the list's inline edits too."""
        actor = admin_actor(request)
        fields = [*admin_services.TLD_FIELDS, "pending_delete_days", "transfer_default"]
        values = {f: getattr(obj, f) for f in fields}
        if change:
            admin_services.tld_update(actor=actor, tld=obj, **values)
        else:
            saved = admin_services.tld_create(actor=actor, name=obj.name, **values)
            obj.pk = saved.pk
            obj._state.adding = False


class NameserverInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Nameserver
    extra = 0


class DomainContactInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = DomainContact
    extra = 0


class HostRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = HostRecord
    extra = 0


class DnssecDsInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DnssecDs
    extra = 0


class DomainStatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DomainStatusChange
    extra = 0
    fields = ("created_at", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields


@admin.register(Domain)
class DomainAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    actions = ("suspend", "unsuspend", "sync")
    inlines = (
        NameserverInline,
        DomainContactInline,
        HostRecordInline,
        DnssecDsInline,
        DomainStatusChangeInline,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("auth_code")

    # Read only: status follows the state machine (``domain_transition`` with a history row),
    # and nameservers, flags, contacts and DS records must reach the registry through the
    # outbox. Staff change a domain with the actions below or in the portal.
    @admin.action(description="Suspend the selected domains")
    def suspend(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset,
            lambda actor, domain: services.domain_suspend(
                actor=actor, domain=domain, reason="Suspended by staff (admin)"
            ),
            "Suspended",
        )

    @admin.action(description="Unsuspend the selected domains")
    def unsuspend(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset,
            lambda actor, domain: services.domain_unsuspend(
                actor=actor, domain=domain, reason="Unsuspended by staff (admin)"
            ),
            "Unsuspended",
        )

    @admin.action(description="Sync the selected domains with their registry")
    def sync(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset,
            lambda actor, domain: services.domain_sync(actor=actor, domain=domain),
            "Sync queued",
        )


@admin.register(Nameserver)
class NameserverAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("hostname", "domain", "position")
    search_fields = ("hostname", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    list_filter = ("position",)


@admin.register(HostRecord)
class HostRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("hostname", "domain", "ipv4", "ipv6", "created_at")
    search_fields = ("hostname", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    list_filter = ("domain__livemode",)
    date_hierarchy = "created_at"


@admin.register(DomainContact)
class DomainContactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "domain", "role", "handle", "email", "country")
    list_filter = ("role", "country")
    search_fields = ("handle", "email", "first_name", "last_name", "organization", "domain__name")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)


@admin.register(DnssecDs)
class DnssecDsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class RegistrarOperationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    actions = ("retry", "cancel")

    # Read only: status, attempts, payload and result belong to the outbox's workers;
    # staff retry or cancel with the actions (``operation_retry`` / ``operation_cancel``,
    # audited), as on the portal's operations page.
    @admin.action(description="Retry the selected operations")
    def retry(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset,
            lambda actor, op: services.operation_retry(actor=actor, operation=op),
            "Queued again",
        )

    @admin.action(description="Cancel the selected operations")
    def cancel(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset,
            lambda actor, op: services.operation_cancel(actor=actor, operation=op),
            "Cancelled",
        )


@admin.register(DomainDrift)
class DomainDriftAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Differences found by sync: resolved with the actions (``drift_resolve``, audited)."""

    list_display = ("domain", "field", "resolution", "resolved_by", "created_at", "resolved_at")
    list_filter = ("resolution", "field")
    search_fields = ("domain__name", "field")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    date_hierarchy = "created_at"
    actions = ("accept", "repush")

    @admin.action(description="Accept the registry's value")
    def accept(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset.select_related("domain"),
            lambda actor, drift: services.drift_resolve(actor=actor, drift=drift, accept=True),
            "Accepted",
        )

    @admin.action(description="Push the portal's value again")
    def repush(self, request, queryset) -> None:
        _run_each(
            self,
            request,
            queryset.select_related("domain"),
            lambda actor, drift: services.drift_resolve(actor=actor, drift=drift, accept=False),
            "Pushed again",
        )


@admin.register(RegistryMessage)
class RegistryMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The EPP poll message log (read only: what the registry said and what Nameport did; the
    staff page ``/domains/registry-messages/`` filters it too)."""

    list_display = (
        "message_id",
        "account",
        "kind",
        "name",
        "status",
        "note",
        "created_at",
        "acked_at",
    )
    list_filter = ("status", "kind", "account")
    search_fields = ("name", "message_id", "text", "note")
    list_select_related = ("account", "domain")
    raw_id_fields = ("domain",)
    date_hierarchy = "created_at"


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Other registrars' requests for our domains (answered by the customer, or by the TLD's
    default through ``transfer_requests_default``)."""

    list_display = (
        "domain",
        "gaining_registrar",
        "status",
        "registry_status",
        "act_by",
        "decided_by",
        "by_default",
        "created_at",
    )
    list_filter = ("status", "by_default", "source")
    search_fields = ("domain__name", "gaining_registrar")
    list_select_related = ("domain",)
    raw_id_fields = ("domain",)
    date_hierarchy = "created_at"


register_remaining("domains")

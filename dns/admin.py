from __future__ import annotations

from django.contrib import admin

from dns.models import (
    DnssecKey,
    EmailForward,
    Record,
    Zone,
    ZoneChange,
    ZonePush,
    ZoneTemplate,
)
from portal.admin import ReadOnlyAdminMixin, register_remaining


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "customer",
        "organisation",
        "livemode",
        "backend",
        "push_status",
        "serial",
        "last_pushed_at",
    )
    list_filter = ("enabled", "backend", "push_status", "livemode")
    search_fields = ("name", "customer__email", "organisation__name")
    list_select_related = ("customer", "organisation")
    date_hierarchy = "created_at"
    # Who holds a zone is decided by dns.services (a zone only for a domain its customer holds):
    # zones are created in the portal, and the fields that say whose zone it is, and whether it
    # is served, are not edited here.
    readonly_fields = (
        "name",
        "livemode",
        "organisation",
        "customer",
        "domain",
        "enabled",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
        "last_pushed_at",
    )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ("__str__", "zone", "type", "ttl", "updated_at")
    list_filter = ("type",)
    search_fields = ("name", "content", "zone__name")
    list_select_related = ("zone",)
    autocomplete_fields = ("zone",)
    date_hierarchy = "updated_at"


@admin.register(DnssecKey)
class DnssecKeyAdmin(admin.ModelAdmin):
    list_display = ("zone", "key_tag", "flags", "algorithm", "active", "created_at")
    list_filter = ("flags", "algorithm", "active")
    search_fields = ("zone__name", "key_tag")
    list_select_related = ("zone",)
    autocomplete_fields = ("zone",)
    date_hierarchy = "created_at"


@admin.register(ZoneTemplate)
class ZoneTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "is_default", "updated_at")
    list_filter = ("is_default",)
    search_fields = ("name", "organisation__name", "body")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


@admin.register(ZoneChange)
class ZoneChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The history is written by the services only (a hand edit would break rollback)."""

    list_display = ("zone", "serial", "action", "summary", "actor", "created_at")
    list_filter = ("action",)
    search_fields = ("zone__name", "summary", "actor")
    list_select_related = ("zone",)
    date_hierarchy = "created_at"


@admin.register(ZonePush)
class ZonePushAdmin(admin.ModelAdmin):
    list_display = (
        "zone_name",
        "kind",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    )
    list_filter = ("status", "kind", "backend")
    search_fields = ("zone_name", "last_error")
    readonly_fields = ("created_at", "updated_at", "started_at", "finished_at")
    raw_id_fields = ("zone", "organisation")
    date_hierarchy = "created_at"
    actions = ("send_again",)

    @admin.action(description="Send again now (pending, attempts kept)")
    def send_again(self, request, queryset):
        from django.db import transaction
        from django.utils import timezone

        from dns.tasks import dns_push_run

        ids = list(queryset.exclude(status=ZonePush.Status.SUCCEEDED).values_list("pk", flat=True))
        ZonePush.objects.filter(pk__in=ids).update(
            status=ZonePush.Status.PENDING, next_attempt_at=timezone.now(), max_attempts=99
        )
        for push_id in ids:
            transaction.on_commit(lambda pk=push_id: dns_push_run.delay(pk))
        self.message_user(request, f"{len(ids)} push(es) queued again.")


@admin.register(EmailForward)
class EmailForwardAdmin(admin.ModelAdmin):
    list_display = ("source", "zone", "destination", "created_at")
    search_fields = ("source", "destination", "zone__name")
    list_select_related = ("zone",)
    autocomplete_fields = ("zone",)


register_remaining("dns")

from __future__ import annotations

from django.contrib import admin

from dns.models import DnssecKey, Record, Zone
from portal.admin import register_remaining


class RecordInline(admin.TabularInline):
    model = Record
    extra = 0
    fields = ("name", "type", "ttl", "priority", "content")


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
    list_filter = ("backend", "push_status", "livemode")
    search_fields = ("name", "customer__email", "organisation__name")
    list_select_related = ("customer", "organisation")
    autocomplete_fields = ("organisation", "customer", "domain")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at", "last_pushed_at")
    inlines = (RecordInline,)


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


register_remaining("dns")

"""The admin site for platform staff, and what every app's ``admin.py`` shares.

Rules kept by every ``ModelAdmin`` of Nameport:
- lists name what they show in ``list_select_related`` (no N+1) and search what staff look for;
- foreign keys to big tables (customers, domains, zones, users, operations) use autocomplete or
  raw-id widgets, so a change page never renders a select of every row;
- secrets are never displayed (registrar credentials are write-only, auth codes and API-key
  hashes are excluded);
- ledgers (credit entries, the audit trail) are append-only: no change, no delete.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.db import models

from portal.models import AuditEntry

admin.site.site_header = "Nameport administration"
admin.site.site_title = "Nameport admin"
admin.site.index_title = "Platform administration"


class AppendOnlyAdminMixin:
    """Rows may be added (where the admin allows it) but never changed nor deleted."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdminMixin(AppendOnlyAdminMixin):
    """Rows are written by the application only; staff look at them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def admin_actor(request):
    """The actor of an admin request (staff), for services and audit rows."""
    from portal.tenancy import actor_for_user

    return getattr(request, "actor", None) or actor_for_user(request.user)


class AuditedAdminMixin:
    """Settings edited in the admin (no service of their own) leave an audit row: who, which
    model and row, which fields changed (names only, never values: a field may be a secret)."""

    def _audit_admin(self, request, obj, verb: str, changed: list[str]) -> None:
        from portal.audit import audit

        organisation = getattr(obj, "organisation", None)
        audit(
            actor=admin_actor(request),
            action=f"admin.{obj._meta.label_lower}.{verb}",
            obj=obj,
            organisation=organisation if isinstance(organisation, models.Model) else None,
            data={"changed": sorted(changed)},
        )

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        self._audit_admin(request, obj, "change" if change else "add", list(form.changed_data))

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for obj in getattr(formset, "new_objects", []):
            self._audit_admin(request, obj, "add", [])
        for obj, changed in getattr(formset, "changed_objects", []):
            self._audit_admin(request, obj, "change", list(changed))
        for obj in getattr(formset, "deleted_objects", []):
            self._audit_admin(request, obj, "delete", [])

    def delete_model(self, request, obj) -> None:
        self._audit_admin(request, obj, "delete", [])
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self._audit_admin(request, obj, "delete", [])
        super().delete_queryset(request, queryset)  # type: ignore[misc]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor", "action", "object_type", "object_id", "organisation")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "action", "object_type", "object_id", "user__email")
    list_select_related = ("organisation", "user")
    date_hierarchy = "created_at"
    raw_id_fields = ("organisation", "user")


SECRET_FIELD_MARKERS = ("auth_code", "password", "secret", "token", "key_hash", "credentials")


def _is_secret(field: models.Field) -> bool:
    return any(marker in field.name for marker in SECRET_FIELD_MARKERS)


def _generic_admin(model: type[models.Model]) -> type[admin.ModelAdmin]:
    """A reasonable admin for a model that has no hand-written one (e.g. a model added later).
    Fields whose name suggests a secret are left out of every page."""
    all_fields = [f for f in model._meta.get_fields() if getattr(f, "concrete", False)]
    secret = [f.name for f in all_fields if _is_secret(f)]
    fields = [f for f in all_fields if f.name not in secret]
    texts = [
        f.name
        for f in fields
        if isinstance(f, models.CharField | models.EmailField | models.SlugField) and not f.choices
    ]
    filters = [
        f.name
        for f in fields
        if isinstance(f, models.BooleanField) or (getattr(f, "choices", None) and not f.is_relation)
    ]
    foreign_keys = [f.name for f in fields if f.many_to_one or f.one_to_one]
    shown = [f.name for f in fields if not f.is_relation and not isinstance(f, models.JSONField)]
    dates = [f.name for f in fields if isinstance(f, models.DateTimeField)]
    attrs = {
        "list_display": ("__str__", *[name for name in shown if name != "id"][:5]),
        "list_filter": tuple(filters[:4]),
        "search_fields": tuple(texts[:4]),
        "list_select_related": tuple(foreign_keys),
        "raw_id_fields": tuple(foreign_keys),
    }
    if dates:
        attrs["date_hierarchy"] = dates[0]
    if secret:
        attrs["exclude"] = tuple(secret)
    return type(f"{model.__name__}Admin", (admin.ModelAdmin,), attrs)


class IdempotencyRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stored API answers may hold what the caller was shown once (an auth code): the stored
    body is never displayed."""

    list_display = ("created_at", "scope", "key", "status_code")
    list_filter = ("status_code",)
    search_fields = ("scope", "key")
    date_hierarchy = "created_at"
    exclude = ("body",)


try:
    _idempotency_model = apps.get_model("portal", "IdempotencyRecord")
except LookupError:  # pragma: no cover - the model arrives with the idempotency feature
    _idempotency_model = None
if _idempotency_model is not None:
    admin.site.register(_idempotency_model, IdempotencyRecordAdmin)


def register_remaining(app_label: str) -> None:
    """Register every model of ``app_label`` that its ``admin.py`` did not, with a generic admin,
    so that no model is ever missing from the admin site."""
    for model in apps.get_app_config(app_label).get_models():
        if not admin.site.is_registered(model):
            admin.site.register(model, _generic_admin(model))


register_remaining("portal")

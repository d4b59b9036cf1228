from __future__ import annotations

from django.contrib import admin

from billing.models import (
    CreditEntry,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Price,
    TaxRule,
)
from portal.admin import (
    AppendOnlyAdminMixin,
    AuditedAdminMixin,
    ReadOnlyAdminMixin,
    register_remaining,
)
from portal.audit import audit
from portal.tenancy import actor_for_user


@admin.register(Price)
class PriceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("tld", "action", "years", "currency", "cost", "sell", "organisation")
    list_filter = (
        ("organisation", admin.EmptyFieldListFilter),
        "action",
        "currency",
        "years",
        "organisation",
    )
    search_fields = ("tld__name", "organisation__name", "organisation__slug")
    list_select_related = ("tld", "organisation")
    autocomplete_fields = ("organisation", "tld")


class OrderItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderItem
    extra = 0
    raw_id_fields = ("domain",)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "customer", "organisation", "status", "total", "currency")
    list_filter = ("status", "livemode", "currency")
    search_fields = ("id", "idempotency_key", "customer__email", "items__domain_name")
    list_select_related = ("customer", "organisation")
    autocomplete_fields = ("organisation", "customer")
    raw_id_fields = ("created_by",)
    date_hierarchy = "created_at"
    inlines = (OrderItemInline,)
    # An order is a record of what was bought: its status and total move with the order's
    # processing, never by hand (there is nothing to edit here).


@admin.register(OrderItem)
class OrderItemAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "order", "kind", "amount", "currency", "status")
    list_filter = ("kind", "status", "currency")
    search_fields = ("domain_name",)
    list_select_related = ("order",)
    raw_id_fields = ("order", "domain")


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    extra = 0


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ("method", "amount", "fee", "currency", "reference", "status")


@admin.register(Invoice)
class InvoiceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """An issued invoice is a ledger document (gapless number, lines, payments): only its notes
    are edited here (audited); nothing is added or deleted by hand."""

    list_display = (
        "number",
        "customer",
        "organisation",
        "status",
        "date",
        "duedate",
        "total",
        "currency",
    )
    list_filter = ("status", "livemode", "currency")
    search_fields = ("number", "customer__email", "customer__last_name", "customer__company")
    list_select_related = ("customer", "organisation")
    date_hierarchy = "date"
    inlines = (InvoiceLineInline, PaymentInline)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.concrete_fields if f.name not in {"id", "notes"}]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("description", "invoice", "type", "amount", "qty", "linetotal", "taxed")
    list_filter = ("type", "taxed")
    search_fields = ("description", "invoice__number")
    list_select_related = ("invoice",)
    autocomplete_fields = ("invoice",)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "organisation", "fixed_fee", "percent_fee", "is_active")
    list_filter = ("is_active", ("organisation", admin.EmptyFieldListFilter))
    search_fields = ("name", "organisation__name")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Payments are the ledger of what was paid: read only."""

    list_display = ("__str__", "invoice", "method", "amount", "fee", "status", "created_at")
    list_filter = ("status", "method", "currency")
    search_fields = ("reference", "invoice__number", "invoice__customer__email")
    list_select_related = ("invoice", "method")
    autocomplete_fields = ("invoice",)
    date_hierarchy = "created_at"


@admin.register(CreditEntry)
class CreditEntryAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The credit ledger: staff may add a correcting entry, never edit or delete one."""

    list_display = ("created_at", "customer", "amount", "currency", "reason", "invoice")
    list_filter = ("currency", "livemode")
    search_fields = ("reason", "customer__email", "customer__last_name", "invoice__number")
    list_select_related = ("customer", "invoice")
    autocomplete_fields = ("organisation", "customer", "invoice")
    date_hierarchy = "created_at"
    exclude = ("created_by",)

    def save_model(self, request, obj, form, change) -> None:
        if change:  # pragma: no cover - has_change_permission is False
            raise PermissionError("credit entries are append-only")
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        audit(
            actor=getattr(request, "actor", None) or actor_for_user(request.user),
            action="credit.adjust",
            obj=obj,
            organisation=obj.organisation,
            data={"amount": str(obj.amount), "currency": obj.currency, "reason": obj.reason},
        )


@admin.register(TaxRule)
class TaxRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "country", "state", "rate", "organisation", "valid_from")
    list_filter = ("country", ("organisation", admin.EmptyFieldListFilter))
    search_fields = ("name", "country", "state")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    date_hierarchy = "valid_from"


register_remaining("billing")

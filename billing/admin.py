from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from billing import services
from billing.models import (
    AccountEntry,
    CreditEntry,
    Invoice,
    InvoiceLine,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Price,
    ResellerAccount,
    TaxRule,
)
from portal.admin import (
    AppendOnlyAdminMixin,
    AuditedAdminMixin,
    ReadOnlyAdminMixin,
    register_remaining,
)
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
    raw_id_fields = ("domain", "operation")
    exclude = ("auth_code",)  # a transfer's code waiting for payment is never shown


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
    raw_id_fields = ("order", "domain", "operation")
    exclude = ("auth_code",)  # a transfer's code waiting for payment is never shown


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


class CreditAdjustForm(forms.ModelForm):
    """A staff correction of a customer's credit: what the service would refuse is a form
    error (the organisation, mode and balance after come from the customer and the ledger)."""

    class Meta:
        model = CreditEntry
        fields = ("customer", "amount", "currency", "reason", "invoice")

    def clean(self):
        data = super().clean()
        if data.get("customer") and data.get("amount") is not None and data.get("currency"):
            try:
                services.credit_adjust_check(
                    customer=data["customer"], amount=data["amount"], currency=data["currency"]
                )
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from None
        return data


@admin.register(CreditEntry)
class CreditEntryAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """The credit ledger: staff may add a correcting entry, never edit or delete one."""

    list_display = ("created_at", "customer", "amount", "currency", "reason", "invoice")
    list_filter = ("currency", "livemode")
    search_fields = ("reason", "customer__email", "customer__last_name", "invoice__number")
    list_select_related = ("customer", "invoice")
    autocomplete_fields = ("customer", "invoice")
    date_hierarchy = "created_at"
    form = CreditAdjustForm

    def save_model(self, request, obj, form, change) -> None:
        """Through ``billing.services.credit_adjust``: the customer's row locked, the balance
        after the entry written, never below zero, audited."""
        if change:  # pragma: no cover - has_change_permission is False
            raise PermissionError("credit entries are append-only")
        entry = services.credit_adjust(
            actor=getattr(request, "actor", None) or actor_for_user(request.user),
            customer=obj.customer,
            amount=obj.amount,
            currency=obj.currency,
            reason=obj.reason,
            invoice=obj.invoice,
        )
        obj.pk, obj.balance_after, obj.created_at = entry.pk, entry.balance_after, entry.created_at


@admin.register(TaxRule)
class TaxRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "country", "state", "rate", "organisation", "valid_from")
    list_filter = ("country", ("organisation", admin.EmptyFieldListFilter))
    search_fields = ("name", "country", "state")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    date_hierarchy = "valid_from"


class AccountEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AccountEntry
    fields = ("created_at", "kind", "amount", "balance_after", "operation", "round", "reference")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    max_num = 0
    show_change_link = True


@admin.register(ResellerAccount)
class ResellerAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Reseller accounts with the platform: read here; top-ups through the staff page
    (``billing.ledger.topup``), never by editing rows."""

    list_display = ("organisation", "currency", "livemode", "low_funds_notified_at", "created_at")
    list_filter = ("livemode", "currency")
    search_fields = ("organisation__name", "organisation__slug")
    list_select_related = ("organisation",)
    readonly_fields = ("organisation", "currency", "livemode", "low_funds_notified_at")
    inlines = [AccountEntryInline]


@admin.register(AccountEntry)
class AccountEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "account", "kind", "amount", "balance_after", "operation")
    list_filter = ("kind", "account__livemode", "account__currency")
    search_fields = ("account__organisation__name", "reference", "note")
    list_select_related = ("account__organisation", "operation")
    raw_id_fields = ("account", "operation", "created_by")
    date_hierarchy = "created_at"


register_remaining("billing")

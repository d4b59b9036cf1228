from django.urls import path

from billing import views, views_accounts, views_cart, views_price_groups, views_prices

app_name = "billing"
urlpatterns = [
    path("cart/", views_cart.cart, name="cart"),
    path("prices/", views_prices.price_list, name="price_list"),
    path(
        "prices/rules/<int:pk>/delete/",
        views_prices.markup_rule_delete,
        name="markup_rule_delete",
    ),
    path("prices/own/<int:pk>/delete/", views_prices.own_price_delete, name="own_price_delete"),
    path(
        "prices/groups/<int:pk>/", views_price_groups.price_group_detail, name="price_group_detail"
    ),
    path("prices/groups/<int:pk>/add/", views_price_groups.price_group_add, name="price_group_add"),
    path(
        "prices/groups/<int:pk>/delete/",
        views_price_groups.price_group_delete,
        name="price_group_delete",
    ),
    path(
        "customers/<int:pk>/price-group/",
        views_price_groups.customer_price_group,
        name="customer_price_group",
    ),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/export.csv", views.invoice_export, name="invoice_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/method/", views.invoice_choose_method, name="invoice_method"),
    path("invoices/<int:pk>/pay/", views.invoice_pay, name="invoice_pay"),
    path("invoices/<int:pk>/credit/", views.invoice_apply_credit, name="invoice_credit"),
    path("invoices/<int:pk>/mark-paid/", views.invoice_mark_paid, name="invoice_mark_paid"),
    path("invoices/<int:pk>/refund/", views.invoice_refund, name="invoice_refund"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/print/", views.invoice_print, name="invoice_print"),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/",
        views.payment_return,
        name="payment_return",
    ),
    path(
        "invoices/<int:pk>/payments/<int:payment_pk>/test-gateway/",
        views.test_gateway,
        name="test_gateway",
    ),
    path(
        "payments/test-gateway/callback/",
        views.test_gateway_callback,
        name="test_gateway_callback",
    ),
    path("credit/", views.credit_ledger, name="credit_ledger"),
    path("accounts/", views_accounts.account_list, name="account_list"),
    path("accounts/box/", views_accounts.account_box, name="account_box"),
    path("accounts/sandbox-topup/", views_accounts.sandbox_topup, name="sandbox_topup"),
    path("accounts/<int:pk>/", views_accounts.account_detail, name="account_detail"),
    path("accounts/<int:pk>/topup/", views_accounts.account_topup, name="account_topup"),
    path(
        "accounts/upstream-topped-up/",
        views_accounts.upstream_topped_up,
        name="upstream_topped_up",
    ),
]

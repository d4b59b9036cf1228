"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

OBJECT_URLS = {
    "billing:invoice_detail": lambda t: {"pk": t.invoice.pk},
    "api:invoice-detail": lambda t: {"pk": t.invoice.pk},
    # Invoice actions, documents and the payment pages (billing.views, billing.api.views).
    "billing:invoice_method": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_pay": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_credit": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_mark_paid": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_refund": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_cancel": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_pdf": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_print": lambda t: {"pk": t.invoice.pk},
    "billing:payment_return": lambda t: {"pk": t.invoice.pk, "payment_pk": t.payment.pk},
    "billing:test_gateway": lambda t: {"pk": t.invoice.pk, "payment_pk": t.payment.pk},
    "api:invoice-pay": lambda t: {"pk": t.invoice.pk},
    "api:invoice-credit": lambda t: {"pk": t.invoice.pk},
    "api:invoice-pdf": lambda t: {"pk": t.invoice.pk},
    "api:invoice-refund": lambda t: {"pk": t.invoice.pk},
    "api:invoice-mark-paid": lambda t: {"pk": t.invoice.pk},
    "api:invoice-cancel": lambda t: {"pk": t.invoice.pk},
    "api:markup-rule-detail": lambda t: {"pk": t.markup_rule.pk},
    "api:reseller-price-detail": lambda t: {"pk": t.reseller_price.pk},
    "api:promotion-code-detail": lambda t: {"pk": t.promotion_code.pk},
    "api:order-detail": lambda t: {"pk": t.order.pk},
    # The reseller's account with the platform (billing.views_accounts, billing.api.accounts).
    "billing:account_detail": lambda t: {"pk": t.reseller_account.pk},
    "billing:account_topup": lambda t: {"pk": t.reseller_account.pk},
    "api:reseller-account-detail": lambda t: {"pk": t.reseller_account.pk},
    "api:reseller-account-entries": lambda t: {"pk": t.reseller_account.pk},
    "api:reseller-account-topup": lambda t: {"pk": t.reseller_account.pk},
    # Customer price groups (billing.views_price_groups, billing.api.price_groups).
    "billing:price_group_detail": lambda t: {"pk": t.price_group.pk},
    "billing:price_group_add": lambda t: {"pk": t.price_group.pk},
    "billing:customer_price_group": lambda t: {"pk": t.customer.pk},
    "api:price-group-detail": lambda t: {"pk": t.price_group.pk},
    "api:price-group-membership-detail": lambda t: {"pk": t.price_group_membership.pk},
    # Last: the owner's POST deletes the object the entries above read.
    "billing:price_group_delete": lambda t: {"pk": t.price_group.pk},
    "billing:markup_rule_delete": lambda t: {"pk": t.markup_rule.pk},
    "billing:own_price_delete": lambda t: {"pk": t.reseller_price.pk},
}


# The price set-up is the reseller's: its customers and contacts get 404 too.
RESELLER_ONLY = {
    "api:markup-rule-detail",
    "api:reseller-price-detail",
    "api:promotion-code-detail",
    "billing:markup_rule_delete",
    "billing:own_price_delete",
    # Price groups and who is in them are the reseller's set-up.
    "billing:price_group_detail",
    "billing:price_group_add",
    "billing:price_group_delete",
    "billing:customer_price_group",
    "api:price-group-detail",
    "api:price-group-membership-detail",
    # The account with the platform is the reseller's, not its customers'.
    "billing:account_detail",
    "billing:account_topup",
    "api:reseller-account-detail",
    "api:reseller-account-entries",
    "api:reseller-account-topup",
}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from billing.models import Payment

    # A pending test gateway payment of the tenant's invoice (the payment pages).
    tenant.payment = Payment.objects.create(
        invoice=tenant.invoice,
        amount=tenant.invoice.total,
        currency=tenant.invoice.currency,
        gateway="test",
        gateway_reference=f"test_tenancy_{tenant.organisation.slug}",
    )
    from billing.models import MarkupRule, Order, Price, PromotionCode

    tenant.markup_rule = MarkupRule.objects.create(organisation=tenant.organisation, percent="12.5")
    tenant.order = Order.objects.create(
        organisation=tenant.organisation,
        customer=tenant.customer,
        currency="USD",
        total="10.00",
        idempotency_key=f"matrix-{tenant.organisation.slug}",
    )
    tenant.promotion_code = PromotionCode.objects.create(
        organisation=tenant.organisation, code="MATRIX", value="5"
    )
    tenant.reseller_price = Price.objects.create(
        organisation=tenant.organisation,
        tld=tenant.domain.tld,
        action="transfer",
        currency="USD",
        cost="8.00",
        sell="9.50",
    )
    from billing.models import PriceGroup, PriceGroupMembership

    # Named after the customer: the matrix's secret, never shown to another tenant.
    tenant.price_group = PriceGroup.objects.create(
        organisation=tenant.organisation, name=f"Group of {tenant.customer.last_name}", percent="5"
    )
    tenant.price_group_membership = PriceGroupMembership.objects.create(
        customer=tenant.customer, group=tenant.price_group, organisation=tenant.organisation
    )
    from billing import ledger
    from portal.tenancy import SYSTEM

    tenant.reseller_account = ledger.account_for(tenant.organisation, "USD", True)
    ledger.topup(
        actor=SYSTEM,
        account=tenant.reseller_account,
        amount="42.00",
        reference=f"tenancy-{tenant.organisation.slug}",
        note=tenant.customer.last_name,  # the matrix's secret: never shown to another tenant
    )

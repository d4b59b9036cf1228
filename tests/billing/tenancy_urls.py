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
    "billing:invoice_pdf": lambda t: {"pk": t.invoice.pk},
    "billing:invoice_print": lambda t: {"pk": t.invoice.pk},
    "billing:payment_return": lambda t: {"pk": t.invoice.pk, "payment_pk": t.payment.pk},
    "billing:test_gateway": lambda t: {"pk": t.invoice.pk, "payment_pk": t.payment.pk},
    "api:invoice-pay": lambda t: {"pk": t.invoice.pk},
    "api:invoice-credit": lambda t: {"pk": t.invoice.pk},
    "api:invoice-pdf": lambda t: {"pk": t.invoice.pk},
    "api:invoice-refund": lambda t: {"pk": t.invoice.pk},
    "api:invoice-mark-paid": lambda t: {"pk": t.invoice.pk},
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

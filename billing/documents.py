"""Invoice documents: the PDF (WeasyPrint), the printable page (the same template) and the CSV
export for accounting.

The PDF and the printable page render ``billing/pdf_invoice.html``: the seller (the reseller
organisation's name, legal name, address and tax number), the customer, the lines, the tax lines,
the total, then the credit applied BELOW the total it reduces, then the amount due. The logo is
``static/billing/invoice-logo.svg`` and the font DejaVu Sans (a system font, no network): the PDF
reads both from the disk (``file://``), never over HTTP.

WeasyPrint is imported only when a PDF is made; when it or its system libraries (Pango) are
missing, ``DocumentUnavailable`` says so and the views answer 503 with that message.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.templatetags.static import static

from billing.models import Invoice

TEMPLATE = "billing/pdf_invoice.html"
LOGO = "billing/invoice-logo.svg"
UNAVAILABLE = (
    "PDF invoices are not available on this server right now (WeasyPrint or its system "
    "libraries are missing); use the printable page instead."
)


class DocumentUnavailable(Exception):
    pass


def _logo_file_url() -> str:
    found = finders.find(LOGO)
    return Path(found).resolve().as_uri() if found else ""


def invoice_context(invoice: Invoice, *, for_pdf: bool) -> dict:
    payments = [p for p in invoice.payments.all() if p.status == "completed"]
    return {
        "invoice": invoice,
        "seller": invoice.organisation,
        "customer": invoice.customer,
        "lines": list(invoice.lines.all()),
        "payments": payments,
        "logo_url": _logo_file_url() if for_pdf else static(LOGO),
        "for_pdf": for_pdf,
    }


def invoice_html(invoice: Invoice, *, for_pdf: bool = False, request=None) -> str:
    return render_to_string(TEMPLATE, invoice_context(invoice, for_pdf=for_pdf), request=request)


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes (``%PDF-...``)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise DocumentUnavailable(UNAVAILABLE) from exc
    html = invoice_html(invoice, for_pdf=True)
    try:
        return HTML(string=html, base_url=str(Path(finders.find(LOGO) or ".").parent)).write_pdf()
    except OSError as exc:
        raise DocumentUnavailable(UNAVAILABLE) from exc


def pdf_filename(invoice: Invoice) -> str:
    number = (invoice.number or f"draft-{invoice.pk}").replace("/", "-")
    return f"invoice-{number}.pdf"


CSV_COLUMNS = [
    "number",
    "date",
    "duedate",
    "datepaid",
    "status",
    "livemode",
    "customer_id",
    "customer",
    "customer_tax_number",
    "currency",
    "subtotal",
    "taxname",
    "taxrate",
    "tax",
    "taxname2",
    "taxrate2",
    "tax2",
    "total",
    "credit",
    "balance_due",
]


def _safe(value) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not _number(text):
        return f"'{text}"
    return text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def invoices_csv(invoices: Iterable[Invoice]) -> str:
    """One row per invoice, money as plain decimals (two places), dates ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for invoice in invoices:
        customer = invoice.customer
        writer.writerow(
            [
                _safe(invoice.number),
                invoice.date.isoformat(),
                invoice.duedate.isoformat(),
                invoice.datepaid.isoformat() if invoice.datepaid else "",
                invoice.status,
                "live" if invoice.livemode else "sandbox",
                invoice.customer_id,
                _safe(customer.name),
                _safe(customer.tax_number),
                invoice.currency,
                f"{invoice.subtotal:.2f}",
                _safe(invoice.taxname),
                f"{invoice.taxrate:.2f}",
                f"{invoice.tax:.2f}",
                _safe(invoice.taxname2),
                f"{invoice.taxrate2:.2f}",
                f"{invoice.tax2:.2f}",
                f"{invoice.total:.2f}",
                f"{invoice.credit:.2f}",
                f"{invoice.balance_due:.2f}",
            ]
        )
    return out.getvalue()

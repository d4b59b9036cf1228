"""Invoice documents: the PDF, the printable page (the same template) and the CSV export."""

import csv
import io
import zlib
from decimal import Decimal

import pytest
from django.urls import reverse

from billing import documents, services
from portal.tenancy import SYSTEM
from tests.billing.invoicing import issued_invoice, vat
from tests.customers.factories import CustomerFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def invoice():
    seller = OrganisationFactory(
        name="Lagos Domains",
        legal_name="Lagos Domains Ltd",
        address="12 Broad Street\nLagos",
        tax_number="NG-TIN-0042",
    )
    customer = CustomerFactory(organisation=seller, country="NG", last_name="Okafor")
    vat(rate="7.50")
    vat(rate="1.00", level=2, name="Levy")
    invoice = issued_invoice(
        customer, [("Domain registration ada.com (1 year)", D("40.00"), 1, True)]
    )
    services.credit_add(actor=SYSTEM, customer=customer, amount="5", currency="USD", reason="x")
    services.credit_apply(actor=SYSTEM, invoice=invoice)
    invoice.refresh_from_db()
    return invoice


def pdf_text(pdf: bytes) -> str:
    """The text drawn in a WeasyPrint PDF (its content streams, inflated)."""
    chunks = []
    for part in pdf.split(b"stream")[1:]:
        body = part.split(b"endstream")[0].strip(b"\r\n")
        try:
            chunks.append(zlib.decompress(body))
        except zlib.error:
            continue
    return b"".join(chunks).decode("latin-1")


def test_the_pdf_is_a_pdf_with_the_total(invoice):
    pdf = documents.invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    # The total 43.40 (40.00 + 3.00 + 0.40), the credit and the amount due appear as text.
    html = documents.invoice_html(invoice, for_pdf=True)
    assert "43.40 USD" in html and "38.40 USD" in html
    assert len(pdf) > 2000


def test_the_credit_line_is_below_the_total_and_the_due_below_it(invoice):
    html = documents.invoice_html(invoice)
    total, credit, due = html.index("data-total"), html.index("data-credit"), html.index("data-due")
    assert total < credit < due
    assert "\u22125.00 USD" in html  # a minus sign
    for seller_detail in ("Lagos Domains Ltd", "12 Broad Street", "NG-TIN-0042"):
        assert seller_detail in html
    assert "VAT (7.50%)" in html and "Levy (1%)" in html


def test_the_pdf_reads_its_logo_from_disk_never_the_network(invoice):
    html = documents.invoice_html(invoice, for_pdf=True)
    assert 'src="file://' in html and "invoice-logo.svg" in html
    assert "http://" not in html and "https://" not in html


def test_pdf_and_printable_pages(client, invoice):
    client.force_login(invoice.customer.user or _user(invoice))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "invoice-" in response["Content-Disposition"]
    page = client.get(reverse("billing:invoice_print", args=[invoice.pk]))
    assert page.status_code == 200
    assert "43.40 USD" in page.content.decode()
    assert "/static/billing/invoice-logo.svg" in page.content.decode()


def _user(invoice):
    from tests.customers.factories import UserFactory

    invoice.customer.user = UserFactory()
    invoice.customer.save()
    return invoice.customer.user


def test_without_weasyprint_the_pdf_answers_503_not_500(client, invoice, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name.startswith("weasyprint"):
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    client.force_login(_user(invoice))
    response = client.get(reverse("billing:invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 503
    assert "printable page" in response.content.decode()
    api = client.get(reverse("api:invoice-pdf", args=[invoice.pk]))
    assert api.status_code == 503
    assert "WeasyPrint" in api.json()["message"]


def test_csv_export_applies_the_list_filters(client, invoice):
    other = issued_invoice(invoice.customer, [("=HYPERLINK(evil)", D("9.00"), 1, False)])
    services.invoice_mark_paid(actor=SYSTEM, invoice=other, reference="B1")
    client.force_login(_user(invoice))
    url = reverse("billing:invoice_export")
    response = client.get(url, {"status": "Unpaid"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["number"] for r in rows] == [invoice.number]
    row = rows[0]
    assert (row["subtotal"], row["tax"], row["tax2"], row["total"]) == (
        "40.00",
        "3.00",
        "0.40",
        "43.40",
    )
    assert (row["credit"], row["balance_due"], row["currency"]) == ("5.00", "38.40", "USD")
    everything = list(csv.DictReader(io.StringIO(client.get(url).content.decode())))
    assert {r["number"] for r in everything} == {invoice.number, other.number}


def test_csv_cells_never_start_a_formula(invoice):
    invoice.customer.last_name = "=cmd|'/c calc'!A1"
    invoice.customer.first_name = ""
    text = documents.invoices_csv([invoice])
    assert ",'=" in text or "'=" in text

"""One invoice PDF (WeasyPrint) rendered N times: the median and the slowest, in ms (target: a
PDF under 300 ms).

.venv/bin/python bench/invoice_pdf.py [--runs 20] [--lines 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from _setup import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--lines", type=int, default=10)
    args = parser.parse_args()
    setup_django()

    from billing import documents, services
    from billing.models import Invoice, TaxRule
    from customers.models import Customer, Organisation
    from portal.tenancy import SYSTEM

    seller, _ = Organisation.objects.update_or_create(
        slug="bench-pdf",
        defaults={
            "name": "Bench Domains",
            "legal_name": "Bench Domains Ltd",
            "address": "12 Broad Street\nLagos",
            "tax_number": "NG-TIN-0001",
        },
    )
    customer, _ = Customer.objects.update_or_create(
        organisation=seller,
        email="bench-pdf@example.test",
        defaults={
            "first_name": "Ada",
            "last_name": "Okafor",
            "phone": "+234.8012345678",
            "address": "1 Marina Road",
            "city": "Lagos",
            "country": "NG",
        },
    )
    TaxRule.objects.get_or_create(
        organisation=seller, country="NG", level=1, defaults={"name": "VAT", "rate": "7.50"}
    )
    lines = [
        (f"Domain renewal bench-{i}.com (1 year)", Decimal("12.99"), 1, True)
        for i in range(args.lines)
    ]
    draft = services.invoice_create(actor=SYSTEM, customer=customer, lines=lines)
    invoice = services.invoice_issue(actor=SYSTEM, invoice=draft)
    invoice = Invoice.objects.select_related("organisation", "customer").get(pk=invoice.pk)

    documents.invoice_pdf(invoice)  # warm-up: fonts, the template and WeasyPrint's caches
    timings = []
    size = 0
    for _ in range(args.runs):
        started = time.perf_counter()
        pdf = documents.invoice_pdf(invoice)
        timings.append((time.perf_counter() - started) * 1000)
        size = len(pdf)
    print(
        f"invoice PDF, {args.lines} lines, {args.runs} runs: median "
        f"{statistics.median(timings):.0f} ms, slowest {max(timings):.0f} ms, {size} bytes"
    )


if __name__ == "__main__":
    main()

"""The renewal sweep (billing.renewals.renewals_sweep) over bench/dataset.py's domains.

PostgreSQL only, after bench/dataset.py:

    export DATABASE_URL=postgres://user:pass@127.0.0.1:55432/nameport_bench
    .venv/bin/python bench/dataset.py --domains 1000000
    .venv/bin/python bench/renewal_sweep.py [--credit-customers 200] [--chunk 2000]

Set-up (kept out of the timing): a platform renew price for each of the data set's TLDs (USD),
a 7.5 % VAT rule for NG (the data set's customers' country), account credit for
``--credit-customers`` customers (their auto-renewing domains are paid from it and their
renewal queued), and every earlier run's renewal invoices removed (this benchmark's own
database: the invoice, line, sequence, credit, payment, reseller account entry, operation and
audit tables are emptied).

Then one sweep is timed (invoices raised, auto-renewals paid, reminders) and a second one right
after it (nothing left to raise: the cost of a daily run that finds the work done). Memory: the
peak RSS of the process (``resource.getrusage``) and the RSS sampled every 50 ms during the
sweep (its growth over the RSS before it). The e-mails the sweep queues go to Celery's in-memory
broker here (``memory://``): sending them is the worker's job, not the sweep's.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from decimal import Decimal
from pathlib import Path

from _setup import setup_django

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(rss_mb())
            self.stop.wait(0.05)


def prepare(credit_customers: int) -> None:
    from django.db import connection

    from billing.models import CreditEntry, Price, TaxRule
    from customers.models import Customer
    from domains.models import Tld

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_creditentry, billing_payment, billing_invoiceline, billing_invoice, "
            "billing_invoicesequence, billing_accountentry, domains_registraroperation, "
            "portal_auditentry CASCADE"
        )
    for tld in Tld.objects.filter(name__in=["com", "net", "org", "io", "tech", "ng", "com.ng"]):
        Price.objects.get_or_create(
            organisation=None,
            tld=tld,
            action="renew",
            years=1,
            currency="USD",
            defaults={"cost": Decimal("8.00"), "sell": Decimal("10.50")},
        )
    # .ee has no renew price: its domains are skipped and counted.
    if not TaxRule.objects.filter(organisation=None, country="NG", level=1).exists():
        TaxRule.objects.create(name="VAT", country="NG", rate=Decimal("7.50"), level=1)
    customers = Customer.objects.filter(email__startswith="bench-").order_by("pk")
    CreditEntry.objects.bulk_create(
        CreditEntry(
            organisation_id=customer.organisation_id,
            customer=customer,
            livemode=customer.livemode,
            amount=Decimal("500.00"),
            currency="USD",
            balance_after=Decimal("500.00"),
            reason="bench credit",
        )
        for customer in customers[:credit_customers]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed_sweep(chunk: int) -> tuple[dict, float, float, list[float]]:
    from billing import renewals

    sampler = Sampler()
    before = rss_mb()
    sampler.start()
    started = time.perf_counter()
    counts = renewals.renewals_sweep(chunk_size=chunk)
    elapsed = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    return counts, elapsed, before, sampler.samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--credit-customers", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    setup_django()

    from django.db import connection

    from billing.models import Invoice
    from domains.models import Domain

    if connection.vendor != "postgresql":
        raise SystemExit("bench/renewal_sweep.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    total = Domain.objects.count()
    if total < 1000:
        raise SystemExit("run bench/dataset.py first (it makes the domains)")
    prepare(args.credit_customers)
    print(f"renewal sweep: {total} domains, chunks of {args.chunk}")

    counts, elapsed, before, samples = timed_sweep(args.chunk)
    invoiced = counts.get("invoiced", 0)
    quarters = (
        [samples[int(len(samples) * q) - 1] for q in (0.25, 0.5, 0.75, 1.0)] if samples else []
    )
    print(
        f"first sweep: {elapsed:.1f} s wall, {invoiced} invoices raised "
        f"({invoiced / elapsed:.0f}/s), counts {counts}"
    )
    print(
        f"memory: RSS {before:.0f} MB before, {max(samples, default=before):.0f} MB at most "
        f"(growth {max(samples, default=before) - before:.0f} MB), at 25/50/75/100 % of the "
        f"sweep {' / '.join(f'{s:.0f}' for s in quarters)} MB; peak RSS {peak_mb():.0f} MB"
    )
    counts2, elapsed2, before2, samples2 = timed_sweep(args.chunk)
    print(
        f"second sweep (work done): {elapsed2:.1f} s wall, counts {counts2}, "
        f"RSS growth {max(samples2, default=before2) - before2:.0f} MB"
    )
    print(f"invoices in the database: {Invoice.objects.count()}; peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()

"""Domain list and search on a large PostgreSQL data set (see bench/dataset.py): server time
per page and the number of queries, for the page and the API, as staff and as a reseller.

    DATABASE_URL=postgres://... .venv/bin/python bench/domain_list.py [--repeat 5]

Target: a page in under 50 ms server time with a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _setup import setup_django

CASES = [
    ("first page", ""),
    ("search 'lux'", "q=lux"),
    ("search 'kamilo'", "q=kamilo"),
    ("status=active", "status=active"),
    ("expiring within 30 days", "expiring_within=30"),
    ("tld=ng, sorted by expiry", "tld=ng&sort=expires"),
    ("page 200", "page=200"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    setup_django()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from customers.models import Membership, Organisation, User
    from domains.models import Domain

    if connection.vendor != "postgresql":
        raise SystemExit("bench/domain_list.py needs PostgreSQL with bench/dataset.py's data")
    total = Domain.objects.count()
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.test", defaults={"is_staff": True, "is_superuser": True}
    )
    organisation = Organisation.objects.get(slug=f"{args.prefix}-org-0")
    member, _ = User.objects.get_or_create(email="bench-member@example.test")
    Membership.objects.get_or_create(user=member, organisation=organisation)
    print(f"domain list: {total} domains in PostgreSQL; median of {args.repeat} runs")
    for who, user in (("staff", staff), ("reseller", member)):
        client = Client()
        client.force_login(user)
        for base, label in (("/domains/", "page"), ("/api/v1/domains/", "api")):
            for name, query in CASES:
                page_sizes = [None] if label == "page" else [25, 200]
                for size in page_sizes:
                    url = f"{base}?{query}"
                    if size:
                        url += f"&page_size={size}"
                    timings, counts = [], set()
                    for _ in range(args.repeat):
                        with CaptureQueriesContext(connection) as queries:
                            started = time.perf_counter()
                            response = client.get(url, HTTP_HX_REQUEST="true")
                            timings.append((time.perf_counter() - started) * 1000)
                        assert response.status_code in (200, 404), (url, response.status_code)
                        counts.add(len(queries))
                    size_label = f" page_size={size}" if size else ""
                    print(
                        f"  {who:8} {label:4} {name:28}{size_label:15} "
                        f"{statistics.median(timings):7.1f} ms  queries={sorted(counts)}"
                    )


if __name__ == "__main__":
    main()

"""Generate a large data set for benchmarks: organisations, customers and N domains.

PostgreSQL only (COPY is what makes a million rows take seconds, not hours):

    DATABASE_URL=postgres://... .venv/bin/python bench/dataset.py --domains 1000000

It is idempotent per ``--prefix``: rows of an earlier run with the same prefix are kept and only
the missing domains are added.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from _setup import setup_django

STATUSES = [
    ("active", 80),
    ("expired", 3),
    ("grace", 3),
    ("redemption", 2),
    ("pending_delete", 1),
    ("deleted", 5),
    ("pending_registration", 2),
    ("pending_transfer", 1),
    ("transferred_away", 2),
    ("suspended", 1),
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "na",
    "ro",
    "te",
    "zu",
    "bel",
    "dor",
    "fan",
    "gal",
    "hip",
    "jun",
    "kor",
    "lux",
    "max",
    "nov",
    "pix",
    "qua",
    "ray",
    "sol",
    "tek",
    "uno",
    "vox",
    "wiz",
]


def make_name(rng: random.Random, index: int) -> str:
    words = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return f"{words}{index}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domains", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=20)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction

    from customers.models import Customer, Organisation
    from domains.models import Domain, RegistrarAccount, Tld

    if connection.vendor != "postgresql":
        raise SystemExit("bench/dataset.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    account, _ = RegistrarAccount.objects.get_or_create(name=f"{args.prefix}-sandbox")
    tlds = [
        Tld.objects.get_or_create(name=name, defaults={"registrar_account": account})[0]
        for name in ["com", "net", "org", "io", "tech", "ng", "com.ng", "ee"]
    ]
    organisations = [
        Organisation.objects.get_or_create(
            slug=f"{args.prefix}-org-{i}", defaults={"name": f"Bench reseller {i}"}
        )[0]
        for i in range(args.organisations)
    ]
    existing_customers = Customer.objects.filter(email__startswith=f"{args.prefix}-").count()
    if existing_customers < args.customers:
        Customer.objects.bulk_create(
            [
                Customer(
                    organisation=organisations[i % len(organisations)],
                    first_name="Bench",
                    last_name=f"Customer {i}",
                    email=f"{args.prefix}-{i}@example.test",
                    phone="+1.5555555555",
                    country="NG",
                )
                for i in range(existing_customers, args.customers)
            ],
            batch_size=5000,
        )
    customers = list(
        Customer.objects.filter(email__startswith=f"{args.prefix}-").values_list(
            "pk", "organisation_id"
        )
    )
    have = Domain.objects.filter(name_puny__startswith=f"{args.prefix}").count()
    todo = max(0, args.domains - have)
    print(f"dataset: {len(customers)} customers, {have} domains present, adding {todo}")
    weights = [w for _, w in STATUSES]
    names = [s for s, _ in STATUSES]
    now = datetime.now(UTC)
    columns = (
        "organisation_id, customer_id, livemode, uuid, name, name_puny, tld_id, "
        "registrar_account_id, status, epp_statuses, registered_at, expires_at, outzone_at, "
        "delete_at, period, autorenew, registrar_lock, id_protection, auth_code, "
        "registry_reference, created_at, updated_at"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY domains_domain ({columns}) FROM STDIN") as copy:
            for i in range(have, have + todo):
                customer_id, organisation_id = customers[i % len(customers)]
                tld = tlds[i % len(tlds)]
                name = f"{args.prefix}{make_name(rng, i)}.{tld.name}"
                registered = now - timedelta(days=rng.randint(1, 3000))
                expires = now + timedelta(days=rng.randint(-60, 700))
                copy.write_row(
                    (
                        organisation_id,
                        customer_id,
                        True,
                        uuid.uuid4(),
                        name,
                        name,
                        tld.pk,
                        account.pk,
                        rng.choices(names, weights)[0],
                        "[]",
                        registered,
                        expires,
                        expires + timedelta(days=30),
                        expires + timedelta(days=60),
                        1,
                        rng.random() < 0.7,
                        True,
                        False,
                        "",
                        "",
                        registered,
                        now,
                    )
                )
        cursor.execute("ANALYZE domains_domain")
    print(
        f"dataset: done in {time.perf_counter() - started:.1f}s; "
        f"{Domain.objects.count()} domains in the database"
    )


if __name__ == "__main__":
    main()

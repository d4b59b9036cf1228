"""A quote for a cart of 50 items (target: under 50 ms), priced by the one price function with a
markup rule, tax and a payment fee; registrations checked against Nameport's own domains (the
registries are asked separately: --check-registry adds the simulated registry's answers, with
--latency-ms per call).

.venv/bin/python bench/quote.py [--items 50] [--runs 20] [--check-registry] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal

from _setup import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--check-registry", action="store_true")
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from billing.models import MarkupRule, PaymentMethod, Price, TaxRule
    from billing.quotes import quote
    from customers.models import Customer, Organisation
    from domains.models import Domain, RegistrarAccount, Tld
    from portal.tenancy import Actor, ActorKind

    account, _ = RegistrarAccount.objects.update_or_create(
        name="bench-quote-sandbox", defaults={"settings": {"latency_ms": args.latency_ms}}
    )
    organisation, _ = Organisation.objects.get_or_create(
        slug="bench-quote", defaults={"name": "Bench Quote"}
    )
    customer, _ = Customer.objects.get_or_create(
        organisation=organisation,
        email="quote@bench.test",
        defaults={"first_name": "Q", "last_name": "Bench", "phone": "+1.5550100", "country": "NG"},
    )
    tlds = []
    for i in range(10):
        tld, _ = Tld.objects.update_or_create(name=f"q{i}", defaults={"registrar_account": account})
        tlds.append(tld)
        for action in ("register", "renew", "transfer"):
            Price.objects.update_or_create(
                organisation=None,
                tld=tld,
                action=action,
                years=1,
                currency="USD",
                defaults={"cost": Decimal("5.00"), "sell": Decimal("8.00")},
            )
    MarkupRule.objects.update_or_create(
        organisation=organisation, tld=None, action="", defaults={"percent": Decimal("20")}
    )
    TaxRule.objects.get_or_create(name="VAT", country="NG", defaults={"rate": Decimal("7.5")})
    method, _ = PaymentMethod.objects.get_or_create(
        name="Bench card", defaults={"fixed_fee": Decimal("0.30"), "percent_fee": Decimal("2.9")}
    )
    renewable = []
    for i in range(args.items // 5):
        domain, _ = Domain.objects.get_or_create(
            name_puny=f"renew-{i}.q{i % 10}",
            livemode=True,
            defaults={
                "name": f"renew-{i}.q{i % 10}",
                "organisation": organisation,
                "customer": customer,
                "tld": tlds[i % 10],
                "registrar_account": account,
                "status": "active",
            },
        )
        renewable.append(domain)
    actor = Actor(kind=ActorKind.CUSTOMER, organisation=organisation, customer=customer)
    timings, queries = [], 0
    for run in range(args.runs):
        items = [
            {"type": "domain", "action": "renew", "domain_id": d.pk, "years": 1} for d in renewable
        ]
        items += [
            {
                "type": "domain",
                "action": "register" if n % 2 else "transfer",
                "name": f"cart{run}-{n}.q{n % 10}",
                "years": 1 + n % 3,
            }
            for n in range(args.items - len(items))
        ]
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = quote(
                actor=actor,
                customer=customer,
                items=items,
                pay_method=method,
                check_registry=args.check_registry,
            )
            timings.append(time.perf_counter() - started)
        queries = len(captured.captured_queries)
        assert all(item["valid"] for item in result["items"]), result["items"][:2]
    print(
        f"quote: {args.items} items ({len(renewable)} renewals), markup rule, tax and fee, "
        f"registry {'asked' if args.check_registry else 'not asked'}"
        f"{f' ({args.latency_ms} ms per call)' if args.check_registry else ''}"
    )
    print(
        f"  runs={args.runs} median={statistics.median(timings) * 1000:.1f}ms "
        f"min={min(timings) * 1000:.1f}ms max={max(timings) * 1000:.1f}ms "
        f"queries={queries} (target < 50 ms)"
    )


if __name__ == "__main__":
    main()

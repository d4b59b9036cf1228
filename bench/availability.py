"""One name across 50 TLDs with 200 ms registry latency per call (target: under 0.5 s).

.venv/bin/python bench/availability.py [--tlds 50] [--latency-ms 200] [--runs 5] [--accounts 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tlds", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--accounts", type=int, default=1, help="spread the TLDs over this many registrar accounts"
    )
    args = parser.parse_args()
    setup_django()

    from domains.availability import check_across_tlds
    from domains.models import RegistrarAccount, Tld
    from portal.tenancy import SYSTEM

    accounts = [
        RegistrarAccount.objects.update_or_create(
            name=f"bench-sandbox-{i}", defaults={"settings": {"latency_ms": args.latency_ms}}
        )[0]
        for i in range(args.accounts)
    ]
    names = [f"b{i:02d}" for i in range(args.tlds)]
    for i, name in enumerate(names):
        Tld.objects.update_or_create(
            name=name, defaults={"registrar_account": accounts[i % len(accounts)]}
        )
    timings = []
    for run in range(args.runs):
        started = time.perf_counter()
        results = check_across_tlds(SYSTEM, f"benchmark{run}", names)
        timings.append(time.perf_counter() - started)
        assert len(results) == args.tlds and all(r.available for r in results)
    print(
        f"availability: 1 name x {args.tlds} TLDs on {args.accounts} registrar account(s), "
        f"{args.latency_ms} ms registry latency per call"
    )
    print(
        f"  runs={args.runs} median={statistics.median(timings):.3f}s "
        f"min={min(timings):.3f}s max={max(timings):.3f}s "
        f"(sequential bound {args.tlds * args.latency_ms / 1000:.1f}s, target < 0.5s)"
    )


if __name__ == "__main__":
    main()

"""Drain N queued registry operations through a real Celery worker against the simulated
registry's REST front end (``domains/simulator/rest_server.py`` started by ``manage.py
run_sandbox_rest``: the seed-002 protocol over HTTP on loopback) with a fixed latency per call.
The operations are written to the outbox table, then run by the tasks of ``domains.tasks``
(drain tasks, or one message each) over the worker side, ``domains.outbox``.

Needs PostgreSQL and Redis (a SQLite file cannot take many writer threads):

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:PORT/0 \\
        .venv/bin/python bench/drain.py [--operations 10000] [--latency-ms 100]

``--kind lock`` (the default, the workload the 200 operations/s target is set on) queues free
registrar-lock changes (no charge). ``--kind renew`` queues renewals, which cost money: the
bench's TLD gets a platform price (cost 8.00, sell 10.00 USD) and the bench organisation's
account with the platform is topped up to pay for all of them, so every operation goes through
the charge at claim (``billing.ledger.charge_operations`` inside the drain's claim transaction)
and the ledger ends with one charge per operation (renewals are recorded one by one, which
bounds that figure).

The worker runs with the project's default settings (Procfile: threads pool,
CELERY_CONCURRENCY default), unless --concurrency is given. Prints operations per second next
to the sequential bound (1000 / latency per second).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from _setup import ROOT, setup_django


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def _wait_for_workers(count: int, timeout: float = 60) -> None:
    from portal.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5) or []) >= count:
            return
    raise SystemExit("the workers did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--drains", type=int, default=1, help="drain tasks sent (they share the backlog)"
    )
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork"])
    parser.add_argument("--processes", type=int, default=1, help="worker processes to start")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--kind",
        choices=["renew", "lock"],
        default="lock",
        help="lock: free lock changes; renew: priced renewals charged to the reseller's account "
        "at claim",
    )
    parser.add_argument(
        "--mode",
        choices=["drain", "messages"],
        default="drain",
        help="drain: drain tasks for the backlog (what a bulk action or the sweep sends past 50); "
        "messages: one Celery message per operation",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench/drain.py needs DATABASE_URL=postgres://...")
    if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        raise SystemExit("bench/drain.py needs CELERY_BROKER_URL=redis://...")
    setup_django()

    from django.db.models import Max, Min
    from django.utils import timezone

    from customers.models import Customer, Organisation
    from domains.lifecycle import lifecycle_dates
    from domains.models import (
        Domain,
        RegistrarAccount,
        RegistrarOperation,
        SandboxDomain,
        SandboxTransaction,
        Tld,
    )
    from domains.tasks import registrar_operation_run, registrar_operations_drain

    run = uuid.uuid4().hex[:6]
    port = free_port()
    RegistrarAccount.objects.update_or_create(
        name="bench-upstream", defaults={"settings": {"latency_ms": args.latency_ms}}
    )
    client_account, _ = RegistrarAccount.objects.update_or_create(
        name="bench-rest",
        defaults={
            "kind": RegistrarAccount.Kind.RESELLER_REST,
            "settings": {"base_url": f"http://127.0.0.1:{port}", "timeout": 30},
            "credentials": json.dumps({"username": "bench", "api_token": "bench-token"}),
            "rate_per_second": 100_000,
            "max_sessions": 1000,
        },
    )
    tld, _ = Tld.objects.update_or_create(
        name="drain", defaults={"registrar_account": client_account}
    )
    organisation, _ = Organisation.objects.get_or_create(slug="bench-drain", name="Bench drain")
    charged = args.kind == "renew" and _fund(organisation, tld, args.operations)
    customer, _ = Customer.objects.get_or_create(
        organisation=organisation,
        email="drain@example.test",
        defaults={"first_name": "Bench", "last_name": "Drain", "phone": "+1.5555555555"},
    )
    now = timezone.now()
    names = [f"d{run}-{i}.drain" for i in range(args.operations)]
    upstream = SandboxDomain.objects.bulk_create(
        [
            SandboxDomain(
                name=n,
                account="bench-upstream",
                registered_at=now,
                expires_at=now + timedelta(days=365),
                statuses=["ok"],
                auth_code="x",
                locked=True,
            )
            for n in names
        ],
        batch_size=2000,
    )
    # The portal's domains agree with the registry (as after a sync): what an answer confirms
    # costs no rewrite of the domain row.
    domains = Domain.objects.bulk_create(
        [
            Domain(
                organisation=organisation,
                customer=customer,
                name=row.name,
                name_puny=row.name,
                tld=tld,
                registrar_account=client_account,
                status="active",
                registered_at=row.registered_at,
                expires_at=row.expires_at,
                epp_statuses=row.statuses,
                registry_reference=f"SBX-{row.pk}",
                **lifecycle_dates(tld, row.expires_at),
            )
            for row in upstream
        ],
        batch_size=2000,
    )

    def payload(domain) -> dict:
        if args.kind == "lock":
            return {"value": False}
        current = domain.expires_at.date()
        renewed = current.replace(year=current.year + 1)
        # What domains.services.domain_renew records (renewal_expectation); no expected_cost, so
        # the premium-price guard asks the registry nothing (as for a TLD without fee-1.0).
        return {
            "years": 1,
            "cur_exp_date": current.isoformat(),
            "expect": {"expires_on": renewed.isoformat()},
        }

    operations = RegistrarOperation.objects.bulk_create(
        [
            RegistrarOperation(
                organisation=organisation,
                domain=d,
                registrar_account=client_account,
                kind=args.kind,
                payload=payload(d),
                next_attempt_at=now,
            )
            for d in domains
        ],
        batch_size=2000,
    )
    ids = [op.pk for op in operations]

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "run_sandbox_rest",
            "--port",
            str(port),
            "--account",
            "bench-upstream",
            "--username",
            "bench",
            "--token",
            "bench-token",
        ],
        cwd=ROOT,
        # The simulated registry stands in for a remote service: it should cost this machine as
        # little as it can, so its pooled connections skip the health check round trip.
        env={**env, "DB_HEALTH_CHECKS": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    concurrency = args.concurrency or int(os.environ.get("CELERY_CONCURRENCY", "0") or 0)
    worker_cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "portal",
        "worker",
        f"--pool={args.pool}",
        "--loglevel=warning",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        worker_cmd.append(f"--concurrency={concurrency}")
    else:
        # The Procfile's default.
        worker_cmd.append(f"--concurrency={os.environ.get('CELERY_CONCURRENCY', '32')}")
    workers: list = []
    try:
        wait_for_port(port)
        workers = [
            subprocess.Popen(
                [*worker_cmd, f"--hostname=bench{n}@%h"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for n in range(args.processes)
        ]
        _wait_for_workers(args.processes)  # the workers' start-up is not what is measured
        started = time.perf_counter()
        if args.mode == "drain":
            for _ in range(args.drains):
                registrar_operations_drain.delay(max_seconds=args.timeout)
        else:
            for pk in ids:
                registrar_operation_run.delay(pk)
        enqueued = time.perf_counter() - started
        done = 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            done = len(ids) - (
                RegistrarOperation.objects.filter(
                    organisation=organisation, status__in=["pending", "running"]
                ).count()
            )
            if done == len(ids):
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
    finally:
        for process in (*workers, server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    succeeded = RegistrarOperation.objects.filter(pk__in=ids, status="succeeded").count()
    span = RegistrarOperation.objects.filter(pk__in=ids).aggregate(
        first=Min("started_at"), last=Max("finished_at")
    )
    applied = SandboxTransaction.objects.filter(
        account="bench-upstream", result__name__startswith=f"d{run}-"
    ).count()
    print(
        f"drain: {len(ids)} {args.kind} operations, {args.latency_ms} ms registry latency, worker "
        f"{' '.join(worker_cmd[4:])}"
    )
    if args.kind == "renew":
        print(f"  charged to the reseller's account: {_charges(ids) if charged else 'no ledger'}")
    print(
        f"  finished {done}/{len(ids)} ({succeeded} succeeded, {applied} applied upstream) "
        f"in {elapsed:.1f}s (enqueueing took {enqueued:.1f}s)"
    )
    if span["first"] and span["last"]:
        busy = (span["last"] - span["first"]).total_seconds()
        print(f"  first claim to last result: {busy:.1f}s, {done / busy:.0f} operations/s")
    print(
        f"  throughput {done / elapsed:.0f} operations/s; sequential bound "
        f"{1000 / args.latency_ms:.0f}/s; target >= 200/s"
    )


def _fund(organisation, tld, operations: int) -> bool:
    """A platform price for renewals under the bench's TLD, and the organisation's account with
    the platform topped up to pay for ``operations`` of them (False when this tree has no
    reseller ledger: a run of the code before it, for comparison)."""
    from decimal import Decimal

    from billing.models import Price

    Price.objects.update_or_create(
        organisation=None,
        tld=tld,
        action="renew",
        years=1,
        currency="USD",
        defaults={"cost": Decimal("8.00"), "sell": Decimal("10.00")},
    )
    try:
        from billing import ledger
    except ImportError:
        return False
    from portal.tenancy import SYSTEM

    account = ledger.account_for(organisation, "USD", True)
    ledger.topup(
        actor=SYSTEM,
        account=account,
        amount=Decimal(10 * operations),
        reference=f"bench-{uuid.uuid4().hex[:8]}",
        note="bench/drain.py",
    )
    return True


def _charges(ids: list[int]) -> str:
    from django.db.models import Count, Sum

    from billing.models import AccountEntry

    totals = AccountEntry.objects.filter(operation_id__in=ids, kind="charge").aggregate(
        entries=Count("id"), amount=Sum("amount"), operations=Count("operation", distinct=True)
    )
    return (
        f"{totals['entries']} charge entries for {totals['operations']} operations, "
        f"{totals['amount']} USD"
    )


if __name__ == "__main__":
    main()

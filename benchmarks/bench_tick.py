"""The automation tick over a book of 100,000 customers on SQLite: time, rate, peak memory.

Builds (or reuses, with ``--db``) a SQLite file through pycrm's own bulk path: the demo's
generated book of business (``pycrm.demo.load``: customers, contacts, two years of orders and
interactions, tasks, opportunities at every stage, tickets on SLA clocks, A/B/C and tier
grades with their next follow-up dates, birthdays for people), plus active contracts for one
customer in 25, ending over the next year with instalments some of which are overdue, and
the demo's reps and team supervisors on record. So the
tick finds what a real CRM has due on a morning: follow-ups by grade cadence, stale and
overdue deals, tickets near or past their SLA, renewals, overdue payments, birthdays.

Each run copies the built file and, in a fresh subprocess, opens the CRM (not timed), then
times ``crm.tick(now)`` with every built-in rule, and then the same tick again, which must
create nothing (the keys are taken). It reports the wall time, customers per second (the
book's size over the tick's time), effects per second (tasks and messages created, plus keys
found taken on the second run), and the peak resident memory growth during the tick
(``VmHWM``, reset before the work, minus the resident size then; Linux only).

Run: ``python benchmarks/bench_tick.py [--customers 100000] [--runs 3] [--db FILE]``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
"""The demo's moment: the book is generated around it and the tick runs at it."""

CONTRACT_SHARE = 25
"""One customer in this many has an active contract."""


# -- data ----------------------------------------------------------------------------------


def build(path: Path, customers: int, seed: int = 1) -> dict[str, int]:
    """The demo's book through ``add_many``, then contracts; how many rows of each type."""
    from pycrm import CRM, FixedClock
    from pycrm.demo import load

    crm = CRM.open(f"sqlite:///{path.as_posix()}", clock=FixedClock(NOW))
    try:
        counts = load(crm, customers=customers, seed=seed)
        counts["contract"] = add_contracts(crm, random.Random(seed))
        counts["rep_assignment"] = add_reps(crm)
    finally:
        crm.close()
    return counts


def add_reps(crm: Any) -> int:
    """The demo's reps as assigned a lead a day ago, so the activity reports cover them,
    and each team's first rep as its supervisor."""
    from pycrm import RepAssignment, TeamSupervisor
    from pycrm.demo import vocabulary as vocab

    with crm.session(actor="bench") as s:
        s.team_supervisors.add_many(
            TeamSupervisor(team=team, supervisor=reps[0]) for team, reps in vocab.TEAMS.items()
        )
        return int(
            s.rep_assignments.add_many(
                RepAssignment(rep=rep, last_assigned_at=NOW - timedelta(days=1))
                for reps in vocab.TEAMS.values()
                for rep in reps
            )
        )


def add_contracts(crm: Any, rng: random.Random) -> int:
    """Active contracts for every ``CONTRACT_SHARE``-th customer: a year long, ending from a
    month ago to eleven months ahead, paid in three instalments of which the past ones are
    paid two times in three."""
    from pycrm import (
        ApprovalPolicy,
        Money,
        PaymentMethod,
        PaymentPlan,
        activate_contract,
        approve_contract,
        draft_contract,
        receive_payment,
        submit_for_approval,
    )

    policy = ApprovalPolicy.default()
    today = NOW.date()
    made = 0
    with crm.session(actor="bench") as s:
        customer_ids = [c.id for i, c in enumerate(s.customers.stream()) if i % CONTRACT_SHARE == 0]
        contracts = []
        receipts = []
        for n, customer_id in enumerate(customer_ids, 1):
            end_on = today + timedelta(days=rng.randint(-30, 330))
            start_on = end_on - timedelta(days=364)
            amount = Decimal(rng.randrange(30, 900)) * 1000
            third = (amount / 3).quantize(Decimal("0.01"))
            plan = PaymentPlan.of(
                (start_on + timedelta(days=30), Money(third, "CNY")),
                (start_on + timedelta(days=180), Money(third, "CNY")),
                (end_on, Money(amount - 2 * third, "CNY")),
            )
            contract, _ = draft_contract(
                number=f"HT-{start_on.year}-{n:06d}",
                customer_id=customer_id,
                start_on=start_on,
                end_on=end_on,
                now=NOW - timedelta(days=400),
                by="bench",
                amount=Money(amount, "CNY"),
                payment_plan=plan,
            )
            at = NOW - timedelta(days=399)
            contract, _ = submit_for_approval(contract, policy=policy, now=at, by="bench")
            for level in contract.approval_levels:
                contract, _ = approve_contract(contract, level=level, now=at, by=level)
            contract, _ = activate_contract(contract, signed_on=start_on, signer="bench")
            contracts.append(contract)
            for instalment in plan.instalments:
                if instalment.due_on < today and rng.random() < 2 / 3:
                    receipt, _ = receive_payment(
                        contract,
                        amount=instalment.amount,
                        received_at=_noon(instalment.due_on),
                        method=PaymentMethod.BANK_TRANSFER,
                        handler="finance",
                    )
                    receipts.append(receipt)
        made = s.contracts.add_many(contracts)
        s.receipts.add_many(receipts)
    return made


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


# -- the measured work (in its own process) ------------------------------------------------


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory figure in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current resident size (see bench_rfm.py).
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def worker(path: Path, out: Path) -> None:
    from pycrm import CRM, FixedClock

    crm = CRM.open(f"sqlite:///{path.as_posix()}", clock=FixedClock(NOW), create_schema=False)
    with crm.session() as s:
        customers = s.customers.count()
    _reset_peak()
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    first = crm.tick(NOW)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    started = time.perf_counter()
    second = crm.tick(NOW)
    again = time.perf_counter() - started
    crm.close()
    out.write_text(
        json.dumps(
            {
                "customers": customers,
                "seconds": seconds,
                "again_seconds": again,
                "peak_mib": (peak - before) / 1024,
                "rules": [
                    [r.name, r.tasks_created, r.messages_queued, r.skipped, r.unaddressed, r.error]
                    for r in first.rules
                ],
                "again": {
                    "created": second.tasks_created + second.messages_queued,
                    "skipped": second.skipped,
                    "failed": [r.name for r in second.failed],
                },
            }
        )
    )


# -- driver --------------------------------------------------------------------------------


def measure(path: Path, runs: int, folder: Path) -> dict[str, Any]:
    best: dict[str, Any] = {}
    peaks = []
    for n in range(runs):
        copy = folder / f"run-{n}.db"
        shutil.copyfile(path, copy)  # each run starts from the same untouched book
        out = folder / f"run-{n}.json"
        subprocess.run(
            [sys.executable, __file__, "--worker", "--db", str(copy), "--out", str(out)],
            check=True,
        )
        result = json.loads(out.read_text())
        copy.unlink()
        peaks.append(result["peak_mib"])
        if not best or result["seconds"] < best["seconds"]:
            best = result
    best["peak_mib"] = max(peaks)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.db, args.out)
        return 0

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = args.db or folder / "tick.db"
        if not path.exists():
            print(f"building {path.name}: {args.customers:,} customers")
            started = time.perf_counter()
            counts = build(path, args.customers)
            rows = ", ".join(f"{count:,} {kind}" for kind, count in counts.items())
            print(f"  built in {time.perf_counter() - started:.1f} s: {rows}")
        result = measure(path, args.runs, folder)

    created = sum(r[1] + r[2] for r in result["rules"])
    print(
        f"\ntick at {NOW:%Y-%m-%d %H:%M} UTC over {result['customers']:,} customers, "
        f"best of {args.runs} (peak memory: largest of the runs)\n"
    )
    print(f"  {'rule':<26} {'tasks':>7} {'messages':>9} {'skipped':>8} {'unaddressed':>12}")
    for name, tasks, messages, skipped, unaddressed, error in result["rules"]:
        line = f"  {name:<26} {tasks:>7,} {messages:>9,} {skipped:>8,} {unaddressed:>12,}"
        print(line if error is None else f"{line}  FAILED: {error}")
    seconds = result["seconds"]
    print()
    print(f"  first tick   {seconds:8.2f} s  {result['customers'] / seconds:10,.0f} customers/s")
    print(f"               {created:8,} effects  {created / seconds:10,.0f} effects/s")
    print(f"  peak RSS growth during the tick: {result['peak_mib']:.1f} MiB")
    again = result["again"]
    print(
        f"  second tick  {result['again_seconds']:8.2f} s  created {again['created']:,}, "
        f"found taken {again['skipped']:,}"
    )
    failed = [r[0] for r in result["rules"] if r[5] is not None] + again["failed"]
    if again["created"] or failed:
        print(f"  NOT IDEMPOTENT or FAILED: created {again['created']}, failed {failed}")
        return 1
    print("  idempotent: the second tick created nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())

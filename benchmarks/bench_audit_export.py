"""Export half of an audit log: ``crm.export_audit`` beside a plain ``sqlite3`` reader.

For N/10 and N entries (default 1,000,000), builds a SQLite file with pycrm's schema
(``CRM.open`` + ``upgrade()``) and fills its audit log with raw inserts: entries ten seconds
apart, one run of 5,000 in ten stamped with one moment as a bulk add stamps them (ids
ascending, as pycrm's are time-ordered). Then, same run:

* raw: one ``sqlite3`` query ``WHERE at >= ? ORDER BY at, id``, rows streamed as tuples and
  written with ``csv.writer``: what a careful script would do, holding no page state.
* pycrm: ``crm.export_audit(out, since=...)``, which reads the log a page of 1,000 at a time
  (``(at, id)`` keyset pages) and builds each entry, as CSV.

Both write the second half of the log to an in-memory text buffer; both must write the same
number of rows. The best of ``--runs`` counts.

**Target:** an export's time grows with the entries it writes: pycrm's time per entry at N
is at most 1.5x its time per entry at N/10 (each page once rescanned the log, so a ten times
longer log took about a hundred times longer). The ratio to the raw reader is printed too:
paging, building each entry and defusing its cells cost more than streaming tuples.

Run: ``python benchmarks/bench_audit_export.py [--entries 1000000] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sqlite3
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET_GROWTH = 1.5
"""pycrm's time per entry at N over its time per entry at N/10, at most."""
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
BULK_RUN = 5_000
"""Entries stamped with one moment, as one ``add_many`` batch stamps them."""


def build(path: Path, entries: int) -> None:
    """pycrm's schema, then ``entries`` audit rows inserted raw."""
    from pycrm import CRM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the development identity key: no personal data here
        with CRM.open(f"sqlite:///{path.as_posix()}") as crm:
            crm.upgrade()
    connection = sqlite3.connect(path)

    def rows() -> object:
        for i in range(entries):
            run = i // BULK_RUN
            moment = START + timedelta(seconds=(run * BULK_RUN if run % 10 == 5 else i) * 10)
            customer = f"cus_{i:032x}"
            at = moment.replace(tzinfo=None).isoformat(" ", "microseconds")
            yield (f"aud_{i:032x}", at, "bench", "created", "customer", customer, customer, None)

    with connection:
        connection.executemany("INSERT INTO crm_audit_log VALUES (?,?,?,?,?,?,?,?)", rows())
    connection.close()


def run_raw(path: Path, since: datetime) -> tuple[float, int]:
    connection = sqlite3.connect(path)
    out = io.StringIO()
    started = time.perf_counter()
    writer = csv.writer(out)
    bound = since.replace(tzinfo=None).isoformat(" ", "microseconds")
    cursor = connection.execute(
        "SELECT id, at, actor, action, entity_type, entity_id, customer_id, changes "
        "FROM crm_audit_log WHERE at >= ? ORDER BY at, id",
        (bound,),
    )
    count = 0
    for row in cursor:
        writer.writerow(row)
        count += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, count


def run_pycrm(path: Path, since: datetime) -> tuple[float, int]:
    from pycrm import CRM

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with CRM.open(f"sqlite:///{path.as_posix()}") as crm:
            out = io.StringIO()
            started = time.perf_counter()
            count = crm.export_audit(out, since=since)
            return time.perf_counter() - started, count


def measure(directory: Path, entries: int, runs: int) -> tuple[float, float, int]:
    """Best raw and pycrm seconds exporting the second half of ``entries``, and the count."""
    path = directory / f"audit-{entries}.db"
    build(path, entries)
    since = START + timedelta(seconds=entries // 2 * 10)
    raw = min(run_raw(path, since) for _ in range(runs))
    pycrm = min(run_pycrm(path, since) for _ in range(runs))
    if raw[1] != pycrm[1]:
        raise SystemExit(f"FAILED: raw wrote {raw[1]:,} rows, pycrm {pycrm[1]:,}")
    return raw[0], pycrm[0], raw[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="audit entries at most")
    parser.add_argument("--runs", type=int, default=3, help="take the best of this many runs")
    args = parser.parse_args(argv)
    print(
        f"the second half of the audit log exported, best of {args.runs}, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )
    per_entry: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pycrm-bench-audit-") as directory:
        for entries in (max(args.entries // 10, 1), args.entries):
            raw, pycrm, count = measure(Path(directory), entries, args.runs)
            per_entry.append(pycrm / count)
            print(f"\n{entries:,} entries, {count:,} exported")
            for name, seconds in (("raw sqlite3 + csv", raw), ("pycrm export_audit", pycrm)):
                print(f"  {name:<22} {seconds:8.3f} s {count / seconds:>12,.0f} entries/s")
            print(f"  ratio pycrm / raw      {pycrm / raw:8.2f}x")
    growth = per_entry[1] / per_entry[0]
    verdict = "target met" if growth <= TARGET_GROWTH else "target missed"
    print(
        f"\npycrm time per entry, N over N/10: {growth:.2f}x "
        f"(target <= {TARGET_GROWTH}x): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

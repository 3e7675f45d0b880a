"""Import a customer CSV into SQLite: pycrm's ``import_records`` beside a plain loader.

The script writes a CSV file of N customers (companies and people, Chinese and English
names, phones, emails, tags, amounts as text) and loads it into a fresh SQLite file twice
per size, each load in a child process of its own so its peak memory (RSS) is its own:

* raw: ``csv.reader`` streaming the file and ``sqlite3`` ``executemany`` in chunks of 5,000
  into pycrm's customer and tag tables (exact DDL from ``define_tables``, same connection
  settings: WAL, foreign keys on), one transaction. No validation; ids are ascending
  strings, as pycrm's are time-ordered.
* pycrm: ``pycrm.io.import_records(crm, "customers", path)`` with full validation of every
  row by the entities' converters, ``add_many`` batches of 5,000 and one audit entry per
  customer, in ``skip_bad_rows`` mode (a commit per batch) and ``all_or_nothing`` mode
  (one transaction).

Each size is run at N/10 and N rows, so a flat memory profile shows as equal peaks. Opening
the database (DDL, migrations) is not timed.

Run: ``python benchmarks/bench_import.py [--rows 1000000] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import json
import pstats
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET_RATIO = 2.0
"""pycrm may take at most this many times the raw loader's time."""

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
CHUNK = 5_000

HEADER = [
    "member_id", "kind", "name", "industry", "employees", "yearly_revenue_amount",
    "yearly_revenue_currency", "employer", "position", "region", "phone", "email",
    "source_channel", "captured_at", "tags", "priority", "status",
]  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]
COMPANY_WORDS = ["华星", "东方", "Acme", "Nova", "Zenith", "远航", "创新", "Blue River"]
SUFFIXES = ["科技有限公司", "制造有限公司", " Ltd", " GmbH", " Inc.", "贸易公司"]
INDUSTRIES = ["manufacturing", "retail", "software", "logistics", "healthcare", "education"]
REGIONS = ["Beijing", "Shanghai", "Guangdong", "Zhejiang", "Jiangsu", "Sichuan", "Berlin"]
CHANNELS = ["website", "app", "wechat", "store", "trade-show", "referral"]
TAGS = ["vip", "b2b", "newsletter", "purchase-intent:software", "region:east", "trial"]
PRIORITIES = ["high", "medium", "low"]
STATUSES = ["prospect", "active", "dormant"]


# -- data ----------------------------------------------------------------------------------


def write_csv(path: Path, rows: int, seed: int) -> None:
    """``rows`` customers, streamed to ``path`` (the generator holds one row at a time)."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=3 * 365)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for index in range(rows):
            company = rng.random() < 0.6
            if company:
                name = rng.choice(COMPANY_WORDS) + rng.choice(SUFFIXES)
            else:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            captured = start + timedelta(seconds=rng.randrange(3 * 365 * 86400))
            writer.writerow(
                [
                    f"M{index:08d}",
                    "company" if company else "person",
                    name,
                    rng.choice(INDUSTRIES) if company else "",
                    rng.randrange(5, 5000) if company else "",
                    f"{rng.randrange(10_000, 50_000_000)}.00" if company else "",
                    "CNY" if company else "",
                    "" if company else rng.choice(COMPANY_WORDS),
                    "" if company else rng.choice(["buyer", "CTO", "owner", ""]),
                    rng.choice(REGIONS),
                    f"13{rng.randrange(10**9):09d}",
                    f"user{index}@example.com" if rng.random() < 0.7 else "",
                    rng.choice(CHANNELS),
                    captured.isoformat(),
                    ",".join(rng.sample(TAGS, rng.randrange(0, 3))),
                    rng.choice(PRIORITIES),
                    rng.choice(STATUSES),
                ]
            )


# -- the two loaders (each run in a child process) ------------------------------------------


def load_raw(source: Path, database: Path) -> int:
    import sqlalchemy as sa
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    from pycrm.storage.sqlalchemy import define_tables

    tables = define_tables(sa.MetaData())
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    dialect = sqlite_dialect.dialect()
    for table in (tables.customers, tables.customer_tags):
        connection.execute(str(sa.schema.CreateTable(table).compile(dialect=dialect)))
        for index in table.indexes:
            connection.execute(str(sa.schema.CreateIndex(index).compile(dialect=dialect)))
    stamp = NOW.replace(tzinfo=None).isoformat(" ", "microseconds")
    columns = [c.name for c in tables.customers.columns]
    known = set(HEADER) - {"tags"}
    placeholders = ", ".join(f":{c}" if c in known or c == "id" else "NULL" for c in columns)
    placeholders = placeholders.replace(":id,", ":id,", 1)
    sql = f"INSERT INTO crm_customers ({', '.join(columns)}) VALUES ({placeholders})".replace(
        "NULL, NULL, NULL", f"1, '{stamp}', '{stamp}'", 1
    )
    tag_sql = "INSERT INTO crm_customer_tags (customer_id, tag) VALUES (?, ?)"
    count = 0
    started = time.perf_counter()
    connection.execute("BEGIN")
    with source.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows: list[dict[str, object]] = []
        tags: list[tuple[str, str]] = []
        for cells in reader:
            row: dict[str, object] = {k: (v or None) for k, v in zip(header, cells, strict=True)}
            count += 1
            row["id"] = f"raw_{count:032d}"  # ascending, like pycrm's time-ordered ids
            for tag in (row.pop("tags") or "").split(","):  # type: ignore[union-attr]
                if tag:
                    tags.append((row["id"], tag))  # type: ignore[arg-type]
            rows.append(row)
            if len(rows) >= CHUNK:
                connection.executemany(sql, rows)
                connection.executemany(tag_sql, tags)
                rows, tags = [], []
        connection.executemany(sql, rows)
        connection.executemany(tag_sql, tags)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    (stored,) = connection.execute("SELECT count(*) FROM crm_customers").fetchone()
    assert stored == count, (stored, count)
    connection.close()
    return _report(elapsed, count)


def load_pycrm(source: Path, database: Path, mode: str, profile: bool) -> int:
    from pycrm import CRM, FixedClock
    from pycrm.io import import_records

    with CRM.open(f"sqlite:///{database.as_posix()}", clock=FixedClock(NOW)) as crm:
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = import_records(crm, "customers", source, mode=mode)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        assert report.ok, report.summary()
        assert report.committed, report.summary()
        with crm.session() as s:
            assert s.customers.count() == report.created == report.rows
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
    return _report(elapsed, report.rows)


def _report(seconds: float, rows: int) -> int:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak_kb / 1024}))
    return 0


# -- driver --------------------------------------------------------------------------------


def child(*args: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-W", "ignore", __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{result.stderr}")
    if result.stderr.strip():
        sys.stderr.write(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="customers in the big file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of pycrm on the small file"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, source, database, *rest = args.child
        if kind == "raw":
            return load_raw(Path(source), Path(database))
        return load_pycrm(Path(source), Path(database), rest[0], rest[1] == "1")

    sizes = sorted({max(args.rows // 10, 1), args.rows})
    python = sys.version.split()[0]
    print(f"Python {python}, SQLite {sqlite3.sqlite_version}; sizes {', '.join(map(str, sizes))}")
    results: dict[tuple[int, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="pycrm-bench-import-") as directory:
        base = Path(directory)
        for size in sizes:
            source = base / f"customers-{size}.csv"
            write_csv(source, size, args.seed)
            mb = source.stat().st_size / 1e6
            print(f"\n{size:,} rows ({mb:,.0f} MB of CSV)")
            for name in ("raw", "skip_bad_rows", "all_or_nothing"):
                database = base / f"{name}-{size}.db"
                if name == "raw":
                    result = child("raw", str(source), str(database))
                else:
                    profile = "1" if args.profile and size == sizes[0] else "0"
                    result = child("pycrm", str(source), str(database), name, profile)
                results[size, name] = result
                for leftover in base.glob(f"{name}-{size}.db*"):
                    leftover.unlink()
                rate = result["rows"] / result["seconds"]
                print(
                    f"  {name:15} {result['seconds']:8.2f} s {rate:10,.0f} rows/s "
                    f"peak RSS {result['peak_mb']:7.1f} MB"
                )
            source.unlink()
    print()
    met = True
    for size in sizes:
        raw = results[size, "raw"]["seconds"]
        for mode in ("skip_bad_rows", "all_or_nothing"):
            ratio = results[size, mode]["seconds"] / raw
            met = met and ratio <= TARGET_RATIO
            print(f"{size:>10,} rows {mode:15} {ratio:5.2f}x the raw loader")
    if len(sizes) == 2:
        for name in ("raw", "skip_bad_rows", "all_or_nothing"):
            small, big = (results[size, name]["peak_mb"] for size in sizes)
            print(f"peak RSS {name:15} {small:7.1f} MB -> {big:7.1f} MB ({big / small:.2f}x)")
    print(f"\ntarget {TARGET_RATIO}x: {'met' if met else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

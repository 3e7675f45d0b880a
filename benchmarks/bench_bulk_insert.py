"""Bulk insert: pycrm's ``add_many`` against raw ``sqlite3.executemany``, in the same run.

Both sides start from the same plain dicts, N customer rows and N order rows shaped like an
import from another system (ISO date strings, amounts as text, tags as a comma-separated
string), and write them to a fresh SQLite file in one transaction:

* raw: ``executemany`` with named placeholders into tables with pycrm's exact DDL (columns,
  keys, indexes; created before the clock starts) and the same connection settings (WAL,
  foreign keys on). No validation, no conversion beyond splitting tags into their table.
* pycrm: building the entities from the dicts with full validation (``Customer.from_row``,
  ``Order(...)``), then ``s.customers.add_many`` / ``s.orders.add_many`` in one session, which
  also writes one audit row per entity. Opening the CRM (which creates the schema) is not
  timed, like the raw side's DDL.

Run: ``python benchmarks/bench_bulk_insert.py [--rows 100000] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from pycrm import CRM, Customer, FixedClock, Money, Order
from pycrm.demo import vocabulary as vocab
from pycrm.domain import new_id
from pycrm.storage.sqlalchemy import define_tables

TARGET_RATIO = 1.5
"""pycrm may take at most this many times the raw time."""

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
RUNS = 3

Row = dict[str, Any]


# -- data ----------------------------------------------------------------------------------


def customer_rows(rng: random.Random, count: int) -> list[Row]:
    """Companies and people, every column present (``None`` where it does not apply)."""
    rows = []
    for index in range(count):
        company = rng.random() < 0.7
        domestic = rng.random() < 0.78
        region = rng.choice(vocab.REGIONS_CN if domestic else vocab.REGIONS_ABROAD)
        team = vocab.TEAM_BY_REGION[region] if domestic else "International"
        captured = NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        row: Row = {
            "id": new_id(Customer.ID_PREFIX),
            "kind": "company" if company else "person",
            "name": "",
            "industry": None,
            "employees": None,
            "yearly_revenue_amount": None,
            "yearly_revenue_currency": None,
            "founded_on": None,
            "website": None,
            "honorific": None,
            "gender": None,
            "birthday": None,
            "employer": None,
            "position": None,
            "region": region,
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "email": None,
            "source_channel": rng.choice(vocab.SOURCE_CHANNELS),
            "captured_at": captured.isoformat(),
            "tags": ",".join(
                f"purchase-intent:{t}" for t in rng.sample(vocab.PURCHASE_INTENTS, k=2)
            ),
            "priority": rng.choice(("high", "medium", "low")),
            "owner": rng.choice(vocab.TEAMS[team]),
            "team": team,
            "status": rng.choice(("prospect", "active", "dormant", "churned", "lost")),
            "member_id": None,
        }
        if company:
            word, pinyin = rng.choice(vocab.COMPANY_WORDS_ZH)
            industry = rng.choice(vocab.INDUSTRIES)
            employees = rng.randint(5, 5000)
            row.update(
                name=f"{rng.choice(vocab.PLACES_CN['华东'][0])}{word}"
                f"{rng.choice(vocab.BUSINESS_ZH[industry])}",
                industry=industry,
                employees=employees,
                yearly_revenue_amount=str(employees * rng.randint(20, 120) * 10_000),
                yearly_revenue_currency="CNY",
                founded_on=f"{rng.randint(1985, 2022)}-{rng.randint(1, 12):02d}-15",
                website=f"https://www.{pinyin}{index}.cn",
                email=f"sales@{pinyin}{index}.cn",
            )
        else:
            surname, surname_py = rng.choice(vocab.SURNAMES_ZH)
            given, given_py, gender = rng.choice(vocab.GIVEN_NAMES_ZH)
            row.update(
                name=f"{surname}{given}",
                gender=gender,
                birthday=f"{rng.randint(1960, 2003)}-{rng.randint(1, 12):02d}-15",
                email=f"{surname_py}{given_py}{index}@163.com",
                member_id=f"M{index + 10_000_001}",
            )
        rows.append(row)
    return rows


def order_rows(rng: random.Random, customers: list[Row]) -> list[Row]:
    """One order per customer row (so N orders), each for a random customer."""
    rows = []
    for number in range(1, len(customers) + 1):
        placed = NOW - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        rows.append(
            {
                "id": new_id(Order.ID_PREFIX),
                "number": f"SO-{number:08d}",
                "customer_id": rng.choice(customers)["id"],
                "placed_at": placed.isoformat(),
                "total_amount": f"{rng.randint(100, 500_000)}.{rng.randint(0, 99):02d}",
                "total_currency": "CNY",
                "status": rng.choice(("pending", "paid", "fulfilled", "fulfilled", "cancelled")),
            }
        )
    return rows


# -- raw sqlite3 ---------------------------------------------------------------------------


def pycrm_ddl() -> list[str]:
    """pycrm's CREATE TABLE / CREATE INDEX statements for SQLite, from its own definitions."""
    metadata = sa.MetaData()
    tables = define_tables(metadata)
    dialect = sqlite_dialect.dialect()
    ddl = []
    for table in (tables.customers, tables.customer_tags, tables.orders):
        ddl.append(str(sa.schema.CreateTable(table).compile(dialect=dialect)))
        ddl.extend(str(sa.schema.CreateIndex(i).compile(dialect=dialect)) for i in table.indexes)
    return ddl


def _insert(table: str, columns: list[str], literals: dict[str, str]) -> str:
    values = [literals.get(c, f":{c}") for c in columns]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


CUSTOMER_COLUMNS = [
    "id", "version", "created_at", "updated_at", "kind", "name", "industry", "employees",
    "yearly_revenue_amount", "yearly_revenue_currency", "founded_on", "website", "honorific",
    "gender", "birthday", "employer", "position", "region", "phone", "email", "source_channel",
    "captured_at", "priority", "owner", "team", "status", "member_id", "custom_fields",
]  # fmt: skip
ORDER_COLUMNS = [
    "id", "version", "created_at", "updated_at", "number", "customer_id", "placed_at",
    "total_amount", "total_currency", "status",
]  # fmt: skip


def prepare_raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    for statement in pycrm_ddl():
        connection.execute(statement)
    return connection


def insert_raw(connection: sqlite3.Connection, customers: list[Row], orders: list[Row]) -> None:
    stamp = f"'{NOW.replace(tzinfo=None).isoformat(' ', 'microseconds')}'"
    bookkeeping = {"version": "1", "created_at": stamp, "updated_at": stamp}
    customer_sql = _insert(
        "crm_customers", CUSTOMER_COLUMNS, {**bookkeeping, "custom_fields": "NULL"}
    )
    order_sql = _insert("crm_orders", ORDER_COLUMNS, bookkeeping)
    tags = [
        {"customer_id": row["id"], "tag": tag}
        for row in customers
        if row["tags"]
        for tag in row["tags"].split(",")
    ]
    connection.execute("BEGIN")
    connection.executemany(customer_sql, customers)
    connection.executemany(
        "INSERT INTO crm_customer_tags (customer_id, tag) VALUES (:customer_id, :tag)", tags
    )
    connection.executemany(order_sql, orders)
    connection.execute("COMMIT")


def run_raw(directory: Path, customers: list[Row], orders: list[Row]) -> float:
    path = directory / "raw.db"
    connection = prepare_raw(path)
    try:
        started = time.perf_counter()
        insert_raw(connection, customers, orders)
        elapsed = time.perf_counter() - started
        (count,) = connection.execute("SELECT count(*) FROM crm_orders").fetchone()
        assert count == len(orders), count
    finally:
        connection.close()
    return elapsed


# -- pycrm ---------------------------------------------------------------------------------


def build_customers(rows: list[Row]) -> list[Customer]:
    return [Customer.from_row(row) for row in rows]


def build_orders(rows: list[Row]) -> list[Order]:
    return [
        Order(
            id=row["id"],
            number=row["number"],
            customer_id=row["customer_id"],
            placed_at=row["placed_at"],
            total=Money(row["total_amount"], row["total_currency"]),
            status=row["status"],
        )
        for row in rows
    ]


def insert_pycrm(crm: CRM, customers: list[Row], orders: list[Row]) -> dict[str, float]:
    """Time each phase; returns seconds per phase."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    built_customers = build_customers(customers)
    built_orders = build_orders(orders)
    phases["build entities"] = time.perf_counter() - started
    mark = time.perf_counter()
    with crm.session(actor="bench") as s:
        s.customers.add_many(built_customers)
        s.orders.add_many(built_orders)
        phases["add_many"] = time.perf_counter() - mark
        mark = time.perf_counter()
    phases["commit"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - started
    return phases


def run_pycrm(
    directory: Path, customers: list[Row], orders: list[Row], profile: cProfile.Profile | None
) -> dict[str, float]:
    path = directory / "pycrm.db"
    with CRM.open(f"sqlite:///{path.as_posix()}", clock=FixedClock(NOW)) as crm:
        if profile is not None:
            profile.enable()
        try:
            phases = insert_pycrm(crm, customers, orders)
        finally:
            if profile is not None:
                profile.disable()
        with crm.session() as s:
            assert s.orders.count() == len(orders)
    return phases


# -- driver --------------------------------------------------------------------------------


def best_of(runs: int, run: Callable[[Path], Any], key: Callable[[Any], float]) -> Any:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="pycrm-bench-") as directory:
            gc.collect()
            results.append(run(Path(directory)))
    return min(results, key=key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="customers, and as many orders")
    parser.add_argument("--runs", type=int, default=RUNS, help="take the best of this many runs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of pycrm's last run"
    )
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    customers = customer_rows(rng, args.rows)
    orders = order_rows(rng, customers)
    rows = len(customers) + len(orders)
    python = sys.version.split()[0]
    print(
        f"{len(customers):,} customers + {len(orders):,} orders = {rows:,} rows, "
        f"best of {args.runs} runs, Python {python}, SQLite {sqlite3.sqlite_version}"
    )

    raw = best_of(args.runs, lambda d: run_raw(d, customers, orders), key=lambda t: t)
    profile = cProfile.Profile() if args.profile else None
    phases = best_of(
        args.runs, lambda d: run_pycrm(d, customers, orders, profile), key=lambda p: p["total"]
    )
    ratio = phases["total"] / raw

    print(f"  raw sqlite3 executemany   {raw:8.3f} s  {rows / raw:>12,.0f} rows/s")
    total = phases["total"]
    print(
        f"  pycrm add_many            {total:8.3f} s  {rows / total:>12,.0f} rows/s"
        "  (plus one audit row per entity)"
    )
    for name in ("build entities", "add_many", "commit"):
        print(f"    {name:<23} {phases[name]:8.3f} s")
    verdict = "target met" if ratio <= TARGET_RATIO else "target missed"
    print(f"  ratio pycrm / raw         {ratio:8.2f}x  (target <= {TARGET_RATIO}x): {verdict}")

    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Audit retention on every backend: a six-month floor, a set-based purge of exactly the old
entries, and a streamed, defused export; and the ``pycrm audit`` commands."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from pycrm import CRM, ChangeKind, Customer, FixedClock, RetentionPolicy, ValidationError
from pycrm.access import MIN_KEEP_DAYS
from pycrm.audit_retention import EXPORT_BATCH, audit_entries
from pycrm.cli import main

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def history(crm: CRM, clock: FixedClock, days: list[int]) -> dict[int, str]:
    """One customer added ``d`` days after START for each ``d``; id by day."""
    ids = {}
    for day in days:
        clock.set(START + day * DAY)
        with crm.session(actor=f"clerk-{day}") as s:
            ids[day] = s.customers.add(Customer(kind="company", name=f"Day {day}")).id
    return ids


@pytest.mark.parametrize("days", [0, 1, 30, 90, 183, MIN_KEEP_DAYS - 1])
def test_a_retention_shorter_than_six_months_is_refused(days: int) -> None:
    with pytest.raises(ValidationError) as caught:
        RetentionPolicy(keep_days=days)
    assert caught.value.field == "keep_days"


@pytest.mark.parametrize("value", ["200", 200.0, None, "many"])
def test_a_retention_of_the_wrong_type_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        RetentionPolicy(keep_days=value)  # type: ignore[arg-type]


def test_the_default_retention_always_keeps_six_calendar_months() -> None:
    policy = RetentionPolicy()
    for month in range(1, 13):
        now = datetime(
            2026, month, 31 if month in (1, 3, 5, 7, 8, 10, 12) else 28, 12, 0, tzinfo=timezone.utc
        )
        assert policy.cutoff(now) <= now - relativedelta(months=6)


def test_purge_deletes_exactly_the_entries_older_than_the_policy(
    crm: CRM, clock: FixedClock
) -> None:
    ids = history(crm, clock, [0, 10, 100, 200, 300])
    clock.set(START + 400 * DAY)
    cutoff = clock.now() - 200 * DAY
    with crm.session() as s:
        before = {day: s.audit.for_entity(cid, "customer") for day, cid in ids.items()}
    assert crm.purge_audit(policy=RetentionPolicy(keep_days=200)) == 3
    with crm.session() as s:
        after = {day: s.audit.for_entity(cid, "customer") for day, cid in ids.items()}
        # The customers themselves are untouched: only their history went.
        assert s.customers.count() == 5
    assert after == {0: [], 10: [], 100: [], 200: before[200], 300: before[300]}
    assert all(e.at >= cutoff for e in audit_entries(crm))
    # The purge is audited, and nothing older than the cut-off is left to purge.
    purges = [e for e in audit_entries(crm) if e.entity_type == "audit"]
    assert [(p.action, p.changes["purged"]) for p in purges] == [(ChangeKind.REMOVED, [3, None])]
    assert crm.purge_audit(policy=RetentionPolicy(keep_days=200)) == 0


def test_purge_by_date_refuses_a_cutoff_less_than_six_months_ago(
    crm: CRM, clock: FixedClock
) -> None:
    history(crm, clock, [0, 1])
    clock.set(START + 190 * DAY)
    with pytest.raises(ValidationError) as caught:
        crm.purge_audit(older_than=clock.now() - relativedelta(months=5))
    assert caught.value.field == "older_than"
    with pytest.raises(ValidationError):
        crm.purge_audit(older_than=START + DAY, policy=RetentionPolicy())
    with pytest.raises(ValidationError):
        crm.purge_audit(older_than="yesterday")  # type: ignore[arg-type]
    assert crm.purge_audit(older_than=START + DAY / 2) == 1


def test_a_failed_purge_leaves_the_log_as_it_was(crm: CRM, clock: FixedClock) -> None:
    history(crm, clock, [0, 1, 2])
    clock.set(START + 400 * DAY)
    with pytest.raises(RuntimeError), crm.session() as s:
        assert s._tx.audit.purge(START + 300 * DAY) == 3
        raise RuntimeError("the host changed its mind")
    assert len(list(audit_entries(crm))) == 3


def test_export_streams_every_entry_oldest_first_in_csv_and_json_lines(
    crm: CRM, clock: FixedClock
) -> None:
    ids = history(crm, clock, [0, 5, 9])
    with crm.session(actor="=cmd|' /C calc'!A0") as s:
        s.customers.update(s.customers.get(ids[9]).evolve(phone="13812345678"))
    out = io.StringIO()
    assert crm.export_audit(out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["entity_id"] for r in rows] == [ids[0], ids[5], ids[9], ids[9]]
    assert [r["action"] for r in rows] == ["created"] * 3 + ["changed"]
    assert rows[3]["actor"] == "'=cmd|' /C calc'!A0"  # shown as text, never run
    assert "13812345678" not in out.getvalue()  # masked as stored
    lines = io.StringIO()
    assert crm.export_audit(lines, format="jsonl", since=START + 5 * DAY) == 3
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [r["entity_id"] for r in records] == [ids[5], ids[9], ids[9]]
    assert records[2]["actor"] == "=cmd|' /C calc'!A0"  # JSON is data, not a formula
    with pytest.raises(ValidationError):
        crm.export_audit(io.StringIO(), format="xlsx")


def test_export_pages_through_a_log_longer_than_a_batch(crm: CRM) -> None:
    with crm.session() as s:
        s.customers.add_many(
            Customer(kind="company", name=f"C{i}") for i in range(EXPORT_BATCH + 7)
        )
    entries = list(audit_entries(crm))
    assert len(entries) == EXPORT_BATCH + 7
    assert len({e.id for e in entries}) == len(entries)
    assert [(e.at, e.id) for e in entries] == sorted((e.at, e.id) for e in entries)


def test_export_since_a_moment_pages_through_entries_that_share_it(
    crm: CRM, clock: FixedClock
) -> None:
    history(crm, clock, [0, 1])
    clock.set(START + 2 * DAY)
    with crm.session() as s:  # a bulk add stamps every entry with one moment
        s.customers.add_many(
            Customer(kind="company", name=f"C{i}") for i in range(2 * EXPORT_BATCH + 3)
        )
    history(crm, clock, [3])
    entries = list(audit_entries(crm, since=START + 2 * DAY))
    assert len(entries) == 2 * EXPORT_BATCH + 4
    assert {e.at for e in entries[:-1]} == {START + 2 * DAY}
    assert [(e.at, e.id) for e in entries] == sorted((e.at, e.id) for e in entries)
    assert len({e.id for e in entries}) == len(entries)


def test_a_page_boundary_before_since_bounds_nothing(crm: CRM, clock: FixedClock) -> None:
    history(crm, clock, [0, 1, 2])
    with crm.session() as s:
        first = s._tx.audit.page(since=None, after=None, limit=1)[0]
        pages = s._tx.audit.page(since=START + DAY, after=(first.at, first.id), limit=10)
    assert [e.at for e in pages] == [START + DAY, START + 2 * DAY]


def test_on_sqlite_export_pages_start_at_the_boundary_in_the_index(tmp_path: Path) -> None:
    """Each page is a range scan of the (at, id) index from the previous page's end, not a
    scan of the log from ``since``: exports stay linear in the log's length."""
    clock = FixedClock(START)
    with CRM.open(f"sqlite:///{tmp_path / 'audit.db'}", clock=clock) as crm:
        crm.upgrade()
        history(crm, clock, [0, 1, 2])
        statements: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
            if "audit_log" in statement and "LIMIT" in statement:
                statements.append((statement, params))

        engine = crm.store.engine  # type: ignore[attr-defined]
        sa.event.listen(engine, "before_cursor_execute", capture)
        with crm.session() as s:
            first = s._tx.audit.page(since=START, after=None, limit=1)[0]
            s._tx.audit.page(since=START, after=(first.at, first.id), limit=1)
        sa.event.remove(engine, "before_cursor_execute", capture)
        with engine.connect() as conn:
            plans = [
                " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {q}", p))
                for q, p in statements
            ]
    assert len(plans) == 2
    assert "crm_audit_log_at_ix (at>?)" in plans[0]
    assert "crm_audit_log_at_ix ((at,id)>(?,?))" in plans[1]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_audit_commands_purge_and_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    clock = FixedClock(START)
    with CRM.open(url, clock=clock) as crm:
        history(crm, clock, [0, 1])
    code, out, err = run("audit", "purge", "--db", url, "--keep-days", "30")
    assert code == 1
    assert "six months" in err
    code, out, _ = run("audit", "purge", "--db", url)
    assert code == 0
    assert out.startswith("purged 2 audit entries")  # the clock of the CLI is today's
    export = tmp_path / "audit.jsonl"
    code, _, err = run("audit", "export", str(export), "--db", url, "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["entity_type"] for line in export.read_text().splitlines()] == [
        "audit"
    ]
    code, _, _ = run("audit", "export", "-", "--db", url, "--since", "2999-01-01")
    assert code == 0

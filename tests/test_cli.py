"""The command line, run in-process through ``main()`` on real SQLite files."""

from __future__ import annotations

import contextlib
import io
import re
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import pycrm
from pycrm import CRM, LifecycleStatus
from pycrm.cli import main
from pycrm.storage.sqlalchemy.migrate import head_revision

MASKED_PHONE = re.compile(r"\+?\d{2,3}\*{4}\d{4}")


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Run(code, out.getvalue(), err.getvalue())


def demo(path: Path, *extra: str, customers: int = 40, seed: int | None = 5) -> Run:
    args = ["demo", "--db", str(path), "--customers", str(customers), *extra]
    if seed is not None:
        args += ["--seed", str(seed)]
    return run(*args)


def url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = demo(path)
    assert result.code == 0, result.err
    return path, result


def printed_count(summary: str, entity: str) -> int:
    match = re.search(rf"^\s+{entity}\s+([\d,]+)$", summary, re.MULTILINE)
    assert match, f"no count for {entity} in the summary"
    return int(match.group(1).replace(",", ""))


def test_demo_writes_a_database_with_what_it_reports(demo_db: tuple[Path, Run]) -> None:
    path, result = demo_db
    assert path.is_file()
    with CRM.open(url(path)) as crm, crm.session() as s:
        counts = {
            "customers": s.customers.count(),
            "contacts": s.contacts.count(),
            "orders": s.orders.count(),
            "interactions": s.interactions.count(),
            "tasks": s.tasks.count(),
            "opportunities": s.opportunities.count(),
            "customer grades": s.customer_grades.count(),
            "tickets": s.tickets.count(),
        }
        demo_entries = s.audit.for_entity(s.customers.list(limit=1).items[0])
    assert counts["customers"] == 40
    assert all(counts.values()), counts
    for entity, count in counts.items():
        assert printed_count(result.out, entity) == count
    total = sum(counts.values())
    assert f"loaded {total:,} records" in result.err
    assert demo_entries[0].actor == "demo"
    assert demo_entries[0].action.value == "created"


def test_demo_summary_names_statuses_and_masks_personal_data(demo_db: tuple[Path, Run]) -> None:
    path, result = demo_db
    summary = result.out
    for section in ("Customers by status", "Top 10 customers", "Orders by month", "Audit log"):
        assert section in summary
    status_block = summary.split("Customers by status")[1].split("\n\n")[0]
    for status in LifecycleStatus:
        assert re.search(rf"^\s+{status.value}\s+\d+", status_block, re.MULTILINE), status
    assert MASKED_PHONE.search(summary)
    with CRM.open(url(path)) as crm, crm.session() as s:
        customers = list(s.customers.stream())
        contacts = list(s.contacts.stream())
    raw = {p.phone for p in customers + contacts if p.phone}
    raw |= {p.email for p in customers + contacts if p.email}
    assert len(raw) > 40
    leaked = sorted(value for value in raw if value in summary)
    assert not leaked


def test_demo_with_a_seed_is_reproducible_and_replaces_the_old_file(
    demo_db: tuple[Path, Run], tmp_path: Path
) -> None:
    _, first = demo_db
    path = tmp_path / "again.db"
    second = demo(path)
    assert second.code == 0
    assert "replacing" not in second.err
    assert second.out == first.out

    third = demo(path)
    assert third.code == 0
    assert f"replacing the existing {path}" in third.err
    assert third.out == first.out
    with CRM.open(url(path)) as crm, crm.session() as s:
        assert s.customers.count() == 40  # replaced, not appended to

    other_seed = demo(tmp_path / "other.db", seed=6)
    assert other_seed.code == 0
    assert other_seed.out != first.out


def test_demo_refuses_to_replace_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("do not lose me", encoding="utf-8")
    result = demo(notes)
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert "not a SQLite database" in result.err
    assert notes.read_text(encoding="utf-8") == "do not lose me"


def test_demo_into_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    result = demo(tmp_path / "missing" / "demo.db")
    assert result.code == 1
    assert "error: directory" in result.err
    assert not (tmp_path / "missing").exists()


def write_broken_plugin(root: Path) -> None:
    info = root / "broken_pycrm_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-pycrm-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[pycrm]\nbroken = no_such_module_for_pycrm_tests:plugin\n", encoding="utf-8"
    )


def test_broken_plugins_are_reported_as_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_broken_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))

    loaded = demo(tmp_path / "a.db", customers=2)
    assert loaded.code == 0
    assert "warning: plugin 'broken' was not loaded: ModuleNotFoundError" in loaded.err

    skipped = run("--no-plugins", "demo", "--db", str(tmp_path / "b.db"), "--customers", "2")
    assert skipped.code == 0
    assert "warning" not in skipped.err


def table_names(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_db_upgrade_creates_the_tables_and_current_reports_head(tmp_path: Path) -> None:
    path = tmp_path / "host.db"
    before = run("db", "current", url(path))
    assert before.code == 0
    assert before.out == "none\n"

    result = run("db", "upgrade", url(path))
    assert result.code == 0, result.err
    assert result.out.strip() == head_revision()
    assert {"crm_customers", "crm_orders", "crm_audit_log", "crm_alembic_version"} <= table_names(
        path
    )

    current = run("db", "current", url(path))
    assert current.code == 0
    assert current.out == f"{head_revision()} (head)\n"
    with CRM.open(url(path)) as crm, crm.session() as s:
        assert s.customers.count() == 0


def test_db_upgrade_with_a_prefix_leaves_other_tables_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    engine = sa.create_engine(url(path))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE erp_items (id INTEGER PRIMARY KEY)")
    engine.dispose()
    assert run("db", "upgrade", url(path), "--prefix", "sales_").code == 0
    names = table_names(path)
    assert {"erp_items", "sales_customers", "sales_alembic_version"} <= names
    assert "crm_customers" not in names
    assert run("db", "current", url(path)).out == "none\n"
    assert run("db", "current", url(path), "--prefix", "sales_").out.startswith(head_revision())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("db", "upgrade", "sqlite:///{dir}/x.db", "--prefix", "no spaces!"), "prefix"),
        (("db", "upgrade", "not a url"), "cannot upgrade"),
        (("db", "upgrade", "sqlite:///{dir}/x.db", "--revision", "nonesuch"), "nonesuch"),
        (("db", "current", "sqlite:///{dir}/missing/x.db"), "cannot read"),
    ],
)
def test_refusals_exit_1_with_a_message(tmp_path: Path, argv: Sequence[str], message: str) -> None:
    result = run(*(arg.replace("{dir}", tmp_path.as_posix()) for arg in argv))
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert message in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    "argv",
    [(), ("bogus",), ("demo", "--customers", "0"), ("demo", "--customers", "x"), ("db",)],
)
def test_bad_usage_exits_2(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(list(argv)) == 2
    assert "usage: pycrm" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"pycrm {pycrm.__version__}\n"


def test_python_dash_m_runs_the_same_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pycrm", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout == f"pycrm {pycrm.__version__}\n"


# -- report --------------------------------------------------------------------------------


def test_report_list_names_every_report(demo_db: tuple[Path, Run]) -> None:
    path, _ = demo_db
    with CRM.open(url(path)) as crm:
        names = list(crm.reports)
    for argv in (("report", "--list"), ("report", "--list", "--db", url(path))):
        result = run(*argv)
        assert result.code == 0, result.err
        assert [line.split()[0] for line in result.out.splitlines()] == names
    assert "diagnosis" in names


def test_report_prints_the_table_and_writes_csv(demo_db: tuple[Path, Run], tmp_path: Path) -> None:
    import csv

    path, _ = demo_db
    out = tmp_path / "diagnosis.csv"
    result = run(
        "report", "diagnosis", "--db", url(path), "--period", "2026-06", "--tz",
        "Asia/Shanghai", "--csv", str(out),
    )  # fmt: skip
    assert result.code == 0, result.err
    with CRM.open(url(path)) as crm:
        table = crm.report("diagnosis", "2026-06", tz="Asia/Shanghai")
    assert result.out == f"{table}\n"
    assert result.out.startswith("Diagnosis (2026-06)\n")
    with out.open(encoding="utf-8", newline="") as written:
        rows = list(csv.reader(written))
    assert rows[0] == list(table.columns)
    assert len(rows) == len(table) + 1
    assert f"wrote {len(table):,} rows to {out}" in result.err
    assert [row[0] for row in rows[1:]] == [row.metric for row in table]


def test_report_csv_cells() -> None:
    from datetime import datetime, timezone
    from decimal import Decimal

    from pycrm.cli import _csv_cell

    # Text a spreadsheet would run is quoted; negative numbers stay numbers.
    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell(Decimal("-0.2000")) == "-0.2000"
    assert _csv_cell(None) == ""
    assert _csv_cell(datetime(2026, 5, 1, tzinfo=timezone.utc)) == "2026-05-01T00:00:00+00:00"


def test_report_without_a_figure_writes_no_png(demo_db: tuple[Path, Run], tmp_path: Path) -> None:
    path, _ = demo_db
    result = run("report", "diagnosis", "--db", url(path), "--png", str(tmp_path / "figs"))
    assert result.code == 0, result.err
    assert "has no figure" in result.err
    assert not (tmp_path / "figs").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("report", "nonesuch", "--db", "sqlite:///{db}"), "no report named 'nonesuch'"),
        (("report", "diagnosis", "--db", "sqlite:///{db}", "--period", "2026-13"), "period"),
        (("report", "diagnosis", "--db", "sqlite:///{db}", "--tz", "Mars/Base"), "tz"),
        (("report", "diagnosis"), "--db"),
        (("report",), "pycrm report --list"),
    ],
)
def test_report_refusals_exit_1(
    demo_db: tuple[Path, Run], argv: Sequence[str], message: str
) -> None:
    path, _ = demo_db
    result = run(*(arg.replace("{db}", path.as_posix()) for arg in argv))
    assert result.code == 1
    assert result.err.startswith("error: ")
    assert message in result.err
    assert "Traceback" not in result.err


def test_demo_writes_its_figures_beside_the_file(demo_db: tuple[Path, Run]) -> None:
    path, result = demo_db
    folder = path.parent / "demo-plots"
    figures = sorted(folder.glob("*.png"))
    assert figures, "no figures written"
    assert f"wrote {len(figures)} figures to {folder}" in result.err
    assert (folder / "rfm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Management summary, " in result.out


def test_report_png_writes_the_figure(demo_db: tuple[Path, Run], tmp_path: Path) -> None:
    path, _ = demo_db
    folder = tmp_path / "figures"
    result = run(
        "report", "stage_flow", "--db", url(path), "--period", "2026-05", "--png", str(folder)
    )
    assert result.code == 0, result.err
    assert result.out.startswith("Stage flow (2026-05)\n")
    figure = folder / "stage_flow-2026-05.png"
    assert f"wrote {figure}" in result.err
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

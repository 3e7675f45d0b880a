"""The tick and dispatch benchmarks run, small, so they keep working as the code changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="the benchmarks read memory from /proc"
)


def run_benchmark(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    return result.stdout


def test_the_tick_benchmark_runs_every_rule_once(tmp_path: Path) -> None:
    from pycrm import CRM

    out = run_benchmark("bench_tick.py", "--customers", "300", "--runs", "1")
    with CRM.memory(identity_key="benchmark-test-key") as crm:
        rules = list(crm.automation.rules)
    table = out.split("rule", 1)[1]
    for name in rules:
        assert f"  {name} " in table, f"{name} missing from the report"
    assert "FAILED" not in out
    assert "customers/s" in out
    assert "peak RSS growth during the tick" in out
    assert "idempotent: the second tick created nothing" in out


def test_the_dispatch_benchmark_sends_every_message_once() -> None:
    out = run_benchmark(
        "bench_dispatch.py", "--messages", "150", "--batch-size", "40", "--runs", "1"
    )
    assert "claimed 150, sent 150, retry later 0, dead 0" in out
    assert "messages/s" in out
    assert "every message sent once" in out


def test_the_report_benchmark_builds_every_report() -> None:
    from pycrm import CRM

    out = run_benchmark(
        "bench_reports.py",
        *("--customers", "300", "--orders", "3000", "--demo-customers", "40", "--runs", "1"),
    )
    with CRM.memory(identity_key="benchmark-test-key") as crm:
        names = list(crm.reports)
    table = out.split("report", 1)[1]
    for name in names:
        assert f"  {name} " in table, f"{name} missing from the benchmark"
    assert "over 300 customers and 3,000 orders on SQLite" in out
    assert f"{len(names)} reports in" in out
    assert "peak RSS growth during the set" in out
    assert "diagnosis" in names


def test_the_audit_export_benchmark_exports_the_same_rows_as_the_raw_reader() -> None:
    out = run_benchmark("bench_audit_export.py", "--entries", "20000", "--runs", "1")
    # The script stops with FAILED when the two sides wrote different numbers of rows.
    assert "2,000 entries, 1,000 exported" in out
    assert "20,000 entries, 10,000 exported" in out
    assert "pycrm time per entry, N over N/10" in out

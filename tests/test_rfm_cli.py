"""``pycrm rfm`` on a real SQLite file, and the RFM example as a user runs it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pycrm import CRM, Customer, Money, Order, OrderStatus
from pycrm.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def shop(tmp_path: Path) -> tuple[str, list[str]]:
    url = f"sqlite:///{(tmp_path / 'shop.db').as_posix()}"
    spend = [("华东精密制造有限公司", "900"), ("Acme Tools", "50"), ("Li Na", "5")]
    with CRM.open(url) as crm, crm.session() as s:
        customers = [Customer.company(name) for name, _ in spend]
        s.customers.add_many(customers)
        s.orders.add_many(
            Order(
                number=f"N{i}",
                customer_id=customer.id,
                placed_at=datetime(2026, 3, 1 + i, tzinfo=timezone.utc),
                total=Money(amount, currency),
                status=OrderStatus.PAID,
            )
            for i, (customer, (_, amount), currency) in enumerate(
                zip(customers, spend, ["CNY", "CNY", "USD"], strict=True)
            )
        )
    return url, [c.id for c in customers]


def test_rfm_prints_the_summary_and_the_best_customers(shop: tuple[str, list[str]]) -> None:
    url, ids = shop
    code, out, err = run("--no-plugins", "rfm", url, "--as-of", "2026-03-10", "--top", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "RFM of 3 customers as of 2026-03-10T00:00:00+00:00, 5 bins"
    assert lines[2].split() == ["segment", "customers", "share", "total", "mean"]
    assert "top 2 customers" in lines
    top = lines[lines.index("top 2 customers") + 2 :]
    assert len(top) == 2
    # R + F + M ties at 6 between the biggest spender (114) and the latest buyer (411);
    # more spend comes first.
    assert top[0].startswith(ids[0])
    assert "华东精密制造有限公司" in top[0]
    assert top[0].split()[-4:] == ["9", "1", "900.00", "114"]
    assert top[1].startswith(ids[2])
    assert top[1].split()[-4:] == ["7", "1", "5.00", "411"]


def test_rfm_with_currency_and_bins(shop: tuple[str, list[str]]) -> None:
    url, ids = shop
    code, out, _ = run(
        "--no-plugins",
        "rfm",
        url,
        "--as-of",
        "2026-03-10T08:00:00+08:00",
        "--currency",
        "usd",
        "--bins",
        "3",
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "RFM of 1 customers as of 2026-03-10T08:00:00+08:00 in USD, 3 bins"
    )
    assert ids[2] in out
    assert ids[0] not in out


def test_rfm_with_no_purchases_and_bad_arguments(shop: tuple[str, list[str]]) -> None:
    url, _ = shop
    code, out, _ = run("--no-plugins", "rfm", url, "--as-of", "2020-01-01")
    assert code == 0
    assert out.rstrip().endswith("no purchases up to then")
    code, _, err = run("--no-plugins", "rfm", url, "--as-of", "soon")
    assert code == 2
    assert "not an ISO 8601 date or time" in err
    code, _, err = run("--no-plugins", "rfm", url, "--bins", "1")
    assert code == 1
    assert "error: bins: must be from 2" in err
    code, _, err = run("--no-plugins", "rfm", url, "--currency", "euro")
    assert code == 1
    assert "error: currency:" in err


def test_rfm_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "rfm_segments.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("scored 299 customers as of 2026-06-30")
    assert "call this week: 18 big spenders who went quiet" in out
    assert "in-database scores equal the pure function's: True" in out
    assert out.rstrip().endswith("rfm_segments: ok")
    assert list(tmp_path.iterdir()) == []

"""Report figures: each renders to a PNG with one bar or point per figure in its table, and
says which extra to install when matplotlib is missing."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from pycrm import CRM, ConfigurationError, Customer, Money, Order, Period, ValidationError
from pycrm.analytics import ReportTable, plots

PNG = b"\x89PNG\r\n\x1a\n"
NOVEMBER = Period.parse("2026-11")


@attrs.frozen
class ConversionRow:
    source_channel: str | None
    leads: int
    converted: int
    rate: Decimal | None


@attrs.frozen
class TrendRow:
    month: str
    currency: str | None
    won_deals: int
    won_amount: Decimal


@attrs.frozen
class BoardRow:
    rank: int
    owner: str | None
    currency: str
    deals: int
    amount: Decimal


@attrs.frozen
class SlaRow:
    group: str | None
    tickets: int
    met: int
    rate: Decimal | None


def saved(figure: object, path: Path) -> Path:
    written = plots.save_png(figure, path)  # type: ignore[arg-type]
    assert written.read_bytes()[:8] == PNG
    return written


def test_a_funnel_has_a_bar_per_row_and_count(tmp_path: Path) -> None:
    table = ReportTable(
        title="Lead conversion",
        row_type=ConversionRow,
        rows=[
            ConversionRow("web", 10, 4, Decimal("0.4")),
            ConversionRow("fair", 5, 1, Decimal("0.2")),
            ConversionRow(None, 2, 0, Decimal(0)),
        ],
        period=NOVEMBER,
    )
    figure = plots.funnel(table)
    saved(figure, tmp_path / "funnel.png")
    (axes,) = figure.axes
    # 3 rows x (leads, converted) = 6 bars; the first row on top.
    assert len(axes.patches) == 6
    ticks = {
        int(y): t.get_text() for y, t in zip(axes.get_yticks(), axes.get_yticklabels(), strict=True)
    }
    assert ticks == {2: "web", 1: "fair", 0: plots.NONE_LABEL}
    widths = sorted(p.get_width() for p in axes.patches)
    assert widths == [0, 1, 2, 4, 5, 10]
    assert axes.get_title() == "Lead conversion (2026-11)"


@attrs.frozen
class FlowRow:
    pipeline: str
    stage: str
    entered: int
    moved_on: int


def test_a_funnel_of_two_pipelines_names_them(tmp_path: Path) -> None:
    rows = [FlowRow("sales", "proposal", 4, 2), FlowRow("renewals", "proposal", 3, 1)]
    figure = plots.funnel(ReportTable(title="Stage flow", row_type=FlowRow, rows=rows))
    saved(figure, tmp_path / "flow.png")
    (axes,) = figure.axes
    assert len(axes.patches) == 4
    labels = sorted(t.get_text() for t in axes.get_yticklabels())
    assert labels == ["renewals/proposal", "sales/proposal"]
    one = plots.funnel(ReportTable(title="Stage flow", row_type=FlowRow, rows=rows[:1]))
    assert [t.get_text() for t in one.axes[0].get_yticklabels()] == ["proposal"]


def test_monthly_trends_have_a_point_per_month_currency_and_measure(tmp_path: Path) -> None:
    rows = [
        TrendRow("2026-09", "CNY", 2, Decimal("300")),
        TrendRow("2026-10", "CNY", 3, Decimal("450.5")),
        TrendRow("2026-11", "CNY", 1, Decimal("90")),
        TrendRow("2026-10", "USD", 1, Decimal("20")),
    ]
    table = ReportTable(title="Sales trend", row_type=TrendRow, rows=rows)
    figure = plots.monthly_trends(table)
    saved(figure, tmp_path / "trend.png")
    # Two panels (won_deals, won_amount), each a CNY line of 3 points and a USD one of 1.
    assert [a.get_title() for a in figure.axes] == ["won_deals", "won_amount"]
    for axes in figure.axes:
        assert sorted(len(line.get_xdata()) for line in axes.lines) == [1, 3]
    amounts = figure.axes[1].lines[0].get_ydata()
    assert list(amounts) == [300.0, 450.5, 90.0]
    assert list(figure.axes[1].lines[1].get_xdata()) == [1]  # October's place


def test_a_leaderboard_bar_per_owner_and_currency(tmp_path: Path) -> None:
    table = ReportTable(
        title="Leaderboard",
        row_type=BoardRow,
        rows=[
            BoardRow(1, "ann", "CNY", 3, Decimal("900")),
            BoardRow(2, "bo", "CNY", 1, Decimal("100")),
            BoardRow(1, "ann", "USD", 1, Decimal("50")),
        ],
    )
    figure = plots.leaderboard(table)
    saved(figure, tmp_path / "board.png")
    # Yuan and dollars on one axis would compare 900 with 50: a panel per currency instead.
    cny, usd = figure.axes
    assert [p.get_width() for p in cny.patches] == [900, 100]
    heights = {t.get_text(): t.get_position()[1] for t in cny.get_yticklabels()}
    assert heights["ann"] > heights["bo"]  # best on top
    assert cny.get_xlabel() == "amount (CNY)"
    assert [p.get_width() for p in usd.patches] == [50]
    assert [t.get_text() for t in usd.get_yticklabels()] == ["ann"]
    assert usd.get_xlabel() == "amount (USD)"
    assert figure.get_suptitle() == "Leaderboard"


def test_sla_attainment_bars_are_rates(tmp_path: Path) -> None:
    table = ReportTable(
        title="SLA attainment",
        row_type=SlaRow,
        rows=[SlaRow("first line", 4, 3, Decimal("0.75")), SlaRow(None, 0, 0, None)],
    )
    figure = plots.sla_attainment(table)
    saved(figure, tmp_path / "sla.png")
    (axes,) = figure.axes
    assert [p.get_height() for p in axes.patches] == [0.75, 0.0]
    assert axes.get_ylim() == (0, 1.05)


def test_an_empty_report_still_plots(tmp_path: Path) -> None:
    for plot, row_type in (
        (plots.funnel, ConversionRow),
        (plots.monthly_trends, TrendRow),
        (plots.leaderboard, BoardRow),
        (plots.sla_attainment, SlaRow),
    ):
        figure = plot(ReportTable(title="Nothing", row_type=row_type))
        saved(figure, tmp_path / f"{plot.__name__}.png")
        assert not any(axes.patches for axes in figure.axes)
        # No data points; only SLA attainment's 100% line is drawn.
        lines = [list(line.get_ydata()) for axes in figure.axes for line in axes.lines]
        assert lines == ([[1, 1]] if plot is plots.sla_attainment else [])


def test_the_rfm_heatmap_counts_customers_per_r_and_f(tmp_path: Path) -> None:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with CRM.memory(identity_key="k" * 32) as crm:
        with crm.session() as s:
            # Customer i buys i + 1 times, the last i * 30 days ago: recency and frequency
            # rank them in opposite orders.
            for i in range(3):
                customer = s.customers.add(Customer.person(f"P{i}"))
                for n in range(i + 1):
                    s.orders.add(
                        Order(
                            number=f"o{i}-{n}",
                            customer_id=customer.id,
                            placed_at=now - timedelta(days=i * 30 + n),
                            total=Money(Decimal(10), "CNY"),
                            status="paid",
                        )
                    )
        table = crm.rfm(now, bins=3)
    figure = plots.rfm_heatmap(table)
    saved(figure, tmp_path / "rfm.png")
    grid = plots.rfm_grid(table)
    assert sum(map(sum, grid)) == 3
    # P0 (r3, f1), P1 (r2, f2), P2 (r1, f3): the anti-diagonal.
    assert grid == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]
    image = figure.axes[0].images[0]
    assert image.get_array().tolist() == grid
    with pytest.raises(ValidationError) as caught:
        plots.rfm_heatmap([])  # type: ignore[arg-type]
    assert caught.value.field == "table"


def test_plots_name_the_extra_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    table = ReportTable(title="t", row_type=SlaRow)
    with pytest.raises(ConfigurationError, match=r"pycrm-core\[plots\]"):
        plots.sla_attainment(table)


def test_a_table_without_the_columns_is_refused() -> None:
    @attrs.frozen
    class Bare:
        note: str

    with pytest.raises(ValidationError) as caught:
        plots.funnel(ReportTable(title="t", row_type=Bare))
    assert caught.value.field == "table"
    with pytest.raises(ValidationError):
        plots.leaderboard("not a table")  # type: ignore[arg-type]


def test_the_registered_reports_plot(tmp_path: Path) -> None:
    from pycrm import FixedClock
    from pycrm.demo import DEMO_NOW, load

    crm = CRM.memory(clock=FixedClock(DEMO_NOW), identity_key="k" * 32)
    load(crm, customers=80, seed=4)
    may, half_year = Period.parse("2026-05"), Period.parse("2026-01-01..2026-06-30")
    for name, plot in plots.PLOTS.items():
        table = crm.report(name, half_year if name == "sales_trend" else may)
        figure = plot(table)
        saved(figure, tmp_path / f"{name}.png")
        bars = sum(len(axes.patches) for axes in figure.axes)
        points = sum(len(line.get_xdata()) for axes in figure.axes for line in axes.lines)
        counts = plots._columns(table, "count")
        amounts = plots._columns(table, "amount")
        if plot is plots.funnel:  # the first two counts of each row
            assert bars == len(table) * min(2, len(counts)), name
        elif plot is plots.leaderboard:  # one bar per owner and currency
            assert bars == len(table), name
        elif plot is plots.sla_attainment:  # response and resolution rates per group
            rates = [c for c in amounts if "rate" in c]
            assert bars == len(table) * min(2, len(rates)), name
        else:  # a point per month, currency and measure
            assert points == len(table) * (len(counts) + len(amounts)), name
        assert bars + points > 0, f"{name} drew nothing from the demo's May"

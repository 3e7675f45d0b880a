"""The demo's closing management summary and its figures.

The summary is what a manager reviews each month, on one screen: a few key figures of the
last full month beside the month before, then the diagnosis' findings (the metrics that moved
the bad way). The figures are the reports' plots, written as PNG files beside the database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta

from pycrm.analytics.diagnosis import diagnose, show
from pycrm.analytics.period import Period, PeriodKind
from pycrm.demo.summary import Block, SummaryContext
from pycrm.tabular import format_table

if TYPE_CHECKING:
    from pycrm import CRM

KEY_METRICS = (
    "won_amount",
    "won_count",
    "average_order_value",
    "lead_conversion_rate",
    "new_customers",
    "retention_rate",
    "churn_rate",
    "first_response_hours",
    "resolution_hours",
    "sla_attainment_rate",
    "csat_average",
)
"""The figures shown, in this order, when they are registered; the diagnosis reads all."""

TREND_REPORTS = frozenset({"sales_trend"})
"""Reports drawn over the six months to the reviewed one rather than the month alone."""

SHOWN_FINDINGS = 6
"""Findings listed before "and N more", so the summary stays on one screen."""


def review_period(now: datetime, tz: str = "UTC") -> Period:
    """The last full month before ``now``: what a monthly review covers."""
    return Period.containing(PeriodKind.MONTH, now, tz).previous()


PERCENT_UNITS = ("ratio",)
"""Units of rates, which are fractions 0..1: shown as percentages."""


def _cell(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in PERCENT_UNITS:
        return f"{value * 100:.1f}%"
    return show(value)


def management(ctx: SummaryContext) -> Block:
    """Key figures of the last full month against the month before, and what got worse."""
    period = review_period(ctx.now)
    table = diagnose(ctx.session, period)
    metrics = ctx.session.crm.reports.metrics
    rows = []
    for name in KEY_METRICS:
        if name not in metrics:
            continue
        unit = metrics[name].unit or ""
        shown = "" if not unit or unit in PERCENT_UNITS else f" ({unit})"
        for row in table:
            if row.metric != name:
                continue
            change = "-" if row.change is None else f"{row.change * 100:+.0f}%"
            # A family (an amount per currency) shows a line per key.
            key = "" if row.key is None else f", {row.key}"
            rows.append(
                (
                    metrics[name].title + key + shown,
                    _cell(row.previous, unit),
                    _cell(row.current, unit),
                    change,
                )
            )
    previous = period.previous().label
    lines = [f"  {period.label} against {previous}", ""]
    if rows:
        lines += format_table(["figure", previous, period.label, "change"], rows)
    else:
        lines.append("  no key figures registered")
    # The largest moves first: what to look at before the rest.
    flagged = sorted(
        (row for row in table if row.flagged and row.finding),
        key=lambda row: -abs(row.change or Decimal(0)),
    )
    found = [row.finding for row in flagged if row.finding]
    lines += ["", f"  findings ({len(found)} flagged by the diagnosis):"]
    lines += [f"  - {sentence}" for sentence in found[:SHOWN_FINDINGS]]
    if len(found) > SHOWN_FINDINGS:
        lines.append(f"  ... and {len(found) - SHOWN_FINDINGS} more: pycrm report diagnosis")
    if not found:
        lines.append("  - nothing moved the wrong way beyond the thresholds")
    return Block(f"Management summary, {period.label}", lines)


def write_plots(crm: CRM, folder: Path, period: Period | None = None) -> list[Path]:
    """The figure of each registered report that has one, for ``period`` (by default the last
    full month before the clock's now), and the RFM heatmap, as PNG files in ``folder``
    (created). Needs the ``plots`` extra."""
    from pycrm.analytics import plots

    period = period or review_period(crm.clock.now())
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in plots.PLOTS.items():
        if name in crm.reports:
            # A trend of one month is a dot: the trend covers the half year to the period.
            span = period
            if name in TREND_REPORTS:
                first = period.first - relativedelta(months=5)
                span = Period(PeriodKind.SPAN, first, period.last, period.tz)
            table = crm.report(name, span)
            written.append(plots.save_png(plot(table), folder / f"{name}-{period.label}.png"))
    rfm = crm.rfm(period.end)
    if len(rfm):
        written.append(plots.save_png(plots.rfm_heatmap(rfm), folder / "rfm.png"))
    return written

"""Figures of reports for people: funnel, RFM heatmap, monthly trends, leaderboard, SLA.

Each function takes a report's :class:`ReportTable` (or the :class:`pycrm.RfmTable` of
``crm.rfm()``) and returns a ``matplotlib.figure.Figure`` built without ``pyplot``: no GUI
backend is touched and no global figure state is kept, so a server or a notebook can call
them alike; :func:`save_png` writes one. Columns are read by their type (the first text column
labels, the first count or amount is drawn), so a report whose rows gain a column still
plots. Needs the ``plots`` extra (matplotlib).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.table import ReportTable
from pycrm.errors import ConfigurationError, ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pycrm.grading.rfm import RfmTable

NONE_LABEL = "(none)"
"""How a row without a label (no channel, no owner) is named on an axis."""


def _new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigurationError("plots need matplotlib: pip install 'pycrm-core[plots]'") from exc
    return Figure(figsize=(width, height), layout="constrained")


def _kind(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else str(annotation)
    if re.search(r"\bbool\b", text):
        return "flag"
    if "Decimal" in text or re.search(r"\bfloat\b", text):
        return "amount"
    if re.search(r"\bint\b", text):
        return "count"
    return "label"


def _columns(table: ReportTable[Any], kind: str) -> list[str]:
    if not isinstance(table, ReportTable):
        raise ValidationError("table", f"expected a ReportTable, got {type(table).__name__}")
    return [a.name for a in attrs.fields(table.row_type) if _kind(a.type) == kind]


def _label(value: Any) -> str:
    return NONE_LABEL if value is None else str(value)


def _number(value: Any) -> float:
    return 0.0 if value is None else float(value)


def _pick(names: Sequence[str], preferred: Sequence[str], what: str, report: str) -> str:
    for name in preferred:
        if name in names:
            return name
    if not names:
        raise ValidationError("table", f"{report} needs a {what} column")
    return names[0]


def _title(axes: Axes, table: ReportTable[Any]) -> None:
    axes.set_title(table.heading)


def funnel(table: ReportTable[Any]) -> Figure:
    """Horizontal bars, first row on top: the first count per row (stages entered, leads),
    with the second count (moved on, converted) drawn over it when the rows have one. For
    ``stage_flow`` and ``lead_conversion``."""
    labels = _columns(table, "label")
    counts = _columns(table, "count")
    label = _pick(labels, ("stage", "source_channel"), "label", "a funnel")
    if not counts:
        raise ValidationError("table", "a funnel needs a count column")
    figure = _new_figure()
    axes = figure.add_subplot()
    names = [_label(getattr(row, label)) for row in table]
    if "pipeline" in labels and len({row.pipeline for row in table}) > 1:
        # Stages of several pipelines: say whose.
        names = [f"{_label(row.pipeline)}/{name}" for row, name in zip(table, names, strict=True)]
    positions = list(range(len(names)))[::-1]
    for column in counts[:2]:
        axes.barh(
            positions, [_number(getattr(row, column)) for row in table], label=column, height=0.6
        )
    axes.set_yticks(positions, names)
    axes.set_xlabel("count")
    if len(counts) > 1:
        axes.legend()
    _title(axes, table)
    return figure


def monthly_trends(table: ReportTable[Any]) -> Figure:
    """One panel per count and amount column, one line per currency, months along the
    bottom. For ``sales_trend``."""
    labels = _columns(table, "label")
    month = _pick(labels, ("month", "period"), "month", "a trend")
    series = [c for c in labels if c != month][:1]
    measures = _columns(table, "count") + _columns(table, "amount")
    if not measures:
        raise ValidationError("table", "a trend needs a count or amount column")
    months = list(dict.fromkeys(str(getattr(row, month)) for row in table))
    groups: dict[str, list[Any]] = {}
    for row in table:
        key = _label(getattr(row, series[0])) if series else ""
        groups.setdefault(key, []).append(row)
    columns = 2 if len(measures) > 1 else 1
    rows = -(-len(measures) // columns)
    figure = _new_figure(5.0 * columns, 3.0 * rows)
    for n, measure in enumerate(measures, start=1):
        axes = figure.add_subplot(rows, columns, n)
        for key, members in groups.items():
            axes.plot(
                [months.index(str(getattr(row, month))) for row in members],
                [_number(getattr(row, measure)) for row in members],
                marker="o",
                label=key or None,
            )
        axes.set_xticks(range(len(months)), months, rotation=45, ha="right")
        axes.set_title(measure)
        if len(groups) > 1:
            axes.legend()
    figure.suptitle(table.heading)
    return figure


def leaderboard(table: ReportTable[Any]) -> Figure:
    """Horizontal bars of each row's amount, best on top, labelled with its owner. For
    ``leaderboard``. Amounts in different currencies cannot share an axis, so each currency
    gets a panel of its own, its axis labelled with it."""
    labels = _columns(table, "label")
    owner = _pick([c for c in labels if c != "currency"], ("owner", "team"), "owner", "a board")
    amount = _pick(_columns(table, "amount"), ("amount",), "amount", "a leaderboard")
    panels: dict[str | None, list[Any]] = {}
    for row in table:
        currency = row.currency if "currency" in labels else None
        panels.setdefault(currency, []).append(row)
    panels = panels or {None: []}
    single = len(panels) == 1
    figure = _new_figure() if single else _new_figure(8.0, 1.5 + 3.0 * len(panels))
    for n, (currency, rows) in enumerate(panels.items(), start=1):
        axes = figure.add_subplot(len(panels), 1, n)
        positions = list(range(len(rows)))[::-1]
        axes.barh(positions, [_number(getattr(row, amount)) for row in rows], height=0.6)
        axes.set_yticks(positions, [_label(getattr(row, owner)) for row in rows])
        axes.set_xlabel(f"{amount} ({currency})" if currency else amount)
    if single:
        _title(figure.axes[0], table)
    else:
        figure.suptitle(table.heading)
    return figure


def sla_attainment(table: ReportTable[Any]) -> Figure:
    """Bars of the attainment rates (0..1: response and resolution, side by side) per row of
    ``sla_attainment``, with 100% marked."""
    labels = _columns(table, "label")
    label = _pick(labels, ("group", "priority", "type"), "label", "SLA attainment")
    amounts = _columns(table, "amount")
    rates = [c for c in amounts if "rate" in c or "attainment" in c][:2] or amounts[:1]
    if not rates:
        raise ValidationError("table", "SLA attainment needs a rate column")
    figure = _new_figure()
    axes = figure.add_subplot()
    names = [_label(getattr(row, label)) for row in table]
    width = 0.8 / len(rates)
    for n, rate in enumerate(rates):
        axes.bar(
            [i + (n - (len(rates) - 1) / 2) * width for i in range(len(names))],
            [_number(getattr(row, rate)) for row in table],
            width=width,
            label=rate,
        )
    axes.axhline(1.0, linestyle="--", linewidth=1, color="grey")
    axes.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share of targets met")
    if len(rates) > 1:
        axes.legend(loc="lower right")
    _title(axes, table)
    return figure


def rfm_grid(table: RfmTable) -> list[list[int]]:
    """Customers per (R, F) score: ``grid[r - 1][f - 1]``."""
    grid = [[0] * table.bins for _ in range(table.bins)]
    for row in table:
        grid[row.r - 1][row.f - 1] += 1
    return grid


def rfm_heatmap(table: RfmTable) -> Figure:
    """Customers per recency score (rows, best on top) and frequency score (columns), the
    count written in each cell. For the table of ``crm.rfm()``."""
    from pycrm.grading.rfm import RfmTable

    if not isinstance(table, RfmTable):
        raise ValidationError("table", f"expected an RfmTable, got {type(table).__name__}")
    grid = rfm_grid(table)
    figure = _new_figure(6.0, 5.0)
    axes = figure.add_subplot()
    image = axes.imshow(grid, origin="lower", cmap="Blues", aspect="auto")
    scores = range(1, table.bins + 1)
    axes.set_xticks(range(table.bins), [str(s) for s in scores])
    axes.set_yticks(range(table.bins), [str(s) for s in scores])
    axes.set_xlabel("F (frequency score)")
    axes.set_ylabel("R (recency score)")
    for r, line in enumerate(grid):
        for f, count in enumerate(line):
            axes.text(f, r, str(count), ha="center", va="center", fontsize=8)
    figure.colorbar(image, ax=axes, label="customers")
    axes.set_title(f"RFM as of {table.as_of.date().isoformat()}")
    return figure


PLOTS = {
    "stage_flow": funnel,
    "lead_conversion": funnel,
    "sales_trend": monthly_trends,
    "leaderboard": leaderboard,
    "sla_attainment": sla_attainment,
}
"""The figure of each report that has one, by report name (``pycrm report --png``)."""


def save_png(figure: Figure, path: str | Path, *, dpi: int = 100) -> Path:
    """Write ``figure`` as a PNG at ``path`` (its folder must exist); returns the path."""
    target = Path(path)
    figure.savefig(target, format="png", dpi=dpi)
    return target

"""Diagnosis: every metric of a period beside the period before, the bad changes flagged.

A change is flagged when it goes the way the metric counts as worse (``better="up"`` and it
fell, or ``"down"`` and it rose), by more than ``threshold`` of the previous value, and by at
least an absolute ``floor`` in the metric's own unit: without the floor a base of two won
deals falling to one, or a rate moving from 0.01 to 0.008, would be flagged as a collapse.
A metric with nothing to measure in either period (``None``) or a previous value of zero
has no relative change and is never flagged.

A metric that fails (a plugin's bug, a query the database refuses) costs only its own row:
each metric is computed inside a savepoint of the session, so its failure is undone and the
transaction goes on (a failed statement would otherwise abort everything after it on
PostgreSQL); the failure is logged, shown as the metric's row and named in the notes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.catalogue import Metric, MetricValue, ReportDefinition
from pycrm.analytics.period import Period
from pycrm.analytics.table import ReportTable
from pycrm.errors import ValidationError

if TYPE_CHECKING:
    from pycrm.session import Session

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = Decimal("0.10")
"""A change beyond 10% of the previous value, in the bad direction, is flagged."""

RATE_FLOOR = Decimal("0.02")
COUNT_FLOOR = Decimal(3)
DEFAULT_FLOORS: Mapping[str, Decimal] = {
    # Rates are fractions 0..1: two percentage points.
    "lead_conversion_rate": RATE_FLOOR,
    "stage_conversion": RATE_FLOOR,
    "sla_attainment_rate": RATE_FLOOR,
    "repeat_complaint_rate": RATE_FLOOR,
    "retention_rate": RATE_FLOOR,
    "churn_rate": RATE_FLOOR,
    # Counts: three records.
    "won_count": COUNT_FLOOR,
    "new_customers": COUNT_FLOOR,
    "tickets_per_group": COUNT_FLOOR,
    # Durations: an hour, or a day for days in a stage.
    "first_response_hours": Decimal(1),
    "resolution_hours": Decimal(1),
    "stage_days": Decimal(1),
    # Satisfaction on a 1..5 scale.
    "csat_average": Decimal("0.1"),
}
"""The absolute floor of each built-in metric, in its unit; amounts have none (0)."""

CHANGE_PLACES = Decimal("0.0001")


@attrs.frozen
class Change:
    """How ``current`` compares with ``previous``: ``change`` is the relative change (a
    fraction, 4 places; ``None`` without both values or from zero), ``worse`` whether it went
    the bad way, ``flagged`` whether that is significant."""

    previous: Decimal | None
    current: Decimal | None
    change: Decimal | None
    worse: bool
    flagged: bool


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValidationError(field, f"expected a Decimal, got {value!r}")
    result = Decimal(value)
    if not result.is_finite() or result < 0:
        raise ValidationError(field, f"must be a finite number of at least 0, got {value!r}")
    return result


def compare(
    previous: Decimal | None,
    current: Decimal | None,
    *,
    better: str,
    threshold: Decimal = DEFAULT_THRESHOLD,
    floor: Decimal = Decimal(0),
) -> Change:
    """Compare one figure across two periods; see the module for when it is flagged."""
    if better not in ("up", "down"):
        raise ValidationError("better", f"must be 'up' or 'down', got {better!r}")
    threshold = _decimal(threshold, "threshold")
    floor = _decimal(floor, "floor")
    if previous is None or current is None:
        return Change(previous, current, None, False, False)
    delta = current - previous
    worse = delta < 0 if better == "up" else delta > 0
    if previous == 0:
        return Change(previous, current, None, worse, False)
    change = (delta / abs(previous)).quantize(CHANGE_PLACES)
    flagged = worse and abs(delta) > threshold * abs(previous) and abs(delta) >= floor
    return Change(previous, current, change, worse, flagged)


@attrs.frozen
class DiagnosisRow:
    """One metric (or one key of a family) in the period and the one before."""

    metric: str
    key: str | None
    previous: Decimal | None
    current: Decimal | None
    change: Decimal | None
    flagged: bool
    finding: str | None


def show(value: Decimal) -> str:
    """A figure as a finding writes it: no trailing zeros, no exponent."""
    if value == value.to_integral_value():
        return f"{value.quantize(Decimal(1)):,}"
    return f"{value.normalize():,f}"


def _subject(metric: Metric, key: str | None) -> str:
    title = metric.title
    if len(title) > 1 and not title[1].isupper():
        title = title[0].lower() + title[1:]
    return title if key is None else f"{key} {title}"


def finding(metric: Metric, key: str | None, change: Change, previous: Period) -> str | None:
    """``"lead conversion rate fell 12% vs 2026-10 (0.42 → 0.37)"``; ``None`` when the two
    periods cannot be compared."""
    if change.previous is None or change.current is None or change.change is None:
        return None
    if change.change == 0:
        moved = "held"
    else:
        percent = (abs(change.change) * 100).quantize(Decimal(1))
        moved = f"{'rose' if change.change > 0 else 'fell'} {percent}%"
    return (
        f"{_subject(metric, key)} {moved} vs {previous.label} "
        f"({show(change.previous)} \u2192 {show(change.current)})"
    )


def _figure(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise ValidationError("compute", f"a metric returns a Decimal or None, got {value!r}")


def _figures(value: MetricValue) -> dict[str | None, Decimal | None]:
    if isinstance(value, Mapping):
        return {str(key): _figure(figure) for key, figure in value.items()}
    return {None: _figure(value)}


def _measure(
    session: Session, metric: Metric, period: Period
) -> dict[str | None, Decimal | None] | str:
    """The metric's figures for ``period``, or, when it fails, what went wrong (logged, and
    its changes undone so the other metrics run as if it had not)."""
    try:
        with session._savepoint():
            return _figures(metric.compute(session, period))
    except Exception as exc:
        log.warning(
            "metric %r failed for %s; diagnosing the others",
            metric.name,
            period.label,
            exc_info=True,
        )
        return f"{type(exc).__name__}: {exc}".strip()[:300]


def _keys(before: dict[str | None, Any], now: dict[str | None, Any]) -> list[str | None]:
    keys = set(before) | set(now)
    return sorted(keys, key=lambda k: (k is not None, k or ""))


def diagnose(
    session: Session,
    period: Period,
    *,
    threshold: Decimal = DEFAULT_THRESHOLD,
    floor: Decimal = Decimal(0),
    floors: Mapping[str, Decimal] | None = None,
) -> ReportTable[DiagnosisRow]:
    """Every metric of ``session``'s CRM for ``period`` against the period before, families
    key by key, in registration order. ``floors`` (metric name -> floor) add to and override
    :data:`DEFAULT_FLOORS`; ``floor`` applies to the metrics neither names."""
    if not isinstance(period, Period):
        raise ValidationError("period", f"expected a Period, got {period!r}")
    threshold = _decimal(threshold, "threshold")
    floor = _decimal(floor, "floor")
    given = dict(floors or {})
    for value in given.values():
        _decimal(value, "floors")
    limits = {**DEFAULT_FLOORS, **given}
    before_period = period.previous()
    rows = []
    failed: list[str] = []
    for metric in session.crm.reports.metrics.values():
        now = _measure(session, metric, period)
        before = _measure(session, metric, before_period)
        if isinstance(now, str) or isinstance(before, str):
            label, error = (period, now) if isinstance(now, str) else (before_period, before)
            failed.append(metric.name)
            rows.append(
                DiagnosisRow(
                    metric=metric.name,
                    key=None,
                    previous=None,
                    current=None,
                    change=None,
                    flagged=False,
                    finding=f"{_subject(metric, None)} failed for {label.label}: {error}",
                )
            )
            continue
        for key in _keys(before, now):
            change = compare(
                before.get(key),
                now.get(key),
                better=metric.better,
                threshold=threshold,
                floor=limits.get(metric.name, floor),
            )
            rows.append(
                DiagnosisRow(
                    metric=metric.name,
                    key=key,
                    previous=change.previous,
                    current=change.current,
                    change=change.change,
                    flagged=change.flagged,
                    finding=finding(metric, key, change, before_period),
                )
            )
    flagged = sum(row.flagged for row in rows)
    notes = [
        f"Compared with {before_period.label}; flagged: a change the bad way beyond "
        f"{show(threshold * 100)}% and at least the metric's floor ({flagged} flagged).",
    ]
    if failed:
        notes.append(f"Could not be computed (see their rows): {', '.join(failed)}.")
    return ReportTable(
        title="Diagnosis",
        row_type=DiagnosisRow,
        rows=rows,
        period=period,
        notes=notes,
    )


def findings(table: ReportTable[DiagnosisRow]) -> list[str]:
    """The flagged findings of a diagnosis, as sentences."""
    return [row.finding for row in table if row.flagged and row.finding]


def build(session: Session, period: Period) -> ReportTable[DiagnosisRow]:
    return diagnose(session, period)


REPORTS = (
    ReportDefinition(
        name="diagnosis",
        title="Diagnosis",
        build=build,
        description=(
            "Every registered metric against the previous period, with significant changes "
            "in the bad direction flagged."
        ),
    ),
)

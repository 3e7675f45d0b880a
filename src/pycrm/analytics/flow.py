"""Pipeline reports: how deals flow through the stages, the weighted forecast, and how well
the stage probabilities set in a pipeline match the deals that closed.

The stage flow counts the visits of the deals' stage histories where they are stored (one
``GROUP BY`` each over the visit table on SQL stores; see :mod:`pycrm.analytics.visits`).
The forecast is one aggregation over the open deals, weighted in Python by each stage's
probability. Calibration counts the deals closed in the period (their ``closed_at`` in it)
by each stage they went through, in one more ``GROUP BY`` over the visits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

import attrs

from pycrm.analytics.aggregate import Aggregation, Count, Sum
from pycrm.analytics.catalogue import Metric, ReportDefinition
from pycrm.analytics.period import Period
from pycrm.analytics.sales import MONEY_PLACES, rate
from pycrm.analytics.table import ReportTable
from pycrm.analytics.visits import Window
from pycrm.pipeline.machine import StageMachine, StageOutcome

if TYPE_CHECKING:
    from pycrm.session import Session

DAY_PLACES = Decimal("0.01")
MICROSECONDS_PER_DAY = Decimal(86_400_000_000)


def days(microseconds: int, visits: int) -> Decimal | None:
    """The average of ``visits`` stays totalling ``microseconds``, in days to 2 places."""
    if visits <= 0:
        return None
    return (Decimal(microseconds) / visits / MICROSECONDS_PER_DAY).quantize(
        DAY_PLACES, ROUND_HALF_EVEN
    )


def outcome_of(machine: StageMachine, stage: str) -> StageOutcome | None:
    """The outcome of ``stage``; ``None`` for a stage the pipeline no longer has."""
    return machine.outcome(stage) if stage in machine.keys else None


# stage_flow ---------------------------------------------------------------------------------


@attrs.frozen
class StageFlowRow:
    pipeline: str
    stage: str
    entered: int
    moved_on: int
    conversion: Decimal | None
    left: int
    average_days: Decimal | None


@attrs.define
class _Tally:
    entered: int = 0
    moved_on: int = 0
    left: int = 0
    microseconds: int = 0


def _flow_stages(machine: StageMachine) -> list[str]:
    return [k for k in machine.keys if machine.outcome(k) is not StageOutcome.LOST]


def _moves_on(machine: StageMachine, stage: str, after: str | None) -> bool:
    """Whether leaving ``stage`` for ``after`` is progress: a later stage, not lost."""
    if after is None or outcome_of(machine, after) is StageOutcome.LOST:
        return False
    keys = machine.keys
    return after in keys and (stage not in keys or keys.index(after) > keys.index(stage))


def flow_rows(session: Session, period: Period) -> list[StageFlowRow]:
    session._check_open()
    window = Window(period.start, period.end)
    # The session's analytics: counted over the deals its actor may see.
    analytics = session._analytics
    pipelines = session.crm.pipelines
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for entry in analytics.stage_entries(window):
        machine = pipelines.get(entry.pipeline)
        if machine is None:
            continue
        tally = tallies[(entry.pipeline, entry.stage)]
        tally.entered += entry.visits
        if _moves_on(machine, entry.stage, entry.next_stage):
            tally.moved_on += entry.visits
    for stay in analytics.stage_stays(window):
        if stay.pipeline in pipelines:
            tally = tallies[(stay.pipeline, stay.stage)]
            tally.left += stay.visits
            tally.microseconds += stay.microseconds
    rows = []
    for name in sorted({p for p, _ in tallies}):
        machine = pipelines[name]
        for stage in _flow_stages(machine):
            t = tallies.get((name, stage), _Tally())
            rows.append(
                StageFlowRow(
                    name,
                    stage,
                    t.entered,
                    t.moved_on,
                    rate(t.moved_on, t.entered),
                    t.left,
                    days(t.microseconds, t.left),
                )
            )
    return rows


def stage_flow(session: Session, period: Period) -> ReportTable[StageFlowRow]:
    return ReportTable(
        title="Stage flow",
        row_type=StageFlowRow,
        rows=flow_rows(session, period),
        period=period,
        notes=[
            "entered: visits begun in the period; moved_on: of those, left for a later stage "
            "(not lost, not back); left and average_days: visits ended in the period.",
        ],
    )


def stage_days(session: Session, period: Period) -> Mapping[str, Decimal | None]:
    return {f"{r.pipeline}/{r.stage}": r.average_days for r in flow_rows(session, period) if r.left}


def stage_conversion(session: Session, period: Period) -> Mapping[str, Decimal | None]:
    return {
        f"{r.pipeline}/{r.stage}": r.conversion for r in flow_rows(session, period) if r.entered
    }


# forecast -----------------------------------------------------------------------------------


@attrs.frozen
class ForecastRow:
    month: str | None
    when: str
    currency: str
    deals: int
    amount: Decimal
    weighted: Decimal


def _when(close: date | None, period: Period) -> str:
    if close is None:
        return "unscheduled"
    if close < period.first:
        return "overdue"
    return "within" if close <= period.last else "after"


def forecast_rows(session: Session, period: Period) -> list[ForecastRow]:
    pipelines = session.crm.pipelines
    found = session.aggregate(
        Aggregation(
            entity="opportunity",
            group_by=("pipeline", "stage", "manual_probability", "expected_close", "currency"),
            measures=(Count(), Sum("amount")),
            filters={"is_open": True},
        )
    )
    groups: dict[tuple[str | None, str, str], list[Decimal]] = {}
    for pipeline, stage, manual, close, currency, count, total in found:
        probability = manual
        machine = pipelines.get(pipeline)
        if probability is None and machine is not None and stage in machine.keys:
            probability = machine.stage(stage).probability
        weighted = Decimal(total) * Decimal(probability or 0)
        month = None if close is None else f"{close.year}-{close.month:02d}"
        key = (month, _when(close, period), currency)
        deals, amount, weight = groups.get(key, [Decimal(0)] * 3)
        groups[key] = [deals + count, amount + Decimal(total), weight + weighted]
    return [
        ForecastRow(
            month,
            when,
            currency,
            int(deals),
            amount,
            weight.quantize(MONEY_PLACES, ROUND_HALF_EVEN),
        )
        for (month, when, currency), (deals, amount, weight) in sorted(
            groups.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][2])
        )
    ]


def forecast(session: Session, period: Period) -> ReportTable[ForecastRow]:
    return ReportTable(
        title="Weighted forecast",
        row_type=ForecastRow,
        rows=forecast_rows(session, period),
        period=period,
        notes=[
            "Open deals now, by expected close month: overdue (before the period), within, "
            "after, or unscheduled; weighted by the deal's manual probability, else its "
            "stage's.",
        ],
    )


def forecast_amount(session: Session, period: Period) -> Mapping[str, Decimal | None]:
    return {r.currency: r.weighted for r in forecast_rows(session, period) if r.when == "within"}


# forecast_calibration -----------------------------------------------------------------------


@attrs.frozen
class CalibrationRow:
    pipeline: str
    stage: str
    probability: Decimal | None
    closed: int
    won: int
    observed: Decimal | None


def forecast_calibration(session: Session, period: Period) -> ReportTable[CalibrationRow]:
    pipelines = session.crm.pipelines
    session._check_open()
    closed: dict[tuple[str, str], int] = defaultdict(int)
    won: dict[tuple[str, str], int] = defaultdict(int)
    # The session's analytics: the deals its actor may see.
    for row in session._analytics.stage_closures(Window(period.start, period.end)):
        closed[(row.pipeline, row.stage)] += row.deals
        if row.outcome == StageOutcome.WON.value:
            won[(row.pipeline, row.stage)] += row.deals
    rows = []
    for name in sorted({p for p, _ in closed if p in pipelines}):
        machine = pipelines[name]
        for stage in machine.stages_with(None):
            count, wins = closed.get((name, stage), 0), won.get((name, stage), 0)
            rows.append(
                CalibrationRow(
                    name, stage, machine.stage(stage).probability, count, wins, rate(wins, count)
                )
            )
    return ReportTable(
        title="Forecast calibration",
        row_type=CalibrationRow,
        rows=rows,
        period=period,
        notes=[
            "Deals closed (won or lost) in the period, by each open stage they passed "
            "through: the pipeline's probability beside the share that were won.",
        ],
    )


REPORTS: tuple[ReportDefinition, ...] = (
    ReportDefinition(
        name="stage_flow",
        title="Stage flow",
        build=stage_flow,
        description="Per stage: entries, moves on, conversion and average days spent.",
    ),
    ReportDefinition(
        name="forecast",
        title="Weighted forecast",
        build=forecast,
        description="Open deals weighted by probability, by expected close month.",
    ),
    ReportDefinition(
        name="forecast_calibration",
        title="Forecast calibration",
        build=forecast_calibration,
        description="Stage probabilities beside the win rates observed from each stage.",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        name="stage_days",
        title="Days spent in each stage",
        compute=stage_days,
        better="down",
        unit="d",
    ),
    Metric(
        name="stage_conversion",
        title="Stage-to-stage conversion",
        compute=stage_conversion,
        better="up",
        unit="ratio",
    ),
    Metric(
        name="forecast_amount",
        title="Weighted forecast closing in the period",
        compute=forecast_amount,
        better="up",
    ),
)

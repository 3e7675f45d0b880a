"""Customer reports: new customers, retention and churn, churn reasons, grade and tier
distribution, RFM segments and the traits of high-value customers.

Everything is an aggregation except RFM, which the stores already score where the data is
(``s.rfm``). Spend is never added across currencies: RFM is scored per currency, and a
customer buying in two currencies is scored in each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.aggregate import Aggregation, Count, Max, Min, Sum
from pycrm.analytics.catalogue import Metric, MetricValue, ReportDefinition
from pycrm.analytics.period import Period
from pycrm.analytics.service import ALL, rate
from pycrm.analytics.table import ReportTable
from pycrm.domain import LifecycleStatus
from pycrm.domain.order import PURCHASE_STATUSES
from pycrm.grading.rfm import DEFAULT_SEGMENTATION
from pycrm.pipeline.machine import StageOutcome
from pycrm.query import MAX_ONE_OF, OneOf, Range

if TYPE_CHECKING:
    from pycrm.session import Session

NONE = "(none)"
"""How a missing value (no region, no source channel, no grade) is shown."""

HIGH_VALUE = "high value"
"""The value class of the customers :func:`high_value_traits` describes."""

TRAITS = ("region", "industry", "source_channel", "kind")
"""The customer fields high-value customers are compared on."""

LIFT = Decimal("0.01")
_PURCHASES = OneOf(*(status.value for status in PURCHASE_STATUSES))
_EVER = Range(None, datetime(9000, 1, 1, tzinfo=timezone.utc))


def _text(value: Any) -> str:
    return NONE if value is None else str(value)


def _ordered(values: Iterable[str]) -> list[str]:
    return sorted(values, key=lambda v: (v == NONE, v))


# -- new_customers -------------------------------------------------------------------------


@attrs.frozen
class NewCustomersRow:
    """Customers new in the period from ``source_channel`` in ``region``."""

    source_channel: str
    region: str
    customers: int


def new_customer_counts(session: Session, period: Period) -> dict[tuple[str, str], int]:
    """New customers by (source channel, region): captured in the period, or, with no
    capture moment recorded, created in it."""

    def count(**filters: Any) -> dict[tuple[str, str], int]:
        rows = session.aggregate(
            Aggregation(
                entity="customer",
                group_by=("source_channel", "region"),
                measures=(Count(),),
                filters=filters,
            )
        )
        return {(_text(channel), _text(region)): n for channel, region, n in rows}

    captured = count(captured_at=period.moments)
    created = count(created_at=period.moments)
    created_and_captured = count(created_at=period.moments, captured_at=_EVER)
    counts: dict[tuple[str, str], int] = {}
    for key in {*captured, *created}:
        found = captured.get(key, 0) + created.get(key, 0) - created_and_captured.get(key, 0)
        if found:
            counts[key] = found
    return counts


def new_customers(session: Session, period: Period) -> ReportTable[NewCustomersRow]:
    counts = new_customer_counts(session, period)
    keys = sorted(counts, key=lambda k: (k[0] == NONE, k[0], k[1] == NONE, k[1]))
    rows = [NewCustomersRow(k[0], k[1], counts[k]) for k in keys]
    rows.append(NewCustomersRow(ALL, ALL, sum(counts.values())))
    return ReportTable(
        title="New customers",
        row_type=NewCustomersRow,
        rows=rows,
        period=period,
        notes=(
            "A customer is new in the period it was captured in (captured_at), or, without "
            "a capture moment, the period it was created in.",
        ),
    )


# -- retention -----------------------------------------------------------------------------


@attrs.frozen
class RetentionRow:
    """Customers in ``region`` who purchased in the previous period (``previous``), how
    many of them purchased again in this one (``retained``) and how many did not."""

    region: str
    previous: int
    retained: int
    churned: int
    retention_rate: Decimal | None
    churn_rate: Decimal | None


def _retention_row(region: str, previous: int, retained: int) -> RetentionRow:
    churned = previous - retained
    return RetentionRow(
        region, previous, retained, churned, rate(retained, previous), rate(churned, previous)
    )


def retention_rows(session: Session, period: Period) -> list[RetentionRow]:
    before = period.previous()
    # One row per customer who purchased in either period: their first and last purchase
    # moment in the two; the first before this period means they bought in the previous one.
    rows = session.aggregate(
        Aggregation(
            entity="order",
            group_by=("customer_id", "customer.region"),
            measures=(Min("placed_at"), Max("placed_at")),
            filters={"placed_at": Range(before.start, period.end), "status": _PURCHASES},
        )
    )
    counts: dict[str, list[int]] = {}
    for _customer, region, first, last in rows:
        if first >= period.start:
            continue
        entry = counts.setdefault(_text(region), [0, 0])
        entry[0] += 1
        entry[1] += last >= period.start
    table = [_retention_row(r, *counts[r]) for r in _ordered(counts)]
    previous = sum(c[0] for c in counts.values())
    table.append(_retention_row(ALL, previous, sum(c[1] for c in counts.values())))
    return table


def retention(session: Session, period: Period) -> ReportTable[RetentionRow]:
    return ReportTable(
        title="Retention and churn",
        row_type=RetentionRow,
        rows=retention_rows(session, period),
        period=period,
        notes=(
            "Customers with a purchase (an order neither cancelled nor refunded) in the "
            "previous period; retained if they purchased again in this one. Churn rate = "
            "1 - retention rate.",
        ),
    )


# -- churn_reasons -------------------------------------------------------------------------


@attrs.frozen
class ChurnReasonRow:
    """``kind`` ``"customer"``: customers last changed in the period who are now churned or
    lost, by that status and their ``churn_reason`` (``"churned: price"``; the status alone
    when none was given); ``kind`` ``"deal"``: deals lost in the period by their lost
    reason, with their amount per currency."""

    kind: str
    reason: str
    count: int
    amount: Decimal | None
    currency: str | None


def _status_reason(status: str, reason: str | None) -> str:
    return status if reason is None else f"{status}: {reason}"


def churn_reasons(session: Session, period: Period) -> ReportTable[ChurnReasonRow]:
    customers = session.aggregate(
        Aggregation(
            entity="customer",
            group_by=("status", "churn_reason"),
            measures=(Count(),),
            filters={
                "status": OneOf(LifecycleStatus.CHURNED.value, LifecycleStatus.LOST.value),
                "updated_at": period.moments,
            },
        )
    )
    deals = session.aggregate(
        Aggregation(
            entity="opportunity",
            group_by=("lost_reason", "currency"),
            measures=(Count(), Sum("amount")),
            filters={"outcome": StageOutcome.LOST.value, "closed_at": period.moments},
        )
    )
    rows = [
        ChurnReasonRow("customer", _status_reason(status, reason), n, None, None)
        for status, reason, n in customers
    ]
    ordered = sorted(deals, key=lambda r: (r[0] is None, r[0] or "", r[1] or ""))
    rows += [
        ChurnReasonRow("deal", _text(reason), n, amount, currency)
        for reason, currency, n, amount in ordered
    ]
    return ReportTable(
        title="Churn reasons",
        row_type=ChurnReasonRow,
        rows=rows,
        period=period,
        notes=(
            "Customers are counted by status (churned, lost) and the churn reason recorded "
            "on them, when their record last changed in the period. Deals are counted by the "
            "reason given when they were lost.",
        ),
    )


# -- grade_distribution --------------------------------------------------------------------


@attrs.frozen
class GradeRow:
    """Customers holding ``grade`` under ``scheme`` (tiers are the ``tier`` scheme), and
    their share of the customers graded under it."""

    scheme: str
    grade: str
    customers: int
    share: Decimal | None


def grade_distribution(session: Session, period: Period) -> ReportTable[GradeRow]:
    rows = session.aggregate(
        Aggregation(entity="customer_grade", group_by=("scheme", "grade"), measures=(Count(),))
    )
    graded: dict[str, int] = {}
    for scheme, _grade, n in rows:
        graded[scheme] = graded.get(scheme, 0) + n
    table = [
        GradeRow(scheme, _text(grade), n, rate(n, graded[scheme]))
        for scheme, grade, n in sorted(rows, key=lambda r: (r[0], r[1] is None, r[1] or ""))
    ]
    return ReportTable(
        title="Grade distribution",
        row_type=GradeRow,
        rows=table,
        period=period,
        notes=(
            "Grades as stored now (the last regrade); (none) is graded with no grade matching.",
        ),
    )


# -- rfm_segments --------------------------------------------------------------------------


@attrs.frozen
class RfmSegmentRow:
    """Customers in RFM ``segment`` scored on their purchases in ``currency`` up to the
    period's end: how many, their share, and their spend in total and on average."""

    currency: str
    segment: str
    customers: int
    share: Decimal | None
    spend: Decimal
    average_spend: Decimal


def _currencies(session: Session, end: datetime) -> list[str]:
    """The currencies of purchases placed before ``end``."""
    rows = session.aggregate(
        Aggregation(
            entity="order",
            group_by=("total_currency",),
            measures=(Count(),),
            filters={"placed_at": Range(None, end), "status": _PURCHASES},
        )
    )
    return sorted(str(currency) for currency, _n in rows if currency is not None)


def rfm_segments(session: Session, period: Period) -> ReportTable[RfmSegmentRow]:
    rows: list[RfmSegmentRow] = []
    for currency in _currencies(session, period.end):
        scored = session.rfm(as_of=period.end, currency=currency)
        everyone = len(scored)
        for summary in scored.summary():
            rows.append(
                RfmSegmentRow(
                    currency,
                    summary.segment,
                    summary.customers,
                    rate(summary.customers, everyone),
                    summary.monetary_total,
                    summary.monetary_mean,
                )
            )
    return ReportTable(
        title="RFM segments",
        row_type=RfmSegmentRow,
        rows=rows,
        period=period,
        notes=("Scored at the period's end, separately for each currency purchased in.",),
    )


# -- high_value_traits ---------------------------------------------------------------------


@attrs.frozen
class TraitRow:
    """How common ``value`` of customer field ``trait`` is among high-value customers and
    among all customers; ``lift`` is the first share over the second."""

    trait: str
    value: str
    high_value: int
    high_value_share: Decimal | None
    customers: int
    share: Decimal | None
    lift: Decimal | None


def lift(part: int, whole: int, base_part: int, base_whole: int) -> Decimal | None:
    """``(part / whole) / (base_part / base_whole)`` to 2 places; ``None`` when undefined."""
    if whole == 0 or base_part == 0 or base_whole == 0:
        return None
    ratio = Decimal(part * base_whole) / Decimal(whole * base_part)
    return ratio.quantize(LIFT, ROUND_HALF_EVEN)


def high_value_ids(session: Session, as_of: datetime) -> set[str]:
    """Customers of the high-value class in the RFM scores of any currency at ``as_of``."""
    found: set[str] = set()
    for currency in _currencies(session, as_of):
        scored = session.rfm(as_of=as_of, currency=currency)
        found.update(
            row.customer_id
            for row in scored.segmented(DEFAULT_SEGMENTATION)
            if row.value_class.name == HIGH_VALUE
        )
    return found


def _trait_counts(session: Session, trait: str, ids: Sequence[str] | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    batches: Iterable[Mapping[str, Any]]
    if ids is None:
        batches = ({},)
    else:
        batches = ({"id": OneOf(*ids[i : i + MAX_ONE_OF])} for i in range(0, len(ids), MAX_ONE_OF))
    for filters in batches:
        rows = session.aggregate(
            Aggregation(entity="customer", group_by=(trait,), measures=(Count(),), filters=filters)
        )
        for value, n in rows:
            counts[_text(value)] = counts.get(_text(value), 0) + n
    return counts


def high_value_traits(session: Session, period: Period) -> ReportTable[TraitRow]:
    ids = sorted(high_value_ids(session, period.end))
    rows: list[TraitRow] = []
    for trait in TRAITS:
        everyone = _trait_counts(session, trait, None)
        chosen = _trait_counts(session, trait, ids) if ids else {}
        total, total_chosen = sum(everyone.values()), len(ids)
        for value in _ordered(everyone):
            n, k = everyone[value], chosen.get(value, 0)
            rows.append(
                TraitRow(
                    trait,
                    value,
                    k,
                    rate(k, total_chosen),
                    n,
                    rate(n, total),
                    lift(k, total_chosen, n, total),
                )
            )
    return ReportTable(
        title="Traits of high-value customers",
        row_type=TraitRow,
        rows=rows,
        period=period,
        notes=(
            "High value: R + F + M of 12 or more (the 'high value' RFM class) at the period's "
            "end, in any currency; compared with all customers.",
        ),
    )


# -- metrics -------------------------------------------------------------------------------


def new_customers_metric(session: Session, period: Period) -> MetricValue:
    return Decimal(sum(new_customer_counts(session, period).values()))


def retention_rate(session: Session, period: Period) -> MetricValue:
    return retention_rows(session, period)[-1].retention_rate


def churn_rate(session: Session, period: Period) -> MetricValue:
    return retention_rows(session, period)[-1].churn_rate


REPORTS: tuple[ReportDefinition, ...] = (
    ReportDefinition(
        name="new_customers",
        title="New customers",
        build=new_customers,
        description="Customers captured (or created) in the period by source channel and region.",
    ),
    ReportDefinition(
        name="retention",
        title="Retention and churn",
        build=retention,
        description="Previous period's purchasers who purchased again, by region.",
    ),
    ReportDefinition(
        name="churn_reasons",
        title="Churn reasons",
        build=churn_reasons,
        description="Customers churned or lost by status, and lost deals by reason.",
    ),
    ReportDefinition(
        name="grade_distribution",
        title="Grade distribution",
        build=grade_distribution,
        description="Customers per grade of each scheme, loyalty tiers included.",
    ),
    ReportDefinition(
        name="rfm_segments",
        title="RFM segments",
        build=rfm_segments,
        description="RFM segment sizes and spend per currency at the period's end.",
    ),
    ReportDefinition(
        name="high_value_traits",
        title="Traits of high-value customers",
        build=high_value_traits,
        description="Region, industry, channel and kind of high-value customers vs all.",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(name="new_customers", title="New customers", compute=new_customers_metric),
    Metric(
        name="retention_rate",
        title="Retention rate",
        compute=retention_rate,
        better="up",
        unit="ratio",
    ),
    Metric(name="churn_rate", title="Churn rate", compute=churn_rate, better="down", unit="ratio"),
)

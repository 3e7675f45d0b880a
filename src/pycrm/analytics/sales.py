"""Sales reports: leads and conversion, orders, won deals, the leaderboard and their trend.

Counts and sums come from :class:`~pycrm.analytics.Aggregation` s, one ``GROUP BY`` each on a
SQL store. A deal counts as won in the period its ``closed_at`` falls in (when it first
entered a won stage), and only while it is still won: a signed deal that later fell through
leaves the period it was won in. Amounts are never added across currencies: every amount
row carries its currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.analytics.aggregate import Aggregation, Count, Sum
from pycrm.analytics.catalogue import Metric, ReportDefinition
from pycrm.analytics.period import Period, PeriodKind
from pycrm.analytics.table import ReportTable
from pycrm.analytics.visits import Window
from pycrm.domain.order import PURCHASE_STATUSES
from pycrm.pipeline.machine import StageOutcome
from pycrm.query import OneOf, Range

if TYPE_CHECKING:
    from pycrm.session import Session

RATE_PLACES = Decimal("0.0001")
MONEY_PLACES = Decimal("0.01")
DAY_PLACES = Decimal("0.01")


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a fraction rounded to 4 places; ``None`` when there is no whole."""
    if whole <= 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_EVEN)


def average(total: Decimal | None, count: int) -> Decimal | None:
    """``total / count`` rounded to cents; ``None`` over nothing."""
    if total is None or count <= 0:
        return None
    return (Decimal(total) / count).quantize(MONEY_PLACES, ROUND_HALF_EVEN)


def won(session: Session, window: Range, *group_by: str, **filters: Any) -> list[tuple[Any, ...]]:
    """The deals (matching ``filters``) won within ``window``, grouped by ``group_by`` and
    their currency: rows of the group's values, then ``currency``, ``deals`` and ``amount``,
    in group order. Every report and activity count of won deals asks this."""
    return session.aggregate(
        Aggregation(
            entity="opportunity",
            group_by=(*group_by, "currency"),
            measures=(Count("deals"), Sum("amount", "amount")),
            filters={**filters, "outcome": StageOutcome.WON, "closed_at": window},
        )
    )


def _purchases(period: Period) -> dict[str, Any]:
    return {"placed_at": period.moments, "status": OneOf(*sorted(PURCHASE_STATUSES))}


# lead_conversion ----------------------------------------------------------------------------


@attrs.frozen
class LeadConversionRow:
    """Leads assigned in the period from one source channel: ``converted`` those won by the
    period's end (so a period's rate never changes later and two periods compare alike),
    ``won_to_date`` those won by now."""

    source_channel: str | None
    leads: int
    converted: int
    rate: Decimal | None
    won_to_date: int


def lead_counts(session: Session, period: Period) -> list[LeadConversionRow]:
    assigned = {"assigned_at": period.moments}

    def by_channel(**filters: Any) -> list[tuple[Any, ...]]:
        return session.aggregate(
            Aggregation(
                entity="opportunity",
                group_by=("source_channel",),
                measures=(Count(),),
                filters={**assigned, **filters},
            )
        )

    leads = by_channel()
    won = dict(by_channel(outcome=StageOutcome.WON, closed_at=Range(end=period.end)))
    won_to_date = dict(by_channel(outcome=StageOutcome.WON))
    return [
        LeadConversionRow(
            channel,
            count,
            won.get(channel, 0),
            rate(won.get(channel, 0), count),
            won_to_date.get(channel, 0),
        )
        for channel, count in leads
    ]


def lead_conversion(session: Session, period: Period) -> ReportTable[LeadConversionRow]:
    return ReportTable(
        title="Lead conversion by source channel",
        row_type=LeadConversionRow,
        rows=lead_counts(session, period),
        period=period,
        notes=[
            "A lead is a deal assigned to a rep in the period; converted: won by the period's "
            "end (rate: converted / leads); won_to_date: won by now."
        ],
    )


def lead_conversion_rate(session: Session, period: Period) -> Decimal | None:
    rows = lead_counts(session, period)
    return rate(sum(r.converted for r in rows), sum(r.leads for r in rows))


# order_value --------------------------------------------------------------------------------


@attrs.frozen
class OrderValueRow:
    currency: str
    orders: int
    revenue: Decimal
    average_order_value: Decimal | None


def order_rows(session: Session, period: Period) -> list[OrderValueRow]:
    found = session.aggregate(
        Aggregation(
            entity="order",
            group_by=("total_currency",),
            measures=(Count(), Sum("total_amount")),
            filters=_purchases(period),
        )
    )
    return [
        OrderValueRow(currency, count, total, average(total, count))
        for currency, count, total in found
    ]


def order_value(session: Session, period: Period) -> ReportTable[OrderValueRow]:
    return ReportTable(
        title="Order value",
        row_type=OrderValueRow,
        rows=order_rows(session, period),
        period=period,
        notes=["Purchases placed in the period (cancelled and refunded orders left out)."],
    )


def average_order_value(session: Session, period: Period) -> Mapping[str, Decimal | None]:
    return {r.currency: r.average_order_value for r in order_rows(session, period)}


# won_deals ----------------------------------------------------------------------------------


@attrs.frozen
class WonDealsRow:
    owner: str | None
    team: str | None
    region: str | None
    currency: str
    deals: int
    amount: Decimal


def won_rows(session: Session, period: Period) -> list[WonDealsRow]:
    return [
        WonDealsRow(owner, team, region, currency, deals, Decimal(amount))
        for owner, team, region, currency, deals, amount in won(
            session, period.moments, "owner", "team", "customer.region"
        )
    ]


def won_deals(session: Session, period: Period) -> ReportTable[WonDealsRow]:
    return ReportTable(
        title="Won deals",
        row_type=WonDealsRow,
        rows=won_rows(session, period),
        period=period,
        notes=["A deal counts in the period it first entered a won stage."],
    )


def won_amount(session: Session, period: Period) -> Mapping[str, Decimal | None]:
    return {currency: Decimal(amount) for currency, _, amount in won(session, period.moments)}


def won_count(session: Session, period: Period) -> Decimal:
    return Decimal(sum(row[-2] for row in won(session, period.moments)))


# leaderboard --------------------------------------------------------------------------------


@attrs.frozen
class LeaderboardRow:
    rank: int
    owner: str | None
    currency: str
    deals: int
    amount: Decimal
    target: Decimal | None
    attainment: Decimal | None


def leaderboard(session: Session, period: Period) -> ReportTable[LeaderboardRow]:
    totals = won(session, period.moments, "owner")
    goals = targets_for(session, period)
    rows: list[LeaderboardRow] = []
    for currency in sorted({c for _, c, _, _ in totals}):
        ranked = sorted(
            (
                (owner, Decimal(amount), deals)
                for owner, c, deals, amount in totals
                if c == currency
            ),
            key=lambda t: (-t[1], -t[2], t[0] is not None, t[0] or ""),
        )
        for rank, (owner, amount, count) in enumerate(ranked, start=1):
            goal = goals.get(("rep", owner or "", currency))
            rows.append(
                LeaderboardRow(rank, owner, currency, count, amount, goal, attainment(amount, goal))
            )
    return ReportTable(
        title="Leaderboard",
        row_type=LeaderboardRow,
        rows=rows,
        period=period,
        notes=[
            "Reps ranked by amount won in the period, per currency; ties by deals won, "
            "then name. attainment: amount / the rep's target for the period, when one is "
            "set in the same currency."
        ],
    )


# targets ------------------------------------------------------------------------------------


def targets_for(session: Session, period: Period) -> dict[tuple[str, str, str], Decimal]:
    """The targets set for ``period`` (by its label): (subject, name, currency) -> amount."""
    return {
        (t.subject, t.name, t.amount.currency): t.amount.amount
        for t in session.sales_targets.stream(period=period.label)
    }


def attainment(won: Decimal, target: Decimal | None) -> Decimal | None:
    """``won / target`` rounded to 4 places (above 1 when the target is beaten)."""
    if target is None or target <= 0:
        return None
    return (won / target).quantize(RATE_PLACES, ROUND_HALF_EVEN)


@attrs.frozen
class TargetRow:
    subject: str
    name: str
    currency: str
    target: Decimal
    won: Decimal
    attainment: Decimal | None


def targets(session: Session, period: Period) -> ReportTable[TargetRow]:
    goals = targets_for(session, period)
    achieved: dict[tuple[str, str | None, str], Decimal] = {}
    if goals:
        for subject, field in (("rep", "owner"), ("team", "team")):
            for name, currency, _, amount in won(session, period.moments, field):
                achieved[(subject, name, currency)] = Decimal(amount)
    rows = []
    for (subject, name, currency), goal in sorted(goals.items()):
        amount = achieved.get((subject, name, currency), Decimal(0))
        rows.append(TargetRow(subject, name, currency, goal, amount, attainment(amount, goal)))
    return ReportTable(
        title="Sales targets",
        row_type=TargetRow,
        rows=rows,
        period=period,
        notes=[
            "Targets set for the period (by its label, e.g. 2026-11), beside the amount won "
            "in it in the target's currency: by the rep (deals they own) or the team."
        ],
    )


# sales_trend --------------------------------------------------------------------------------


@attrs.frozen
class SalesTrendRow:
    month: str
    currency: str | None
    won_deals: int
    won_amount: Decimal
    orders: int
    revenue: Decimal


def sales_trend(session: Session, period: Period) -> ReportTable[SalesTrendRow]:
    rows: list[SalesTrendRow] = []
    for part in period.split(PeriodKind.MONTH):
        deals = {
            currency: (count, amount) for currency, count, amount in won(session, part.moments)
        }
        orders = {
            currency: (count, total)
            for currency, count, total in session.aggregate(
                Aggregation(
                    entity="order",
                    group_by=("total_currency",),
                    measures=(Count(), Sum("total_amount")),
                    filters=_purchases(part),
                )
            )
        }
        label = part.label
        currencies = sorted(set(deals) | set(orders))
        if not currencies:
            rows.append(SalesTrendRow(label, None, 0, Decimal(0), 0, Decimal(0)))
        for currency in currencies:
            won_count, won_amount = deals.get(currency, (0, Decimal(0)))
            count, total = orders.get(currency, (0, Decimal(0)))
            rows.append(
                SalesTrendRow(
                    label, currency, won_count, Decimal(won_amount), count, Decimal(total)
                )
            )
    return ReportTable(
        title="Sales by month",
        row_type=SalesTrendRow,
        rows=rows,
        period=period,
        notes=["Deals won and purchases placed in each month of the period, per currency."],
    )


# sales_breakdown ----------------------------------------------------------------------------


@attrs.frozen
class SalesBreakdownRow:
    dimension: str
    value: str | None
    currency: str
    count: int
    amount: Decimal


CUSTOMER_DIMENSIONS = ("region", "industry", "source_channel")


def sales_breakdown(session: Session, period: Period) -> ReportTable[SalesBreakdownRow]:
    rows = [
        SalesBreakdownRow(dimension, value, currency, deals, Decimal(amount))
        for dimension in CUSTOMER_DIMENSIONS
        for value, currency, deals, amount in won(session, period.moments, f"customer.{dimension}")
    ]
    products: dict[tuple[str | None, str], tuple[int, Decimal]] = {}
    session._check_open()
    # The session's analytics: the lines of the orders its actor may see.
    for line in session._analytics.line_sales(
        Window(period.start, period.end), {s.value for s in PURCHASE_STATUSES}
    ):
        count, total = products.get((line.sku, line.currency), (0, Decimal(0)))
        products[(line.sku, line.currency)] = (
            count + line.lines,
            total + line.quantity * line.unit_price,
        )
    rows.extend(
        SalesBreakdownRow("product", sku, currency, count, total)
        for (sku, currency), (count, total) in products.items()
    )
    dimensions = (*CUSTOMER_DIMENSIONS, "product")
    rows.sort(
        key=lambda r: (
            dimensions.index(r.dimension),
            r.value is not None,
            r.value or "",
            r.currency,
        )
    )
    return ReportTable(
        title="Sales breakdown",
        row_type=SalesBreakdownRow,
        rows=rows,
        period=period,
        notes=[
            "region, industry, source_channel: deals won in the period by their customer's "
            "field (count: deals). product: purchase lines placed in the period by SKU "
            "(count: lines)."
        ],
    )


REPORTS: tuple[ReportDefinition, ...] = (
    ReportDefinition(
        name="lead_conversion",
        title="Lead conversion by source channel",
        build=lead_conversion,
        description="Deals assigned in the period by source channel, how many were won.",
    ),
    ReportDefinition(
        name="order_value",
        title="Order value",
        build=order_value,
        description="Purchases in the period per currency: orders, revenue, average.",
    ),
    ReportDefinition(
        name="won_deals",
        title="Won deals",
        build=won_deals,
        description="Deals won in the period by owner, team and region, per currency.",
    ),
    ReportDefinition(
        name="targets",
        title="Sales targets",
        build=targets,
        description="Each rep's and team's target for the period, amount won, attainment.",
    ),
    ReportDefinition(
        name="leaderboard",
        title="Leaderboard",
        build=leaderboard,
        description="Reps ranked by amount won in the period.",
    ),
    ReportDefinition(
        name="sales_trend",
        title="Sales by month",
        build=sales_trend,
        description="Won deals and purchases in each month of the period.",
    ),
    ReportDefinition(
        name="sales_breakdown",
        title="Sales breakdown",
        build=sales_breakdown,
        description="Won amount by region, industry and channel; revenue by product.",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        name="lead_conversion_rate",
        title="Lead conversion rate",
        compute=lead_conversion_rate,
        better="up",
        unit="ratio",
    ),
    Metric(name="won_amount", title="Won amount", compute=won_amount, better="up"),
    Metric(name="won_count", title="Deals won", compute=won_count, better="up"),
    Metric(
        name="average_order_value",
        title="Average order value",
        compute=average_order_value,
        better="up",
    ),
)

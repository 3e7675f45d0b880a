"""Service reports: response and resolution times, SLA attainment, satisfaction, repeat
complaints and ticket volumes, per service group and overall.

Counts and score distributions are aggregations. Times need each ticket's business calendar
and its pauses, as the SLA counts them, so those reports stream the period's tickets a page
at a time and keep only running totals per group.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from pycrm.analytics.aggregate import Aggregation, Count
from pycrm.analytics.catalogue import Metric, MetricValue, ReportDefinition
from pycrm.analytics.period import Period
from pycrm.analytics.table import ReportTable
from pycrm.query import Range
from pycrm.service.repeats import COMPLAINT, DEFAULT_REPEAT_WINDOW, repeat_complaints
from pycrm.service.sla import SlaClock, SlaState, TicketSla, ticket_sla
from pycrm.service.ticket import SATISFACTION_SCORES, Ticket

if TYPE_CHECKING:
    from pycrm.session import Session


class _Grouped(Protocol):
    @property
    def group(self) -> str: ...


R = TypeVar("R", bound=_Grouped)

ALL = "(all)"
"""The group of the overall row."""

NO_GROUP = "(none)"
"""The group of tickets that belong to no service group."""

RATE = Decimal("0.0001")
HOURS = Decimal("0.01")
SCORE = Decimal("0.01")
_HOUR_US = 3_600_000_000


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a fraction rounded to 4 places; ``None`` when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE, ROUND_HALF_EVEN)


def average_hours(total: timedelta, count: int) -> Decimal | None:
    """The mean of ``count`` durations summing to ``total``, in hours rounded to 2 places;
    ``None`` when there are none. Exact: computed from whole microseconds."""
    if count == 0:
        return None
    microseconds = (total.days * 86_400 + total.seconds) * 1_000_000 + total.microseconds
    return (Decimal(microseconds) / (_HOUR_US * count)).quantize(HOURS, ROUND_HALF_EVEN)


def group_of(ticket: Ticket) -> str:
    return NO_GROUP if ticket.group is None else ticket.group


def _group(value: Any) -> str:
    return NO_GROUP if value is None else str(value)


def _ordered(groups: Iterable[str]) -> list[str]:
    return sorted(groups, key=lambda g: (g == NO_GROUP, g))


def _slas(session: Session, tickets: Iterable[Ticket]) -> Iterator[tuple[Ticket, TicketSla]]:
    """Each ticket with its SLA clocks as they stand now (or at its opening, if later),
    under the CRM's policies on each policy's calendar."""
    policies = session.crm.sla_policies
    calendars = {name: session.service.calendar(name) for name in policies.calendars}
    now = session.now
    for ticket in tickets:
        policy = policies.for_ticket(ticket)
        as_of = max(now, ticket.opened_at)
        yield ticket, ticket_sla(ticket, policy, calendars[policy.calendar], as_of=as_of)


# -- service_times -------------------------------------------------------------------------


@attrs.frozen
class ServiceTimesRow:
    """Tickets opened in the period in ``group``; the averages are over those answered
    (``responded``) and resolved (``resolved``) so far, in business hours."""

    group: str
    tickets: int
    responded: int
    first_response_hours: Decimal | None
    resolved: int
    resolution_hours: Decimal | None


@attrs.define
class _Times:
    tickets: int = 0
    responded: int = 0
    response: timedelta = timedelta(0)
    resolved: int = 0
    resolution: timedelta = timedelta(0)

    def add(self, response: SlaClock, resolution: SlaClock) -> None:
        self.tickets += 1
        if response.is_stopped:
            self.responded += 1
            self.response += response.used
        if resolution.is_stopped:
            self.resolved += 1
            self.resolution += resolution.used

    def row(self, group: str) -> ServiceTimesRow:
        return ServiceTimesRow(
            group=group,
            tickets=self.tickets,
            responded=self.responded,
            first_response_hours=average_hours(self.response, self.responded),
            resolved=self.resolved,
            resolution_hours=average_hours(self.resolution, self.resolved),
        )


def service_times(session: Session, period: Period) -> ReportTable[ServiceTimesRow]:
    totals: dict[str, _Times] = {}
    overall = _Times()
    tickets = session.tickets.stream(opened_at=period.moments)
    for ticket, sla in _slas(session, tickets):
        totals.setdefault(group_of(ticket), _Times()).add(sla.response, sla.resolution)
        overall.add(sla.response, sla.resolution)
    rows = [totals[g].row(g) for g in _ordered(totals)]
    rows.append(overall.row(ALL))
    return ReportTable(
        title="Service times",
        row_type=ServiceTimesRow,
        rows=rows,
        period=period,
        notes=(
            "Tickets opened in the period. Hours are business hours of each ticket's SLA "
            "calendar, without the time spent waiting on the customer.",
        ),
    )


# -- sla_attainment ------------------------------------------------------------------------


@attrs.frozen
class SlaRow:
    """SLA targets decided in the period in ``group``: a met target counts when the clock
    stopped (the response given, the ticket resolved), a breached one when it fell due."""

    group: str
    response_met: int
    response_breached: int
    response_rate: Decimal | None
    resolution_met: int
    resolution_breached: int
    resolution_rate: Decimal | None


def decided(clock: SlaClock, period: Period) -> bool | None:
    """``True`` if the clock was met in ``period``, ``False`` if it was breached in it,
    ``None`` if it was decided at another time or not yet."""
    if clock.state is SlaState.MET and clock.stopped_at is not None:
        return True if clock.stopped_at in period else None
    if clock.state is SlaState.BREACHED and clock.due_at is not None:
        return False if clock.due_at in period else None
    return None


@attrs.define
class _Attainment:
    counts: list[int] = attrs.field(factory=lambda: [0, 0, 0, 0])

    def add(self, response: bool | None, resolution: bool | None) -> None:
        for index, outcome in ((0, response), (2, resolution)):
            if outcome is not None:
                self.counts[index + (0 if outcome else 1)] += 1

    @property
    def any(self) -> bool:
        return any(self.counts)

    def row(self, group: str) -> SlaRow:
        rm, rb, sm, sb = self.counts
        return SlaRow(
            group=group,
            response_met=rm,
            response_breached=rb,
            response_rate=rate(rm, rm + rb),
            resolution_met=sm,
            resolution_breached=sb,
            resolution_rate=rate(sm, sm + sb),
        )


def _candidates(session: Session, period: Period) -> Iterator[Ticket]:
    # A ticket resolved before the period had both clocks decided before it: the response
    # comes no later than the resolution, and a breach falls due before the stop.
    opened = Range(None, period.end)
    yield from session.tickets.stream(opened_at=opened, is_open=True)
    yield from session.tickets.stream(opened_at=opened, resolved_at=Range(period.start, None))


def sla_attainment(session: Session, period: Period) -> ReportTable[SlaRow]:
    totals: dict[str, _Attainment] = {}
    overall = _Attainment()
    for ticket, sla in _slas(session, _candidates(session, period)):
        response, resolution = decided(sla.response, period), decided(sla.resolution, period)
        if response is None and resolution is None:
            continue
        totals.setdefault(group_of(ticket), _Attainment()).add(response, resolution)
        overall.add(response, resolution)
    rows = [totals[g].row(g) for g in _ordered(totals)]
    rows.append(overall.row(ALL))
    return ReportTable(
        title="SLA attainment",
        row_type=SlaRow,
        rows=rows,
        period=period,
        notes=(
            "A target met counts in the period its clock stopped in; a target breached, in "
            "the period it fell due in. Rates are met / (met + breached).",
        ),
    )


# -- satisfaction --------------------------------------------------------------------------


@attrs.frozen
class SatisfactionRow:
    """Ratings given in the period to ``group``'s tickets: how many, their average and how
    many gave each score."""

    group: str
    rated: int
    average: Decimal | None
    score_1: int
    score_2: int
    score_3: int
    score_4: int
    score_5: int


def average_score(scores: Mapping[int, int]) -> Decimal | None:
    """The mean of the scores counted in ``scores`` (score -> count), to 2 places."""
    rated = sum(scores.values())
    if rated == 0:
        return None
    total = sum(score * count for score, count in scores.items())
    return (Decimal(total) / rated).quantize(SCORE, ROUND_HALF_EVEN)


def _satisfaction_row(group: str, scores: Mapping[int, int]) -> SatisfactionRow:
    counts = [scores.get(score, 0) for score in SATISFACTION_SCORES]
    return SatisfactionRow(group, sum(counts), average_score(scores), *counts)


def satisfaction(session: Session, period: Period) -> ReportTable[SatisfactionRow]:
    rows = session.aggregate(
        Aggregation(
            entity="ticket",
            group_by=("group", "satisfaction_score"),
            measures=(Count(),),
            filters={"rated_at": period.moments},
        )
    )
    by_group: dict[str, dict[int, int]] = {}
    overall: dict[int, int] = {}
    for group, score, count in rows:
        by_group.setdefault(_group(group), {})[int(score)] = count
        overall[int(score)] = overall.get(int(score), 0) + count
    table = [_satisfaction_row(g, by_group[g]) for g in _ordered(by_group)]
    table.append(_satisfaction_row(ALL, overall))
    return ReportTable(
        title="Customer satisfaction",
        row_type=SatisfactionRow,
        rows=table,
        period=period,
        notes=("Ratings given in the period (1 very dissatisfied .. 5 very satisfied).",),
    )


# -- repeat_complaints ---------------------------------------------------------------------


@attrs.frozen
class RepeatComplaintsRow:
    """Complaints opened in the period in ``group``, and those repeating an earlier one."""

    group: str
    complaints: int
    repeats: int
    repeat_rate: Decimal | None


def repeat_complaint_rows(
    session: Session, period: Period, window: timedelta = DEFAULT_REPEAT_WINDOW
) -> list[RepeatComplaintsRow]:
    # The complaints a period's complaint can repeat lie at most ``window`` before it.
    span = Range(period.start - window, period.end)
    earlier: dict[str, tuple[str, datetime]] = {}

    def noted(tickets: Iterable[Ticket]) -> Iterator[Ticket]:
        for ticket in tickets:
            earlier[ticket.id] = (group_of(ticket), ticket.opened_at)
            yield ticket

    complaints = session.tickets.stream(type=COMPLAINT, opened_at=span)
    chains = repeat_complaints(noted(complaints), window)
    repeats = {tid for chain in chains for tid in chain.ticket_ids[1:]}
    counts: dict[str, list[int]] = {}
    for ticket_id, (group, opened_at) in earlier.items():
        if opened_at not in period:
            continue
        for key in (group, ALL):
            entry = counts.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += ticket_id in repeats
    counts.setdefault(ALL, [0, 0])
    order = [*_ordered(g for g in counts if g != ALL), ALL]
    return [RepeatComplaintsRow(g, c, r, rate(r, c)) for g in order for c, r in (counts[g],)]


def repeat_complaints_report(session: Session, period: Period) -> ReportTable[RepeatComplaintsRow]:
    return ReportTable(
        title="Repeat complaints",
        row_type=RepeatComplaintsRow,
        rows=repeat_complaint_rows(session, period),
        period=period,
        notes=(
            "A complaint repeats when the same customer complained about the same category "
            f"no more than {DEFAULT_REPEAT_WINDOW.days} days before it.",
        ),
    )


# -- tickets_by_type -----------------------------------------------------------------------


@attrs.frozen
class TicketsByTypeRow:
    """Tickets of ``type`` opened in the period in ``group``, and how many are resolved or
    closed now."""

    type: str
    group: str
    tickets: int
    resolved: int


def tickets_by_type(session: Session, period: Period) -> ReportTable[TicketsByTypeRow]:
    def counts(**filters: Any) -> dict[tuple[str, str], int]:
        rows = session.aggregate(
            Aggregation(
                entity="ticket",
                group_by=("type", "group"),
                measures=(Count(),),
                filters={"opened_at": period.moments, **filters},
            )
        )
        return {(kind, _group(group)): count for kind, group, count in rows}

    opened, resolved = counts(), counts(is_open=False)
    keys = sorted(opened, key=lambda k: (k[0], k[1] == NO_GROUP, k[1]))
    rows = [TicketsByTypeRow(k[0], k[1], opened[k], resolved.get(k, 0)) for k in keys]
    return ReportTable(
        title="Tickets by type and group",
        row_type=TicketsByTypeRow,
        rows=rows,
        period=period,
        notes=("Tickets opened in the period.",),
    )


# -- metrics -------------------------------------------------------------------------------


def _overall(rows: Iterable[R]) -> R:
    return next(row for row in rows if row.group == ALL)


def first_response_hours(session: Session, period: Period) -> MetricValue:
    return _overall(service_times(session, period)).first_response_hours


def resolution_hours(session: Session, period: Period) -> MetricValue:
    return _overall(service_times(session, period)).resolution_hours


def sla_attainment_rate(session: Session, period: Period) -> MetricValue:
    row: SlaRow = _overall(sla_attainment(session, period))
    met = row.response_met + row.resolution_met
    return rate(met, met + row.response_breached + row.resolution_breached)


def csat_average(session: Session, period: Period) -> MetricValue:
    return _overall(satisfaction(session, period)).average


def repeat_complaint_rate(session: Session, period: Period) -> MetricValue:
    return _overall(repeat_complaint_rows(session, period)).repeat_rate


def tickets_per_group(session: Session, period: Period) -> MetricValue:
    rows = session.aggregate(
        Aggregation(
            entity="ticket",
            group_by=("group",),
            measures=(Count(),),
            filters={"opened_at": period.moments},
        )
    )
    return {_group(group): Decimal(count) for group, count in rows}


REPORTS: tuple[ReportDefinition, ...] = (
    ReportDefinition(
        name="service_times",
        title="Service times",
        build=service_times,
        description="Average first-response and resolution times in business hours, per group.",
    ),
    ReportDefinition(
        name="sla_attainment",
        title="SLA attainment",
        build=sla_attainment,
        description="Response and resolution targets met and breached in the period, per group.",
    ),
    ReportDefinition(
        name="satisfaction",
        title="Customer satisfaction",
        build=satisfaction,
        description="CSAT average and the distribution of scores 1-5, per group.",
    ),
    ReportDefinition(
        name="repeat_complaints",
        title="Repeat complaints",
        build=repeat_complaints_report,
        description="Complaints repeating an earlier one of the same customer and category.",
    ),
    ReportDefinition(
        name="tickets_by_type",
        title="Tickets by type and group",
        build=tickets_by_type,
        description="Tickets opened in the period by type and service group.",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        name="first_response_hours",
        title="First response time",
        compute=first_response_hours,
        better="down",
        unit="h",
    ),
    Metric(
        name="resolution_hours",
        title="Resolution time",
        compute=resolution_hours,
        better="down",
        unit="h",
    ),
    Metric(
        name="sla_attainment_rate",
        title="SLA attainment",
        compute=sla_attainment_rate,
        better="up",
        unit="ratio",
    ),
    Metric(name="csat_average", title="CSAT average", compute=csat_average, better="up"),
    Metric(
        name="repeat_complaint_rate",
        title="Repeat complaint rate",
        compute=repeat_complaint_rate,
        better="down",
        unit="ratio",
    ),
    Metric(
        name="tickets_per_group",
        title="Tickets per group",
        compute=tickets_per_group,
        better="down",
    ),
)

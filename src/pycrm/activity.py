"""What a rep did in a period: interactions, visits, new deals, deals won and their amounts.

The activity reports of the automation tick count with :func:`rep_activity`, and so can a
report or a notebook, so the numbers a rep is sent and the numbers a dashboard shows agree.
Periods are local days or ISO weeks in a time zone (:func:`finished_period`), turned into
half-open UTC bounds, so consecutive periods never count a record twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from pycrm.analytics.sales import won as won_deals
from pycrm.domain import InteractionChannel, Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.query import Range

if TYPE_CHECKING:
    from pycrm.session import Session


class Period(str, enum.Enum):
    DAY = "day"
    WEEK = "week"


def zone(value: object, field: str = "timezone") -> ZoneInfo:
    """The IANA time zone called ``value`` (``"Asia/Shanghai"``), else ``ValidationError``."""
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "expected an IANA time zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(field, f"unknown time zone {value!r}", value=value) from exc


@attrs.frozen
class ActivityPeriod:
    """A local day or ISO week: ``label`` (``"2026-03-01"`` or ``"2026-W09"``) and its UTC
    bounds, ``start`` inclusive and ``end`` exclusive."""

    period: Period
    label: str
    start: datetime
    end: datetime


def period_containing(period: Period | str, moment: datetime, tz: ZoneInfo) -> ActivityPeriod:
    """The day or ISO week (Monday to Sunday) in ``tz`` that ``moment`` falls in."""
    kind = conv.check_enum(period, "period", Period)
    at = conv.check_datetime(moment, "moment", required=True)
    assert at is not None  # required=True never returns None
    local_day = at.astimezone(tz).date()
    if kind is Period.DAY:
        first, days, label = local_day, 1, local_day.isoformat()
    else:
        year, week, weekday = local_day.isocalendar()
        first, days, label = local_day - timedelta(days=weekday - 1), 7, f"{year}-W{week:02d}"
    return ActivityPeriod(kind, label, _midnight(first, tz), _midnight(first + timedelta(days), tz))


def finished_period(period: Period | str, now: datetime, tz: ZoneInfo) -> ActivityPeriod:
    """The latest day or ISO week in ``tz`` that is over at ``now`` (the one before the
    period ``now`` is in): what a report sent at ``now`` is about."""
    current = period_containing(period, now, tz)
    return period_containing(current.period, current.start - timedelta(microseconds=1), tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # The first moment of ``day`` in ``tz``, in UTC; fold=0 takes the earlier of two.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


@attrs.frozen
class RepActivity:
    """What ``rep`` did from ``start`` (inclusive) to ``end`` (exclusive).

    ``interactions`` counts every interaction the rep recorded, ``visits`` those on the visit
    channel; ``new_opportunities`` counts deals assigned to the rep in the period (the rep
    still owning them); ``deals_won`` the rep's deals that entered a won stage in the period,
    and ``won_amounts`` their amounts per currency, never converted.
    """

    rep: str
    start: datetime
    end: datetime
    interactions: int
    visits: int
    new_opportunities: int
    deals_won: int
    won_amounts: Mapping[str, Money]

    @property
    def is_empty(self) -> bool:
        return not (self.interactions or self.new_opportunities or self.deals_won)


def rep_activity(session: Session, rep: str, start: datetime, end: datetime) -> RepActivity:
    """Count ``rep``'s activity in ``[start, end)`` through ``session``.

    Interactions and won deals are counted in the store (a deal counts in the period its
    ``closed_at`` falls in, while it is still won); deals assigned are read only where they
    can fall in the period, assigned on one of its UTC dates.
    """
    name = conv.required_text(rep, "rep", 120)
    since = conv.check_datetime(start, "start", required=True)
    until = conv.check_datetime(end, "end", required=True)
    assert since is not None
    assert until is not None
    if until <= since:
        raise ValidationError("end", "must be after start", value=end)
    window = Range(since, until)
    interactions = session.interactions.count(recorded_by=name, occurred_at=window)
    visits = session.interactions.count(
        recorded_by=name, channel=InteractionChannel.VISIT, occurred_at=window
    )
    first_day = since.astimezone(timezone.utc).date()
    last_day = (until - timedelta(microseconds=1)).astimezone(timezone.utc).date()
    assigned = session.opportunities.stream(
        owner=name, assigned_on=Range(first_day, last_day + timedelta(days=1))
    )
    new_opportunities = sum(1 for o in assigned if window.contains(o.assigned_at))
    won = won_deals(session, window, owner=name)
    deals_won = sum(deals for _, deals, _ in won)
    won_amounts = {currency: Money(amount, currency) for currency, _, amount in won}
    return RepActivity(
        rep=name,
        start=since,
        end=until,
        interactions=interactions,
        visits=visits,
        new_opportunities=new_opportunities,
        deals_won=deals_won,
        won_amounts=dict(sorted(won_amounts.items())),
    )

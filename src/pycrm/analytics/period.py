"""Reporting periods: a day, ISO week, month, quarter or year in a time zone, or any span.

Reports compare a period with the one before, and trends split a year into months. A period
carries its bounds as UTC instants (``start`` inclusive, ``end`` exclusive), so a report
filters ``Range(period.start, period.end)`` and every store counts the same records, and its
local dates for fields that hold a date rather than a moment.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.query import Range


class PeriodKind(str, enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    SPAN = "span"


_STEPS = {
    PeriodKind.DAY: relativedelta(days=1),
    PeriodKind.WEEK: relativedelta(weeks=1),
    PeriodKind.MONTH: relativedelta(months=1),
    PeriodKind.QUARTER: relativedelta(months=3),
    PeriodKind.YEAR: relativedelta(years=1),
}

_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})\.\.(\d{4})-(\d{2})-(\d{2})"), PeriodKind.SPAN),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), PeriodKind.DAY),
    (re.compile(r"(\d{4})-W(\d{2})"), PeriodKind.WEEK),
    (re.compile(r"(\d{4})-Q([1-4])"), PeriodKind.QUARTER),
    (re.compile(r"(\d{4})-(\d{2})"), PeriodKind.MONTH),
    (re.compile(r"(\d{4})"), PeriodKind.YEAR),
)


def time_zone(value: object, field: str = "tz") -> ZoneInfo:
    """``value`` as a time zone: a ``ZoneInfo`` or an IANA name such as ``"Asia/Shanghai"``."""
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "expected an IANA time zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(field, f"unknown time zone {value!r}", value=value) from exc


@attrs.frozen
class Period:
    """``first`` to ``last`` (local dates, both included) in time zone ``tz``.

    Make one with :meth:`parse` (``"2026-11"``, ``"2026-Q4"``, ``"2026"``, ``"2026-W47"``,
    ``"2026-11-22"``, ``"2026-11-01..2026-11-15"``), :meth:`containing` or :meth:`of`.
    """

    kind: PeriodKind
    first: date
    last: date
    tz: ZoneInfo = attrs.field(factory=lambda: ZoneInfo("UTC"), converter=time_zone)

    def __attrs_post_init__(self) -> None:
        if self.last < self.first:
            raise ValidationError("period", f"ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo | str = "UTC") -> Period:
        """The period ``text`` names, in ``tz``."""
        if not isinstance(text, str):
            raise ValidationError("period", f"expected text such as '2026-11', got {text!r}")
        zone = time_zone(tz)
        for pattern, kind in _PATTERNS:
            match = pattern.fullmatch(text.strip())
            if match is None:
                continue
            parts = [int(p) for p in match.groups()]
            try:
                if kind is PeriodKind.SPAN:
                    return cls(kind, date(*parts[:3]), date(*parts[3:]), zone)
                if kind is PeriodKind.DAY:
                    first = date(*parts)
                elif kind is PeriodKind.WEEK:
                    first = date.fromisocalendar(parts[0], parts[1], 1)
                elif kind is PeriodKind.QUARTER:
                    first = date(parts[0], 3 * parts[1] - 2, 1)
                elif kind is PeriodKind.MONTH:
                    first = date(parts[0], parts[1], 1)
                else:
                    first = date(parts[0], 1, 1)
            except ValueError as exc:
                raise ValidationError("period", f"no such period: {text!r} ({exc})") from exc
            return cls.of(kind, first, zone)
        raise ValidationError(
            "period",
            f"{text!r} is not a period: write 2026-11, 2026-Q4, 2026, 2026-W47, 2026-11-22 "
            "or 2026-11-01..2026-11-15",
        )

    @classmethod
    def of(cls, kind: PeriodKind | str, first: date, tz: ZoneInfo | str = "UTC") -> Period:
        """The ``kind`` period starting on ``first`` (not a span)."""
        step = _STEPS.get(conv.check_enum(kind, "kind", PeriodKind))
        if step is None:
            raise ValidationError("kind", "a span has no fixed length; give first and last")
        return cls(PeriodKind(kind), first, first + step - timedelta(days=1), tz)

    @classmethod
    def containing(
        cls, kind: PeriodKind | str, moment: datetime, tz: ZoneInfo | str = "UTC"
    ) -> Period:
        """The ``kind`` period that ``moment`` falls in, in ``tz``."""
        kind = conv.check_enum(kind, "kind", PeriodKind)
        zone = time_zone(tz)
        at = conv.check_datetime(moment, "moment", required=True)
        assert at is not None
        day = at.astimezone(zone).date()
        if kind is PeriodKind.WEEK:
            first = day - timedelta(days=day.weekday())
        elif kind is PeriodKind.MONTH:
            first = day.replace(day=1)
        elif kind is PeriodKind.QUARTER:
            first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        elif kind is PeriodKind.YEAR:
            first = date(day.year, 1, 1)
        else:
            first = day
        return cls.of(kind, first, zone)

    @property
    def label(self) -> str:
        """How :meth:`parse` writes it: ``"2026-11"``, ``"2026-Q4"``, ``"2026-W47"``…"""
        first = self.first
        if self.kind is PeriodKind.DAY:
            return first.isoformat()
        if self.kind is PeriodKind.WEEK:
            year, week, _ = first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{first.year}-{first.month:02d}"
        if self.kind is PeriodKind.QUARTER:
            return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.YEAR:
            return str(first.year)
        return f"{first.isoformat()}..{self.last.isoformat()}"

    @property
    def start(self) -> datetime:
        """The first instant, in UTC."""
        return _midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        """The first instant after the period, in UTC."""
        return _midnight(self.last + timedelta(days=1), self.tz)

    @property
    def moments(self) -> Range:
        """``Range(start, end)``: the filter for fields holding a moment (``placed_at``)."""
        return Range(self.start, self.end)

    @property
    def dates(self) -> Range:
        """``Range(first, last + 1 day)``: the filter for fields holding a date
        (``assigned_on``, ``end_on``)."""
        return Range(self.first, self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same kind just before (a span: as many days just before)."""
        step = _STEPS.get(self.kind)
        if step is None:
            return Period(
                self.kind,
                self.first - timedelta(days=self.days),
                self.first - timedelta(days=1),
                self.tz,
            )
        return Period.of(self.kind, self.first - step, self.tz)

    def next(self) -> Period:
        """The period of the same kind just after."""
        step = _STEPS.get(self.kind)
        if step is None:
            return Period(
                self.kind, self.last + timedelta(days=1), self.last + timedelta(self.days), self.tz
            )
        return Period.of(self.kind, self.first + step, self.tz)

    def split(self, kind: PeriodKind | str) -> list[Period]:
        """The ``kind`` periods this one is made of, for a trend (a year into months); the
        first and last may reach outside it when the kinds do not line up (weeks)."""
        current = Period.containing(kind, self.start, self.tz)
        parts = []
        while current.first <= self.last:
            parts.append(current)
            current = current.next()
        return parts

    def __contains__(self, moment: object) -> bool:
        if isinstance(moment, datetime):
            return self.moments.contains(moment)
        if isinstance(moment, date):
            return self.first <= moment <= self.last
        return False

    def __str__(self) -> str:
        return self.label


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # The first instant of ``day`` in ``tz``, in UTC; fold=0 takes the earlier of two.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)

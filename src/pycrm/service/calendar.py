"""Business calendars: working time between two moments, and the moment a duration ends.

Service deadlines count working time, not wall time: a four-hour answer promised on Friday at
17:00 is due on Monday at 12:00. A calendar is a weekly template of working intervals plus
dated exceptions (holidays that close, make-up days that open).

Arithmetic works on a per-year table of working intervals as real instants (integer
microseconds since the epoch) with the cumulative working time at every bound. Building a
year costs about a millisecond and is cached, so ``add`` and ``elapsed`` are a couple of
bisections whatever the duration: a year of working time is one subtraction, not a walk.
Converting each wall-clock bound to an instant in the calendar's zone is what makes a
minute a real minute across daylight-saving changes.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pycrm.errors import ValidationError

__all__ = ["BusinessCalendar", "always_open", "china_calendar", "country_calendar"]

_UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_MIN_YEAR = 2
_MAX_YEAR = 9998
_LAST_US = (datetime(_MAX_YEAR + 1, 1, 1, tzinfo=_UTC) - _EPOCH) // _US
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")

Bound: TypeAlias = "str | time"
IntervalsIn: TypeAlias = "Iterable[tuple[Bound, Bound]]"
# Working intervals of one day as (start, end) microseconds since local midnight.
Intervals: TypeAlias = "tuple[tuple[int, int], ...]"
# A year's exceptions: closed dates, and opened dates with their own hours (None: standard).
YearExceptions: TypeAlias = "tuple[frozenset[date], Mapping[date, Intervals | None]]"

STANDARD_HOURS: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:30", "18:00"))
"""The default office day of the built-in country calendars: 09:00-18:00 with a lunch break."""


def _bound_us(value: Any, field: str, *, is_end: bool) -> int:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValidationError(field, "must be a wall-clock time without a zone", value=value)
        us = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000
        return us + value.microsecond
    if not isinstance(value, str):
        raise ValidationError(field, f"expected 'HH:MM' or a time, got {type(value).__name__}")
    match = _HHMM.match(value.strip())
    if match is None:
        raise ValidationError(field, f"expected 'HH:MM', got {value!r}", value=value)
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hours, minutes, seconds) == (24, 0, 0):
        if not is_end:
            raise ValidationError(field, "'24:00' may only end an interval", value=value)
        return _DAY_US
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValidationError(field, f"not a time of day: {value!r}", value=value)
    return ((hours * 60 + minutes) * 60 + seconds) * 1_000_000


def _intervals(value: Any, field: str) -> Intervals:
    """Check one day's intervals: well-formed, each start before its end, none overlapping."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a list of (start, end) pairs", value=value)
    parsed: list[tuple[int, int]] = []
    for i, pair in enumerate(value):
        where = f"{field}[{i}]"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValidationError(where, "expected a (start, end) pair", value=pair)
        start = _bound_us(pair[0], where, is_end=False)
        end = _bound_us(pair[1], where, is_end=True)
        if end <= start:
            raise ValidationError(where, "ends before it starts (reversed or empty)", value=pair)
        parsed.append((start, end))
    parsed.sort()
    merged: list[tuple[int, int]] = []
    for start, end in parsed:
        if merged and start < merged[-1][1]:
            raise ValidationError(field, "has overlapping intervals", value=value)
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _zone(value: Any) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("timezone", "expected an IANA zone name such as 'Asia/Shanghai'")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError("timezone", f"unknown time zone {value!r}", value=value) from exc


def _aware(value: Any, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(field, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "must be timezone-aware", value=value)
    return value


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _US


class _Year:
    """One local calendar year: interval bounds as instants, cumulative working time at each."""

    __slots__ = ("bounds", "cumulative", "hi", "lo", "total", "year")

    def __init__(
        self, year: int, lo: int, hi: int, bounds: list[int], cumulative: list[int]
    ) -> None:
        self.year = year
        self.lo = lo
        self.hi = hi
        self.bounds = bounds
        self.cumulative = cumulative
        self.total = cumulative[-1] if cumulative else 0

    def position(self, t: int) -> int:
        """Working time from the start of the year to instant ``t``."""
        i = bisect_right(self.bounds, t)
        if i & 1:
            return self.cumulative[i - 1] + t - self.bounds[i - 1]
        return self.cumulative[i - 1] if i else 0

    def moment(self, worked: int) -> int:
        """The earliest instant with ``worked`` (0 < worked <= total) working time behind it."""
        k = bisect_left(self.cumulative, worked)
        # cumulative[k - 1] < worked <= cumulative[k]; k is odd, the end of an interval.
        return self.bounds[k - 1] + worked - self.cumulative[k - 1]


class BusinessCalendar:
    """Working hours in one time zone: a weekly template plus holidays and make-up days.

    :param timezone: an IANA zone name (``"Asia/Shanghai"``) or a ``tzinfo``.
    :param week: weekday (0 = Monday, as ``date.weekday()``) to that day's working intervals,
        each a pair of ``"HH:MM"`` strings or ``datetime.time`` objects; ``"24:00"`` may end a
        day. Intervals are half-open; touching ones merge. Missing weekdays do not work.
    :param holidays: dates that do not work, whatever the template or make-up days say.
    :param workdays: make-up dates that work although the template does not (China's
        调休), with the standard hours (those of the first weekday, Monday first, that works),
        or a mapping of date to that day's own intervals (``None`` for the standard hours).

    Moments passed in must be timezone-aware; results are aware, in the calendar's zone. A
    wall-clock bound that does not exist (skipped by a daylight-saving jump) means the
    moment of the jump; one that occurs twice means its first occurrence.
    """

    __slots__ = (
        "_exceptions_for",
        "_holidays",
        "_last",
        "_standard",
        "_week",
        "_workdays",
        "_years",
        "timezone",
    )

    def __init__(
        self,
        timezone: str | tzinfo,
        week: Mapping[int, IntervalsIn],
        holidays: Iterable[date] = (),
        workdays: Iterable[date] | Mapping[date, IntervalsIn | None] = (),
    ) -> None:
        self.timezone: tzinfo = _zone(timezone)
        if not isinstance(week, Mapping):
            raise ValidationError("week", "expected a mapping of weekday (0-6) to intervals")
        template: list[Intervals] = [() for _ in range(7)]
        for day, intervals in week.items():
            if type(day) is not int or not 0 <= day <= 6:
                raise ValidationError("week", f"weekday must be 0 (Monday) to 6, got {day!r}")
            template[day] = _intervals(intervals, f"week[{day}]")
        self._week: tuple[Intervals, ...] = tuple(template)
        standard = next((day for day in self._week if day), None)
        if standard is None:
            raise ValidationError("week", "has no working time; a calendar must work every week")
        self._standard: Intervals = standard
        self._holidays = frozenset(_dates(holidays, "holidays"))
        self._workdays = _workdays(workdays)
        # Set by ``country_calendar``: a year's exceptions read from the holidays package.
        self._exceptions_for: Callable[[int], YearExceptions] | None = None
        self._years: dict[int, _Year] = {}
        self._last: _Year | None = None  # the year most recently asked about

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.timezone!s}, {len(self._holidays)} holidays, "
            f"{len(self._workdays)} make-up days)"
        )

    # -- public arithmetic ---------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start``.

        A duration that runs out exactly at the end of an interval is due at that end
        (12:00 before lunch, not 13:30 after it). A zero duration returns ``start`` itself.
        """
        if type(start) is not datetime or start.tzinfo is None:
            _aware(start, "start")
        t = _us(start)
        if type(duration) is not timedelta and not isinstance(duration, timedelta):
            kind = type(duration).__name__
            raise ValidationError("duration", f"expected a timedelta, got {kind}")
        length = (duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds
        if length <= 0:
            if length < 0:
                raise ValidationError("duration", "must not be negative", value=duration)
            return start.astimezone(self.timezone)
        if t + length > _LAST_US:
            # Working time never outruns real time, so this cannot end in range.
            raise ValidationError("duration", f"runs past the year {_MAX_YEAR}", value=duration)
        table = self._year_of(t, "start")
        worked = table.position(t) + length
        while worked > table.total:
            worked -= table.total
            table = self._year(table.year + 1, "duration")
        return self._moment(table.moment(worked))

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two moments.

        ``end`` before ``start`` raises ``ValidationError`` rather than returning a negative
        span: a reversed pair is far more often a bug than a request for a signed answer.
        """
        a = _us(_aware(start, "start"))
        b = _us(_aware(end, "end"))
        if b < a:
            raise ValidationError("end", "is before start", value=end)
        first = self._year_of(a, "start")
        last = self._year_of(b, "end")
        if first is last:
            return timedelta(microseconds=last.position(b) - first.position(a))
        worked = first.total - first.position(a) + last.position(b)
        for year in range(first.year + 1, last.year):
            worked += self._year(year, "end").total
        return timedelta(microseconds=worked)

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in working time (an interval's end does not)."""
        t = _us(_aware(moment, "moment"))
        return bool(bisect_right(self._year_of(t, "moment").bounds, t) & 1)

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` if the calendar is open then, else the start of the next working interval."""
        t = _us(_aware(moment, "moment"))
        table = self._year_of(t, "moment")
        i = bisect_right(table.bounds, t)
        if i & 1:
            return moment.astimezone(self.timezone)
        while i >= len(table.bounds):
            table = self._year(table.year + 1, "moment")
            i = 0
        return self._moment(table.bounds[i])

    def works_on(self, day: date) -> bool:
        """Whether ``day`` has working hours after holidays and make-up days are applied."""
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError("day", f"expected a date, got {type(day).__name__}")
        return bool(self._hours(day, *self._exceptions(day.year)))

    # -- tables ----------------------------------------------------------------------------

    def _exceptions(self, year: int) -> YearExceptions:
        if self._exceptions_for is None:
            return frozenset(), {}
        return self._exceptions_for(year)

    def _hours(
        self, day: date, closed: frozenset[date], opened: Mapping[date, Intervals | None]
    ) -> Intervals:
        # Holidays win over make-up days, make-up days over the weekly template.
        if day in self._holidays or day in closed:
            return ()
        if day in self._workdays:
            return self._workdays[day] or self._standard
        if day in opened:
            return opened[day] or self._standard
        return self._week[day.weekday()]

    def _moment(self, t: int) -> datetime:
        seconds, micro = divmod(t, 1_000_000)
        try:
            # Whole seconds keep fromtimestamp exact (a float of microseconds would not be).
            return datetime.fromtimestamp(seconds, self.timezone).replace(microsecond=micro)
        except (OverflowError, OSError, ValueError):  # beyond the platform's time_t
            return (_EPOCH + timedelta(microseconds=t)).astimezone(self.timezone)

    def _year_of(self, t: int, field: str) -> _Year:
        last = self._last
        if last is not None and last.lo <= t < last.hi:
            return last
        self._last = table = self._find_year(t, field)
        return table

    def _find_year(self, t: int, field: str) -> _Year:
        year = (_EPOCH + timedelta(microseconds=t)).year
        table = self._year(year, field)
        if t < table.lo:
            return self._year(year - 1, field)
        if t >= table.hi:
            return self._year(year + 1, field)
        return table

    def _year(self, year: int, field: str) -> _Year:
        table = self._years.get(year)
        if table is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise ValidationError(
                    field, f"reaches year {year}, outside {_MIN_YEAR}..{_MAX_YEAR}"
                )
            table = self._years[year] = self._build(year)
        return table

    def _build(self, year: int) -> _Year:
        closed, opened = self._exceptions(year)
        bounds: list[int] = []
        cumulative: list[int] = []
        worked = 0
        day = date(year, 1, 1)
        midnight, exists = self._instant(day, 0)
        lo = midnight
        one_day = timedelta(days=1)
        while day.year == year:
            following = day + one_day
            next_midnight, next_exists = self._instant(following, 0)
            hours = self._hours(day, closed, opened)
            # A day of exactly 24 hours starting at a real midnight has no jump inside.
            plain = exists and next_midnight - midnight == _DAY_US
            for start_us, end_us in hours:
                if plain:
                    a, b = midnight + start_us, midnight + end_us
                else:
                    a = self._instant(day, start_us)[0]
                    b = next_midnight if end_us == _DAY_US else self._instant(day, end_us)[0]
                if b <= a:
                    continue  # swallowed by a daylight-saving jump
                if bounds and a == bounds[-1]:
                    bounds[-1] = b  # touching across midnight: one interval
                    cumulative[-1] += b - a
                else:
                    bounds += (a, b)
                    cumulative += (worked, worked + b - a)
                worked += b - a
            day, midnight, exists = following, next_midnight, next_exists
        return _Year(year, lo, midnight, bounds, cumulative)

    def _instant(self, day: date, us_of_day: int) -> tuple[int, bool]:
        """A wall-clock time on ``day`` as an instant, and whether that wall time exists."""
        wall = datetime(day.year, day.month, day.day) + timedelta(microseconds=us_of_day)
        t0 = _us(wall.replace(tzinfo=self.timezone))
        if (_EPOCH + timedelta(microseconds=t0)).astimezone(self.timezone).replace(
            tzinfo=None
        ) == wall:
            return t0, True
        # In a gap: fold=1 reads it with the later offset (an earlier instant); the jump
        # lies between the two readings. Find it by bisection (gaps are rare and short).
        lo = _us(wall.replace(tzinfo=self.timezone, fold=1))
        hi = t0
        before = _offset(self.timezone, lo)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(self.timezone, mid) == before:
                lo = mid
            else:
                hi = mid
        return hi, False


def _offset(zone: tzinfo, t: int) -> timedelta | None:
    return (_EPOCH + timedelta(microseconds=t)).astimezone(zone).utcoffset()


def _dates(values: Any, field: str) -> list[date]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValidationError(field, "expected a collection of dates", value=values)
    out: list[date] = []
    for value in values:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError(field, f"expected dates, got {value!r}", value=value)
        out.append(value)
    return out


def _workdays(values: Any) -> dict[date, Intervals | None]:
    if isinstance(values, Mapping):
        days = _dates(list(values), "workdays")
        return {
            day: None if values[day] is None else _intervals(values[day], f"workdays[{day}]")
            for day in days
        }
    return dict.fromkeys(_dates(values, "workdays"))


def always_open(timezone: str | tzinfo = "UTC") -> BusinessCalendar:
    """A 24x7 calendar: working time is wall time (real time, across DST changes)."""
    return BusinessCalendar(timezone, dict.fromkeys(range(7), (("00:00", "24:00"),)))


def _office_week(hours: IntervalsIn) -> dict[int, IntervalsIn]:
    return dict.fromkeys(range(5), tuple(hours))


def country_calendar(
    country: str,
    timezone: str | tzinfo,
    *,
    week: Mapping[int, IntervalsIn] | None = None,
    subdiv: str | None = None,
    holidays: Iterable[date] = (),
    workdays: Iterable[date] | Mapping[date, IntervalsIn | None] = (),
) -> BusinessCalendar:
    """A calendar whose holidays and make-up days come from the ``holidays`` package.

    Each year is read from the package when first needed, so no holiday table lives in
    pycrm and a package upgrade brings next year's arrangements. Closed: every date the
    package lists, and the weekend days that run into a listed holiday (the Sunday that
    opens China's Spring Festival break). Open with the standard hours: the package's
    weekend workdays (make-up days). ``holidays`` and ``workdays`` add the host's own.

    :param country: ISO 3166-1 code understood by ``holidays`` (``"CN"``, ``"DE"``).
    :param week: the weekly template; by default Monday to Friday, 09:00-12:00 and
        13:30-18:00.
    """
    import holidays as holidays_package

    try:
        holidays_package.country_holidays(country, subdiv=subdiv, years=())
    except NotImplementedError as exc:
        raise ValidationError("country", f"no holiday data for {country!r}") from exc

    def exceptions_for(year: int) -> YearExceptions:
        # Neighbouring years too: a break may run over New Year.
        table = holidays_package.country_holidays(
            country, subdiv=subdiv, years=range(year - 1, year + 2)
        )
        listed = set(table)
        made_up = set(table.weekend_workdays)
        closed = set(listed)
        one = timedelta(days=1)
        for day in listed:
            for step in (one, -one):
                other = day + step
                while table.is_weekend(other) and other not in made_up and other not in closed:
                    closed.add(other)
                    other += step
        return (
            frozenset(day for day in closed if day.year == year),
            dict.fromkeys(day for day in made_up if day.year == year and day not in listed),
        )

    calendar = BusinessCalendar(
        timezone, _office_week(STANDARD_HOURS) if week is None else week, holidays, workdays
    )
    calendar._exceptions_for = _memo(exceptions_for)
    return calendar


def china_calendar(
    *,
    week: Mapping[int, IntervalsIn] | None = None,
    timezone: str | tzinfo = "Asia/Shanghai",
    holidays: Iterable[date] = (),
    workdays: Iterable[date] | Mapping[date, IntervalsIn | None] = (),
) -> BusinessCalendar:
    """Mainland China's working days: State Council holidays and make-up workdays (调休).

    By default Monday to Friday, 09:00-12:00 and 13:30-18:00, Beijing time.
    """
    return country_calendar("CN", timezone, week=week, holidays=holidays, workdays=workdays)


def _memo(fn: Callable[[int], YearExceptions]) -> Callable[[int], YearExceptions]:
    cache: dict[int, YearExceptions] = {}

    def cached(year: int) -> YearExceptions:
        found = cache.get(year)
        if found is None:
            found = cache[year] = fn(year)
        return found

    return cached

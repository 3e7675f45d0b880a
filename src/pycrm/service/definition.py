"""Calendars kept in the store: a host's own hours and days off, editable without a deploy.

A definition is plain data (zone, weekly hours, an optional country whose public holidays
and make-up days apply, and the host's own closed and extra working days), so it round-trips
through any store; :meth:`CalendarDefinition.build` turns it into a
:class:`~pycrm.service.BusinessCalendar`. Building it once on construction is the
validation: a definition that is stored always builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import check_key
from pycrm.service.calendar import BusinessCalendar, country_calendar

Hours = tuple[tuple[str, str], ...]
"""One day's working intervals as ``("HH:MM", "HH:MM")`` pairs."""


def _bound(value: object, field: str) -> str:
    if isinstance(value, time):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if isinstance(value, str):
        return value.strip()
    raise ValidationError(field, f"expected 'HH:MM' or a time, got {type(value).__name__}")


def _hours(value: object, field: str) -> Hours:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected (start, end) pairs")
    pairs = []
    for pair in value:
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise ValidationError(field, "expected (start, end) pairs")
        items = tuple(pair)
        if len(items) != 2:
            raise ValidationError(field, f"expected (start, end) pairs, got {items!r}")
        pairs.append((_bound(items[0], field), _bound(items[1], field)))
    return tuple(pairs)


def _week(value: Mapping[Any, Any]) -> dict[int, Hours]:
    if not isinstance(value, Mapping):
        raise ValidationError("week", "expected a mapping of weekday (0-6) to intervals")
    week = {}
    for day, hours in value.items():
        # Stored as JSON, whose keys are text: "0" is Monday as much as 0 is.
        number = int(day) if isinstance(day, str) and day.isdigit() else day
        if type(number) is not int or not 0 <= number <= 6:
            raise ValidationError("week", f"weekday must be 0 (Monday) to 6, got {day!r}")
        week[number] = _hours(hours, f"week[{number}]")
    return dict(sorted(week.items()))


def _days(value: Iterable[date | str] | None, field: str) -> frozenset[date]:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a collection of dates")
    days = set()
    for item in value:
        day = conv.check_date(item, field)
        if day is None:
            raise ValidationError(field, "a date is required")
        days.add(day)
    return frozenset(days)


def _holidays(value: Iterable[date | str] | None) -> frozenset[date]:
    return _days(value, "holidays")


def _workdays(
    value: Iterable[date | str] | Mapping[date | str, Any] | None,
) -> dict[date, Hours | None]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        days = {}
        for day, hours in value.items():
            checked = conv.check_date(day, "workdays")
            if checked is None:
                raise ValidationError("workdays", "a date is required")
            days[checked] = None if hours is None else _hours(hours, f"workdays[{checked}]")
        return dict(sorted(days.items()))
    return dict.fromkeys(sorted(_days(value, "workdays")))


def _name(value: str) -> str:
    return check_key(value, "name")


def _timezone(value: str) -> str:
    checked = conv.check_text(value, "timezone", max_length=64, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _country(value: str | None) -> str | None:
    return conv.check_text(value, "country", max_length=8, required=False)


def _subdiv(value: str | None) -> str | None:
    return conv.check_text(value, "subdiv", max_length=16, required=False)


@attrs.frozen(kw_only=True)
class CalendarDefinition(Entity):
    """A named business calendar as data, with the host's overrides.

    ``country`` (an ISO code the ``holidays`` package knows, e.g. ``"CN"``) brings that
    country's public holidays and make-up workdays; ``holidays`` and ``workdays`` are the
    host's own on top (a company day off, an extra Saturday), and win over the country's.
    """

    ENTITY_TYPE: ClassVar[str] = "calendar"
    ID_PREFIX: ClassVar[str] = "cal"

    name: str = attrs.field(converter=_name)
    timezone: str = attrs.field(converter=_timezone)
    week: dict[int, Hours] = attrs.field(converter=_week, hash=False)
    country: str | None = attrs.field(default=None, converter=_country)
    subdiv: str | None = attrs.field(default=None, converter=_subdiv)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_holidays)
    workdays: dict[date, Hours | None] = attrs.field(factory=dict, converter=_workdays, hash=False)

    def __attrs_post_init__(self) -> None:
        if self.subdiv is not None and self.country is None:
            raise ValidationError("subdiv", "needs a country")
        self.build()

    def build(self) -> BusinessCalendar:
        """The calendar this definition describes."""
        if self.country is None:
            return BusinessCalendar(self.timezone, self.week, self.holidays, self.workdays)
        return country_calendar(
            self.country,
            self.timezone,
            week=self.week,
            subdiv=self.subdiv,
            holidays=self.holidays,
            workdays=self.workdays,
        )

"""Business calendars: hand-checked due times, China's arrangements, DST, properties, bad input."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycrm import (
    BusinessCalendar,
    ValidationError,
    always_open,
    china_calendar,
    country_calendar,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)

OFFICE = dict.fromkeys(range(5), (("09:00", "12:00"), ("13:30", "18:00")))
# 2026-05-01 is a Friday; 2026-05-09 (Saturday) a make-up day.
OFFICE_CAL = BusinessCalendar(
    "Asia/Shanghai", OFFICE, holidays=[date(2026, 5, 1)], workdays=[date(2026, 5, 9)]
)
CHINA = china_calendar()


def utc(moment: datetime) -> datetime:
    # Aware datetimes sharing a tzinfo subtract and compare by wall clock; UTC makes it real.
    return moment.astimezone(timezone.utc)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        # Inside the morning, finishing before lunch.
        (sh(2026, 4, 27, 9, 0), 2 * H, sh(2026, 4, 27, 11, 0)),
        # Runs out exactly at the lunch break: due at 12:00, not 13:30.
        (sh(2026, 4, 27, 10, 0), 2 * H, sh(2026, 4, 27, 12, 0)),
        # One minute more continues after lunch.
        (sh(2026, 4, 27, 10, 0), 2 * H + M, sh(2026, 4, 27, 13, 31)),
        # Start during lunch counts from 13:30.
        (sh(2026, 4, 27, 12, 15), H, sh(2026, 4, 27, 14, 30)),
        # Start before opening, after closing, on a weekend.
        (sh(2026, 4, 27, 7, 0), H, sh(2026, 4, 27, 10, 0)),
        (sh(2026, 4, 27, 20, 0), H, sh(2026, 4, 28, 10, 0)),
        (sh(2026, 5, 2, 11, 0), H, sh(2026, 5, 4, 10, 0)),
        # Ends exactly at closing time: due 18:00 that day, not 09:00 the next.
        (sh(2026, 4, 27, 17, 0), H, sh(2026, 4, 27, 18, 0)),
        # Thursday 17:00 + 2h: the Friday holiday is skipped, Saturday is not a make-up day
        # yet (that is 2026-05-09), so Monday.
        (sh(2026, 4, 30, 17, 0), 2 * H, sh(2026, 5, 4, 10, 0)),
        # Friday 2026-05-08 17:00 + 2h: the make-up Saturday works, with Monday's hours.
        (sh(2026, 5, 8, 17, 0), 2 * H, sh(2026, 5, 9, 10, 0)),
        # Multi-week: 7.5h a day, 5 days a week: 3 weeks = 112.5h from Monday 09:00.
        (sh(2026, 6, 1, 9, 0), 112 * H + 30 * M, sh(2026, 6, 19, 18, 0)),
        # Zero duration returns the start even outside hours.
        (sh(2026, 5, 2, 11, 0), timedelta(0), sh(2026, 5, 2, 11, 0)),
    ],
)
def test_office_calendar_due_times(start: datetime, duration: timedelta, due: datetime) -> None:
    result = OFFICE_CAL.add(start, duration)
    assert result == due
    assert result.tzinfo is OFFICE_CAL.timezone
    if duration:
        assert OFFICE_CAL.elapsed(start, result) == duration


@pytest.mark.parametrize(
    ("day", "works"),
    [
        # Spring Festival 2025: 1-28 to 2-4 off; Sunday 1-26 and Saturday 2-8 work.
        (date(2025, 1, 24), True),
        (date(2025, 1, 26), True),
        (date(2025, 1, 27), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 1), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),
        (date(2025, 2, 9), False),
        # National Day 2025: 10-1 to 10-8 off; Sunday 9-28 and Saturday 10-11 work.
        (date(2025, 9, 28), True),
        (date(2025, 10, 1), False),
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),
        # Spring Festival 2026: 2-15 to 2-23 off; Saturdays 2-14 and 2-28 work.
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 15), False),
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),
        # National Day 2026: 10-1 to 10-7 off; Sunday 9-20 and Saturday 10-10 work.
        (date(2026, 9, 20), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 5), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),
    ],
)
def test_china_arrangements(day: date, works: bool) -> None:
    noon_before = datetime.combine(day, time(10, 0), tzinfo=SH)
    assert CHINA.is_open(noon_before) is works
    assert CHINA.works_on(day) is works


def test_china_due_time_across_spring_festival() -> None:
    # Monday 2025-01-27 17:00, 4h: 1h that evening, then the break, then 3h on 2-5.
    assert CHINA.add(sh(2025, 1, 27, 17, 0), 4 * H) == sh(2025, 2, 5, 12, 0)
    # Friday 2025-01-24 17:00, 2h: the make-up Sunday 2025-01-26 works.
    assert CHINA.add(sh(2025, 1, 24, 17, 0), 2 * H) == sh(2025, 1, 26, 10, 0)
    # Working days from 2025-01-20 to 2025-02-10: 5 + Sun 26 + Mon 27 + 3 + Sat 8 = 11.
    assert CHINA.elapsed(sh(2025, 1, 20), sh(2025, 2, 10)) == 11 * 7.5 * H
    # 2026: Friday 2-13 17:00 + 2h lands on the make-up Saturday 2-14; + 9h on 2-24.
    assert CHINA.add(sh(2026, 2, 13, 17, 0), 2 * H) == sh(2026, 2, 14, 10, 0)
    assert CHINA.add(sh(2026, 2, 14, 17, 0), 2 * H) == sh(2026, 2, 24, 10, 0)


def test_host_holidays_win_over_make_up_days_and_package_data() -> None:
    calendar = china_calendar(holidays=[date(2025, 1, 26), date(2025, 3, 3)])
    assert not calendar.is_open(sh(2025, 1, 26, 10))
    assert not calendar.is_open(sh(2025, 3, 3, 10))
    assert calendar.is_open(sh(2025, 3, 4, 10))
    both = BusinessCalendar("UTC", OFFICE, holidays=[date(2026, 5, 9)], workdays=[date(2026, 5, 9)])
    assert not both.is_open(datetime(2026, 5, 9, 10, tzinfo=timezone.utc))


def test_make_up_day_with_its_own_hours() -> None:
    calendar = BusinessCalendar(
        "Asia/Shanghai", OFFICE, workdays={date(2026, 5, 9): [("10:00", "15:00")]}
    )
    assert calendar.add(sh(2026, 5, 8, 18, 0), 2 * H) == sh(2026, 5, 9, 12, 0)
    assert calendar.add(sh(2026, 5, 8, 18, 0), 5 * H + M) == sh(2026, 5, 11, 9, 1)


def test_24_00_ends_and_midnight_crossing_shifts() -> None:
    # Night shift: Monday 22:00-24:00 and Tuesday 00:00-06:00 form one stretch.
    night = BusinessCalendar("UTC", {0: [("22:00", "24:00")], 1: [("00:00", "06:00")]})
    start = datetime(2026, 6, 1, 23, 0, tzinfo=timezone.utc)  # a Monday
    assert night.add(start, H) == datetime(2026, 6, 2, 0, 0, tzinfo=timezone.utc)
    assert night.add(start, 3 * H) == datetime(2026, 6, 2, 2, 0, tzinfo=timezone.utc)
    assert night.is_open(datetime(2026, 6, 2, 0, 0, tzinfo=timezone.utc))
    assert night.add(start, 7 * H) == datetime(2026, 6, 2, 6, 0, tzinfo=timezone.utc)
    assert night.add(start, 7 * H + M) == datetime(2026, 6, 8, 22, 1, tzinfo=timezone.utc)
    whole = BusinessCalendar("UTC", {2: [(time(0), "24:00")]})
    assert whole.elapsed(
        datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 8, tzinfo=timezone.utc)
    ) == timedelta(days=1)


def test_dst_spring_forward_inside_a_working_interval() -> None:
    # Sunday 2025-03-30 Berlin: 02:00 CET jumps to 03:00 CEST. 01:00-04:00 is 2 real hours.
    calendar = BusinessCalendar("Europe/Berlin", {6: [("01:00", "04:00")]})
    day_start = datetime(2025, 3, 30, 0, 0, tzinfo=BERLIN)
    day_end = datetime(2025, 3, 31, 0, 0, tzinfo=BERLIN)
    assert calendar.elapsed(day_start, day_end) == 2 * H
    assert calendar.add(day_start, 90 * M) == datetime(2025, 3, 30, 3, 30, tzinfo=BERLIN)
    assert calendar.add(day_start, 2 * H) == datetime(2025, 3, 30, 4, 0, tzinfo=BERLIN)
    # An interval starting inside the gap starts at the jump.
    gap = BusinessCalendar("Europe/Berlin", {6: [("02:30", "05:00")]})
    assert gap.next_open(day_start) == datetime(2025, 3, 30, 3, 0, tzinfo=BERLIN)
    assert gap.elapsed(day_start, day_end) == 2 * H


def test_dst_fall_back_counts_the_repeated_hour() -> None:
    # Sunday 2025-11-02 New York: 02:00 EDT falls back to 01:00 EST. 00:00-04:00 is 5 hours.
    calendar = BusinessCalendar("America/New_York", {6: [("00:00", "04:00")]})
    day_start = datetime(2025, 11, 2, 0, 0, tzinfo=NEW_YORK)
    assert calendar.elapsed(day_start, day_start + timedelta(days=1)) == 5 * H
    due = calendar.add(day_start, 5 * H)
    assert due == datetime(2025, 11, 2, 4, 0, tzinfo=NEW_YORK)
    # Elapsed across the change with a weekday template: a real week of office days.
    office = BusinessCalendar("America/New_York", dict.fromkeys(range(5), (("00:00", "24:00"),)))
    friday = datetime(2025, 10, 31, 12, 0, tzinfo=NEW_YORK)
    monday = datetime(2025, 11, 3, 12, 0, tzinfo=NEW_YORK)
    assert office.elapsed(friday, monday) == 24 * H


def test_always_open_is_real_time() -> None:
    calendar = always_open("Europe/Berlin")
    start = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN)
    due = calendar.add(start, 48 * H)
    assert utc(due) - utc(start) == 48 * H
    assert due.utcoffset() == 2 * H
    assert calendar.is_open(start)
    assert calendar.next_open(start) == start


def test_next_open_and_is_open_are_half_open() -> None:
    assert not OFFICE_CAL.is_open(sh(2026, 4, 27, 12, 0))
    assert OFFICE_CAL.is_open(sh(2026, 4, 27, 11, 59))
    assert OFFICE_CAL.is_open(sh(2026, 4, 27, 13, 30))
    assert OFFICE_CAL.next_open(sh(2026, 4, 27, 12, 0)) == sh(2026, 4, 27, 13, 30)
    assert OFFICE_CAL.next_open(sh(2026, 4, 30, 18, 0)) == sh(2026, 5, 4, 9, 0)
    assert OFFICE_CAL.next_open(sh(2026, 12, 31, 18, 0)) == sh(2027, 1, 1, 9, 0)
    # Other zones in, the calendar's zone out.
    utc = datetime(2026, 4, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    assert OFFICE_CAL.is_open(utc)
    assert OFFICE_CAL.add(utc, H) == sh(2026, 4, 27, 10, 0)


def test_durations_across_years() -> None:
    start = sh(2025, 12, 31, 17, 0)
    assert CHINA.add(start, 2 * H) == sh(2026, 1, 4, 10, 0)  # 1-1..1-3 off, Sunday 1-4 works
    long = CHINA.add(start, 4000 * H)
    assert CHINA.elapsed(start, long) == 4000 * H
    assert long.year == 2028


# -- properties ------------------------------------------------------------------------

CALENDARS = st.sampled_from(
    [
        OFFICE_CAL,
        CHINA,
        BusinessCalendar("Europe/Berlin", {**OFFICE, 6: [("01:00", "04:00")]}),
        BusinessCalendar("America/New_York", {0: [("00:00", "24:00")], 6: [("00:30", "03:00")]}),
        always_open("Europe/Berlin"),
    ]
)
STARTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(SH)
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3000))


@settings(max_examples=200, deadline=None)
@given(CALENDARS, STARTS, DURATIONS)
def test_elapsed_inverts_add(calendar: BusinessCalendar, start: datetime, d: timedelta) -> None:
    assert calendar.elapsed(start, calendar.add(start, d)) == d


@settings(max_examples=200, deadline=None)
@given(CALENDARS, STARTS, DURATIONS, DURATIONS)
def test_add_is_monotonic_and_additive(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    small, big = sorted((a, b))
    assert utc(calendar.add(start, small)) <= utc(calendar.add(start, big))
    assert utc(calendar.add(start, a + b)) == utc(calendar.add(calendar.add(start, a), b))


@settings(max_examples=200, deadline=None)
@given(CALENDARS, STARTS, DURATIONS.filter(bool))
def test_due_time_is_in_working_time_or_at_an_interval_end(
    calendar: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    due = utc(calendar.add(start, d))
    assert due > start
    # Working time ran right up to the due moment: it is open just before, so the due time
    # lies inside an interval or exactly at its end.
    assert calendar.is_open(due - timedelta(microseconds=1))


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"week": {}}, "week"),
        ({"week": {0: []}}, "week"),
        ({"week": {7: [("09:00", "10:00")]}}, "week"),
        ({"week": {0: [("10:00", "09:00")]}}, "week[0][0]"),
        ({"week": {0: [("09:00", "09:00")]}}, "week[0][0]"),
        ({"week": {0: [("09:00", "12:00"), ("11:00", "13:00")]}}, "week[0]"),
        ({"week": {0: [("24:00", "24:00")]}}, "week[0][0]"),
        ({"week": {0: [("9am", "10:00")]}}, "week[0][0]"),
        ({"week": {0: [("25:00", "26:00")]}}, "week[0][0]"),
        ({"week": {0: "09:00-12:00"}}, "week[0]"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"holidays": ["2026-05-01"]}, "holidays"),
        ({"workdays": {date(2026, 5, 9): [("15:00", "10:00")]}}, "workdays[2026-05-09][0]"),
    ],
)
def test_bad_calendars_name_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"timezone": "UTC", "week": OFFICE, **kwargs}
    with pytest.raises(ValidationError) as raised:
        BusinessCalendar(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_bad_arguments_name_the_field() -> None:
    naive = datetime(2026, 5, 1, 9, 0)
    aware = sh(2026, 5, 1, 9, 0)
    cases = [
        (lambda: OFFICE_CAL.add(naive, H), "start"),
        (lambda: OFFICE_CAL.add(aware, -M), "duration"),
        (lambda: OFFICE_CAL.add(aware, 5), "duration"),
        (lambda: OFFICE_CAL.elapsed(aware, naive), "end"),
        (lambda: OFFICE_CAL.elapsed(aware, aware - M), "end"),
        (lambda: OFFICE_CAL.is_open(naive), "moment"),
        (lambda: OFFICE_CAL.next_open(naive), "moment"),
        (lambda: OFFICE_CAL.add(aware, timedelta(days=999_999_999)), "duration"),
        (lambda: country_calendar("XX", "UTC"), "country"),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as raised:
            call()
        assert raised.value.field == field


def test_reversed_elapsed_raises_rather_than_going_negative() -> None:
    with pytest.raises(ValidationError, match="before start"):
        OFFICE_CAL.elapsed(sh(2026, 5, 4, 10), sh(2026, 5, 4, 9))
    assert OFFICE_CAL.elapsed(sh(2026, 5, 4, 10), sh(2026, 5, 4, 10)) == timedelta(0)


def test_weekend_days_inside_a_break_close_for_a_six_day_week() -> None:
    six_days = dict.fromkeys(range(6), (("09:00", "18:00"),))
    calendar = china_calendar(week=six_days)
    assert not calendar.works_on(date(2026, 2, 21))  # Saturday inside Spring Festival 2026
    assert not calendar.works_on(date(2025, 10, 4))  # Saturday inside National Day 2025
    assert not calendar.works_on(date(2025, 4, 5))  # Saturday after Qingming (4-4 to 4-6)
    assert calendar.works_on(date(2026, 3, 7))  # an ordinary Saturday
    assert calendar.works_on(date(2026, 2, 14))  # the make-up Saturday
    assert calendar.add(sh(2026, 2, 14, 17, 0), 2 * H) == sh(2026, 2, 24, 10, 0)

"""SLA clocks: against a minute-by-minute model, as properties, and on hand-checked tickets."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycrm import ValidationError
from pycrm.service.calendar import BusinessCalendar, always_open, china_calendar
from pycrm.service.lifecycle import (
    assign_ticket,
    move_ticket,
    open_ticket,
    resolve_ticket,
    respond,
)
from pycrm.service.policy import SlaPolicies, SlaPolicy, default_policies
from pycrm.service.sla import SlaClock, SlaState, sla_clock, ticket_sla
from pycrm.service.ticket import TicketPriority

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


# -- a minute-by-minute model --------------------------------------------------------------

# Monday 2026-03-02 00:00 Shanghai; ten days, so weekends and a holiday fall inside.
ORIGIN = sh(2026, 3, 2)
SPAN = 10 * 24 * 60
OFFICE = BusinessCalendar(
    "Asia/Shanghai",
    {day: [("09:00", "12:00"), ("13:30", "18:00")] for day in range(5)},
    holidays=[date(2026, 3, 4)],
    workdays=[date(2026, 3, 7)],
)


def minute(n: int) -> datetime:
    return ORIGIN + n * MINUTE


def model(
    start: int, target: int, as_of: int, stop: int | None, pauses: list[tuple[int, int | None]]
) -> tuple[timedelta, datetime | None, datetime | None, SlaState]:
    """(used, due, warn, state) by walking the minutes one at a time.

    A pause is the half-open span of minutes ``[a, b)``. Past the horizon (the stop, or
    ``as_of``) every minute runs, which is how a clock projects its due time, except for a
    clock paused at ``as_of``: its future is unknown, so it projects nothing.
    """
    stopped = stop is not None and stop <= as_of
    horizon = stop if stop is not None and stopped else as_of
    share = timedelta(microseconds=int(target * 60_000_000 * 0.8))

    def runs(m: int) -> bool:
        return m >= horizon or not any(a <= m and (b is None or m < b) for a, b in pauses)

    paused = not stopped and any(a < horizon and (b is None or b > horizon) for a, b in pauses)
    used = counted = timedelta(0)
    due = warn = None
    last_running = start
    limit = horizon if paused else horizon + 60 * 24 * 60
    m = start
    while m < limit and (m < horizon or due is None or warn is None):
        if runs(m):
            if m < horizon:
                last_running = m + 1
            if OFFICE.is_open(minute(m)):
                if warn is None and used + MINUTE >= share:
                    warn = minute(m) + (share - used)
                if due is None and used + MINUTE >= target * MINUTE:
                    due = minute(m + 1)
                used += MINUTE
                if m < horizon:
                    counted += MINUTE
        m += 1
    if due is not None and minute(last_running) > due:
        state = SlaState.BREACHED
    elif stopped:
        state = SlaState.MET
    elif paused:
        state = SlaState.PAUSED
    elif warn is not None and minute(as_of) >= warn:
        state = SlaState.WARNING
    else:
        state = SlaState.RUNNING
    return counted, due, warn, state


Case = tuple[int, int, int, "int | None", list[tuple[int, "int | None"]]]


@st.composite
def clocks(draw: st.DrawFn) -> Case:
    start = draw(st.integers(0, SPAN // 2))
    target = draw(st.integers(1, 20 * 60))
    as_of = draw(st.integers(start, SPAN))
    stop = draw(st.none() | st.integers(start, SPAN))
    bounds = sorted(draw(st.lists(st.integers(start, SPAN), max_size=6, unique=True)))
    pauses: list[tuple[int, int | None]] = list(zip(bounds[::2], bounds[1::2], strict=False))
    if len(bounds) % 2 and draw(st.booleans()):
        pauses.append((bounds[-1], None))
    return start, target, as_of, stop, pauses


def run(case: Case) -> SlaClock:
    start, target, as_of, stop, pauses = case
    return sla_clock(
        OFFICE,
        start=minute(start),
        target=target * MINUTE,
        as_of=minute(as_of),
        stop=None if stop is None else minute(stop),
        pauses=[(minute(a), None if b is None else minute(b)) for a, b in pauses],
    )


@settings(max_examples=150, deadline=None)
@given(clocks())
def test_clock_agrees_with_a_minute_by_minute_model(case: Case) -> None:
    clock = run(case)
    used, due, warn, state = model(*case)
    assert clock.used == used
    assert clock.due_at == due
    assert clock.warn_at == warn
    assert clock.state is state
    assert clock.remaining == max(case[1] * MINUTE - used, timedelta(0))


# -- properties ----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(clocks())
def test_used_time_never_shrinks_as_time_goes_on(case: Case) -> None:
    start, target, as_of, stop, pauses = case
    earlier = run((start, target, (start + as_of) // 2, stop, pauses))
    later = run(case)
    assert earlier.used <= later.used
    if earlier.state is SlaState.BREACHED:
        assert later.state is SlaState.BREACHED


@settings(max_examples=100, deadline=None)
@given(clocks())
def test_a_running_clock_reaches_its_target_exactly_at_its_due_time(case: Case) -> None:
    start, target, as_of, _, pauses = case
    # Pauses known by as_of and over by then: nothing after as_of stops the clock.
    pauses = [(a, b) for a, b in pauses if b is not None and b <= as_of]
    clock = run((start, target, as_of, None, pauses))
    assert clock.due_at is not None
    at_due = sla_clock(
        OFFICE,
        start=minute(start),
        target=target * MINUTE,
        as_of=max(clock.due_at, minute(start)),
        pauses=[(minute(a), None if b is None else minute(b)) for a, b in pauses],
    )
    assert at_due.used == target * MINUTE
    assert at_due.state is not SlaState.BREACHED


@settings(max_examples=100, deadline=None)
@given(st.integers(0, SPAN // 2), st.integers(1, 20 * 60), st.integers(0, SPAN))
def test_a_pause_moves_the_due_time_by_the_working_time_it_covers(
    start: int, target: int, length: int
) -> None:
    target_time = target * MINUTE
    plain_due = OFFICE.add(minute(start), target_time)
    # A pause starting with the clock: the due time moves by the working time it covers.
    resume = minute(start + length)
    paused = sla_clock(
        OFFICE,
        start=minute(start),
        target=target_time,
        as_of=max(resume, plain_due) + 60 * 24 * HOUR,
        pauses=[(minute(start), resume)],
    )
    covered = OFFICE.elapsed(minute(start), resume)
    assert paused.due_at == OFFICE.add(minute(start), target_time + covered)
    if covered == timedelta(0):
        assert paused.due_at == plain_due


# -- hand-checked tickets ------------------------------------------------------------------

CHINA = china_calendar()
POLICY = default_policies().lookup("inquiry", TicketPriority.NORMAL)
URGENT = default_policies().lookup("fault", TicketPriority.URGENT)


def ticket_at(opened: datetime, **fields: object):  # type: ignore[no-untyped-def]
    return open_ticket(customer_id="cus_1", subject="Printer jams", now=opened, by="desk", **fields)


@pytest.mark.parametrize(
    ("label", "opened", "due"),
    [
        ("morning: two hours on", sh(2026, 3, 10, 9, 0), sh(2026, 3, 10, 11, 0)),
        ("across lunch", sh(2026, 3, 10, 11, 0), sh(2026, 3, 10, 14, 30)),
        ("runs out at lunch: due at 12:00", sh(2026, 3, 10, 10, 0), sh(2026, 3, 10, 12, 0)),
        ("start during lunch", sh(2026, 3, 10, 12, 30), sh(2026, 3, 10, 15, 30)),
        ("start before hours", sh(2026, 3, 10, 6, 0), sh(2026, 3, 10, 11, 0)),
        ("start after hours", sh(2026, 3, 10, 20, 0), sh(2026, 3, 11, 11, 0)),
        ("Friday evening to Monday", sh(2026, 3, 13, 17, 0), sh(2026, 3, 16, 10, 0)),
        ("Qingming holiday 2026-04-06", sh(2026, 4, 3, 17, 30), sh(2026, 4, 7, 10, 30)),
        ("make-up Saturday 2026-02-28", sh(2026, 2, 27, 17, 0), sh(2026, 2, 28, 10, 0)),
        ("make-up Saturday 2026-02-14", sh(2026, 2, 13, 17, 0), sh(2026, 2, 14, 10, 0)),
        ("Spring Festival break", sh(2026, 2, 14, 17, 0), sh(2026, 2, 24, 10, 0)),
    ],
)
def test_response_due_times(label: str, opened: datetime, due: datetime) -> None:
    sla = ticket_sla(ticket_at(opened), POLICY, CHINA, as_of=opened)
    assert sla.response.due_at == due, label
    assert sla.response.state is SlaState.RUNNING


def test_urgent_tickets_respond_within_one_working_hour() -> None:
    opened = sh(2026, 3, 10, 17, 30)
    sla = ticket_sla(ticket_at(opened, priority="urgent"), URGENT, CHINA, as_of=opened)
    assert sla.response.due_at == sh(2026, 3, 11, 9, 30)
    # 24 working hours of 7.5-hour days: 0.5 Tuesday, 3 x 7.5 to Friday, 1 on Monday.
    assert sla.resolution.due_at == sh(2026, 3, 16, 10, 0)


def test_a_pause_over_a_night_moves_the_due_time_by_working_time_only() -> None:
    opened = sh(2026, 3, 10, 9, 0)
    ticket = ticket_at(opened)
    ticket = assign_ticket(ticket, "li", now=sh(2026, 3, 10, 9, 10), by="desk")
    ticket = move_ticket(ticket, "in_progress", now=sh(2026, 3, 10, 9, 20), by="li")
    # Waiting on the customer from 17:00 to 10:00 next day: 1 + 1 working hours.
    ticket = move_ticket(ticket, "waiting_on_customer", now=sh(2026, 3, 10, 17, 0), by="li")
    waiting = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 11, 8, 0))
    assert waiting.resolution.state is SlaState.PAUSED
    assert waiting.resolution.due_at is None
    assert waiting.resolution.used == timedelta(hours=6, minutes=30)
    # Asking the customer answered them, at 17:00: long after the 11:00 due time.
    assert waiting.response.stopped_at == sh(2026, 3, 10, 17, 0)
    assert waiting.response.state is SlaState.BREACHED
    ticket = move_ticket(ticket, "in_progress", now=sh(2026, 3, 11, 10, 0), by="li")
    resumed = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 11, 10, 0))
    unpaused = CHINA.add(opened, POLICY.resolve_within)
    assert resumed.resolution.due_at == CHINA.add(unpaused, timedelta(hours=2))
    assert resumed.resolution.state is SlaState.RUNNING


def test_a_pause_over_a_weekend_moves_nothing() -> None:
    opened = sh(2026, 3, 13, 16, 0)  # Friday
    ticket = assign_ticket(ticket_at(opened), "li", now=opened, by="desk")
    ticket = move_ticket(ticket, "in_progress", now=opened, by="li")
    ticket = move_ticket(ticket, "waiting_on_customer", now=sh(2026, 3, 13, 18, 0), by="li")
    ticket = move_ticket(ticket, "in_progress", now=sh(2026, 3, 16, 9, 0), by="li")
    sla = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 16, 9, 0))
    assert sla.resolution.due_at == CHINA.add(opened, POLICY.resolve_within)


def test_breach_after_hours_and_met_on_time() -> None:
    opened = sh(2026, 3, 13, 16, 0)  # Friday; response due 18:00, as the office closes
    ticket = ticket_at(opened)
    late = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 14, 10, 0))  # Saturday
    assert late.response.state is SlaState.BREACHED
    assert late.response.overdue == timedelta(0)  # no working time since, yet breached
    assert late.state is SlaState.BREACHED
    on_time = respond(ticket, now=sh(2026, 3, 13, 18, 0), by="li")
    assert ticket_sla(on_time, POLICY, CHINA, as_of=sh(2026, 3, 14)).response.state is (
        SlaState.MET
    )
    warned = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 13, 17, 36))
    assert warned.response.state is SlaState.WARNING  # 80% of two hours used
    assert warned.state is SlaState.WARNING


def test_a_reopened_resolution_counts_as_a_pause_and_the_last_one_stops_the_clock() -> None:
    opened = sh(2026, 3, 10, 9, 0)
    ticket = assign_ticket(ticket_at(opened), "li", now=opened, by="desk")
    ticket = resolve_ticket(ticket, solution="Restarted", now=sh(2026, 3, 10, 10, 0), by="li")
    ticket = move_ticket(
        ticket, "in_progress", now=sh(2026, 3, 12, 10, 0), by="li", reason="jams again"
    )
    ticket = resolve_ticket(ticket, solution="New roller", now=sh(2026, 3, 12, 11, 0), by="li")
    ticket = move_ticket(ticket, "closed", now=sh(2026, 3, 13, 9, 0), by="li")
    sla = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 20))
    assert sla.resolution.used == timedelta(hours=2)
    assert sla.resolution.stopped_at == sh(2026, 3, 12, 11, 0)
    assert sla.resolution.state is SlaState.MET
    # As it stood between the two resolutions: stopped at the first one.
    before = ticket_sla(ticket, POLICY, CHINA, as_of=sh(2026, 3, 11, 9, 0))
    assert before.resolution.stopped_at == sh(2026, 3, 10, 10, 0)
    assert before.resolution.state is SlaState.MET


def test_dst_counts_real_minutes() -> None:
    berlin = BusinessCalendar("Europe/Berlin", dict.fromkeys(range(7), (("00:00", "24:00"),)))
    opened = datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc)  # 00:00 Berlin, before the jump
    sla = ticket_sla(ticket_at(opened), POLICY, berlin, as_of=opened)
    # Two real hours, though the Berlin wall clock moves three (02:00 does not exist).
    assert sla.response.due_at == opened + 2 * HOUR
    assert always_open().add(opened, 2 * HOUR) == sla.response.due_at


# -- policies and bad input ----------------------------------------------------------------


def test_most_specific_policy_wins() -> None:
    hours = timedelta(hours=1)
    table = SlaPolicies(
        (
            SlaPolicy(respond_within=2 * hours, resolve_within=24 * hours),
            SlaPolicy(type="complaint", respond_within=hours, resolve_within=8 * hours),
            SlaPolicy(priority="urgent", respond_within=hours / 2, resolve_within=4 * hours),
            SlaPolicy(
                type="complaint",
                priority="urgent",
                respond_within=hours / 4,
                resolve_within=2 * hours,
            ),
        )
    )
    assert table.lookup("complaint", "urgent").respond_within == hours / 4
    assert table.lookup("fault", "urgent").respond_within == hours / 2
    assert table.lookup("complaint", "low").respond_within == hours
    assert table.lookup("inquiry", "normal").respond_within == 2 * hours


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: default_policies().lookup("inquiry", "critical"), "priority"),
        (lambda: SlaPolicy(respond_within=timedelta(0), resolve_within=HOUR), "respond_within"),
        (lambda: SlaPolicy(respond_within=2 * HOUR, resolve_within=HOUR), "resolve_within"),
        (lambda: SlaPolicy(respond_within=HOUR, resolve_within=HOUR, warn_at=1), "warn_at"),
        (
            lambda: SlaPolicies(
                (SlaPolicy(type="fault", respond_within=HOUR, resolve_within=HOUR),)
            ),
            "policies",
        ),
        (
            lambda: sla_clock(OFFICE, start=minute(10), target=HOUR, as_of=minute(5)),
            "as_of",
        ),
        (
            lambda: sla_clock(
                OFFICE, start=minute(10), target=HOUR, as_of=minute(50), stop=minute(5)
            ),
            "stop",
        ),
        (
            lambda: sla_clock(
                OFFICE,
                start=minute(0),
                target=HOUR,
                as_of=minute(90),
                pauses=[(minute(10), minute(30)), (minute(20), minute(40))],
            ),
            "pauses",
        ),
        (
            lambda: sla_clock(
                OFFICE,
                start=minute(0),
                target=HOUR,
                as_of=minute(90),
                pauses=[(minute(10), None), (minute(20), minute(40))],
            ),
            "pauses",
        ),
        (
            lambda: sla_clock(
                OFFICE,
                start=minute(0),
                target=HOUR,
                as_of=minute(90),
                pauses=[(minute(30), minute(20))],
            ),
            "pauses",
        ),
        (lambda: sla_clock(OFFICE, start=minute(0), target=-HOUR, as_of=minute(9)), "target"),
        (
            lambda: sla_clock(OFFICE, start=datetime(2026, 3, 2), target=HOUR, as_of=minute(9)),
            "start",
        ),
        (lambda: BusinessCalendar("UTC", {0: []}), "week"),
        (
            lambda: sla_clock(OFFICE, start=minute(0), target=HOUR, as_of=minute(9), warn_at=1),
            "warn_at",
        ),
    ],
)
def test_bad_input_names_the_field(build, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as raised:
        build()
    assert raised.value.field == field


def test_a_year_without_working_days_is_skipped_not_looped() -> None:
    closed = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    calendar = BusinessCalendar("UTC", {0: [("09:00", "17:00")]}, holidays=closed)
    start = datetime(2026, 12, 28, 16, 0, tzinfo=timezone.utc)  # a Monday, one hour left
    clock = sla_clock(calendar, start=start, target=2 * HOUR, as_of=start)
    assert clock.due_at == datetime(2028, 1, 3, 10, 0, tzinfo=timezone.utc)

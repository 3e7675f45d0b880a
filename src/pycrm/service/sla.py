"""SLA clocks: due times, pauses, met or breached, as a pure function of a ticket's history.

Nothing about an SLA is stored. A clock is recomputed from when it started, when it
stopped, when it was paused, the target and the calendar, so it can be asked about any
moment (``now``, or a past one for a report) and recomputed after a policy changes.

A pause stops the clock; on resume the clock goes on from where it stood, so the due time
moves by the *working* time the pause covered: a pause over a night or a weekend, which
covers no working time, moves it by nothing. A clock is breached once it runs past its due
time: stopped after it, or still running after it, in working time or not (a target due
Friday 18:00 is breached on Saturday, though no working time has passed since).
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.service.calendar import BusinessCalendar
from pycrm.service.policy import DEFAULT_WARN_AT, SlaPolicy, check_warn_at
from pycrm.service.status import PAUSED_STATUSES, TicketStatus
from pycrm.service.ticket import Ticket

Pause = tuple[datetime, "datetime | None"]
"""A pause from its start to its end (``None`` while it lasts)."""


class SlaState(str, enum.Enum):
    RUNNING = "running"
    WARNING = "warning"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


@attrs.frozen(kw_only=True)
class SlaClock:
    """Where one SLA target stands at ``as_of``.

    ``used`` is the working time counted so far (pauses excluded), ``remaining`` what is
    left of the target (zero once used up) and ``overdue`` the working time beyond it.
    ``due_at`` is when the target runs out: fixed once it has, otherwise projected from
    ``as_of`` (or from the stop); ``None`` while paused with time left, since the due time
    is only known once the clock resumes. ``warn_at`` is the same for the warning share.
    Moments are given in the calendar's time zone.
    """

    name: str
    target: timedelta
    started_at: datetime
    as_of: datetime
    used: timedelta
    state: SlaState
    due_at: datetime | None
    warn_at: datetime | None
    stopped_at: datetime | None = None

    @property
    def remaining(self) -> timedelta:
        return max(self.target - self.used, timedelta(0))

    @property
    def overdue(self) -> timedelta:
        return max(self.used - self.target, timedelta(0))

    @property
    def is_breached(self) -> bool:
        return self.state is SlaState.BREACHED

    @property
    def is_stopped(self) -> bool:
        return self.stopped_at is not None


def _moment(value: object, field: str) -> datetime:
    moment = conv.check_datetime(value, field, required=True)
    assert moment is not None  # required=True never returns None
    return moment


def _pauses(value: Iterable[Pause], start: datetime) -> list[Pause]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("pauses", "expected (start, end) pairs")
    pauses: list[Pause] = []
    for item in value:
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValidationError("pauses", "expected (start, end) pairs")
        begin = _moment(item[0], "pauses")
        end = None if item[1] is None else _moment(item[1], "pauses")
        if end is not None and end < begin:
            raise ValidationError("pauses", f"a pause ends ({end}) before it starts ({begin})")
        if begin < start:
            raise ValidationError("pauses", f"a pause starts ({begin}) before the clock ({start})")
        pauses.append((begin, end))
    pauses.sort(key=lambda pause: pause[0])
    for (begin, end), (after, _) in itertools.pairwise(pauses):
        if end is None or after < end:
            raise ValidationError("pauses", f"the pauses from {begin} and from {after} overlap")
    return pauses


def _share(target: timedelta, warn: Decimal) -> timedelta:
    microseconds = (target.days * 86_400 + target.seconds) * 1_000_000 + target.microseconds
    return timedelta(microseconds=int(microseconds * warn))


def sla_clock(
    calendar: BusinessCalendar,
    *,
    start: datetime,
    target: timedelta,
    as_of: datetime,
    stop: datetime | None = None,
    pauses: Iterable[Pause] = (),
    warn_at: Decimal = DEFAULT_WARN_AT,
    name: str = "sla",
) -> SlaClock:
    """The state at ``as_of`` of a clock started at ``start`` that must use no more than
    ``target`` of ``calendar``'s working time before ``stop``.

    ``pauses`` are ``(start, end)`` pairs (``end`` ``None`` for a pause still lasting); they
    may not overlap or start before the clock. Whatever lies after ``as_of`` (a later stop,
    the rest of a pause) is not yet known and is ignored.
    """
    if not isinstance(calendar, BusinessCalendar):
        kind = type(calendar).__name__
        raise ValidationError("calendar", f"expected BusinessCalendar, got {kind}")
    begin = _moment(start, "start")
    moment = _moment(as_of, "as_of")
    if moment < begin:
        raise ValidationError("as_of", "is before the clock started", value=as_of)
    if not isinstance(target, timedelta) or target <= timedelta(0):
        raise ValidationError("target", "must be a positive timedelta", value=target)
    end = None if stop is None else _moment(stop, "stop")
    if end is not None and end < begin:
        raise ValidationError("stop", "is before the clock started", value=stop)
    stopped = end is not None and end <= moment
    horizon = end if end is not None and stopped else moment
    share = _share(target, check_warn_at(warn_at))

    # The clock runs between pauses, up to the horizon (the stop, or as_of).
    running: list[tuple[datetime, datetime]] = []
    cursor = begin
    paused = False
    for pause_start, pause_end in _pauses(pauses, begin):
        if pause_start >= horizon:
            break
        running.append((cursor, pause_start))
        if pause_end is None or pause_end > horizon:
            cursor, paused = horizon, True
            break
        cursor = pause_end
    if not paused:
        running.append((cursor, horizon))

    used = timedelta(0)
    due_at: datetime | None = None
    warned: datetime | None = None
    last_running = begin
    for a, b in running:
        if b <= a:
            continue
        spent = calendar.elapsed(a, b)
        if warned is None and used + spent >= share:
            warned = calendar.add(a, share - used)
        if due_at is None and used + spent >= target:
            due_at = calendar.add(a, target - used)
        used += spent
        last_running = b
    if not paused or stopped:
        # Running on (or stopped): the projection is what the due time would be from here.
        if due_at is None:
            due_at = calendar.add(horizon, target - used)
        if warned is None:
            warned = calendar.add(horizon, share - used)

    if due_at is not None and last_running > due_at:
        state = SlaState.BREACHED
    elif stopped:
        state = SlaState.MET
    elif paused:
        state = SlaState.PAUSED
    elif warned is not None and moment >= warned:
        state = SlaState.WARNING
    else:
        state = SlaState.RUNNING
    zone = calendar.timezone
    return SlaClock(
        name=name,
        target=target,
        started_at=begin.astimezone(zone),
        as_of=moment.astimezone(zone),
        used=used,
        state=state,
        due_at=due_at,
        warn_at=warned,
        stopped_at=end.astimezone(zone) if end is not None and stopped else None,
    )


@attrs.frozen(kw_only=True)
class TicketSla:
    """A ticket's two clocks under ``policy``: first response and resolution."""

    ticket_id: str
    policy: SlaPolicy
    response: SlaClock
    resolution: SlaClock

    @property
    def state(self) -> SlaState:
        """The more pressing of the two clocks' states (breached, warning, ...)."""
        order = (SlaState.BREACHED, SlaState.WARNING, SlaState.RUNNING, SlaState.PAUSED)
        states = {self.response.state, self.resolution.state}
        return next((state for state in order if state in states), SlaState.MET)

    @property
    def next_due_at(self) -> datetime | None:
        """The due time of the first clock still running, if any."""
        for clock in (self.response, self.resolution):
            if not clock.is_stopped and clock.state is not SlaState.PAUSED:
                return clock.due_at
        return None


def ticket_sla(
    ticket: Ticket, policy: SlaPolicy, calendar: BusinessCalendar, *, as_of: datetime
) -> TicketSla:
    """Both SLA clocks of ``ticket`` at ``as_of`` under ``policy``, counted on ``calendar``.

    Both start when the ticket was opened and pause while it waits on the customer. The
    response clock stops at the first response. The resolution clock stops when the ticket
    is resolved; a resolution that was later reopened counts as a pause, since the customer
    had an answer meanwhile. Only the history up to ``as_of`` is read, so a past ``as_of``
    shows the clocks as they stood then.
    """
    if not isinstance(ticket, Ticket):
        raise ValidationError("ticket", f"expected Ticket, got {type(ticket).__name__}")
    if not isinstance(policy, SlaPolicy):
        raise ValidationError("policy", f"expected SlaPolicy, got {type(policy).__name__}")
    moment = _moment(as_of, "as_of")
    if moment < ticket.opened_at:
        raise ValidationError("as_of", "is before the ticket was opened", value=as_of)
    visits = [visit for visit in ticket.status_state.history if visit.entered_at <= moment]
    # Closed is entered from resolved only, so a closed ticket's resolution is the visit before.
    final = len(visits) - (2 if visits[-1].stage == TicketStatus.CLOSED.value else 1)
    resolved_at = visits[final].entered_at if visits[final].stage == _RESOLVED else None
    waiting: list[Pause] = []
    answered: list[Pause] = []
    for index, visit in enumerate(visits):
        left_at = visit.left_at if index < len(visits) - 1 else None
        if TicketStatus(visit.stage) in PAUSED_STATUSES:
            waiting.append((visit.entered_at, left_at))
        elif visit.stage == _RESOLVED and index != final:
            answered.append((visit.entered_at, left_at))
    response = sla_clock(
        calendar,
        name="response",
        start=ticket.opened_at,
        target=policy.respond_within,
        as_of=moment,
        stop=ticket.first_response_at,
        pauses=waiting,
        warn_at=policy.warn_at,
    )
    resolution = sla_clock(
        calendar,
        name="resolution",
        start=ticket.opened_at,
        target=policy.resolve_within,
        as_of=moment,
        stop=resolved_at,
        pauses=[*waiting, *answered],
        warn_at=policy.warn_at,
    )
    return TicketSla(ticket_id=ticket.id, policy=policy, response=response, resolution=resolution)


_RESOLVED = TicketStatus.RESOLVED.value

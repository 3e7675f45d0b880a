"""Who takes a new deal: reps, assignment rules, and the pure choice between them.

:func:`choose_rep` is given everything it needs (today, each rep's last assignment, their
assignments today and open deals) rather than reading a store, so the tie-breaks can be
tested exhaustively. The session gathers those figures from stored data (see
:func:`pycrm.leads.assign_opportunity`), which is what keeps round robin fair across
restarts: nothing lives in a counter in memory.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.leads import Lead


class AssignmentStrategy(str, enum.Enum):
    """How a rep is chosen among the eligible ones (see :func:`choose_rep`)."""

    ROUND_ROBIN = "round_robin"
    TERRITORY = "territory"
    LOAD = "load"


def _text(value: Any, field: str) -> str:
    checked = conv.check_text(value, field, max_length=120, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _names(value: Iterable[str] | None, field: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a collection of names")
    return frozenset(_text(item, field).casefold() for item in value)


def _rep_name(value: str) -> str:
    return _text(value, "name")


def _team(value: str | None) -> str | None:
    return conv.check_text(value, "team", max_length=120, required=False)


def _regions(value: Iterable[str] | None) -> frozenset[str]:
    return _names(value, "regions")


def _industries(value: Iterable[str] | None) -> frozenset[str]:
    return _names(value, "industries")


def _daily_cap(value: int | None) -> int | None:
    return conv.check_int(value, "daily_cap", minimum=0, required=False)


def _strategy(value: AssignmentStrategy | str) -> AssignmentStrategy:
    return conv.check_enum(value, "strategy", AssignmentStrategy)


def _assigned_rep(value: str) -> str:
    return _text(value, "rep")


def _last_assigned_at(value: datetime | str) -> datetime:
    checked = conv.check_datetime(value, "last_assigned_at", required=True)
    assert checked is not None
    return checked


def _last_opportunity_id(value: str | None) -> str | None:
    return conv.check_text(value, "last_opportunity_id", max_length=64, required=False)


def _leave(value: Iterable[tuple[date, date]] | None) -> tuple[tuple[date, date], ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("on_leave", "expected (first day, last day) pairs")
    ranges = []
    for item in value:
        if not isinstance(item, tuple) or len(item) != 2:
            raise ValidationError("on_leave", "expected (first day, last day) pairs")
        first, last = conv.check_date(item[0], "on_leave"), conv.check_date(item[1], "on_leave")
        if first is None or last is None:
            raise ValidationError("on_leave", "a leave needs its first and last day")
        if last < first:
            raise ValidationError("on_leave", f"ends ({last}) before it starts ({first})")
        ranges.append((first, last))
    return tuple(sorted(ranges))


@attrs.frozen(kw_only=True)
class Rep:
    """A sales rep who can take leads.

    ``regions`` and ``industries`` are the rep's territory (compared ignoring case; an empty
    set places no limit on that axis, both empty means no territory). ``on_leave`` holds
    inclusive ``(first day, last day)`` ranges. ``daily_cap`` limits assignments per UTC day.
    """

    name: str = attrs.field(converter=_rep_name)
    team: str | None = attrs.field(default=None, converter=_team)
    regions: frozenset[str] = attrs.field(factory=frozenset, converter=_regions)
    industries: frozenset[str] = attrs.field(factory=frozenset, converter=_industries)
    on_leave: tuple[tuple[date, date], ...] = attrs.field(factory=tuple, converter=_leave)
    daily_cap: int | None = attrs.field(default=None, converter=_daily_cap)

    def is_on_leave(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.on_leave)

    def covers(self, lead: Lead | None) -> bool:
        """Whether ``lead`` falls in this rep's territory (every axis the rep has must match)."""
        if lead is None or (not self.regions and not self.industries):
            return False
        for wanted, value in ((self.regions, lead.region), (self.industries, lead.industry)):
            if wanted and (value is None or value.casefold() not in wanted):
                return False
        return True


def _reps(value: Iterable[Rep]) -> tuple[Rep, ...]:
    if isinstance(value, (str, Rep)) or not isinstance(value, Iterable):
        raise ValidationError("reps", "expected a collection of Rep")
    reps = tuple(value)
    seen: set[str] = set()
    for rep in reps:
        if not isinstance(rep, Rep):
            raise ValidationError("reps", f"expected Rep, got {type(rep).__name__}")
        if rep.name in seen:
            raise ValidationError("reps", f"{rep.name!r} is listed twice")
        seen.add(rep.name)
    return reps


@attrs.frozen(kw_only=True)
class AssignmentRules:
    """The reps who take leads and how one is chosen."""

    strategy: AssignmentStrategy = attrs.field(
        default=AssignmentStrategy.ROUND_ROBIN, converter=_strategy
    )
    reps: tuple[Rep, ...] = attrs.field(converter=_reps)

    def rep(self, name: str) -> Rep | None:
        return next((rep for rep in self.reps if rep.name == name), None)


def _eligible(
    rules: AssignmentRules, *, team: str | None, today: date, assigned_today: Mapping[str, int]
) -> list[Rep]:
    """Reps of ``team`` (every rep if ``None``) not on leave ``today`` and under their cap."""
    return [
        rep
        for rep in rules.reps
        if (team is None or rep.team == team)
        and not rep.is_on_leave(today)
        and (rep.daily_cap is None or assigned_today.get(rep.name, 0) < rep.daily_cap)
    ]


def choose_rep(
    rules: AssignmentRules,
    *,
    lead: Lead | None,
    team: str | None,
    today: date,
    last_assigned: Mapping[str, datetime | None],
    assigned_today: Mapping[str, int],
    open_load: Mapping[str, int],
) -> Rep | None:
    """The rep who should take the next deal, or ``None`` when nobody is eligible.

    Eligible: in ``team`` (any team if ``None``), not on leave ``today``, under the daily cap.
    Round robin takes the eligible rep whose last assignment is oldest (never assigned
    first; equal times, as under a fixed clock, go to the rep with fewer assignments today,
    then by name), so reps take turns whatever order the rules list them in.
    Territory narrows the eligible reps to those covering the lead's region and industry
    and takes turns among them; when nobody covers it, it takes turns within the team.
    Load takes the eligible rep with the fewest open deals, ties broken as round robin.
    Missing entries in the mappings count as never assigned, zero today, zero open.
    """
    if not isinstance(rules, AssignmentRules):
        raise ValidationError("rules", f"expected AssignmentRules, got {type(rules).__name__}")
    if lead is not None and not isinstance(lead, Lead):
        raise ValidationError("lead", f"expected Lead, got {type(lead).__name__}")
    pool = _eligible(rules, team=team, today=today, assigned_today=assigned_today)
    if not pool:
        return None

    def turn_key(rep: Rep) -> tuple[bool, float, int, str]:
        last = last_assigned.get(rep.name)
        stamp = 0.0 if last is None else last.timestamp()
        return (last is not None, stamp, assigned_today.get(rep.name, 0), rep.name)

    if rules.strategy is AssignmentStrategy.TERRITORY:
        covering = [rep for rep in pool if rep.covers(lead)]
        pool = covering or pool
    if rules.strategy is AssignmentStrategy.LOAD:
        return min(pool, key=lambda rep: (open_load.get(rep.name, 0), *turn_key(rep)))
    return min(pool, key=turn_key)


@attrs.frozen(kw_only=True)
class RepAssignment(Entity):
    """A rep's most recent assignment: one stored row per rep, rewritten on each assignment.

    Round robin needs each rep's last assignment time; opportunities can only be paged by
    id, so finding it there would mean reading all of a rep's deals. This row answers it with
    one lookup by the unique ``rep``, and because every assignment rewrites it
    (version-checked), two sessions handing out the same rep's turn at once conflict instead
    of both succeeding.
    """

    ENTITY_TYPE: ClassVar[str] = "rep_assignment"
    ID_PREFIX: ClassVar[str] = "rpa"

    rep: str = attrs.field(converter=_assigned_rep)
    last_assigned_at: datetime = attrs.field(converter=_last_assigned_at)
    last_opportunity_id: str | None = attrs.field(default=None, converter=_last_opportunity_id)

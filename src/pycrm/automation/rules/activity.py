"""Daily and weekly activity reports: each rep hears what they did once the period is over."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import ClassVar

import attrs

from pycrm.activity import Period, finished_period, rep_activity, zone
from pycrm.automation.effects import KEY_LENGTH, Notice, Staff
from pycrm.automation.rule import AutomationRule, Effect, RuleBatch, TickContext
from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline import Rep
from pycrm.query import OneOf

MAX_REPS = 1000
"""The most reps the ``reps`` setting may list: they are all read on the first page."""


def _reps(value: Iterable[Rep | str]) -> tuple[Rep, ...]:
    if isinstance(value, (str, Rep)) or not isinstance(value, Iterable):
        raise ValidationError("reps", "expected a collection of rep names or pycrm.Rep")
    reps: dict[str, Rep] = {}
    for item in value:
        if isinstance(item, str):
            item = Rep(name=conv.required_text(item, "reps", 120))
        elif not isinstance(item, Rep):
            raise ValidationError("reps", f"expected a rep name or Rep, got {type(item).__name__}")
        if item.name in reps:
            raise ValidationError("reps", f"{item.name!r} is listed twice")
        reps[item.name] = item
    if len(reps) > MAX_REPS:
        raise ValidationError("reps", f"at most {MAX_REPS} reps, got {len(reps)}")
    return tuple(reps.values())


def _timezone(value: str) -> str:
    zone(value, "timezone")
    return value


def _copy_supervisor(value: bool) -> bool:
    return conv.check_bool(value, "copy_supervisor")


def _skip_empty(value: bool) -> bool:
    return conv.check_bool(value, "skip_empty")


def key(rule: str, rep: str, period: str, suffix: str = "") -> str:
    """``rule:rep:period`` (plus ``:suffix``); a rep name too long for the key is replaced by
    a digest of it, so the key stays within the outbox's limit and still names one rep."""
    tail = f":{period}{suffix and ':' + suffix}"
    found = f"{rule}:{rep}{tail}"
    if len(found) <= KEY_LENGTH:
        return found
    digest = hashlib.sha256(rep.encode()).hexdigest()[:24]
    return f"{rule}:#{digest}{tail}"


@attrs.frozen(kw_only=True)
class _ActivityReport:
    period: ClassVar[Period]
    template: ClassVar[str]
    label: ClassVar[str]

    timezone: str = attrs.field(default="UTC", converter=_timezone)
    reps: tuple[Rep, ...] = attrs.field(default=(), converter=_reps)
    copy_supervisor: bool = attrs.field(default=False, converter=_copy_supervisor)
    skip_empty: bool = attrs.field(default=False, converter=_skip_empty)

    @property
    def name(self) -> str:
        return self.template

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        s = context.session
        listed = {rep.name for rep in self.reps}
        page = s.rep_assignments.list(limit=context.limit, after=after)
        names = [] if after is not None else list(listed)
        names += [row.rep for row in page if row.rep not in listed]
        supervisors = self._supervisors(context, names)
        occasion = finished_period(self.period, context.now, zone(self.timezone))
        effects: list[Effect] = []
        for rep in names:
            activity = rep_activity(s, rep, occasion.start, occasion.end)
            if self.skip_empty and activity.is_empty:
                continue
            values = {
                "rep": rep,
                self.label: occasion.label,
                "interactions": activity.interactions,
                "visits": activity.visits,
                "new_leads": activity.new_opportunities,
                "deals_won": activity.deals_won,
                "summary": _summary(activity.won_amounts.values()),
            }
            recipients = [(Staff(rep), "")]
            supervisor = supervisors.get(rep)
            if supervisor is not None and supervisor != rep:
                recipients.append((Staff(supervisor), "supervisor"))
            effects += [
                Notice(
                    key=key(self.name, rep, occasion.label, suffix),
                    template=self.template,
                    values=values,
                    to=to,
                )
                for to, suffix in recipients
            ]
        return RuleBatch(effects, next_after=page.next_after)

    def _supervisors(self, context: TickContext, names: Sequence[str]) -> dict[str, str]:
        """rep -> their team's supervisor, for reps whose team the ``reps`` setting names."""
        if not self.copy_supervisor:
            return {}
        wanted = set(names)
        teams = {rep.name: rep.team for rep in self.reps if rep.name in wanted and rep.team}
        if not teams:
            return {}
        rows = context.session.team_supervisors.list(
            team=OneOf(sorted(set(teams.values()))), limit=len(teams)
        )
        by_team = {row.team: row.supervisor for row in rows}
        return {rep: by_team[team] for rep, team in teams.items() if team in by_team}


def _summary(amounts: Iterable[Money]) -> str:
    """The amounts won, e.g. ``"CNY 120,000.00 + USD 5,000.00"``; ``"-"`` when nothing was."""
    parts = [f"{money.currency} {money.amount:,.2f}" for money in amounts]
    return " + ".join(parts) or "-"


@attrs.frozen(kw_only=True)
class DailyActivityReport(_ActivityReport):
    """``daily_activity_report``: each rep's day, sent once the day is over.

    Looks at every rep with a stored assignment (``s.rep_assignments``) and every rep the
    ``reps`` setting lists (names or :class:`pycrm.Rep`; a ``Rep`` with a ``team`` lets the
    report reach that team's supervisor). At the first tick after midnight in ``timezone``
    (an IANA name, default ``"UTC"``) it counts the day before with
    :func:`pycrm.activity.rep_activity`: interactions the rep recorded, visits among them,
    deals newly assigned to the rep (``$new_leads``), deals won and the amounts won per
    currency (``$summary``).

    Creates no task: a ``daily_activity_report`` staff notice to the rep, keyed
    ``daily_activity_report:{rep}:{date}``, and with ``copy_supervisor=True`` a copy to the
    supervisor of the rep's team, keyed ``...:{date}:supervisor``. With ``skip_empty=True`` a
    rep with nothing recorded gets no report.
    """

    period: ClassVar[Period] = Period.DAY
    template: ClassVar[str] = "daily_activity_report"
    label: ClassVar[str] = "date"


@attrs.frozen(kw_only=True)
class WeeklyActivityReport(_ActivityReport):
    """``weekly_activity_report``: each rep's ISO week (Monday to Sunday), sent once it is over.

    The same reps, counts and settings as :class:`DailyActivityReport`, over the week before
    the one the tick falls in (``$week`` is e.g. ``2026-W09``). Keyed
    ``weekly_activity_report:{rep}:{week}`` (``...:supervisor`` for the supervisor's copy).
    """

    period: ClassVar[Period] = Period.WEEK
    template: ClassVar[str] = "weekly_activity_report"
    label: ClassVar[str] = "week"


RULES: tuple[AutomationRule, ...] = (DailyActivityReport(), WeeklyActivityReport())

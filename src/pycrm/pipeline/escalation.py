"""Who hears about a deal that is overdue in its stage or has gone quiet, and why.

Each team names one supervisor (a stored :class:`TeamSupervisor` row). A deal past its stage
deadline goes to its owner and up to the team's supervisor; a deal that is only stale goes to
its owner alone, since a reminder is usually enough. The decision is a pure function so the
automation tick can apply it to every open deal and a report can show the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.deadlines import is_overdue, is_stale, stage_deadline, stale_since
from pycrm.pipeline.machine import StageMachine
from pycrm.pipeline.opportunity import Opportunity


def _name(value: Any, field: str) -> str:
    checked = conv.check_text(value, field, max_length=120, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _team(value: str) -> str:
    return _name(value, "team")


def _supervisor(value: str) -> str:
    return _name(value, "supervisor")


@attrs.frozen(kw_only=True)
class TeamSupervisor(Entity):
    """The rep a team's overdue deals are escalated to: one stored row per team."""

    ENTITY_TYPE: ClassVar[str] = "team_supervisor"
    ID_PREFIX: ClassVar[str] = "tsv"

    team: str = attrs.field(converter=_team)
    supervisor: str = attrs.field(converter=_supervisor)


@attrs.frozen(kw_only=True)
class Escalation:
    """What to send about one deal: ``notify`` in order (owner first), and the reasons.

    ``overdue_since`` is the stage deadline that has passed, ``stale_since`` the moment the
    deal went quiet; either may be ``None`` but not both.
    """

    opportunity_id: str
    notify: tuple[str, ...]
    overdue_since: datetime | None = None
    stale_since: datetime | None = None

    @property
    def to_supervisor(self) -> bool:
        """Whether the deadline has passed, so the supervisor is among the recipients."""
        return self.overdue_since is not None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Readable reasons, e.g. ``("overdue since 2026-03-06 09:00 UTC",)``."""
        found = []
        if self.overdue_since is not None:
            found.append(f"overdue since {_format(self.overdue_since)}")
        if self.stale_since is not None:
            found.append(f"stale since {_format(self.stale_since)}")
        return tuple(found)


def escalation_for(
    opportunity: Opportunity,
    machine: StageMachine,
    *,
    now: datetime,
    supervisors: Mapping[str, str],
    last_activity: datetime | None = None,
) -> Escalation | None:
    """The escalation due for ``opportunity`` at ``now``, or ``None`` if it is on track.

    Closed deals are never escalated. ``supervisors`` maps team -> supervisor (for example
    built from ``s.team_supervisors``); a deal without a team, or whose team has none, is
    escalated to its owner only. An unassigned deal goes to the supervisor even when merely
    stale, because nobody else would hear of it. The automation tick (a later addition) will call
    this for each open deal; it never reads a clock or a store.
    """
    if not isinstance(opportunity, Opportunity):
        raise ValidationError(
            "opportunity", f"expected Opportunity, got {type(opportunity).__name__}"
        )
    if not isinstance(supervisors, Mapping):
        raise ValidationError("supervisors", "expected a mapping of team to supervisor")
    if not opportunity.is_open:
        return None
    state = opportunity.stage_state
    overdue = stage_deadline(state, machine) if is_overdue(state, machine, now=now) else None
    stale = (
        stale_since(state, machine, last_activity=last_activity)
        if is_stale(state, machine, last_activity=last_activity, now=now)
        else None
    )
    if overdue is None and stale is None:
        return None
    supervisor = None if opportunity.team is None else supervisors.get(opportunity.team)
    notify: list[str] = []
    if opportunity.owner is not None:
        notify.append(opportunity.owner)
    if supervisor is not None and (overdue is not None or opportunity.owner is None):
        supervisor = _supervisor(supervisor)
        if supervisor not in notify:
            notify.append(supervisor)
    return Escalation(
        opportunity_id=opportunity.id,
        notify=tuple(notify),
        overdue_since=overdue,
        stale_since=stale,
    )


def _format(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")

"""When a subject is overdue in its stage, or stale for want of activity.

The stage definitions say how long is allowed (``Stage.deadline``, ``Stage.stale_after``);
these pure functions apply them to a subject's history at a given ``now``, so the automation
tick can turn them into reminders and escalations and a report can list them.
"""

from __future__ import annotations

from datetime import datetime

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import StageState
from pycrm.pipeline.machine import Stage, StageMachine


def stage_deadline(state: StageState, machine: StageMachine) -> datetime | None:
    """When the current stage must be left by, or ``None`` if it sets no deadline."""
    deadline = _stage(state, machine).deadline
    return None if deadline is None else state.entered_at + deadline


def is_overdue(state: StageState, machine: StageMachine, *, now: datetime) -> bool:
    """Whether the current stage's deadline has passed at ``now``."""
    due = stage_deadline(state, machine)
    return due is not None and _moment(now, "now") > due


def stale_since(
    state: StageState, machine: StageMachine, *, last_activity: datetime | None
) -> datetime | None:
    """From when the subject counts as stale: ``stale_after`` past its last activity, or past
    entering the stage if nothing happened since (a move is activity too)."""
    stale_after = _stage(state, machine).stale_after
    if stale_after is None:
        return None
    latest = state.entered_at
    if last_activity is not None:
        latest = max(latest, _moment(last_activity, "last_activity"))
    return latest + stale_after


def is_stale(
    state: StageState, machine: StageMachine, *, last_activity: datetime | None, now: datetime
) -> bool:
    """Whether nothing has happened for longer than the stage allows, at ``now``."""
    since = stale_since(state, machine, last_activity=last_activity)
    return since is not None and _moment(now, "now") > since


def _stage(state: StageState, machine: StageMachine) -> Stage:
    if not isinstance(state, StageState):
        raise ValidationError("state", f"expected StageState, got {type(state).__name__}")
    if not isinstance(machine, StageMachine):
        raise ValidationError("machine", f"expected StageMachine, got {type(machine).__name__}")
    if state.stage not in machine.keys:
        raise ValidationError("state", f"its stage {state.stage!r} is not in {machine.name!r}")
    return machine.stage(state.stage)


def _moment(value: datetime, field: str) -> datetime:
    checked = conv.check_datetime(value, field, required=True)
    assert checked is not None  # required=True never returns None
    return checked

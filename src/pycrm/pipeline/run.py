"""Moving a subject through a stage machine: pure functions from a state to the next.

Every check happens before anything is built, and the state is an immutable value, so a
refused move changes nothing; the caller stores the new state and the returned events
together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import GateRefused, IllegalTransition, ValidationError
from pycrm.pipeline.history import ACTOR_MAX, REASON_MAX, StageEvent, StageState, StageVisit
from pycrm.pipeline.machine import StageMachine

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def start(
    machine: StageMachine,
    *,
    now: datetime,
    by: str,
    reason: str | None = None,
    subject: Any = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[StageState, list[object]]:
    """Put a new subject in the machine's initial stage at ``now``.

    Returns the state and the events: the :class:`StageEvent` first, then whatever the
    initial stage's ``on_enter`` handlers raise.
    """
    if not isinstance(machine, StageMachine):
        raise ValidationError("machine", f"expected StageMachine, got {type(machine).__name__}")
    moment = _now(now)
    actor = _by(by)
    why = _why(reason)
    ctx = _context(context)
    state = StageState(
        history=(
            StageVisit(stage=machine.initial, entered_at=moment, entered_by=actor, reason=why),
        )
    )
    event = StageEvent(
        machine=machine.name, source=None, target=machine.initial, at=moment, by=actor, reason=why
    )
    events: list[object] = [event]
    _run(machine, machine.stage(machine.initial).on_enter, subject, event, ctx, events)
    return state, events


def advance(
    state: StageState,
    to: str,
    *,
    now: datetime,
    by: str,
    machine: StageMachine,
    deliverables: Iterable[str] = frozenset(),
    reason: str | None = None,
    subject: Any = None,
    context: Mapping[str, Any] | None = None,
) -> tuple[StageState, list[object]]:
    """Move ``state`` to stage ``to`` at ``now``, on behalf of ``by``.

    ``deliverables`` are the keys the subject has delivered so far; ``subject`` and
    ``context`` are handed to guards and handlers untouched. Returns the new state and the
    events: the :class:`StageEvent` first, then what the left stage's ``on_exit`` and the
    entered stage's ``on_enter`` handlers raise, in that order.

    Checks, in order: the arguments (``ValidationError`` on ``now``, ``by``, ``to``,
    ``deliverables`` or ``reason``); ``now`` not before the current stage was entered
    (``ValidationError`` on ``now``); the move is declared and does not leave a terminal stage
    (``IllegalTransition``); a reason where the move requires one (``ValidationError`` on
    ``reason``); deliverables and guards (one ``GateRefused`` listing every missing
    deliverable and every refusal). Nothing changes when any check fails.
    """
    if not isinstance(machine, StageMachine):
        raise ValidationError("machine", f"expected StageMachine, got {type(machine).__name__}")
    if not isinstance(state, StageState):
        raise ValidationError("state", f"expected StageState, got {type(state).__name__}")
    moment = _now(now)
    actor = _by(by)
    if not isinstance(to, str) or to not in machine.keys:
        raise ValidationError("to", f"{to!r} is not a stage of {machine.name!r}", value=to)
    presented = _presented(deliverables)
    why = _why(reason)
    ctx = _context(context)

    current = state.stage
    if current not in machine.keys:
        raise ValidationError("state", f"its stage {current!r} is not a stage of {machine.name!r}")
    if moment < state.entered_at:
        raise ValidationError(
            "now", f"is before {current!r} was entered ({state.entered_at.isoformat()})"
        )
    source = machine.stage(current)
    move = machine.transition(current, to)
    if source.terminal or move is None:
        raise IllegalTransition(machine.name, current, to)
    if move.requires_reason and why is None:
        raise ValidationError("reason", f"is required to move from {current!r} to {to!r}")

    missing = (
        ()
        if move.waive_deliverables
        else tuple(key for key in source.required_deliverables if key not in presented)
    )
    refusals: dict[str, str] = {}
    for name in move.guards:
        refusal = machine.guards[name](subject, ctx)
        if refusal is not None:
            refusals[name] = str(refusal) or f"guard {name!r} refused"
    if missing or refusals:
        raise GateRefused(machine.name, current, to, missing=missing, refusals=refusals)

    left = attrs.evolve(state.current, left_at=moment, left_by=actor)
    entered = StageVisit(stage=to, entered_at=moment, entered_by=actor, reason=why)
    new_state = StageState(history=(*state.history[:-1], left, entered))
    event = StageEvent(
        machine=machine.name, source=current, target=to, at=moment, by=actor, reason=why
    )
    events: list[object] = [event]
    _run(machine, source.on_exit, subject, event, ctx, events)
    _run(machine, machine.stage(to).on_enter, subject, event, ctx, events)
    return new_state, events


def _run(
    machine: StageMachine,
    names: tuple[str, ...],
    subject: Any,
    event: StageEvent,
    context: Mapping[str, Any],
    events: list[object],
) -> None:
    for name in names:
        raised = machine.handlers[name](subject, event, context)
        if raised is not None:
            events.extend(raised)


def _now(value: datetime) -> datetime:
    moment = conv.check_datetime(value, "now", required=True)
    assert moment is not None
    return moment


def _by(value: str) -> str:
    actor = conv.check_text(value, "by", max_length=ACTOR_MAX, required=True)
    assert actor is not None
    return actor


def _why(value: str | None) -> str | None:
    return conv.check_text(value, "reason", max_length=REASON_MAX, required=False)


def _presented(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, frozenset) and all(type(key) is str for key in value):
        return value
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("deliverables", "expected a collection of deliverable keys")
    keys = frozenset(value)
    if not all(isinstance(key, str) for key in keys):
        raise ValidationError("deliverables", "deliverable keys are text")
    return keys


def _context(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise ValidationError("context", f"expected a mapping, got {type(value).__name__}")
    return value

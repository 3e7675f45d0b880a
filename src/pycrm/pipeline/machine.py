"""A stage machine: stages and allowed moves declared as data, and the pure function that moves
a subject from one stage to the next.

Opportunities, service tickets and contract approvals all move through stages with the same
rules, so one small machine serves them all. Its definition is plain attrs values that
round-trip through JSON, which lets a host keep its own pipelines in its database. What
cannot be data -- a guard that inspects the subject, an action that raises events -- is
registered on the machine under a name, and the definition only names it: a stored definition
stays serialisable, and loading it without the code it names fails at once rather than
mid-deal.
"""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeAlias, TypeVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.history import StageEvent, check_key

Guard: TypeAlias = Callable[[Any, Mapping[str, Any]], "str | None"]
"""``guard(subject, context)`` returns why the move is refused, or ``None`` to allow it."""

Handler: TypeAlias = Callable[[Any, StageEvent, Mapping[str, Any]], Iterable[object]]
"""``handler(subject, event, context)`` returns the events a stage's entry or exit raises."""

T = TypeVar("T")

_NAME_MAX = 80
PROBABILITY_PLACES = 4
"""Decimal places a stage probability may have (as a rep's manual one)."""
_LABEL_MAX = 200
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_LOCALE = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*")
"""A language tag such as ``en``, ``zh-CN``, ``zh-Hans`` or, POSIX style, ``zh_CN``."""


# Converters are named functions, one per field, so each error names its field and mypy's
# attrs plugin types the constructors from the converters' parameters.


def _keys(value: Iterable[str] | None, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a list of keys", value=value)
    keys = tuple(check_key(item, field) for item in value)
    if len(set(keys)) != len(keys):
        raise ValidationError(field, "lists a key twice", value=keys)
    return keys


def _bool(value: bool, field: str) -> bool:
    if value is True or value is False:
        return value
    return conv.check_bool(value, field)


def _stage_key(value: str) -> str:
    return check_key(value, "key")


def _labels(value: Mapping[str, str] | None) -> Mapping[str, str]:
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise ValidationError("labels", f"expected a mapping, got {type(value).__name__}")
    labels = {}
    for locale, text in value.items():
        if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
            raise ValidationError(
                "labels", "keys are locales such as 'en' or 'zh-CN'", value=locale
            )
        checked = conv.check_text(text, "labels", max_length=_LABEL_MAX, required=True)
        assert checked is not None
        labels[locale] = checked
    return MappingProxyType(labels)


def _language(locale: str) -> str:
    return locale.replace("_", "-").partition("-")[0].lower()


def _terminal(value: bool) -> bool:
    return _bool(value, "terminal")


class StageOutcome(str, enum.Enum):
    """How a subject in a stage has ended: won or lost. Open stages have no outcome."""

    WON = "won"
    LOST = "lost"


def _outcome(value: StageOutcome | str | None) -> StageOutcome | None:
    return None if value is None else conv.check_enum(value, "outcome", StageOutcome)


def _probability(value: Decimal | int | str | None) -> Decimal | None:
    if value is None:
        return None
    number = conv.check_decimal(value, "probability")
    if not Decimal(0) <= number <= Decimal(1):
        raise ValidationError("probability", "must be between 0 and 1", value=value)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PROBABILITY_PLACES:
        # Every store computes weighted amounts exactly only up to this many places.
        raise ValidationError(
            "probability", f"has more than {PROBABILITY_PLACES} decimal places", value=value
        )
    return number


def _required_deliverables(value: Iterable[str] | None) -> tuple[str, ...]:
    return _keys(value, "required_deliverables")


def _actions(value: Iterable[str] | None) -> tuple[str, ...]:
    return conv.check_text_tuple(value, "actions")


def _on_enter(value: Iterable[str] | None) -> tuple[str, ...]:
    return _keys(value, "on_enter")


def _on_exit(value: Iterable[str] | None) -> tuple[str, ...]:
    return _keys(value, "on_exit")


def _reject_unknown(data: object, allowed: tuple[str, ...], what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError(what, f"expected a mapping, got {type(data).__name__}")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ValidationError(unknown[0], f"is not a field of a {what}")
    return data


def _within(prefix: str, build: Callable[[Mapping[str, Any]], T], data: Any) -> T:
    """``build(data)``; a ``ValidationError`` gets ``prefix`` on its field: ``stages[2].key``."""
    try:
        return build(data)
    except ValidationError as err:
        raise ValidationError(f"{prefix}.{err.field}", err.problem, value=err.value) from None


def _duration(value: timedelta | int | None, field: str) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta):
        raise ValidationError(field, f"expected a timedelta, got {type(value).__name__}")
    if value <= timedelta(0):
        raise ValidationError(field, "must be longer than zero", value=value)
    return value


def _deadline(value: timedelta | int | None) -> timedelta | None:
    return _duration(value, "deadline")


def _stale_after(value: timedelta | int | None) -> timedelta | None:
    return _duration(value, "stale_after")


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


_STAGE_FIELDS = (
    "key",
    "labels",
    "terminal",
    "probability",
    "required_deliverables",
    "actions",
    "on_enter",
    "on_exit",
    "deadline",
    "stale_after",
    "outcome",
)


@attrs.frozen(kw_only=True)
class Stage:
    """One stage a subject can be in.

    ``required_deliverables`` must all be presented before the subject may *leave* the stage
    (a proposal stage requires the quote), so a terminal stage, never left, cannot have any.
    ``actions`` is free text telling people what is standard in the stage; ``on_enter`` and
    ``on_exit`` name handlers registered on the machine that raise events. ``probability``
    (0 to 1) is the chance a subject in this stage ends won, for weighted forecasts.
    ``deadline`` is how long a subject may stay before it is overdue (and escalated);
    ``stale_after`` how long it may go without any activity before it counts as stale.

    ``outcome`` says whether a subject in the stage has been won or lost (``None``: still
    open), so reports and forecasts judge any pipeline by its own stages, not by key names.
    A lost stage is terminal; a won stage need not be (a signed deal still goes on to its
    review), but the machine checks that a won subject never reopens.
    """

    key: str = attrs.field(converter=_stage_key)
    labels: Mapping[str, str] = attrs.field(
        factory=dict, converter=_labels, hash=False, repr=lambda labels: repr(dict(labels))
    )
    terminal: bool = attrs.field(default=False, converter=_terminal)
    probability: Decimal | None = attrs.field(default=None, converter=_probability)
    required_deliverables: tuple[str, ...] = attrs.field(
        default=(), converter=_required_deliverables
    )
    actions: tuple[str, ...] = attrs.field(default=(), converter=_actions)
    on_enter: tuple[str, ...] = attrs.field(default=(), converter=_on_enter)
    on_exit: tuple[str, ...] = attrs.field(default=(), converter=_on_exit)
    deadline: timedelta | None = attrs.field(default=None, converter=_deadline)
    stale_after: timedelta | None = attrs.field(default=None, converter=_stale_after)
    outcome: StageOutcome | None = attrs.field(default=None, converter=_outcome)

    def __attrs_post_init__(self) -> None:
        if self.outcome is StageOutcome.LOST and not self.terminal:
            raise ValidationError("outcome", "a lost stage must be terminal", value="lost")
        if self.terminal and (self.deadline is not None or self.stale_after is not None):
            raise ValidationError(
                "deadline", "a terminal stage is never left, so it has no deadline"
            )
        if self.terminal and self.required_deliverables:
            raise ValidationError(
                "required_deliverables", "a terminal stage is never left, so it requires none"
            )
        if self.terminal and self.on_exit:
            raise ValidationError("on_exit", "a terminal stage is never left")

    def label(self, locale: str | None = None) -> str:
        """The label for ``locale``, falling back to its language (``zh`` for ``zh-CN``), then
        to the first label, then to the key, so a display always has something to show."""
        if locale is not None:
            if locale in self.labels:
                return self.labels[locale]
            language = _language(locale)
            for tag, text in self.labels.items():
                if _language(tag) == language:
                    return text
        return next(iter(self.labels.values()), self.key)

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready data; the probability is a string, so it stays exact, and
        durations are whole seconds."""
        return {
            "key": self.key,
            "labels": dict(self.labels),
            "terminal": self.terminal,
            "probability": None if self.probability is None else str(self.probability),
            "required_deliverables": list(self.required_deliverables),
            "actions": list(self.actions),
            "on_enter": list(self.on_enter),
            "on_exit": list(self.on_exit),
            "deadline": _seconds(self.deadline),
            "stale_after": _seconds(self.stale_after),
            "outcome": None if self.outcome is None else self.outcome.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        """The inverse of :meth:`to_dict`; only ``key`` is required, unknown keys are refused."""
        return cls(**_reject_unknown(data, _STAGE_FIELDS, "stage"))


def _source(value: str) -> str:
    return check_key(value, "source")


def _target(value: str) -> str:
    return check_key(value, "target")


def _requires_reason(value: bool) -> bool:
    return _bool(value, "requires_reason")


def _waive_deliverables(value: bool) -> bool:
    return _bool(value, "waive_deliverables")


def _guard_names(value: Iterable[str] | None) -> tuple[str, ...]:
    return _keys(value, "guards")


_TRANSITION_FIELDS = ("source", "target", "requires_reason", "waive_deliverables", "guards")


@attrs.frozen(kw_only=True)
class Transition:
    """An allowed move from ``source`` to ``target``.

    ``requires_reason`` makes the caller say why (moving to ``lost``); ``waive_deliverables``
    lets the move leave without the source stage's deliverables (a deal can be lost before
    its quote exists); ``guards`` name guards registered on the machine, all of which must
    allow the move.
    """

    source: str = attrs.field(converter=_source)
    target: str = attrs.field(converter=_target)
    requires_reason: bool = attrs.field(default=False, converter=_requires_reason)
    waive_deliverables: bool = attrs.field(default=False, converter=_waive_deliverables)
    guards: tuple[str, ...] = attrs.field(default=(), converter=_guard_names)

    def __attrs_post_init__(self) -> None:
        if self.source == self.target:
            raise ValidationError("target", "a stage does not move to itself", value=self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "requires_reason": self.requires_reason,
            "waive_deliverables": self.waive_deliverables,
            "guards": list(self.guards),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        """The inverse of :meth:`to_dict`; ``source`` and ``target`` are required."""
        return cls(**_reject_unknown(data, _TRANSITION_FIELDS, "transition"))


def from_any_open_stage(
    stages: Iterable[Stage],
    target: str,
    *,
    requires_reason: bool = False,
    waive_deliverables: bool = False,
    guards: Iterable[str] = (),
) -> tuple[Transition, ...]:
    """One transition to ``target`` from every non-terminal stage but ``target``.

    Non-terminal won stages are included: a signed contract can still fall through.

    For moves allowed from anywhere in the running process, such as "lost, with a reason".
    The result is ordinary transitions, so the stored definition says exactly what is allowed.
    """
    names = tuple(guards)
    return tuple(
        Transition(
            source=stage.key,
            target=target,
            requires_reason=requires_reason,
            waive_deliverables=waive_deliverables,
            guards=names,
        )
        for stage in stages
        if not stage.terminal and stage.key != target
    )


def _name(value: str) -> str:
    name = conv.check_text(value, "name", max_length=_NAME_MAX, required=True)
    assert name is not None
    return name


def _stages(value: Iterable[Stage]) -> tuple[Stage, ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError("stages", "expected a sequence of Stage")
    stages = tuple(value)
    if not stages:
        raise ValidationError("stages", "a machine needs at least one stage")
    for stage in stages:
        if not isinstance(stage, Stage):
            raise ValidationError("stages", f"expected Stage, got {type(stage).__name__}")
    return stages


def _transitions(value: Iterable[Transition | tuple[str, str]]) -> tuple[Transition, ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError("transitions", "expected a sequence of Transition")
    transitions = []
    for item in value:
        if isinstance(item, Transition):
            transitions.append(item)
        elif isinstance(item, tuple) and len(item) == 2:
            transitions.append(Transition(source=item[0], target=item[1]))
        else:
            raise ValidationError(
                "transitions", f"expected Transition or (source, target), got {item!r}"
            )
    return tuple(transitions)


def _first_stage(machine: StageMachine) -> str:
    return machine.stages[0].key


def _initial(value: str) -> str:
    return check_key(value, "initial")


def _registry(value: Mapping[str, Any] | None, field: str) -> Mapping[str, Any]:
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise ValidationError(field, f"expected a mapping of names to callables, got {value!r}")
    for name, function in value.items():
        check_key(name, field)
        if not callable(function):
            raise ValidationError(field, f"{name!r} is not callable", value=function)
    return MappingProxyType(dict(value))


def _guards(value: Mapping[str, Guard] | None) -> Mapping[str, Guard]:
    return _registry(value, "guards")


def _handlers(value: Mapping[str, Handler] | None) -> Mapping[str, Handler]:
    return _registry(value, "handlers")


def _names_only(registry: Mapping[str, object]) -> str:
    return repr(sorted(registry))


_MACHINE_FIELDS = ("name", "initial", "stages", "transitions")


@attrs.frozen(kw_only=True)
class StageMachine:
    """Stages, the moves allowed between them, and the guards and handlers they name.

    Checked when built: stage keys are unique; ``initial`` (the first stage unless given) is
    an open stage; transitions join declared stages and never leave a terminal one; every
    open stage can be reached from the initial stage and can itself reach a terminal stage;
    every stage reachable from a won stage has an outcome (won or lost), so a won subject
    never reopens, though it may still be lost (a signed contract that falls through);
    every guard and handler named is registered. A bad definition raises
    ``ValidationError`` naming the field.

    Two machines are equal when their definitions and registered callables are; the
    callables are not part of :meth:`to_dict`, so :meth:`from_dict` takes them again.
    """

    name: str = attrs.field(converter=_name)
    stages: tuple[Stage, ...] = attrs.field(converter=_stages)
    transitions: tuple[Transition, ...] = attrs.field(default=(), converter=_transitions)
    initial: str = attrs.field(
        default=attrs.Factory(_first_stage, takes_self=True), converter=_initial
    )
    guards: Mapping[str, Guard] = attrs.field(
        factory=dict, converter=_guards, hash=False, repr=_names_only
    )
    handlers: Mapping[str, Handler] = attrs.field(
        factory=dict, converter=_handlers, hash=False, repr=_names_only
    )
    _by_key: Mapping[str, Stage] = attrs.field(init=False, eq=False, repr=False)
    _edges: Mapping[tuple[str, str], Transition] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_key: dict[str, Stage] = {}
        for stage in self.stages:
            if stage.key in by_key:
                raise ValidationError("stages", f"stage key {stage.key!r} is used twice")
            by_key[stage.key] = stage
        if self.initial not in by_key:
            raise ValidationError("initial", f"{self.initial!r} is not a declared stage")
        if by_key[self.initial].terminal:
            raise ValidationError(
                "initial", f"{self.initial!r} is terminal; start in an open stage"
            )
        if not any(stage.terminal for stage in self.stages):
            raise ValidationError("stages", "at least one stage must be terminal")
        edges: dict[tuple[str, str], Transition] = {}
        for move in self.transitions:
            edge = f"{move.source!r} -> {move.target!r}"
            for key in (move.source, move.target):
                if key not in by_key:
                    raise ValidationError("transitions", f"{edge} names undeclared stage {key!r}")
            if by_key[move.source].terminal:
                raise ValidationError(
                    "transitions", f"{edge} leaves {move.source!r}, which is terminal"
                )
            if (move.source, move.target) in edges:
                raise ValidationError("transitions", f"{edge} is declared twice")
            edges[(move.source, move.target)] = move
            for guard in move.guards:
                if guard not in self.guards:
                    raise ValidationError("guards", f"{edge} names guard {guard!r}, not registered")
        for stage in self.stages:
            for handler in (*stage.on_enter, *stage.on_exit):
                if handler not in self.handlers:
                    raise ValidationError(
                        "handlers", f"stage {stage.key!r} names handler {handler!r}, not registered"
                    )
        object.__setattr__(self, "_by_key", MappingProxyType(by_key))
        object.__setattr__(self, "_edges", MappingProxyType(edges))
        self._check_paths()

    def _check_paths(self) -> None:
        forward: dict[str, list[str]] = {stage.key: [] for stage in self.stages}
        backward: dict[str, list[str]] = {stage.key: [] for stage in self.stages}
        for source, target in self._edges:
            forward[source].append(target)
            backward[target].append(source)
        after_won = _reachable(
            [s.key for s in self.stages if s.outcome is StageOutcome.WON], forward
        )
        for key in after_won:
            if self._by_key[key].outcome is None:
                raise ValidationError(
                    "stages", f"open stage {key!r} can be reached from a won stage"
                )
        reached = _reachable([self.initial], forward)
        finishing = _reachable([s.key for s in self.stages if s.terminal], backward)
        for stage in self.stages:
            if stage.terminal:
                continue
            if stage.key not in reached:
                raise ValidationError(
                    "stages", f"{stage.key!r} cannot be reached from {self.initial!r}"
                )
            if stage.key not in finishing:
                raise ValidationError(
                    "stages", f"open stage {stage.key!r} has no path to a terminal stage"
                )

    @property
    def keys(self) -> tuple[str, ...]:
        """Stage keys in declared order."""
        return tuple(self._by_key)

    def stage(self, key: str) -> Stage:
        """The stage with ``key``; ``ValidationError`` on field ``stage`` if there is none."""
        try:
            return self._by_key[key]
        except (KeyError, TypeError):
            raise ValidationError("stage", f"{key!r} is not a stage of {self.name!r}") from None

    def outcome(self, key: str) -> StageOutcome | None:
        """The outcome of stage ``key``: what a subject there has come to."""
        return self.stage(key).outcome

    def stages_with(self, outcome: StageOutcome | str | None) -> tuple[str, ...]:
        """Keys of the stages with ``outcome`` (``None``: the open ones), in declared order."""
        wanted = _outcome(outcome)
        return tuple(stage.key for stage in self.stages if stage.outcome is wanted)

    def transition(self, source: str, target: str) -> Transition | None:
        """The declared move from ``source`` to ``target``, or ``None``."""
        return self._edges.get((source, target))

    def targets(self, source: str) -> tuple[str, ...]:
        """Where a subject in ``source`` may go next, in declared order (for menus)."""
        return tuple(target for (start, target) in self._edges if start == source)

    def to_dict(self) -> dict[str, Any]:
        """The definition as JSON-ready data (guards and handlers appear only by name)."""
        return {
            "name": self.name,
            "initial": self.initial,
            "stages": [stage.to_dict() for stage in self.stages],
            "transitions": [move.to_dict() for move in self.transitions],
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        guards: Mapping[str, Guard] | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> StageMachine:
        """Build from :meth:`to_dict` data, registering the named ``guards`` and ``handlers``.

        Errors in a stage or transition name it by position, e.g. ``stages[2].probability``.
        """
        data = _reject_unknown(data, _MACHINE_FIELDS, "stage machine")
        stages = [
            _within(f"stages[{i}]", Stage.from_dict, item)
            for i, item in enumerate(_sequence(data.get("stages"), "stages"))
        ]
        moves = [
            _within(f"transitions[{i}]", Transition.from_dict, item)
            for i, item in enumerate(_sequence(data.get("transitions", ()), "transitions"))
        ]
        # Missing or mistyped values are left to the converters, which name the field.
        options: dict[str, Any] = {"name": data.get("name")}
        if data.get("initial") is not None:
            options["initial"] = data["initial"]
        return cls(
            stages=stages,
            transitions=moves,
            guards=guards,
            handlers=handlers,
            **options,
        )


def _sequence(value: object, field: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(field, "expected a list")
    return list(value)


def _reachable(starts: Iterable[str], graph: Mapping[str, list[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(seen)
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen

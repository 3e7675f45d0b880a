"""Where a subject has been: one visit per stage entered, kept for stage-duration analytics.

A :class:`StageState` is nothing but its history. The current stage is the last, still open
visit, so the state cannot disagree with its own record: reports on stage durations and
conversion read the same visits that decide where a deal stands.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

KEY_PATTERN = r"[A-Za-z_][A-Za-z0-9_-]{0,63}"
"""What a stage, deliverable, guard or handler key looks like: identifier-like, at most 64
characters, so it is safe as a JSON key, a column value and part of an event name."""

ACTOR_MAX = 120
REASON_MAX = 2000


_KEY = re.compile(KEY_PATTERN)


def check_key(value: object, field: str) -> str:
    """``value`` if it is a well-formed key, else ``ValidationError`` naming ``field``."""
    if not isinstance(value, str):
        raise ValidationError(field, f"expected text, got {type(value).__name__}", value=value)
    if not _KEY.fullmatch(value):
        raise ValidationError(
            field,
            "a key starts with a letter or underscore and has at most 64 letters, digits, "
            "underscores or dashes",
            value=value,
        )
    return value


def _stage(value: str) -> str:
    return check_key(value, "stage")


def _entered_at(value: datetime | str) -> datetime:
    moment = conv.check_datetime(value, "entered_at", required=True)
    assert moment is not None  # required=True never returns None
    return moment


def _left_at(value: datetime | str | None) -> datetime | None:
    return conv.check_datetime(value, "left_at", required=False)


def _entered_by(value: str) -> str:
    actor = conv.check_text(value, "entered_by", max_length=ACTOR_MAX, required=True)
    assert actor is not None
    return actor


def _left_by(value: str | None) -> str | None:
    return conv.check_text(value, "left_by", max_length=ACTOR_MAX, required=False)


def _reason(value: str | None) -> str | None:
    return conv.check_text(value, "reason", max_length=REASON_MAX, required=False)


@attrs.frozen(kw_only=True)
class StageVisit:
    """One stay in one stage: who moved the subject in and out, and when.

    ``reason`` says why the subject *entered* the stage (a lost deal's visit to ``lost``
    carries the loss reason), so reason analytics read a single visit. ``left_at`` and
    ``left_by`` are ``None`` while the visit is the current one.
    """

    stage: str = attrs.field(converter=_stage)
    entered_at: datetime = attrs.field(converter=_entered_at)
    entered_by: str = attrs.field(converter=_entered_by)
    left_at: datetime | None = attrs.field(default=None, converter=_left_at)
    left_by: str | None = attrs.field(default=None, converter=_left_by)
    reason: str | None = attrs.field(default=None, converter=_reason)

    def __attrs_post_init__(self) -> None:
        if (self.left_at is None) != (self.left_by is None):
            raise ValidationError("left_by", "is set exactly when left_at is")
        if self.left_at is not None and self.left_at < self.entered_at:
            raise ValidationError("left_at", "is before entered_at", value=self.left_at)

    @property
    def is_open(self) -> bool:
        return self.left_at is None

    def duration(self, now: datetime | None = None) -> timedelta | None:
        """Time spent in the stage; an open visit counts up to ``now`` (``None`` without it)."""
        end = (
            self.left_at
            if self.left_at is not None
            else conv.check_datetime(now, "now", required=False)
        )
        if end is None:
            return None
        return max(end - self.entered_at, timedelta(0))


def _visits(value: Iterable[StageVisit]) -> tuple[StageVisit, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("history", "expected a sequence of StageVisit")
    visits = tuple(value)
    if not visits:
        raise ValidationError("history", "needs at least the visit to the current stage")
    for visit in visits:
        if not isinstance(visit, StageVisit):
            raise ValidationError("history", f"expected StageVisit, got {type(visit).__name__}")
    if not visits[-1].is_open:
        raise ValidationError("history", "the last visit is the current stage and must be open")
    for before, after in itertools.pairwise(visits):
        if before.is_open:
            raise ValidationError("history", f"visit to {before.stage!r} is not the last but open")
        if before.left_at != after.entered_at or before.left_by != after.entered_by:
            raise ValidationError(
                "history",
                f"visit to {after.stage!r} does not start when and by whom {before.stage!r} "
                "was left",
            )
        if before.stage == after.stage:
            raise ValidationError("history", f"{before.stage!r} follows itself")
    return visits


@attrs.frozen(kw_only=True)
class StageState:
    """Where a subject stands in a stage machine, with every visit that led there.

    Build the first one with :func:`pycrm.pipeline.start` and the next ones with
    :func:`pycrm.pipeline.advance`; a state read back from storage is
    ``StageState(history=visits)``, and its visits are checked to be contiguous.
    """

    history: tuple[StageVisit, ...] = attrs.field(converter=_visits)

    @property
    def current(self) -> StageVisit:
        """The visit to the current stage (still open)."""
        return self.history[-1]

    @property
    def stage(self) -> str:
        """The key of the current stage."""
        return self.history[-1].stage

    @property
    def entered_at(self) -> datetime:
        """When the current stage was entered."""
        return self.history[-1].entered_at

    def durations(self, now: datetime | None = None) -> dict[str, timedelta]:
        """Total time per stage key over all visits, in first-visit order.

        The current visit counts up to ``now``; without ``now`` only finished visits count,
        which is what a report of completed stages wants.
        """
        totals: dict[str, timedelta] = {}
        for visit in self.history:
            spent = visit.duration(now)
            if spent is not None:
                totals[visit.stage] = totals.get(visit.stage, timedelta(0)) + spent
        return totals


@attrs.frozen(kw_only=True)
class StageEvent:
    """A subject entered ``target`` (from ``source``; ``None`` when it started there)."""

    machine: str
    source: str | None
    target: str
    at: datetime
    by: str
    reason: str | None = None

"""Tasks: things someone has to do by a time, usually about a customer."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.errors import IllegalTransition, ValidationError


class TaskStatus(str, enum.Enum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@attrs.frozen(kw_only=True)
class Task(Entity):
    """A to-do with a due time and an assignee.

    ``about`` is the id of the entity the task concerns (an interaction, later an opportunity
    or ticket); its prefix says its kind. ``kind`` is free text such as ``"follow_up"``.
    ``key``, when set, identifies the task among all tasks: automation names the occasion a
    task is for with it, so a second run of a rule finds the task instead of adding another.
    """

    ENTITY_TYPE: ClassVar[str] = "task"
    ID_PREFIX: ClassVar[str] = "tsk"

    subject: str = attrs.field(converter=conv.text(200))
    due_at: datetime = attrs.field(converter=conv.aware_datetime())
    assignee: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    customer_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    about: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    kind: str = attrs.field(default="follow_up", converter=conv.text(40))
    status: TaskStatus = attrs.field(default=TaskStatus.OPEN, converter=conv.choice(TaskStatus))
    closed_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    notes: str | None = attrs.field(default=None, converter=conv.optional_text(4000))
    key: str | None = attrs.field(default=None, converter=conv.optional_text(128))

    def __attrs_post_init__(self) -> None:
        if (self.status is TaskStatus.OPEN) != (self.closed_at is None):
            raise ValidationError("closed_at", "is set exactly when the task is done or cancelled")

    def is_overdue(self, now: datetime) -> bool:
        return self.status is TaskStatus.OPEN and self.due_at < now


def complete_task(task: Task, *, now: datetime, notes: str | None = None) -> Task:
    """Mark an open task done at ``now``."""
    return _close(task, TaskStatus.DONE, now=now, notes=notes)


def cancel_task(task: Task, *, now: datetime, notes: str | None = None) -> Task:
    """Cancel an open task at ``now``."""
    return _close(task, TaskStatus.CANCELLED, now=now, notes=notes)


def _close(task: Task, status: TaskStatus, *, now: datetime, notes: str | None) -> Task:
    if task.status is not TaskStatus.OPEN:
        raise IllegalTransition("task", task.status.value, status.value)
    return task.evolve(status=status, closed_at=now, notes=notes if notes else task.notes)

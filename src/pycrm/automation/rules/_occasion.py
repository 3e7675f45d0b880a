"""An occasion a rule acts on once, and the effects it makes about it.

A rule that gives someone a task also tells them, and a second tick must make neither again.
So the task and its notices share one key scheme: the occasion's key with ``:task`` for the
task, ``:notice`` for the notice announcing it (which names the task, so that once the task
exists the notice is not queued again), and a suffix of its own for any other notice about
the occasion (a supervisor's copy, a repeated reminder), which does not depend on the task.
Building them here keeps that scheme, and the customer they are all about, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from pycrm.automation.effects import Notice, Staff
from pycrm.domain import Customer, Task

SUBJECT_LENGTH = 200
"""The longest task subject: a subject made from a record's names is cut to it, not refused."""


@attrs.frozen
class Occasion:
    """What a rule acts on once: ``key`` names it (``rule:part:part``, no effect suffix) and
    ``customer_id`` is the customer its task and notices are about."""

    key: str
    customer_id: str | None

    @property
    def task_key(self) -> str:
        return f"{self.key}:task"

    def task(
        self,
        subject: str,
        *,
        due_at: datetime,
        assignee: str | None,
        kind: str,
        about: str | None = None,
        notes: str | None = None,
    ) -> Task:
        """The occasion's task, for ``assignee`` (``None``: nobody is responsible yet)."""
        return Task(
            key=self.task_key,
            subject=subject[:SUBJECT_LENGTH],
            due_at=due_at,
            assignee=assignee,
            customer_id=self.customer_id,
            about=about,
            kind=kind,
            notes=notes,
        )

    def notice(
        self,
        template: str,
        values: Mapping[str, Any],
        to: Staff | Customer,
        *,
        send_at: datetime | None = None,
    ) -> Notice:
        """The notice announcing the task: not queued once the task exists, even when this
        tick makes no task (a rule with tasks switched off, or one made earlier)."""
        return Notice(
            key=f"{self.key}:notice",
            task_key=self.task_key,
            template=template,
            values=values,
            to=to,
            customer_id=self.customer_id,
            send_at=send_at,
        )

    def other_notice(
        self, suffix: str, template: str, values: Mapping[str, Any], to: Staff
    ) -> Notice:
        """A notice about the occasion under a key of its own (``key:suffix``) that does not
        announce the task, so it goes out whether the task exists or not."""
        return Notice(
            key=f"{self.key}:{suffix}",
            template=template,
            values=values,
            to=to,
            customer_id=self.customer_id,
        )


def supervisor_copy(supervisor: str | None, handler: str | None) -> str | None:
    """Who gets an escalation copy of what ``handler`` is told: the supervisor, unless there
    is none, or nobody else handles it (the supervisor was told as the handler), or the
    supervisor is the handler (one notice is enough)."""
    if supervisor is None or handler is None or supervisor == handler:
        return None
    return supervisor

"""An automation rule: what it is asked, and what it answers.

A rule works a page at a time. The tick calls :meth:`AutomationRule.run` with a fresh
session and a cursor (``after``, ``None`` at first); the rule reads one page of what it
looks at, set-based, and answers a :class:`RuleBatch`: the tasks and notices it wants and
the cursor for the next page. The tick writes the batch in that same session and commits it
before asking for the next page, so memory stays bounded however many customers there are,
and a tick cut off halfway picks up where it stopped the next time it runs: every effect
carries a key, and an effect whose key exists is not created again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from pycrm.automation.effects import Notice
from pycrm.domain import Task
from pycrm.errors import ValidationError

if TYPE_CHECKING:
    from pycrm.crm import CRM
    from pycrm.session import Session

Effect = Task | Notice
"""What a rule produces: a :class:`pycrm.Task` (with a ``key``) or a :class:`Notice`."""


def _check_effects(value: Any) -> tuple[Effect, ...]:
    effects = tuple(value)
    for effect in effects:
        if isinstance(effect, Task):
            if effect.key is None:
                raise ValidationError("effects", f"task {effect.subject!r} needs a key")
        elif not isinstance(effect, Notice):
            raise ValidationError(
                "effects", f"expected Task or Notice, got {type(effect).__name__}"
            )
    return effects


@attrs.frozen
class RuleBatch:
    """One page of a rule's answer: ``effects`` to create, and ``next_after``, the cursor to
    run the rule with next (``None``: the rule is done for this tick)."""

    effects: Sequence[Effect] = attrs.field(default=(), converter=_check_effects)
    next_after: str | None = None


@attrs.frozen
class TickContext:
    """What a rule sees during one page of a tick.

    ``session`` is the page's unit of work (as the automation actor); read through it, and
    leave writing to the tick, which writes the batch's effects in it. ``now`` is the tick's
    moment, the same for every rule and page, so that keys built from it agree. ``limit`` is
    how many records a page should read.
    """

    session: Session
    now: datetime
    limit: int

    @property
    def crm(self) -> CRM:
        return self.session.crm


@runtime_checkable
class AutomationRule(Protocol):
    """A rule has a ``name`` (a key such as ``"birthday_care"``, unique in a CRM) and
    :meth:`run`. Built-in rules are attrs classes whose fields are their settings; a host
    configures one by registering a copy with other settings (``crm.automation.add(rule,
    replace=True)``) and switches one off with ``crm.automation.disable(name)``."""

    @property
    def name(self) -> str: ...

    def run(self, context: TickContext, after: str | None) -> RuleBatch:
        """One page of effects from the records after cursor ``after`` (``None``: from the
        start), and the cursor of the next page."""
        ...

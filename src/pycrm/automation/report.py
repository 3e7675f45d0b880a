"""What a tick did, rule by rule: the figures a scheduler logs and alerts on."""

from __future__ import annotations

from datetime import datetime

import attrs


@attrs.frozen(kw_only=True)
class RuleReport:
    """One rule's part of a tick. ``skipped`` counts effects whose key was already taken (an
    earlier tick made them); ``unaddressed`` notices no channel or address could take;
    ``error`` is set when the rule failed (its committed pages stay, the rest is undone)."""

    name: str
    tasks_created: int = 0
    messages_queued: int = 0
    skipped: int = 0
    unaddressed: int = 0
    pages: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@attrs.frozen(kw_only=True)
class TickReport:
    """A tick's moment and each rule's report, in the order the rules ran."""

    now: datetime
    rules: tuple[RuleReport, ...] = ()

    @property
    def tasks_created(self) -> int:
        return sum(r.tasks_created for r in self.rules)

    @property
    def messages_queued(self) -> int:
        return sum(r.messages_queued for r in self.rules)

    @property
    def skipped(self) -> int:
        return sum(r.skipped for r in self.rules)

    @property
    def unaddressed(self) -> int:
        return sum(r.unaddressed for r in self.rules)

    @property
    def failed(self) -> tuple[RuleReport, ...]:
        """The rules that raised: a scheduler should alert on these."""
        return tuple(r for r in self.rules if r.error is not None)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        width = max((len(r.name) for r in self.rules), default=4)
        lines = [
            f"tick at {self.now.isoformat()}",
            f"{'rule':<{width}}  tasks  messages  skipped  unaddressed",
        ]
        for r in self.rules:
            line = (
                f"{r.name:<{width}}  {r.tasks_created:>5}  {r.messages_queued:>8}  "
                f"{r.skipped:>7}  {r.unaddressed:>11}"
            )
            lines.append(line if r.error is None else f"{line}  FAILED: {r.error}")
        lines.append(
            f"{'total':<{width}}  {self.tasks_created:>5}  {self.messages_queued:>8}  "
            f"{self.skipped:>7}  {self.unaddressed:>11}"
        )
        return "\n".join(lines)

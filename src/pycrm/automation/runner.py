"""The tick: every enabled rule, a page at a time, each page's effects written with it.

Each page is a session of its own, committed before the next page is read, so a tick over a
large CRM holds one page in memory and a tick cut off halfway keeps what it committed. Keys
make it idempotent: an effect whose key exists is skipped, so running the tick again, at the
same moment or later, creates nothing it created before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import attrs

from pycrm.analytics.aggregate import Aggregation, Count
from pycrm.automation.effects import Notice, Staff
from pycrm.automation.recipients import recipient_for
from pycrm.automation.report import RuleReport, TickReport
from pycrm.automation.rule import AutomationRule, RuleBatch, TickContext
from pycrm.domain import Task
from pycrm.errors import PluginError, ValidationError
from pycrm.notify import sees_personal_data
from pycrm.outbox.message import OutboxMessage
from pycrm.query import MAX_ONE_OF, OneOf

if TYPE_CHECKING:
    from pycrm.crm import CRM
    from pycrm.session import Session

log = logging.getLogger("pycrm.automation")

T = TypeVar("T", Task, Notice)


@attrs.define
class _Counts:
    tasks_created: int = 0
    messages_queued: int = 0
    skipped: int = 0
    unaddressed: int = 0

    def add(self, other: _Counts) -> None:
        self.tasks_created += other.tasks_created
        self.messages_queued += other.messages_queued
        self.skipped += other.skipped
        self.unaddressed += other.unaddressed

    @property
    def effects(self) -> int:
        return self.tasks_created + self.messages_queued + self.skipped + self.unaddressed


def run_tick(
    crm: CRM,
    rules: Sequence[AutomationRule],
    *,
    now: datetime,
    limit: int,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> TickReport:
    """Run ``rules`` at ``now`` (see :meth:`pycrm.CRM.tick`); ``progress`` is told the
    running total of effects handled."""
    reports: list[RuleReport] = []
    done = 0
    for rule in rules:
        counts = _Counts()
        pages = 0
        error: str | None = None
        after: str | None = None
        try:
            while True:
                with crm.session(actor=actor) as session:
                    batch = rule.run(TickContext(session, now, limit), after)
                    if not isinstance(batch, RuleBatch):
                        raise PluginError(
                            rule.name, f"run() must return a RuleBatch, not {type(batch).__name__}"
                        )
                    page = write_effects(session, batch.effects)
                counts.add(page)  # only once the page has committed
                pages += 1
                done += page.effects
                if progress is not None:
                    progress(done)
                if batch.next_after is None:
                    break
                if batch.next_after == after:
                    raise PluginError(rule.name, f"run() returned cursor {after!r} again")
                after = batch.next_after
        except Exception as exc:  # one rule's failure must not stop the others
            log.exception("automation rule %r failed at %s", rule.name, now.isoformat())
            error = f"{type(exc).__name__}: {exc}"
        reports.append(
            RuleReport(
                name=rule.name,
                tasks_created=counts.tasks_created,
                messages_queued=counts.messages_queued,
                skipped=counts.skipped,
                unaddressed=counts.unaddressed,
                pages=pages,
                error=error,
            )
        )
    return TickReport(now=now, rules=tuple(reports))


def write_effects(session: Session, effects: Sequence[Task | Notice]) -> _Counts:
    """Create, in ``session``, the effects whose keys are not taken yet."""
    counts = _Counts()
    tasks = [e for e in effects if isinstance(e, Task)]
    notices = [e for e in effects if isinstance(e, Notice)]
    # Tasks that existed before this page: their own effects and the notices announcing
    # them are done.
    done = _taken(session, "task", [*(t.key for t in tasks), *(n.task_key for n in notices)])
    if tasks:
        fresh = _untaken(tasks, done)
        counts.skipped += len(tasks) - len(fresh)
        counts.tasks_created += session.tasks.add_many(fresh)
    if notices:
        announced = [n for n in notices if n.task_key is None or n.task_key not in done]
        sent = _taken(session, "outbox_message", [n.key for n in announced])
        fresh_notices = _untaken(announced, sent)
        counts.skipped += len(notices) - len(fresh_notices)
        messages = [m for m in (_message(session, n) for n in fresh_notices) if m is not None]
        counts.unaddressed += len(fresh_notices) - len(messages)
        counts.messages_queued += session.outbox.add_many(messages)
    return counts


def _untaken(effects: list[T], taken: set[str]) -> list[T]:
    """The effects whose key is not in ``taken``; of a key twice in one page, the first."""
    seen = set(taken)
    fresh: list[T] = []
    for effect in effects:
        key = str(effect.key)
        if key not in seen:
            seen.add(key)
            fresh.append(effect)
    return fresh


def _taken(session: Session, entity: str, keys: Iterable[str | None]) -> set[str]:
    """Which of ``keys`` are stored on ``entity`` records: the keys alone, grouped in the
    store, a thousand at a time (no record is read whole, nor an outbox message decrypted)."""
    wanted = sorted({key for key in keys if key is not None})
    taken: set[str] = set()
    for start in range(0, len(wanted), MAX_ONE_OF):
        chunk = OneOf(wanted[start : start + MAX_ONE_OF])
        rows = session.aggregate(
            Aggregation(entity=entity, group_by="key", measures=[Count()], filters={"key": chunk})
        )
        taken.update(str(row[0]) for row in rows)
    return taken


def _message(session: Session, notice: Notice) -> OutboxMessage | None:
    """The outbox message for ``notice``, or ``None`` when no channel or address takes it."""
    crm = session.crm
    automation = crm.automation
    name = automation.staff_channel if isinstance(notice.to, Staff) else automation.customer_channel
    if name is None:
        return None
    channel = crm.channels.get(name)
    if channel is None:
        known = ", ".join(sorted(crm.channels))
        raise ValidationError("channel", f"no notification channel named {name!r} ({known})")
    recipient = recipient_for(crm, notice.to, name)
    if recipient is None:
        return None
    rendered = crm.templates.render(
        notice.template,
        notice.values,
        locale=notice.locale if notice.locale is not None else automation.locale,
        personal_data=sees_personal_data(channel),
    )
    customer_id = notice.customer_id
    if customer_id is None and not isinstance(notice.to, Staff):
        customer_id = notice.to.id
    return OutboxMessage.of(
        rendered.notification(channel=name, recipient=recipient, key=notice.key),
        send_at=notice.send_at if notice.send_at is not None else session.now,
        customer_id=customer_id,
    )

"""The ticket status machine: new → assigned → in progress ⇄ waiting on customer → resolved
→ closed, and reopened from resolved.

It is a :class:`~pycrm.pipeline.StageMachine` like a sales pipeline, so a ticket's history
of status changes is a stage history (who moved it, when, why) and the SLA clocks are a pure
function of it. A closed ticket stays closed, as in most help desks: the customer's next
message about it opens a new ticket linked to the old one, so closed tickets' numbers never
change under a report.
"""

from __future__ import annotations

import enum
import functools

from pycrm.pipeline.machine import Stage, StageMachine, Transition, from_any_open_stage

TICKETS = "tickets"
"""Name of the ticket status machine."""


class TicketStatus(str, enum.Enum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


PAUSED_STATUSES = frozenset({TicketStatus.WAITING_ON_CUSTOMER})
"""Statuses in which the SLA clocks stand still: the ball is in the customer's court."""

_LABELS = {
    TicketStatus.NEW: ("New", "新建"),
    TicketStatus.ASSIGNED: ("Assigned", "已分派"),
    TicketStatus.IN_PROGRESS: ("In progress", "处理中"),
    TicketStatus.WAITING_ON_CUSTOMER: ("Waiting on customer", "等待客户"),
    TicketStatus.RESOLVED: ("Resolved", "已解决"),
    TicketStatus.CLOSED: ("Closed", "已关闭"),
}


def _stage(status: TicketStatus, **fields: object) -> Stage:
    english, chinese = _LABELS[status]
    return Stage(key=status.value, labels={"en": english, "zh-CN": chinese}, **fields)  # type: ignore[arg-type]


@functools.cache
def ticket_machine() -> StageMachine:
    """The ``"tickets"`` machine. Any open ticket can be resolved (an inquiry answered on
    the first call needs no stops on the way); reopening a resolved ticket needs a reason.
    The machine is an immutable value, so one shared instance serves every caller."""
    s = TicketStatus
    stages = (
        _stage(s.NEW),
        _stage(s.ASSIGNED),
        _stage(s.IN_PROGRESS),
        _stage(s.WAITING_ON_CUSTOMER),
        _stage(s.RESOLVED),
        _stage(s.CLOSED, terminal=True),
    )
    moves = [
        (s.NEW, s.ASSIGNED),
        (s.ASSIGNED, s.IN_PROGRESS),
        (s.IN_PROGRESS, s.WAITING_ON_CUSTOMER),
        (s.WAITING_ON_CUSTOMER, s.IN_PROGRESS),
        (s.RESOLVED, s.CLOSED),
    ]
    return StageMachine(
        name=TICKETS,
        stages=stages,
        transitions=(
            *(Transition(source=a.value, target=b.value) for a, b in moves),
            *from_any_open_stage(stages, s.RESOLVED.value),
            Transition(source=s.RESOLVED.value, target=s.IN_PROGRESS.value, requires_reason=True),
        ),
    )

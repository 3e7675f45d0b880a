"""The approval flow as a stage machine: draft, one pending stage per level, approved or
rejected.

Which levels a contract needs depends on its amount (see :class:`ApprovalPolicy`), so the
machine declares every forward skip: from draft to any level's pending stage, from a pending
stage to any later one or straight to approved. The contract records the levels it needs
when submitted, and the approval functions walk exactly those; the machine keeps a stored
history honest (no move backwards, no leaving approved or rejected).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from pycrm.errors import ValidationError
from pycrm.pipeline import Stage, StageMachine, Transition, from_any_open_stage
from pycrm.pipeline.history import check_key

APPROVAL = "contract_approval"
"""Name of the machine :func:`approval_machine` builds, recorded on every contract."""

DRAFT = "draft"
APPROVED = "approved"
REJECTED = "rejected"
PENDING_PREFIX = "pending_"

DEFAULT_LEVELS = ("sales", "finance", "management")
"""Sales, then finance, then management: each level signs off after the one before."""

_LABELS = {
    "sales": {"en": "Sales approval", "zh-CN": "销售审批"},
    "finance": {"en": "Finance approval", "zh-CN": "财务审批"},
    "management": {"en": "Management approval", "zh-CN": "总经理审批"},
}


def pending_stage(level: str) -> str:
    """The stage a contract waits in for ``level``'s approval: ``pending_<level>``."""
    return PENDING_PREFIX + level


def level_of(stage: str) -> str | None:
    """The level a pending stage waits for, ``None`` for draft, approved and rejected."""
    return stage[len(PENDING_PREFIX) :] if stage.startswith(PENDING_PREFIX) else None


def check_levels(levels: Iterable[str], field: str = "levels") -> tuple[str, ...]:
    """Levels as a tuple of distinct keys, at least one."""
    if isinstance(levels, str) or not isinstance(levels, Iterable):
        raise ValidationError(field, "expected a sequence of level names", value=levels)
    checked = tuple(check_key(level, field) for level in levels)
    if not checked:
        raise ValidationError(field, "needs at least one level")
    if len(set(checked)) != len(checked):
        raise ValidationError(field, "names a level twice", value=checked)
    if any(len(pending_stage(level)) > 64 for level in checked):
        raise ValidationError(field, "level names are at most 56 characters")
    return checked


@functools.cache
def _machine(levels: tuple[str, ...]) -> StageMachine:
    pending = [
        Stage(key=pending_stage(level), labels=_LABELS.get(level, {"en": level}))
        for level in levels
    ]
    stages = (
        Stage(key=DRAFT, labels={"en": "Draft", "zh-CN": "草稿"}),
        *pending,
        Stage(key=APPROVED, labels={"en": "Approved", "zh-CN": "已批准"}, terminal=True),
        Stage(key=REJECTED, labels={"en": "Rejected", "zh-CN": "已驳回"}, terminal=True),
    )
    keys = [stage.key for stage in pending]
    forward = [Transition(source=DRAFT, target=key) for key in keys]
    for i, source in enumerate(keys):
        forward.extend(Transition(source=source, target=target) for target in keys[i + 1 :])
        forward.append(Transition(source=source, target=APPROVED))
    return StageMachine(
        name=APPROVAL,
        stages=stages,
        transitions=(
            *forward,
            *from_any_open_stage(pending, REJECTED, requires_reason=True),
        ),
    )


def approval_machine(levels: Iterable[str] = DEFAULT_LEVELS) -> StageMachine:
    """The ``"contract_approval"`` machine for ``levels``, in signing order.

    Rejection (with a reason) is possible from every pending stage, not from draft: a draft
    is simply not submitted. Machines are immutable, so one instance per level list is shared.
    """
    return _machine(check_levels(levels))

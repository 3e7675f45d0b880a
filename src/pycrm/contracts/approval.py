"""Submitting, approving and rejecting contracts: pure functions returning
``(contract, events)``.

Each step runs on the approval machine of exactly the levels the contract needs
(:func:`approval_machine` of ``contract.approval_levels``), so the machine itself refuses a
move the contract's levels do not allow. Every check runs before anything is built: a
refused step raises and the contract stays as it was.
"""

from __future__ import annotations

from datetime import datetime

from pycrm.contracts.contract import Contract, ContractStatus
from pycrm.contracts.machine import (
    APPROVAL,
    APPROVED,
    DRAFT,
    REJECTED,
    approval_machine,
    level_of,
    pending_stage,
)
from pycrm.contracts.policy import ApprovalPolicy
from pycrm.domain import _convert as conv
from pycrm.errors import IllegalTransition, ValidationError
from pycrm.pipeline import advance


def submit_for_approval(
    contract: Contract, *, policy: ApprovalPolicy, now: datetime, by: str
) -> tuple[Contract, list[object]]:
    """Send a draft to its first approver. ``policy`` decides the levels from the amount;
    they are recorded on the contract and do not change while it is in approval."""
    _check(contract)
    if not isinstance(policy, ApprovalPolicy):
        raise ValidationError("policy", f"expected ApprovalPolicy, got {type(policy).__name__}")
    levels = policy.levels_for(contract.amount)
    if contract.approval.stage != DRAFT:
        raise IllegalTransition(APPROVAL, contract.approval.stage, pending_stage(levels[0]))
    state, events = advance(
        contract.approval,
        pending_stage(levels[0]),
        now=now,
        by=by,
        machine=approval_machine(levels),
        subject=contract,
    )
    return contract.evolve(
        approval=state, approval_levels=levels, status=ContractStatus.PENDING_APPROVAL
    ), events


def approve(
    contract: Contract, *, level: str, now: datetime, by: str
) -> tuple[Contract, list[object]]:
    """Approve at ``level``, which must be the level the contract waits for; the contract
    moves on to the next level it needs, or to approved after the last.

    A contract not in approval raises :class:`~pycrm.IllegalTransition`; any other level
    than the awaited one (including one that already approved) raises
    :class:`~pycrm.ValidationError` on ``level``.
    """
    _check(contract)
    waiting = _awaited(contract, level, APPROVED)
    levels = contract.approval_levels
    following = levels.index(waiting) + 1
    target = pending_stage(levels[following]) if following < len(levels) else APPROVED
    state, events = advance(
        contract.approval,
        target,
        now=now,
        by=by,
        machine=approval_machine(levels),
        subject=contract,
    )
    status = ContractStatus.APPROVED if target == APPROVED else ContractStatus.PENDING_APPROVAL
    return contract.evolve(approval=state, status=status), events


def reject(
    contract: Contract, *, level: str, now: datetime, by: str, reason: str
) -> tuple[Contract, list[object]]:
    """Reject at the awaited ``level``, giving a ``reason`` (required, kept on the visit to
    ``rejected``). A rejected contract is final; a revised one is drafted anew."""
    _check(contract)
    _awaited(contract, level, REJECTED)
    why = conv.check_text(reason, "reason", max_length=2000, required=True)
    state, events = advance(
        contract.approval,
        REJECTED,
        now=now,
        by=by,
        machine=approval_machine(contract.approval_levels),
        reason=why,
        subject=contract,
    )
    return contract.evolve(approval=state, status=ContractStatus.REJECTED), events


def pending_approver_level(contract: Contract) -> str | None:
    """The level whose approval the contract waits for, ``None`` when it waits for nobody
    (draft, approved, rejected). Reminder rules read it."""
    _check(contract)
    return level_of(contract.approval.stage)


def _awaited(contract: Contract, level: str, target: str) -> str:
    waiting = level_of(contract.approval.stage)
    if waiting is None:
        raise IllegalTransition(APPROVAL, contract.approval.stage, target)
    if not isinstance(level, str) or level != waiting:
        done = level in contract.approval_levels and contract.approval_levels.index(
            level
        ) < contract.approval_levels.index(waiting)
        problem = "has already approved" if done else "is not the level the contract waits for"
        raise ValidationError("level", f"{level!r} {problem}; waiting for {waiting!r}", value=level)
    return waiting


def _check(value: object) -> Contract:
    if not isinstance(value, Contract):
        raise ValidationError("contract", f"expected Contract, got {type(value).__name__}")
    return value

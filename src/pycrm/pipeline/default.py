"""The default sales pipeline: initial contact to deal review, plus lost.

It is the process most sales teams already follow (and that Odoo and ERPNext ship), so a host
gets a working pipeline without defining one; hosts with their own process build a
:class:`~pycrm.pipeline.StageMachine` the same way and store its definition.
"""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta
from decimal import Decimal

from pycrm.pipeline.machine import (
    Stage,
    StageMachine,
    StageOutcome,
    Transition,
    from_any_open_stage,
)

SALES = "sales"
"""Name of the default pipeline, the ``pipeline`` an opportunity gets unless told otherwise."""

LOST = "lost"
"""The stage a lost deal ends in; moving there needs a reason, recorded as the lost reason."""

STALE_AFTER = timedelta(days=7)
"""An open deal with no follow-up for a week is stale, whatever its stage."""


def _stages() -> tuple[Stage, ...]:
    return (
        Stage(
            key="initial_contact",
            deadline=timedelta(days=7),
            stale_after=STALE_AFTER,
            labels={"en": "Initial contact", "zh-CN": "初步接触"},
            probability=Decimal("0.10"),
            actions=(
                "Qualify budget, authority, need and timing",
                "Identify the decision maker",
                "Record the first visit or call",
            ),
        ),
        Stage(
            key="needs_confirmed",
            deadline=timedelta(days=3),
            stale_after=STALE_AFTER,
            labels={"en": "Needs confirmed", "zh-CN": "需求确认"},
            probability=Decimal("0.25"),
            required_deliverables=("needs_document",),
            actions=(
                "Write down the confirmed needs and have the customer agree to them",
                "Agree the budget range and the decision process",
            ),
        ),
        Stage(
            key="proposal",
            deadline=timedelta(days=14),
            stale_after=STALE_AFTER,
            labels={"en": "Proposal", "zh-CN": "方案提交"},
            probability=Decimal("0.50"),
            required_deliverables=("quote",),
            actions=(
                "Present the solution",
                "Send the quote",
            ),
        ),
        Stage(
            key="negotiation",
            deadline=timedelta(days=30),
            stale_after=STALE_AFTER,
            labels={"en": "Negotiation", "zh-CN": "商务谈判"},
            probability=Decimal("0.70"),
            actions=(
                "Negotiate price, payment terms and delivery",
                "Escalate discounts beyond the rep's authority",
            ),
        ),
        Stage(
            key="contract_signed",
            deadline=timedelta(days=14),
            stale_after=STALE_AFTER,
            labels={"en": "Contract signed", "zh-CN": "合同签订"},
            probability=Decimal("1.00"),
            outcome=StageOutcome.WON,
            required_deliverables=("signed_contract",),
            actions=(
                "File the signed contract",
                "Hand over to delivery and set up the payment plan",
            ),
        ),
        Stage(
            key="deal_review",
            labels={"en": "Deal review", "zh-CN": "成交复盘"},
            terminal=True,
            probability=Decimal("1.00"),
            outcome=StageOutcome.WON,
            actions=("Review what won the deal and what to repeat",),
        ),
        Stage(
            key=LOST,
            labels={"en": "Lost", "zh-CN": "输单"},
            terminal=True,
            probability=Decimal("0"),
            outcome=StageOutcome.LOST,
            actions=("Record why the deal was lost",),
        ),
    )


@functools.cache
def default_pipeline() -> StageMachine:
    """The ``"sales"`` machine: six stages in order, a step back from negotiation to a new
    proposal, and ``lost`` (with a reason, deliverables waived) from every open stage.
    ``contract_signed`` and ``deal_review`` are won, ``lost`` is lost.

    The machine is an immutable value, so one shared instance serves every caller.
    """
    stages = _stages()
    forward = [
        Transition(source=before.key, target=after.key)
        for before, after in itertools.pairwise(stages[:6])
    ]
    return StageMachine(
        name=SALES,
        stages=stages,
        transitions=(
            *forward,
            Transition(source="negotiation", target="proposal"),
            *from_any_open_stage(stages, LOST, requires_reason=True, waive_deliverables=True),
        ),
    )

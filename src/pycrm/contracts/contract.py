"""Contracts: numbered agreements with a customer, approved level by level, then paid.

The approval history is a :class:`~pycrm.pipeline.StageState` of the approval machine, so
who approved or rejected when is read from the same visits that decide where the contract
stands. ``status`` is the business state a list screen shows; while a contract is in
approval it follows the approval stage, afterwards it moves on through active, completed or
terminated.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from pycrm.contracts.machine import (
    APPROVED,
    DRAFT,
    REJECTED,
    approval_machine,
    check_levels,
)
from pycrm.contracts.plan import PaymentPlan
from pycrm.domain import Entity, Money, OrderLine
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline import StageState, start


class ContractStatus(str, enum.Enum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class DeliveryStatus(str, enum.Enum):
    NOT_STARTED = "not_started"
    PARTIAL = "partial"
    DELIVERED = "delivered"


def _attachment_name(value: str) -> str:
    return conv.required_text(value, "name", 200)


def _attachment_uri(value: str) -> str:
    return conv.required_text(value, "uri", 1000)


def _number(value: str) -> str:
    return conv.required_text(value, "number", 64)


def _customer_id(value: str) -> str:
    return conv.required_text(value, "customer_id", 64)


def _opportunity_id(value: str | None) -> str | None:
    return conv.check_text(value, "opportunity_id", max_length=64, required=False)


def _terms(value: str | None) -> str | None:
    return conv.check_text(value, "terms", max_length=20000, required=False)


def _signer(value: str | None) -> str | None:
    return conv.check_text(value, "signer", max_length=120, required=False)


def _signed_on(value: date | str | None) -> date | None:
    return conv.check_date(value, "signed_on")


def _start_on(value: date | str) -> date:
    return _required_date(value, "start_on")


def _end_on(value: date | str) -> date:
    return _required_date(value, "end_on")


def _required_date(value: date | str, field: str) -> date:
    checked = conv.check_date(value, field)
    if checked is None:
        raise ValidationError(field, "is required")
    return checked


def _status(value: ContractStatus | str) -> ContractStatus:
    return conv.check_enum(value, "status", ContractStatus)


def _delivery_status(value: DeliveryStatus | str) -> DeliveryStatus:
    return conv.check_enum(value, "delivery_status", DeliveryStatus)


def _number_year(value: int | None) -> int | None:
    return conv.check_int(value, "number_year", minimum=1, required=False)


_AFTER_APPROVAL = frozenset(
    {
        ContractStatus.APPROVED,
        ContractStatus.ACTIVE,
        ContractStatus.COMPLETED,
        ContractStatus.TERMINATED,
    }
)


@attrs.frozen(kw_only=True)
class Attachment:
    """A file the host stores (scanned signature pages, annexes): pycrm keeps only its name
    and the host's key or URI, never the bytes."""

    name: str = attrs.field(converter=_attachment_name)
    uri: str = attrs.field(converter=_attachment_uri)


def _amount(value: Money) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", f"expected Money, got {type(value).__name__}")
    if value.amount < 0:
        raise ValidationError("amount", "must not be negative", value=value.amount)
    return value


def _lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("lines", "expected a sequence of OrderLine")
    items = tuple(value)
    for item in items:
        if not isinstance(item, OrderLine):
            raise ValidationError("lines", f"expected OrderLine, got {type(item).__name__}")
    return items


def _attachments(value: Iterable[Attachment]) -> tuple[Attachment, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError("attachments", "expected a sequence of Attachment")
    items = tuple(value)
    for item in items:
        if not isinstance(item, Attachment):
            raise ValidationError("attachments", f"expected Attachment, got {type(item).__name__}")
    return items


def _plan(value: PaymentPlan | None) -> PaymentPlan | None:
    if value is not None and not isinstance(value, PaymentPlan):
        raise ValidationError("payment_plan", f"expected PaymentPlan, got {type(value).__name__}")
    return value


def _approval_levels(value: Iterable[str] | None) -> tuple[str, ...]:
    # Empty until the contract is submitted; then the levels it needs, in signing order.
    if value is None or (not isinstance(value, str) and not value):
        return ()
    return check_levels(value, "approval_levels")


def _stage_state(value: StageState) -> StageState:
    if not isinstance(value, StageState):
        raise ValidationError("approval", f"expected StageState, got {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class Contract(Entity):
    """A contract with one customer.

    With ``lines``, ``amount`` must equal their sum in the same currency (as for an
    :class:`~pycrm.Order`). ``approval_levels`` are the levels the contract needs, fixed when
    it is submitted, so a later policy change does not move the goalposts mid-approval.
    ``number_year`` is the year its number was counted in (see :class:`ContractNumbering`).
    """

    ENTITY_TYPE: ClassVar[str] = "contract"
    ID_PREFIX: ClassVar[str] = "ctr"

    number: str = attrs.field(converter=_number)
    customer_id: str = attrs.field(converter=_customer_id)
    amount: Money = attrs.field(converter=_amount)
    start_on: date = attrs.field(converter=_start_on)
    end_on: date = attrs.field(converter=_end_on)
    approval: StageState = attrs.field(converter=_stage_state)
    opportunity_id: str | None = attrs.field(default=None, converter=_opportunity_id)
    lines: tuple[OrderLine, ...] = attrs.field(factory=tuple, converter=_lines)
    terms: str | None = attrs.field(default=None, converter=_terms)
    signer: str | None = attrs.field(default=None, converter=_signer)
    signed_on: date | None = attrs.field(default=None, converter=_signed_on)
    attachments: tuple[Attachment, ...] = attrs.field(factory=tuple, converter=_attachments)
    payment_plan: PaymentPlan | None = attrs.field(default=None, converter=_plan)
    approval_levels: tuple[str, ...] = attrs.field(factory=tuple, converter=_approval_levels)
    status: ContractStatus = attrs.field(default=ContractStatus.DRAFT, converter=_status)
    delivery_status: DeliveryStatus = attrs.field(
        default=DeliveryStatus.NOT_STARTED, converter=_delivery_status
    )
    number_year: int | None = attrs.field(default=None, converter=_number_year)

    def __attrs_post_init__(self) -> None:
        if self.end_on < self.start_on:
            raise ValidationError("end_on", "is before start_on", value=self.end_on)
        currency = self.amount.currency
        for line in self.lines:
            if line.unit_price.currency != currency:
                raise ValidationError(
                    "lines", f"line currency {line.unit_price.currency} differs from {currency}"
                )
        if self.lines:
            summed = sum((line.amount.amount for line in self.lines), Decimal(0))
            if summed != self.amount.amount:
                raise ValidationError(
                    "amount", f"is {self.amount.amount} but the lines add up to {summed}"
                )
        if self.payment_plan is not None:
            total = self.payment_plan.total
            if total.currency != currency:
                raise ValidationError(
                    "payment_plan",
                    f"instalments are in {total.currency}, the contract in {currency}",
                )
            if total.amount != self.amount.amount:
                raise ValidationError(
                    "payment_plan",
                    f"instalments add up to {total.amount}, not the amount {self.amount.amount}",
                )
        stage = self.approval.stage
        if self.status not in _statuses_in(stage):
            raise ValidationError(
                "status", f"{self.status.value!r} does not fit approval stage {stage!r}"
            )
        if stage != DRAFT and not self.approval_levels:
            raise ValidationError("approval_levels", "a submitted contract names its levels")

    @property
    def approval_stage(self) -> str:
        """The current stage of the approval flow (stores filter on it)."""
        return self.approval.stage


def _statuses_in(stage: str) -> frozenset[ContractStatus]:
    """The statuses a contract may have in approval ``stage``: the approval decides until it
    ends; after approval the contract's own life (active, completed, terminated) goes on."""
    if stage == DRAFT:
        return frozenset({ContractStatus.DRAFT})
    if stage == REJECTED:
        return frozenset({ContractStatus.REJECTED})
    if stage == APPROVED:
        return _AFTER_APPROVAL
    return frozenset({ContractStatus.PENDING_APPROVAL})


def draft_contract(
    *,
    number: str,
    customer_id: str,
    start_on: date | str,
    end_on: date | str,
    now: datetime,
    by: str,
    amount: Money | None = None,
    lines: Iterable[OrderLine] = (),
    **fields: Any,
) -> tuple[Contract, list[object]]:
    """A new contract in draft. Without ``amount`` it is the sum of ``lines``.

    ``fields`` are further :class:`Contract` fields (``terms``, ``signer``, ``payment_plan``,
    ...); the approval state, levels and status belong to the approval functions.
    """
    for name in ("approval", "approval_levels", "status"):
        if name in fields:
            raise ValidationError(name, "is set by the approval flow, not when drafting")
    items = _lines(lines)
    if amount is None:
        if not items:
            raise ValidationError("amount", "is required when there are no lines")
        amount = sum((line.amount for line in items[1:]), items[0].amount)
    state, events = start(approval_machine(), now=now, by=by)
    contract = Contract(
        number=number,
        customer_id=customer_id,
        amount=amount,
        start_on=start_on,
        end_on=end_on,
        approval=state,
        lines=items,
        **fields,
    )
    return contract, events

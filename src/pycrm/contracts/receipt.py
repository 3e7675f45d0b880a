"""Receipts: money actually received against a contract."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

import attrs

from pycrm.contracts.contract import Contract, ContractStatus
from pycrm.domain import Entity, Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


class PaymentMethod(str, enum.Enum):
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    CARD = "card"
    CHEQUE = "cheque"
    ONLINE = "online"
    OTHER = "other"


def _contract_id(value: str) -> str:
    return conv.required_text(value, "contract_id", 64)


def _customer_id(value: str) -> str:
    return conv.required_text(value, "customer_id", 64)


def _received_at(value: datetime | str) -> datetime:
    moment = conv.check_datetime(value, "received_at", required=True)
    assert moment is not None
    return moment


def _method(value: PaymentMethod | str) -> PaymentMethod:
    return conv.check_enum(value, "method", PaymentMethod)


def _handler(value: str | None) -> str | None:
    return conv.check_text(value, "handler", max_length=120, required=False)


def _account(value: str | None) -> str | None:
    return conv.check_text(value, "account", max_length=120, required=False)


def _reference(value: str | None) -> str | None:
    return conv.check_text(value, "reference", max_length=120, required=False)


def _amount(value: Money) -> Money:
    if not isinstance(value, Money):
        raise ValidationError("amount", f"expected Money, got {type(value).__name__}")
    if value.amount <= 0:
        raise ValidationError("amount", "a receipt must be greater than zero", value=value.amount)
    return value


@attrs.frozen(kw_only=True)
class Receipt(Entity):
    """One payment received: how much, when, how, who handled it, into which account and
    under which bank or voucher reference. Its own entity, since receipts arrive one by one
    and are recorded by finance without touching (or conflicting with) the contract."""

    ENTITY_TYPE: ClassVar[str] = "receipt"
    ID_PREFIX: ClassVar[str] = "rcp"

    contract_id: str = attrs.field(converter=_contract_id)
    customer_id: str = attrs.field(converter=_customer_id)
    amount: Money = attrs.field(converter=_amount)
    received_at: datetime = attrs.field(converter=_received_at)
    method: PaymentMethod = attrs.field(default=PaymentMethod.BANK_TRANSFER, converter=_method)
    handler: str | None = attrs.field(default=None, converter=_handler)
    account: str | None = attrs.field(default=None, converter=_account)
    reference: str | None = attrs.field(default=None, converter=_reference)


_PAYABLE = frozenset({ContractStatus.APPROVED, ContractStatus.ACTIVE, ContractStatus.COMPLETED})


def receive_payment(
    contract: Contract, *, amount: Money, received_at: datetime, **fields: Any
) -> tuple[Receipt, list[object]]:
    """A receipt for ``contract``: only approved (or active, completed) contracts take money,
    and only in their own currency. ``fields`` are further :class:`Receipt` fields."""
    if not isinstance(contract, Contract):
        raise ValidationError("contract", f"expected Contract, got {type(contract).__name__}")
    if contract.status not in _PAYABLE:
        raise ValidationError(
            "contract", f"is {contract.status.value}; only approved contracts take payments"
        )
    if isinstance(amount, Money) and amount.currency != contract.amount.currency:
        raise ValidationError(
            "amount", f"is in {amount.currency}, the contract in {contract.amount.currency}"
        )
    receipt = Receipt(
        contract_id=contract.id,
        customer_id=contract.customer_id,
        amount=amount,
        received_at=received_at,
        **fields,
    )
    return receipt, []

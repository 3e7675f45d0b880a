"""After approval: signing into force, delivery progress, completion and termination."""

from __future__ import annotations

from datetime import date

from pycrm.contracts.contract import Contract, ContractStatus, DeliveryStatus
from pycrm.domain import _convert as conv
from pycrm.errors import IllegalTransition, ValidationError

_MOVES = {
    ContractStatus.ACTIVE: frozenset({ContractStatus.APPROVED}),
    ContractStatus.COMPLETED: frozenset({ContractStatus.ACTIVE}),
    ContractStatus.TERMINATED: frozenset({ContractStatus.APPROVED, ContractStatus.ACTIVE}),
}


def _move(contract: Contract, to: ContractStatus) -> None:
    if not isinstance(contract, Contract):
        raise ValidationError("contract", f"expected Contract, got {type(contract).__name__}")
    if contract.status not in _MOVES[to]:
        raise IllegalTransition("contract_status", contract.status.value, to.value)


def activate(contract: Contract, *, signed_on: date, signer: str) -> tuple[Contract, list[object]]:
    """An approved contract, signed by ``signer`` on ``signed_on``, comes into force."""
    _move(contract, ContractStatus.ACTIVE)
    name = conv.check_text(signer, "signer", max_length=120, required=True)
    return contract.evolve(status=ContractStatus.ACTIVE, signed_on=signed_on, signer=name), []


def set_delivery_status(
    contract: Contract, delivery_status: DeliveryStatus | str
) -> tuple[Contract, list[object]]:
    """Record how far delivery has got; only approved or active contracts deliver."""
    if not isinstance(contract, Contract):
        raise ValidationError("contract", f"expected Contract, got {type(contract).__name__}")
    if contract.status not in (ContractStatus.APPROVED, ContractStatus.ACTIVE):
        raise ValidationError("contract", f"is {contract.status.value}; nothing is delivered")
    return contract.evolve(delivery_status=delivery_status), []


def complete(contract: Contract) -> tuple[Contract, list[object]]:
    """An active contract whose obligations are met is completed."""
    _move(contract, ContractStatus.COMPLETED)
    return contract.evolve(status=ContractStatus.COMPLETED), []


def terminate(contract: Contract) -> tuple[Contract, list[object]]:
    """An approved or active contract ended early; it stays on record."""
    _move(contract, ContractStatus.TERMINATED)
    return contract.evolve(status=ContractStatus.TERMINATED), []

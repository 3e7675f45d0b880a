"""What is still owed, what is overdue, and when to remind about renewal.

Receipts are allocated to instalments oldest due first, the way accounts receivable clears
the oldest debt first, whatever a payer wrote on the transfer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.contracts.contract import Contract
from pycrm.contracts.plan import Instalment
from pycrm.contracts.receipt import Receipt
from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


@attrs.frozen(kw_only=True)
class InstalmentAllocation:
    """How much of one instalment the receipts cover (``paid``) and what is left (``unpaid``)."""

    instalment: Instalment
    paid: Money
    unpaid: Money


def received(contract: Contract, receipts: Iterable[Receipt]) -> Money:
    """Everything received against ``contract`` (receipts for other contracts are refused)."""
    total = Money.zero(contract.amount.currency)
    for receipt in receipts:
        if not isinstance(receipt, Receipt):
            raise ValidationError("receipts", f"expected Receipt, got {type(receipt).__name__}")
        if receipt.contract_id != contract.id:
            raise ValidationError(
                "receipts", f"{receipt.id} is for contract {receipt.contract_id}, not {contract.id}"
            )
        if receipt.amount.currency != total.currency:
            raise ValidationError(
                "receipts", f"{receipt.id} is in {receipt.amount.currency}, not {total.currency}"
            )
        total += receipt.amount
    return total


def outstanding(contract: Contract, receipts: Iterable[Receipt]) -> Money:
    """The amount less what was received, never below zero: an overpaid contract owes
    nothing, and the excess (``received - amount``) is a refund or credit for the host."""
    left = contract.amount - received(contract, receipts)
    # Zero keeps the amount's places ("0.00", not "0") and never shows as "-0.00".
    return left if left.amount > 0 else Money((left.amount * 0).copy_abs(), left.currency)


def allocate(contract: Contract, receipts: Iterable[Receipt]) -> list[InstalmentAllocation]:
    """Every instalment of the payment plan with its share of the receipts, oldest due
    first. A contract without a plan has no instalments."""
    if contract.payment_plan is None:
        received(contract, receipts)  # still refuses receipts that do not belong
        return []
    pool = received(contract, receipts)
    allocations = []
    for instalment in contract.payment_plan.instalments:
        paid = min(pool, instalment.amount)
        pool -= paid
        allocations.append(
            InstalmentAllocation(instalment=instalment, paid=paid, unpaid=instalment.amount - paid)
        )
    return allocations


def overdue_instalments(
    contract: Contract, receipts: Iterable[Receipt], *, today: date
) -> list[InstalmentAllocation]:
    """Instalments due before ``today`` and not fully covered, oldest first, each with its
    unpaid part."""
    day = conv.check_date(today, "today")
    if day is None:
        raise ValidationError("today", "is required")
    return [
        allocation
        for allocation in allocate(contract, receipts)
        if allocation.instalment.due_on < day and allocation.unpaid.amount > 0
    ]


_A_MONTH = relativedelta(months=1)


def renewal_reminder_date(contract: Contract, *, before: relativedelta = _A_MONTH) -> date:
    """When to remind about renewal: ``before`` the contract ends (a month by default;
    ``relativedelta`` keeps month ends right, 31 March minus a month is 28 or 29 February)."""
    if not isinstance(before, relativedelta):
        raise ValidationError("before", f"expected relativedelta, got {type(before).__name__}")
    reminder: date = contract.end_on - before
    return reminder

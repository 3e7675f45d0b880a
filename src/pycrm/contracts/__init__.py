"""Contracts: numbering, multi-level approval on a stage machine, payment plans, receipts,
and the reminders that follow from them. Pure domain; storage lives in ``pycrm.storage``."""

from pycrm.contracts.approval import (
    approve,
    pending_approver_level,
    reject,
    submit_for_approval,
)
from pycrm.contracts.contract import (
    Attachment,
    Contract,
    ContractStatus,
    DeliveryStatus,
    draft_contract,
)
from pycrm.contracts.lifecycle import activate, complete, set_delivery_status, terminate
from pycrm.contracts.machine import APPROVAL, DEFAULT_LEVELS, approval_machine
from pycrm.contracts.numbering import ContractNumbering, next_number
from pycrm.contracts.payments import (
    InstalmentAllocation,
    allocate,
    outstanding,
    overdue_instalments,
    received,
    renewal_reminder_date,
)
from pycrm.contracts.plan import Instalment, PaymentPlan
from pycrm.contracts.policy import ApprovalPolicy
from pycrm.contracts.receipt import PaymentMethod, Receipt, receive_payment
from pycrm.contracts.repurchase import repurchase_due, repurchase_reminder_date

__all__ = [
    "APPROVAL",
    "DEFAULT_LEVELS",
    "ApprovalPolicy",
    "Attachment",
    "Contract",
    "ContractNumbering",
    "ContractStatus",
    "DeliveryStatus",
    "Instalment",
    "InstalmentAllocation",
    "PaymentMethod",
    "PaymentPlan",
    "Receipt",
    "activate",
    "allocate",
    "approval_machine",
    "approve",
    "complete",
    "draft_contract",
    "next_number",
    "outstanding",
    "overdue_instalments",
    "pending_approver_level",
    "receive_payment",
    "received",
    "reject",
    "renewal_reminder_date",
    "repurchase_due",
    "repurchase_reminder_date",
    "set_delivery_status",
    "submit_for_approval",
    "terminate",
]

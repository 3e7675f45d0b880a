"""From a deal to the money in the bank, on a SQLite file in a temporary directory.

Run it with ``python examples/lead_to_cash.py``. A customer's opportunity is walked through
the default pipeline to ``contract_signed``; the contract drawn up from it is approved at the
levels its amount needs, signed, and paid in two instalments. A second opportunity is lost.
A fixed clock keeps the story the same on every run.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

from pycrm import (
    CRM,
    ApprovalPolicy,
    Customer,
    FixedClock,
    Money,
    OrderLine,
    PaymentMethod,
    PaymentPlan,
    activate_contract,
    advance_opportunity,
    approve_contract,
    default_pipeline,
    deliver,
    draft_contract,
    open_opportunity,
    outstanding,
    overdue_instalments,
    receive_payment,
    renewal_reminder_date,
    submit_for_approval,
)

SALES = default_pipeline()


def main(directory: Path) -> int:
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    with CRM.open(f"sqlite:///{directory / 'crm.db'}", clock=clock) as crm:
        with crm.session(actor="alice") as s:
            customer = s.customers.add(
                Customer.company("华东精密制造有限公司", industry="manufacturing")
            )
            deal, _ = open_opportunity(
                customer_id=customer.id,
                title="MES rollout, plant 2",
                amount=Money("360000.00", "CNY"),
                owner="alice",
                now=s.now,
                by=s.actor,
            )
            other, _ = open_opportunity(
                customer_id=customer.id,
                title="Spare-parts portal",
                amount=Money("80000.00", "CNY"),
                owner="alice",
                now=s.now,
                by=s.actor,
            )
            deal = s.opportunities.add(deal)
            other = s.opportunities.add(other)

        # A week per stage, delivering what each gate asks for before moving on.
        for stage in ("needs_confirmed", "proposal", "negotiation", "contract_signed"):
            clock.advance(days=7)
            with crm.session(actor="alice") as s:
                deal = s.opportunities.get(deal.id)
                for key in SALES.stage(deal.stage).required_deliverables:
                    deal, _ = deliver(deal, key, now=s.now)
                deal, _ = advance_opportunity(deal, stage, now=s.now, by=s.actor, machine=SALES)
                deal = s.opportunities.update(deal)
        print(f"opportunity: {deal.title} -> {deal.stage}")

        with crm.session(actor="alice") as s:
            other, _ = advance_opportunity(
                s.opportunities.get(other.id),
                "lost",
                now=s.now,
                by=s.actor,
                machine=SALES,
                reason="budget frozen",
            )
            other = s.opportunities.update(other)
        print(f"opportunity: {other.title} -> {other.stage} ({other.lost_reason})")

        with crm.session(actor="alice") as s:
            contract, _ = draft_contract(
                number=s.next_contract_number(year=2026),
                number_year=2026,
                customer_id=customer.id,
                opportunity_id=deal.id,
                lines=[
                    OrderLine(
                        description="MES licence",
                        quantity=2,
                        unit_price=Money("150000.00", "CNY"),
                    ),
                    OrderLine(
                        description="Implementation",
                        quantity=1,
                        unit_price=Money("60000.00", "CNY"),
                    ),
                ],
                start_on=date(2026, 4, 1),
                end_on=date(2027, 3, 31),
                terms="30% on signature, 70% on acceptance",
                payment_plan=PaymentPlan.of(
                    ("2026-04-15", Money("108000.00", "CNY")),
                    ("2026-07-31", Money("252000.00", "CNY")),
                ),
                now=s.now,
                by=s.actor,
            )
            contract, _ = submit_for_approval(
                contract, policy=ApprovalPolicy.default(), now=s.now, by=s.actor
            )
            contract = s.contracts.add(contract)
        print(f"contract: {contract.number}, {contract.amount}, needs {contract.approval_levels}")

        for level, approver in zip(contract.approval_levels, ("li", "zhao"), strict=True):
            clock.advance(hours=20)
            with crm.session(actor=approver) as s:
                contract, _ = approve_contract(
                    s.contracts.get(contract.id), level=level, now=s.now, by=s.actor
                )
                contract = s.contracts.update(contract)
            print(f"approval: {level} by {approver} -> {contract.approval_stage}")

        with crm.session(actor="alice") as s:
            contract, _ = activate_contract(
                s.contracts.get(contract.id), signed_on=date(2026, 3, 31), signer="王经理"
            )
            contract = s.contracts.update(contract)
        print(f"contract: {contract.status.value}, signed by {contract.signer}")

        for when, amount in (
            (datetime(2026, 4, 14, tzinfo=timezone.utc), "108000.00"),
            (datetime(2026, 8, 10, tzinfo=timezone.utc), "252000.00"),
        ):
            with crm.session(actor="finance") as s:
                receipts = s.receipts.list(contract_id=contract.id).items
                late = overdue_instalments(contract, receipts, today=when.date())
                if late:
                    print(f"overdue on {when.date()}: {late[0].unpaid}")
                receipt, _ = receive_payment(
                    contract,
                    amount=Money(amount, "CNY"),
                    received_at=when,
                    method=PaymentMethod.BANK_TRANSFER,
                    handler="finance-zhang",
                    reference=f"BANK-{when:%m%d}",
                )
                s.receipts.add(receipt)
                receipts = s.receipts.list(contract_id=contract.id).items
                print(f"receipt: {receipt.amount}, outstanding {outstanding(contract, receipts)}")

        with crm.session() as s:
            receipts = s.receipts.list(contract_id=contract.id).items
            left = outstanding(contract, receipts)
    assert left.amount == 0, left
    print(f"renewal reminder: {renewal_reminder_date(contract)}")
    print("lead_to_cash: ok")
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp)))

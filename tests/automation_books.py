"""Records the automation rule tests set up in several modules: customers, contracts with
paid and unpaid instalments, orders, deals in a stage and contracts awaiting approval, all
dated from the conftest clock's moment."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pycrm import (
    CRM,
    ApprovalPolicy,
    Contract,
    Customer,
    Money,
    Order,
    OrderLine,
    PaymentPlan,
    Receipt,
    TeamSupervisor,
    activate_contract,
    advance_opportunity,
    approve_contract,
    default_pipeline,
    draft_contract,
    open_opportunity,
    receive_payment,
    submit_for_approval,
)

UTC = timezone.utc
START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
"""The ``clock`` fixture's moment (Monday 2 March 2026): when the records are stored."""
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SALES = default_pipeline()


def staff_on_memory(crm: CRM) -> None:
    crm.automation.staff_channel = "memory"
    crm.automation.locale = "en"


def add_customer(crm: CRM, customer: Customer) -> Customer:
    with crm.session(actor="setup") as s:
        return s.customers.add(customer)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def active_contract(
    customer_id: str,
    number: str,
    *,
    end_on: date,
    plan: PaymentPlan | None = None,
    amount: str = "10000.00",
    **fields: Any,
) -> Contract:
    contract, _ = draft_contract(
        number=number,
        customer_id=customer_id,
        start_on=date(2025, 9, 1),
        end_on=end_on,
        now=START - timedelta(days=200),
        by="li.na",
        amount=cny(amount),
        payment_plan=plan,
        **fields,
    )
    contract, _ = submit_for_approval(
        contract, policy=ApprovalPolicy.default(), now=START - timedelta(days=200), by="li.na"
    )
    for level in contract.approval_levels:
        contract, _ = approve_contract(
            contract, level=level, now=START - timedelta(days=199), by=level
        )
    contract, _ = activate_contract(contract, signed_on=date(2025, 9, 1), signer="Wang")
    return contract


def payment(contract: Contract, amount: str, day: date) -> Receipt:
    receipt, _ = receive_payment(
        contract,
        amount=cny(amount),
        received_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
    )
    return receipt


def money_setup(crm: CRM) -> tuple[Contract, Contract]:
    """HT-1 (owner li.na) ends 31 March 2026 and owes 7,000 due 1 March, the December
    instalment paid; HT-2 (a customer without owner, from wu's deal) ends 30 June and owes
    2,000 due 20 February."""
    staff_on_memory(crm)
    acme = add_customer(crm, Customer.company("Acme", owner="li.na"))
    orphan = add_customer(crm, Customer.company("Orphan Ltd"))
    deal, _ = open_opportunity(
        customer_id=orphan.id,
        title="Spare parts",
        amount=cny("5000"),
        owner="wu",
        now=START,
        by="wu",
    )
    first = active_contract(
        acme.id,
        "HT-1",
        end_on=date(2026, 3, 31),
        plan=PaymentPlan.of(("2025-12-01", cny("3000.00")), ("2026-03-01", cny("7000.00"))),
    )
    second = active_contract(
        orphan.id,
        "HT-2",
        end_on=date(2026, 6, 30),
        amount="5000.00",
        plan=PaymentPlan.of(("2026-02-20", cny("5000.00"))),
        opportunity_id=deal.id,
    )
    with crm.session(actor="setup") as s:
        s.opportunities.add(deal)
        s.contracts.add(first)
        s.contracts.add(second)
        s.receipts.add(payment(first, "3000.00", date(2025, 12, 1)))
        s.receipts.add(payment(second, "3000.00", date(2026, 2, 10)))
    return first, second


def order(customer: Customer, number: str, day: date, product: str = "A4 paper") -> Order:
    return Order(
        number=number,
        customer_id=customer.id,
        placed_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC),
        total=cny("100.00"),
        lines=[OrderLine(description=product, quantity=Decimal(1), unit_price=cny("100.00"))],
        status="paid",
    )


ENTERED = START + DAY  # needs_confirmed: 3 days' deadline, stale after 7 quiet ones


def deal(crm: CRM, customer: Customer, *, owner: str | None = "alice", team: str = "east") -> Any:
    opportunity, _ = open_opportunity(
        customer_id=customer.id,
        title="Big deal",
        amount=Money(1000, "CNY"),
        owner=owner,
        team=team,
        now=START,
        by="alice",
    )
    opportunity, _ = advance_opportunity(
        opportunity, "needs_confirmed", now=ENTERED, by="alice", machine=SALES
    )
    with crm.session(actor="test") as s:
        return s.opportunities.add(opportunity)


def supervise(crm: CRM, team: str = "east", supervisor: str = "carol") -> None:
    with crm.session(actor="test") as s:
        s.team_supervisors.add(TeamSupervisor(team=team, supervisor=supervisor))


SUBMITTED = START + HOUR


def pending(crm: CRM, customer: Customer, number: str = "HT-2026-00001") -> Any:
    contract, _ = draft_contract(
        number=number,
        customer_id=customer.id,
        start_on=date(2026, 4, 1),
        end_on=date(2027, 3, 31),
        now=START,
        by="alice",
        amount=Money("50000.00", "CNY"),
    )
    contract, _ = submit_for_approval(
        contract, policy=ApprovalPolicy.default(), now=SUBMITTED, by="alice"
    )
    with crm.session(actor="test") as s:
        return s.contracts.add(contract)

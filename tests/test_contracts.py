"""Contracts: numbering, approval per policy, payment plans and receipts, then storage on
every backend."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    AlreadyExists,
    ApprovalPolicy,
    Attachment,
    ConcurrencyConflict,
    Contract,
    ContractNumbering,
    ContractStatus,
    Customer,
    DeliveryStatus,
    FixedClock,
    IllegalTransition,
    Money,
    OrderLine,
    PaymentMethod,
    PaymentPlan,
    Receipt,
    ValidationError,
    activate_contract,
    allocate_receipts,
    amount_received,
    approval_machine,
    approve_contract,
    complete_contract,
    draft_contract,
    next_contract_number,
    outstanding,
    overdue_instalments,
    pending_approver_level,
    receive_payment,
    reject_contract,
    renewal_reminder_date,
    set_delivery_status,
    submit_for_approval,
)
from pycrm.storage import Store
from pycrm.testing import strategies as pst

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
POLICY = ApprovalPolicy.default()


class Boom(Exception):
    pass


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def drafted(amount: str = "50000.00", **fields: object) -> Contract:
    fields.setdefault("number", "HT-2026-00001")
    contract, _ = draft_contract(
        customer_id=fields.pop("customer_id", "cus_1"),  # type: ignore[arg-type]
        start_on=date(2026, 4, 1),
        end_on=date(2027, 3, 31),
        now=NOW,
        by="alice",
        amount=cny(amount),
        **fields,  # type: ignore[arg-type]
    )
    return contract


def approved(contract: Contract) -> Contract:
    """Submit and approve at every level the policy asks for, an hour apart."""
    contract, _ = submit_for_approval(contract, policy=POLICY, now=NOW, by="alice")
    for i, level in enumerate(contract.approval_levels, 1):
        contract, _ = approve_contract(contract, level=level, now=NOW + i * HOUR, by=level)
    return contract


def paid(contract: Contract, amount: str, day: date) -> Receipt:
    receipt, _ = receive_payment(
        contract,
        amount=cny(amount),
        received_at=datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc),
        method=PaymentMethod.BANK_TRANSFER,
        handler="finance-zhang",
    )
    return receipt


# -- numbering -----------------------------------------------------------------------------


def test_numbers_follow_the_pattern_and_the_years_sequence() -> None:
    numbering = ContractNumbering()
    assert next_contract_number(numbering, year=2026, last_seq=0) == "HT-2026-00001"
    assert next_contract_number(numbering, year=2026, last_seq=41) == "HT-2026-00042"
    custom = ContractNumbering("C{seq:04d}/{year}")
    assert next_contract_number(custom, year=2027, last_seq=9) == "C0010/2027"
    for bad in ("HT-{year}", "HT-{month}-{seq}", "HT-{seq:Q}", ""):
        with pytest.raises(ValidationError, match="pattern"):
            ContractNumbering(bad)
    with pytest.raises(ValidationError, match="last_seq"):
        next_contract_number(numbering, year=2026, last_seq=-1)


# -- approval ------------------------------------------------------------------------------


def test_policy_picks_levels_by_amount_and_currency() -> None:
    assert POLICY.levels_for(cny("99999.99")) == ("sales",)
    assert POLICY.levels_for(cny("100000")) == ("sales", "finance")
    assert POLICY.levels_for(cny("999999.99")) == ("sales", "finance")
    assert POLICY.levels_for(cny("1000000")) == ("sales", "finance", "management")
    # No limits for USD: every level, the cautious answer.
    assert POLICY.levels_for(Money("10", "USD")) == ("sales", "finance", "management")
    with pytest.raises(ValidationError, match="limits"):
        ApprovalPolicy(limits={"CNY": (Decimal(10), Decimal(5))})
    with pytest.raises(ValidationError, match="limits"):
        ApprovalPolicy(limits={"CNY": (1, 2, 3)})


def test_approval_machine_is_a_stage_machine_with_rejection_from_every_level() -> None:
    machine = approval_machine()
    assert machine.keys == (
        "draft",
        "pending_sales",
        "pending_finance",
        "pending_management",
        "approved",
        "rejected",
    )
    assert machine.targets("pending_sales") == (
        "pending_finance",
        "pending_management",
        "approved",
        "rejected",
    )
    assert machine.transition("pending_finance", "rejected").requires_reason  # type: ignore[union-attr]
    assert machine.transition("draft", "rejected") is None
    assert machine.stage("approved").terminal
    assert machine.stage("rejected").terminal


@pytest.mark.parametrize(
    ("amount", "levels"),
    [
        ("50000.00", ("sales",)),
        ("300000.00", ("sales", "finance")),
        ("2000000.00", ("sales", "finance", "management")),
    ],
)
def test_full_flow_draft_to_approved_to_fully_paid(amount: str, levels: tuple[str, ...]) -> None:
    contract = drafted(amount)
    assert contract.status is ContractStatus.DRAFT
    assert pending_approver_level(contract) is None
    contract, events = submit_for_approval(contract, policy=POLICY, now=NOW, by="alice")
    assert contract.approval_levels == levels
    assert contract.status is ContractStatus.PENDING_APPROVAL
    assert len(events) == 1
    for i, level in enumerate(levels, 1):
        assert pending_approver_level(contract) == level
        contract, _ = approve_contract(contract, level=level, now=NOW + i * HOUR, by=f"{level}-1")
    assert contract.status is ContractStatus.APPROVED
    assert pending_approver_level(contract) is None
    # Who approved when is the stage history.
    assert [(v.stage, v.entered_by) for v in contract.approval.history] == [
        ("draft", "alice"),
        ("pending_sales", "alice"),
        *[(f"pending_{nxt}", f"{lvl}-1") for lvl, nxt in itertools.pairwise(levels)],
        ("approved", f"{levels[-1]}-1"),
    ]
    contract, _ = activate_contract(contract, signed_on=date(2026, 3, 5), signer="王经理")
    assert contract.status is ContractStatus.ACTIVE
    total = Decimal(amount)
    first = paid(contract, str(total / 4), date(2026, 4, 2))
    assert outstanding(contract, [first]) == cny(str(total - total / 4))
    rest = paid(contract, str(total - total / 4), date(2026, 6, 2))
    assert outstanding(contract, [first, rest]) == cny("0")
    assert amount_received(contract, [first, rest]) == contract.amount
    contract, _ = set_delivery_status(contract, DeliveryStatus.DELIVERED)
    contract, _ = complete_contract(contract)
    assert contract.status is ContractStatus.COMPLETED


def test_a_host_policy_with_its_own_levels_and_currency() -> None:
    policy = ApprovalPolicy(limits={"USD": (Decimal(20_000),)}, levels=("sales", "legal"))
    small = drafted("1000.00", number="HT-U1")
    small = small.evolve(amount=Money("1000.00", "USD"))
    small, _ = submit_for_approval(small, policy=policy, now=NOW, by="alice")
    assert small.approval_levels == ("sales",)
    big = drafted("1.00").evolve(amount=Money("20000.00", "USD"))
    big, _ = submit_for_approval(big, policy=policy, now=NOW, by="alice")
    assert pending_approver_level(big) == "sales"
    big, _ = approve_contract(big, level="sales", now=NOW + HOUR, by="li")
    assert pending_approver_level(big) == "legal"
    big, _ = approve_contract(big, level="legal", now=NOW + 2 * HOUR, by="counsel")
    assert big.status is ContractStatus.APPROVED
    assert [v.stage for v in big.approval.history] == [
        "draft",
        "pending_sales",
        "pending_legal",
        "approved",
    ]


def test_audit_records_approval_changes(crm: CRM) -> None:
    customer = _customer(crm)
    with crm.session(actor="alice") as s:
        contract = s.contracts.add(_contract(customer, "HT-A"))
    with crm.session(actor="li") as s:
        s.contracts.update(approved(contract))
    with crm.session() as s:
        trail = s.audit.for_entity(contract)
    assert [(e.actor, e.action.value) for e in trail] == [("alice", "created"), ("li", "changed")]
    assert trail[1].changes is not None
    assert trail[1].changes["status"] == ["draft", "approved"]


def test_rejection_needs_a_reason_and_is_final() -> None:
    contract, _ = submit_for_approval(drafted("300000.00"), policy=POLICY, now=NOW, by="alice")
    contract, _ = approve_contract(contract, level="sales", now=NOW + HOUR, by="li")
    with pytest.raises(ValidationError, match="reason"):
        reject_contract(contract, level="finance", now=NOW + 2 * HOUR, by="zhao", reason="  ")
    rejected, _ = reject_contract(
        contract, level="finance", now=NOW + 2 * HOUR, by="zhao", reason="付款条件过宽"
    )
    assert rejected.status is ContractStatus.REJECTED
    assert rejected.approval.current.reason == "付款条件过宽"
    assert rejected.approval.current.entered_by == "zhao"
    with pytest.raises(IllegalTransition):
        approve_contract(rejected, level="finance", now=NOW + 3 * HOUR, by="zhao")
    with pytest.raises(ValidationError, match="contract"):
        receive_payment(rejected, amount=cny("1"), received_at=NOW)


def test_refused_approval_steps_change_nothing() -> None:
    draft = drafted("300000.00")
    with pytest.raises(IllegalTransition):
        approve_contract(draft, level="sales", now=NOW, by="li")
    pending, _ = submit_for_approval(draft, policy=POLICY, now=NOW, by="alice")
    with pytest.raises(IllegalTransition):
        submit_for_approval(pending, policy=POLICY, now=NOW, by="alice")
    once, _ = approve_contract(pending, level="sales", now=NOW + HOUR, by="li")
    before = once
    with pytest.raises(ValidationError, match="already approved") as twice:
        approve_contract(once, level="sales", now=NOW + 2 * HOUR, by="li")
    assert twice.value.field == "level"
    with pytest.raises(ValidationError, match="level"):
        approve_contract(once, level="management", now=NOW + 2 * HOUR, by="boss")
    with pytest.raises(ValidationError, match="now"):
        approve_contract(once, level="finance", now=NOW, by="zhao")
    assert once == before
    done, _ = approve_contract(once, level="finance", now=NOW + 2 * HOUR, by="zhao")
    with pytest.raises(IllegalTransition):
        approve_contract(done, level="finance", now=NOW + 3 * HOUR, by="zhao")
    with pytest.raises(IllegalTransition):
        reject_contract(done, level="finance", now=NOW + 3 * HOUR, by="zhao", reason="late")


# -- contract values -----------------------------------------------------------------------


def test_bad_contracts_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="amount"):
        drafted("-1.00")
    with pytest.raises(ValidationError, match="end_on"):
        draft_contract(
            number="HT-1",
            customer_id="cus_1",
            start_on=date(2026, 4, 1),
            end_on=date(2026, 3, 31),
            now=NOW,
            by="alice",
            amount=cny("1"),
        )
    with pytest.raises(ValidationError, match="payment_plan"):
        drafted(
            "100.00",
            payment_plan=PaymentPlan.of(("2026-04-01", cny("60")), ("2026-05-01", cny("30"))),
        )
    with pytest.raises(ValidationError, match="payment_plan"):
        drafted("100.00", payment_plan=PaymentPlan.of(("2026-04-01", Money("100", "USD"))))
    with pytest.raises(ValidationError, match="status"):
        draft_contract(
            number="HT-1",
            customer_id="cus_1",
            start_on=date(2026, 4, 1),
            end_on=date(2026, 5, 1),
            now=NOW,
            by="alice",
            amount=cny("1"),
            status="approved",
        )
    contract = drafted()
    kept = attrs.evolve(contract)
    with pytest.raises(ValidationError, match="status"):
        contract.evolve(status=ContractStatus.ACTIVE)
    with pytest.raises(ValidationError, match="end_on"):
        contract.evolve(end_on=date(2020, 1, 1))
    assert contract == kept  # nothing above touched it


def test_amount_is_the_sum_of_the_lines() -> None:
    lines = [
        OrderLine(description="MES licence", quantity=Decimal(2), unit_price=cny("30000.00")),
        OrderLine(description="Implementation", quantity=Decimal("1.5"), unit_price=cny("1000")),
    ]
    contract, _ = draft_contract(
        number="HT-1",
        customer_id="cus_1",
        start_on="2026-04-01",
        end_on="2026-12-31",
        now=NOW,
        by="alice",
        lines=lines,
    )
    assert contract.amount == cny("61500.00")
    with pytest.raises(ValidationError, match="amount"):
        contract.evolve(amount=cny("61000"))


def test_receipts_in_another_currency_or_for_another_contract_are_refused() -> None:
    contract = approved(drafted())
    with pytest.raises(ValidationError, match="amount"):
        receive_payment(contract, amount=Money("100", "USD"), received_at=NOW)
    other = approved(drafted(number="HT-2026-00002"))
    foreign = paid(other, "10", date(2026, 4, 1))
    with pytest.raises(ValidationError, match="receipts"):
        outstanding(contract, [foreign])
    with pytest.raises(ValidationError, match="amount"):
        receive_payment(contract, amount=cny("0"), received_at=NOW)


def test_overdue_instalments_are_allocated_oldest_first() -> None:
    plan = PaymentPlan.of(
        ("2026-06-30", cny("30000")),
        ("2026-04-30", cny("10000")),  # given out of order, kept in due order
        ("2026-05-31", cny("10000")),
    )
    contract = approved(drafted("50000.00", payment_plan=plan))
    assert [i.due_on for i in contract.payment_plan.instalments] == [  # type: ignore[union-attr]
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]
    receipts = [paid(contract, "15000", date(2026, 5, 2))]
    overdue = overdue_instalments(contract, receipts, today=date(2026, 7, 1))
    assert [(a.instalment.due_on, a.unpaid) for a in overdue] == [
        (date(2026, 5, 31), cny("5000")),
        (date(2026, 6, 30), cny("30000")),
    ]
    assert overdue_instalments(contract, receipts, today=date(2026, 5, 31)) == []
    assert outstanding(contract, receipts) == cny("35000")


def test_renewal_reminder_is_a_calendar_month_before_the_end() -> None:
    contract = drafted()  # ends 2027-03-31
    assert renewal_reminder_date(contract) == date(2027, 2, 28)
    assert renewal_reminder_date(contract, before=relativedelta(days=45)) == date(2027, 2, 14)
    with pytest.raises(ValidationError, match="before"):
        renewal_reminder_date(contract, before=timedelta(days=3))  # type: ignore[arg-type]


def test_lifecycle_moves_only_from_the_right_status() -> None:
    draft = drafted()
    with pytest.raises(IllegalTransition):
        activate_contract(draft, signed_on=date(2026, 3, 3), signer="王经理")
    with pytest.raises(ValidationError, match="signer"):
        activate_contract(approved(draft), signed_on=date(2026, 3, 3), signer=" ")
    with pytest.raises(IllegalTransition):
        complete_contract(approved(draft))
    with pytest.raises(ValidationError, match="contract"):
        set_delivery_status(draft, "partial")


@settings(max_examples=60)
@given(
    instalments=st.lists(
        st.tuples(
            st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 1, 1)),
            st.decimals(min_value="0.01", max_value=10**6, places=2),
        ),
        min_size=1,
        max_size=6,
    ),
    receipts=st.lists(st.decimals(min_value="0.01", max_value=10**6, places=2), max_size=6),
    today=st.dates(min_value=date(2025, 6, 1), max_value=date(2028, 6, 1)),
)
def test_outstanding_and_overdue_properties(
    instalments: list[tuple[date, Decimal]], receipts: list[Decimal], today: date
) -> None:
    total = sum((amount for _, amount in instalments), Decimal(0))
    plan = PaymentPlan.of(*[(due, cny(str(amount))) for due, amount in instalments])
    contract = approved(drafted(str(total), payment_plan=plan))
    got = [paid(contract, str(amount), date(2026, 1, 1)) for amount in receipts]
    received_total = sum(receipts, Decimal(0))
    # Outstanding is amount minus receipts, and never negative: an overpayment owes nothing.
    assert outstanding(contract, got).amount == max(total - received_total, Decimal(0))
    allocations = allocate_receipts(contract, got)
    assert sum((a.paid.amount for a in allocations), Decimal(0)) == min(total, received_total)
    # Oldest first: once an instalment is not fully paid, no later one has been paid at all.
    short = [i for i, a in enumerate(allocations) if a.unpaid.amount > 0]
    if short:
        assert all(a.paid.amount == 0 for a in allocations[short[0] + 1 :])
    overdue = overdue_instalments(contract, got, today=today)
    assert all(a.instalment.due_on < today and a.unpaid.amount > 0 for a in overdue)
    assert sum((a.unpaid.amount for a in overdue), Decimal(0)) <= outstanding(contract, got).amount


# -- storage on every backend --------------------------------------------------------------


def _customer(crm: CRM) -> Customer:
    with crm.session(actor="alice") as s:
        return s.customers.add(Customer.company("华东精密制造有限公司"))


def _contract(
    customer: Customer, number: str, amount: str = "300000.00", **fields: object
) -> Contract:
    plan = PaymentPlan.of(
        ("2026-04-30", cny(str(Decimal(amount) * Decimal("0.3")))),
        ("2026-09-30", cny(str(Decimal(amount) * Decimal("0.7")))),
    )
    fields.setdefault("payment_plan", plan)
    return drafted(
        amount,
        number=number,
        customer_id=customer.id,
        terms="30% on signature, 70% on acceptance",
        attachments=[Attachment(name="signed.pdf", uri="s3://contracts/ht-1/signed.pdf")],
        **fields,
    )


def test_contract_approval_and_receipts_are_stored_exactly(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session(actor="alice") as s:
        number = s.next_contract_number(year=2026)
        assert number == "HT-2026-00001"
        stored = s.contracts.add(_contract(customer, number, number_year=2026))
    with crm.session() as s:
        assert s.next_contract_number(year=2026) == "HT-2026-00002"
        assert s.next_contract_number(year=2027) == "HT-2027-00001"
        assert s.contracts.get(stored.id) == stored
    done = approved(stored)
    with crm.session(actor="zhao") as s:
        updated = s.contracts.update(done)
    assert updated.version == 2
    receipt = paid(updated, "90000.00", date(2026, 4, 29))
    with crm.session(actor="finance") as s:
        s.receipts.add(receipt)
    with crm.session() as s:
        read = s.contracts.get(stored.id)
        assert read == updated
        assert read.approval.history == done.approval.history
        assert read.lines == updated.lines
        got = s.receipts.list(contract_id=read.id).items
        assert [r.id for r in got] == [receipt.id]
        assert got[0] == s.receipts.get(receipt.id)
        assert outstanding(read, got) == cny("210000.00")
        assert overdue_instalments(read, got, today=date(2026, 10, 1))[0].unpaid == cny("210000.00")


def test_contracts_with_lines_round_trip(crm: CRM) -> None:
    customer = _customer(crm)
    lines = [
        OrderLine(
            description="MES licence", quantity=Decimal("2.5"), unit_price=cny("0.0002"), sku="M-1"
        ),
        OrderLine(description="Training", quantity=Decimal(1), unit_price=cny("12345.6789")),
    ]
    contract, _ = draft_contract(
        number="HT-L",
        customer_id=customer.id,
        start_on="2026-04-01",
        end_on="2026-04-01",
        now=NOW,
        by="alice",
        lines=lines,
    )
    with crm.session() as s:
        stored = s.contracts.add(contract)
    with crm.session() as s:
        assert s.contracts.get(contract.id) == stored
        assert stored.lines == contract.lines


def test_contracts_and_receipts_filter(crm: CRM) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        first = s.contracts.add(_contract(customer, "HT-1"))
        second = s.contracts.add(approved(_contract(customer, "HT-2", "50000.00")))
        s.receipts.add(paid(second, "100", date(2026, 4, 1)))
    with crm.session() as s:
        assert [c.id for c in s.contracts.list(status="draft").items] == [first.id]
        assert s.contracts.count(status=ContractStatus.APPROVED) == 1
        assert s.contracts.count(customer_id=customer.id) == 2
        assert [c.id for c in s.contracts.list(number="HT-2").items] == [second.id]
        assert s.contracts.count(approval_stage="approved") == 1
        assert s.contracts.count(opportunity_id=None) == 2
        assert s.receipts.count(customer_id=customer.id) == 1
        assert s.receipts.count(contract_id=first.id) == 0
        with pytest.raises(ValidationError, match="terms"):
            s.contracts.count(terms="x")


def test_unique_number_stale_update_and_rollback(crm: CRM) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        original = s.contracts.add(_contract(customer, "HT-1"))
    with pytest.raises(AlreadyExists), crm.session() as s:
        s.contracts.add(_contract(customer, "HT-1"))
    with crm.session(actor="alice") as s:
        s.contracts.update(approved(original))
    stale, _ = submit_for_approval(original, policy=POLICY, now=NOW, by="bob")
    with pytest.raises(ConcurrencyConflict), crm.session(actor="bob") as s:
        s.contracts.update(stale)
    with pytest.raises(Boom), crm.session() as s:
        s.contracts.add(_contract(customer, "HT-2"))
        raise Boom
    with crm.session() as s:
        assert s.contracts.count() == 1
        assert s.contracts.get(original.id).status is ContractStatus.APPROVED


def test_customers_and_contracts_with_dependents_cannot_be_removed(crm: CRM) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        contract = s.contracts.add(approved(_contract(customer, "HT-1")))
        receipt = s.receipts.add(paid(contract, "1", date(2026, 4, 1)))
    with pytest.raises(ValidationError, match="contract"), crm.session() as s:
        s.customers.remove(customer.id)
    with pytest.raises(ValidationError, match="receipt"), crm.session() as s:
        s.contracts.remove(contract.id)
    with crm.session() as s:
        s.receipts.remove(receipt)
        s.contracts.remove(contract.id)
        s.customers.remove(customer.id)
    with pytest.raises(ValidationError, match="customer_id"), crm.session() as s:
        s.contracts.add(_contract(customer, "HT-9"))


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_contracts_round_trip(
    store_factory: Callable[[], Store], clock: FixedClock, data: st.DataObject
) -> None:
    crm = CRM(store_factory(), clock=clock)  # a fresh store per example
    customer = _customer(crm)
    drawn = data.draw(st.lists(pst.contracts(customer.id), min_size=1, max_size=3))
    with crm.session() as s:
        stored = [s.contracts.add(contract) for contract in drawn]
    with crm.session() as s:
        for contract in stored:
            assert s.contracts.get(contract.id) == contract
            assert s.contracts.count(approval_stage=contract.approval_stage) == sum(
                c.approval_stage == contract.approval_stage for c in stored
            )
    crm.close()

"""The store operations merging and erasure stand on, on every backend: moving records
set-based, and reading and redacting a customer's audit entries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pycrm import (
    CRM,
    AuditEntry,
    ChangeKind,
    Customer,
    CustomerGrade,
    Money,
    Order,
    OrderLine,
    Session,
)

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
LATER = START + timedelta(days=1)


def add_order(s: Session, customer: Customer, number: str) -> Order:
    line = OrderLine(description="widget", quantity=2, unit_price=Money("5.00", "CNY"))
    return s.orders.add(
        Order(
            number=number,
            customer_id=customer.id,
            placed_at=START,
            total=Money("10.00", "CNY"),
            lines=[line],
            status="paid",
        )
    )


def test_reassign_moves_rows_with_a_new_version_and_their_child_rows(crm: CRM) -> None:
    with crm.session(actor="t") as s:
        a = s.customers.add(Customer.person("A"))
        b = s.customers.add(Customer.person("B"))
        first, second = add_order(s, a, "SO-1"), add_order(s, a, "SO-2")
        table = s._tx.table("order")
        assert table.reassign("customer_id", [a.id], b.id, now=LATER, only=[first.id]) == [first.id]
        assert table.reassign("customer_id", ["cus_none"], b.id, now=LATER) == []
        assert table.reassign("customer_id", [a.id], b.id, now=LATER, only=[]) == []
    with crm.session(actor="t") as s:
        moved = s.orders.get(first.id)
        assert moved.customer_id == b.id
        assert moved.version == first.version + 1
        assert moved.updated_at == LATER
        assert moved.lines == first.lines
        assert s.orders.get(second.id) == second
        table = s._tx.table("order")
        assert table.reassign("customer_id", [a.id, b.id], a.id, now=LATER) == sorted(
            [first.id, second.id]
        )
    with crm.session(actor="t") as s:
        assert s.orders.count(customer_id=a.id) == 2
        assert s.orders.get(second.id).version == second.version + 1
        # The customer could not be removed while an order line still pointed at it.
        s.customers.remove(b)


def test_reassign_keeps_a_derived_key_in_step(crm: CRM) -> None:
    with crm.session(actor="t") as s:
        a = s.customers.add(Customer.person("A"))
        b = s.customers.add(Customer.person("B"))
        grade = s.customer_grades.add(
            CustomerGrade(customer_id=a.id, scheme="abc", grade="A", graded_at=START)
        )
        s._tx.table("customer_grade").reassign("customer_id", [a.id], b.id, now=LATER)
    with crm.session(actor="t") as s:
        found = s.customer_grades.list(key=f"abc/{b.id}").items
        assert [g.id for g in found] == [grade.id]
        assert found[0].version == grade.version + 1
        assert s.customer_grades.count(key=f"abc/{a.id}") == 0


def entry(customer_id: str, changes: dict[str, list[object]] | None) -> AuditEntry:
    return AuditEntry(
        at=START,
        actor="t",
        action=ChangeKind.CHANGED,
        entity_type="customer",
        entity_id=customer_id,
        customer_id=customer_id,
        changes=changes,
    )


def test_a_customers_audit_entries_can_be_redacted_in_a_transaction(crm: CRM) -> None:
    first = entry("cus_1", {"name": ["Zhang Wei", "Wei Zhang"]})
    other = entry("cus_2", {"name": ["Li Na", "Li"]})
    with crm.session(actor="t") as s:
        s._tx.audit.append([first, other])
    with pytest.raises(RuntimeError), crm.session(actor="t") as s:
        s._tx.audit.redact({first.id: {"name": ["x", "y"]}})
        raise RuntimeError("rolled back")
    with crm.session(actor="t") as s:
        audit = s._tx.audit
        assert audit.for_customer("cus_1") == [first]
        audit.redact({first.id: {"name": ["[erased]", "[erased]"]}})
        # The transaction sees its own redaction before it commits.
        assert audit.for_customer("cus_1")[0].changes == {"name": ["[erased]", "[erased]"]}
    with crm.session(actor="t") as s:
        stored = s._tx.audit.for_entity("customer", "cus_1")
        assert [e.id for e in stored] == [first.id]
        assert stored[0].changes == {"name": ["[erased]", "[erased]"]}
        assert s._tx.audit.for_customer("cus_2") == [other]

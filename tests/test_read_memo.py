"""A session computes a read-only analytics answer once (aggregations, RFM scores) and never
hands out a stale one: any write through it, a rolled-back savepoint or its end drops them.
The figures of every report are the same whether it shares a session with others or not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from pycrm import CRM, Customer, FixedClock, Money, Order, Period, Session
from pycrm.analytics import Aggregation, Count, Sum
from pycrm.analytics.memo import ReadMemo
from pycrm.demo import load

if TYPE_CHECKING:
    from conftest import SqlBackend

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)
BY_STATUS = Aggregation(
    entity="order", group_by=("status",), measures=(Count(), Sum("total_amount"))
)


def order(customer: Customer, n: int, status: str = "paid", amount: int = 100) -> Order:
    return Order(
        number=f"o{n}",
        customer_id=customer.id,
        placed_at=NOW - timedelta(days=n + 1),
        total=Money(Decimal(amount), "CNY"),
        status=status,
    )


class Spy:
    """Counts the questions that reach the store."""

    def __init__(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[str] = []
        analytics = session._analytics
        for name in ("aggregate", "rfm"):
            real = getattr(analytics, name)

            def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
                self.asked.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(analytics, name, spy)


@pytest.fixture
def book(crm: CRM) -> Customer:
    with crm.session() as s:
        customer = s.customers.add(Customer.company("Acme", region="north"))
        s.orders.add_many([order(customer, n) for n in range(3)])
    return customer


def test_an_answer_is_computed_once_and_handed_out_as_a_new_list(
    crm: CRM, book: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with crm.session() as s:
        spy = Spy(s, monkeypatch)
        first = s.aggregate(BY_STATUS)
        first.append(("tampered",))
        again = s.aggregate(BY_STATUS)
        scores = s.rfm(as_of=NOW, currency="CNY")
        assert s.rfm(as_of=NOW, currency="CNY") is scores
        s.rfm(as_of=NOW, currency="USD")  # another question
    assert again == [("paid", 3, Decimal(300))]
    assert spy.asked == ["aggregate", "rfm", "rfm"]


def test_every_kind_of_write_drops_the_answers(crm: CRM, book: Customer) -> None:
    with crm.session() as s:
        assert s.aggregate(BY_STATUS) == [("paid", 3, Decimal(300))]
        assert [row.frequency for row in s.rfm(as_of=NOW)] == [3]
        stored = s.orders.add(order(book, 10, amount=50))
        assert s.aggregate(BY_STATUS) == [("paid", 4, Decimal(350))]
        assert [row.frequency for row in s.rfm(as_of=NOW)] == [4]
        s.orders.update(stored.evolve(status="cancelled"))
        assert s.aggregate(BY_STATUS) == [("cancelled", 1, Decimal(50)), ("paid", 3, Decimal(300))]
        assert [row.frequency for row in s.rfm(as_of=NOW)] == [3]
        s.orders.add_many([order(book, 20), order(book, 21)])
        assert s.aggregate(BY_STATUS)[-1] == ("paid", 5, Decimal(500))
        other = s.customers.add(Customer.company("Other"))
        s.customers.merge(book, [other])  # a set-based reassign of the records
        customers = Aggregation(entity="customer", measures=(Count(),))
        assert s.aggregate(customers) == [(1,)]
    with crm.session() as s:
        # A new session reads what the last one committed.
        assert s.aggregate(BY_STATUS)[-1] == ("paid", 5, Decimal(500))


def test_a_rolled_back_savepoint_drops_what_was_read_inside_it(crm: CRM, book: Customer) -> None:
    with crm.session() as s:
        with pytest.raises(LookupError), s._savepoint():
            s.orders.add(order(book, 10))
            assert s.aggregate(BY_STATUS) == [("paid", 4, Decimal(400))]
            raise LookupError("undone")
        assert s.aggregate(BY_STATUS) == [("paid", 3, Decimal(300))]
        with s._savepoint():  # a savepoint that ends normally keeps its writes
            s.orders.add(order(book, 11))
        assert s.aggregate(BY_STATUS) == [("paid", 4, Decimal(400))]
    with crm.session() as s:
        assert s.aggregate(BY_STATUS) == [("paid", 4, Decimal(400))]


def test_a_session_joined_to_a_hosts_transaction_keeps_nothing(
    sql: SqlBackend, clock: FixedClock
) -> None:
    crm = CRM.open(sql.store.engine, table_prefix=sql.prefix, clock=clock)
    with crm.session() as s:
        customer = s.customers.add(Customer.company("Acme"))
        s.orders.add(order(customer, 1))
    orders = sql.store.tables.orders
    with sql.store.engine.connect() as conn, conn.begin(), crm.session(connection=conn) as s:
        assert s.aggregate(BY_STATUS)[0][:2] == ("paid", 1)
        # The host writes on the same connection, behind pycrm's back.
        conn.execute(sa.update(orders).values(status="fulfilled"))
        assert s.aggregate(BY_STATUS)[0][:2] == ("fulfilled", 1)
        assert len(s._memo) == 0


def test_the_budget_keeps_the_most_recent_answers() -> None:
    memo = ReadMemo(budget=5)
    memo.rows("a", lambda: [(1,), (2,)])
    memo.rows("b", lambda: [(3,), (4,)])
    memo.rows("a", lambda: [])  # a hit: "a" is now the most recent
    memo.rows("c", lambda: [(5,), (6,)])  # 6 rows: "b" goes
    assert memo.rows("a", lambda: []) == [(1,), (2,)]
    assert memo.rows("b", lambda: [("again",)]) == [("again",)]
    memo.rows("big", lambda: [(n,) for n in range(6)])  # over the budget: not kept
    assert memo.rows("big", lambda: []) == []
    assert memo.rows(None, lambda: [(7,)]) == [(7,)]  # no key: never kept
    disabled = ReadMemo(enabled=False)
    disabled.rows("a", lambda: [(1,)])
    assert len(disabled) == 0


def test_reports_read_the_same_in_one_session_as_each_in_its_own(clock: FixedClock) -> None:
    # Memory and SQLite: the demo book is too slow to load per test on the servers.
    for crm in (CRM.memory(clock=FixedClock(NOW)), CRM.open("sqlite://", clock=FixedClock(NOW))):
        try:
            load(crm, customers=40, seed=3)
            month = Period.parse("2026-05", "Asia/Shanghai")
            alone = {name: crm.report(name, month) for name in crm.reports}
            with crm.session() as s:
                shared = {name: crm.reports[name].build(s, month) for name in crm.reports}
                assert len(s._memo) > 0
            for name in crm.reports:
                assert list(shared[name]) == list(alone[name]), name
                assert shared[name].notes == alone[name].notes, name
        finally:
            crm.close()

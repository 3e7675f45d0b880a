"""RFM on every backend: the store's set-based answer equals the pure function's, exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Customer,
    FixedClock,
    Money,
    Order,
    OrderStatus,
    RfmTable,
    ValidationError,
)
from pycrm.rfm import score
from pycrm.storage import Store

UTC = timezone.utc
AS_OF = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

Purchase = tuple[int, datetime, Decimal, OrderStatus, str]


def store_orders(crm: CRM, customers: int, purchases: Sequence[Purchase]) -> list[str]:
    """Add ``customers`` customers and the orders; returns the customer ids by index."""
    with crm.session(actor="loader") as s:
        people = [Customer.person(f"Customer {i}") for i in range(customers)]
        s.customers.add_many(people)
        s.orders.add_many(
            Order(
                number=f"N{number:05d}",
                customer_id=people[who].id,
                placed_at=placed_at,
                total=Money(amount, currency),
                status=status,
            )
            for number, (who, placed_at, amount, status, currency) in enumerate(purchases)
        )
    return [person.id for person in people]


def reference(
    ids: list[str],
    purchases: Sequence[Purchase],
    as_of: datetime,
    bins: int = 5,
    currency: str | None = None,
) -> RfmTable:
    return score(
        (
            (ids[who], placed_at, amount)
            for who, placed_at, amount, status, money in purchases
            if status not in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
            and (currency is None or money == currency)
        ),
        as_of=as_of,
        bins=bins,
    )


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


PAID, PENDING, DONE = OrderStatus.PAID, OrderStatus.PENDING, OrderStatus.FULFILLED
FIXTURE: list[Purchase] = [
    (0, at(2026, 3, 10, 11, 0), Decimal("10.00"), PAID, "CNY"),
    (0, at(2026, 3, 1, 9, 0), Decimal("20"), DONE, "CNY"),
    (0, at(2026, 3, 10, 11, 30), Decimal("900"), OrderStatus.CANCELLED, "CNY"),
    (1, at(2026, 3, 9, 13, 0), Decimal("30"), PENDING, "CNY"),
    (1, at(2026, 2, 9, 13, 0), Decimal("999"), OrderStatus.REFUNDED, "CNY"),
    (2, at(2026, 3, 9, 12, 0), Decimal("5.5"), PAID, "CNY"),
    (2, at(2026, 2, 1), Decimal("4.5"), PAID, "CNY"),
    (2, at(2026, 1, 15), Decimal("10"), PAID, "CNY"),
    (3, datetime(2026, 2, 28, 12, 0, 0, 1, tzinfo=UTC), Decimal("100"), PAID, "CNY"),
    (4, at(2026, 2, 28, 12, 0), Decimal("1"), PAID, "CNY"),
    (4, at(2026, 3, 11), Decimal("500"), PAID, "CNY"),
    (5, at(2026, 1, 1), Decimal("2.25"), PAID, "CNY"),
    (5, at(2026, 1, 2), Decimal("2.25"), PAID, "CNY"),
    (6, AS_OF + timedelta(microseconds=1), Decimal("7"), PAID, "CNY"),
    (7, at(2026, 1, 1), Decimal("50"), OrderStatus.CANCELLED, "CNY"),
    (8, at(2026, 3, 2), Decimal("12.3456"), PAID, "USD"),
]
# Customer index: recency_days, frequency, monetary, r, f, m with CNY and USD summed as
# numbers (n = 7: the six of tests/test_rfm.py and the USD buyer).
EXPECTED = {
    0: (0, 2, "30", 4, 3, 3),
    1: (0, 1, "30", 4, 1, 3),
    2: (1, 3, "20", 3, 5, 3),
    3: (9, 1, "100", 2, 1, 5),
    4: (10, 1, "1", 1, 1, 1),
    5: (67, 2, "4.5", 1, 3, 1),
    8: (8, 1, "12.3456", 3, 1, 2),
}


def test_hand_computed_table_on_the_store(crm: CRM) -> None:
    ids = store_orders(crm, 9, FIXTURE)
    table = crm.rfm(AS_OF)
    got = {
        ids.index(row.customer_id): (
            row.recency_days,
            row.frequency,
            row.monetary,
            row.r,
            row.f,
            row.m,
        )
        for row in table
    }
    assert got == {
        who: (recency, frequency, Decimal(monetary), r, f, m)
        for who, (recency, frequency, monetary, r, f, m) in EXPECTED.items()
    }
    assert table == reference(ids, FIXTURE, AS_OF)
    assert all(isinstance(row.monetary, Decimal) for row in table)
    for row in table:
        values = (row.recency_days, row.frequency, row.r, row.f, row.m)
        assert all(type(value) is int for value in values), values
    # Sums read as cents where they are whole cents, on every backend.
    assert [str(table[ids[i]].monetary) for i in (0, 5, 8)] == ["30.00", "4.50", "12.3456"]


def test_currency_bins_and_default_as_of(crm: CRM, clock: FixedClock) -> None:
    ids = store_orders(crm, 9, FIXTURE)
    cny = crm.rfm(AS_OF, currency="cny", bins=3)
    assert ids[8] not in cny
    assert len(cny) == 6
    assert cny == reference(ids, FIXTURE, AS_OF, bins=3, currency="CNY")
    usd = crm.rfm(AS_OF, currency="USD")
    assert [(row.customer_id, row.monetary) for row in usd] == [(ids[8], Decimal("12.3456"))]
    clock.set(AS_OF)
    assert crm.rfm() == crm.rfm(AS_OF)
    assert crm.rfm(AS_OF.astimezone(timezone(timedelta(hours=-5)))) == crm.rfm(AS_OF)


def test_session_rfm_sees_its_own_uncommitted_orders(crm: CRM) -> None:
    ids = store_orders(crm, 9, FIXTURE)
    with crm.session() as s:
        s.orders.add(
            Order(
                number="LATE",
                customer_id=ids[7],
                placed_at=AS_OF,
                total=Money("3", "CNY"),
                status=PAID,
            )
        )
        inside = s.rfm(AS_OF)
        assert inside[ids[7]].recency_days == 0
        s.rollback()
    assert ids[7] not in crm.rfm(AS_OF)


def test_store_path_validates(crm: CRM) -> None:
    for kwargs, field in (
        ({"as_of": datetime(2026, 1, 1)}, "as_of"),
        ({"as_of": AS_OF, "bins": 0}, "bins"),
        ({"as_of": AS_OF, "currency": "yuan"}, "currency"),
    ):
        with pytest.raises(ValidationError) as info:
            crm.rfm(**kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


BASE = at(2026, 1, 1)
instants = st.builds(
    lambda days, seconds, micros: BASE + timedelta(days=days, seconds=seconds, microseconds=micros),
    st.integers(0, 6),
    st.sampled_from([0, 1, 3600, 43200, 86399]),
    st.sampled_from([0, 1, 999_999]),
)
purchases = st.lists(
    st.tuples(
        st.integers(0, 5),
        instants,
        st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False),
        st.sampled_from(list(OrderStatus)),
        st.sampled_from(["CNY", "CNY", "USD"]),
    ),
    max_size=30,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=purchases, as_of=instants, bins=st.sampled_from([2, 3, 5, 10]))
def test_store_agrees_with_the_pure_function(
    store_factory: Callable[[], Store], data: list[Purchase], as_of: datetime, bins: int
) -> None:
    with CRM(store_factory(), clock=FixedClock(as_of)) as crm:
        ids = store_orders(crm, 6, data)
        assert crm.rfm(as_of, bins=bins) == reference(ids, data, as_of, bins)
        assert crm.rfm(as_of, bins=bins, currency="USD") == reference(ids, data, as_of, bins, "USD")

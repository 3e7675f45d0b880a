"""Repurchase reminders from a customer's own order rhythm."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    Money,
    Order,
    OrderStatus,
    ValidationError,
    repurchase_due,
    repurchase_reminder_date,
)


def order(day: date, *, status: OrderStatus = OrderStatus.PAID, customer: str = "cus_1") -> Order:
    placed = datetime(day.year, day.month, day.day, 10, 0, tzinfo=timezone.utc)
    return Order(
        number=f"SO-{day.isoformat()}-{status.value}",
        customer_id=customer,
        placed_at=placed,
        total=Money(100, "CNY"),
        status=status,
    )


def test_median_gap_ignores_one_late_order_and_cancellations() -> None:
    history = [
        order(date(2026, 1, 1)),
        order(date(2026, 1, 31)),  # 30 days
        order(date(2026, 3, 2)),  # 30 days
        order(date(2026, 6, 30)),  # 120 days: one late order
        order(date(2026, 7, 10), status=OrderStatus.CANCELLED),  # not a purchase
    ]
    # gaps 30, 30, 120 -> median 30
    assert repurchase_due(history) == date(2026, 7, 30)
    assert repurchase_reminder_date(history) == date(2026, 7, 23)
    assert repurchase_reminder_date(history, before=relativedelta(months=1)) == date(2026, 6, 30)


def test_too_little_history_gives_no_date() -> None:
    assert repurchase_due([order(date(2026, 1, 1)), order(date(2026, 2, 1))]) is None
    assert repurchase_due([order(date(2026, 1, 1)), order(date(2026, 2, 1))], min_orders=2) == (
        date(2026, 3, 4)
    )
    assert repurchase_reminder_date([]) is None


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: repurchase_due([order(date(2026, 1, 1))], min_orders=1), "min_orders"),
        (lambda: repurchase_due(["2026-01-01"]), "orders"),  # type: ignore[list-item]
        (
            lambda: repurchase_due(
                [order(date(2026, 1, 1)), order(date(2026, 2, 1), customer="x")]
            ),
            "orders",
        ),
        (lambda: repurchase_reminder_date([], before=timedelta(days=7)), "before"),  # type: ignore[arg-type]
    ],
)
def test_bad_input_names_the_field(call, field):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    interval=st.integers(1, 400),
    count=st.integers(3, 12),
)
def test_a_regular_rhythm_predicts_the_next_order(start: date, interval: int, count: int) -> None:
    history = [order(start + timedelta(days=interval * i)) for i in range(count)]
    assert repurchase_due(reversed(history)) == start + timedelta(days=interval * count)

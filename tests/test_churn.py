"""Churn risk: quiet customers and falling purchase frequency, with reasons, on every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from pycrm import CRM, Customer, FixedClock, Interaction, Money, Order, ValidationError
from pycrm.grading.churn import FALLING, INACTIVE, ChurnPolicy
from pycrm.storage import Store

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


def test_policy_is_checked() -> None:
    assert ChurnPolicy().ratio_parts == (5000, 10000)
    with pytest.raises(ValidationError) as caught:
        ChurnPolicy(drop_ratio=Decimal(1))
    assert caught.value.field == "drop_ratio"
    with pytest.raises(ValidationError) as caught:
        ChurnPolicy(inactive_days=0)
    assert caught.value.field == "inactive_days"
    with pytest.raises(ValidationError) as caught:
        ChurnPolicy(window_days=10**6)
    assert caught.value.field == "window_days"


def test_quiet_and_slowing_customers_are_flagged_with_reasons(
    store_factory: Callable[[], Store],
) -> None:
    crm = CRM(store_factory(), clock=FixedClock(NOW))
    names = ["exactly-90", "just-over-90", "recent-order", "never", "halved", "steady"]
    with crm.session() as s:
        people = {name: s.customers.add(Customer.person(name)) for name in names}

        def visit(name: str, at: datetime) -> Interaction:
            return Interaction(
                customer_id=people[name].id, channel="visit", occurred_at=at, summary="v"
            )

        def buy(name: str, at: datetime, n: int) -> Order:
            return Order(
                number=f"SO-{name}-{n}",
                customer_id=people[name].id,
                placed_at=at,
                total=Money("10", "CNY"),
                status="paid",
            )

        s.interactions.add_many(
            [
                visit("exactly-90", NOW - 90 * DAY),  # 90 whole days: not over 90
                visit("just-over-90", NOW - 91 * DAY + TICK),  # still 90 whole days
                visit("just-over-90", NOW - 200 * DAY),
                visit("recent-order", NOW - 300 * DAY),
                visit("halved", NOW - DAY),
                visit("steady", NOW - DAY),
            ]
        )
        s.orders.add_many(
            [
                buy("recent-order", NOW - 5 * DAY, 1),
                # Two purchases 31-60 days ago, one in the last 30: halved.
                buy("halved", NOW - 40 * DAY, 1),
                buy("halved", NOW - 50 * DAY, 2),
                buy("halved", NOW - 10 * DAY, 3),
                buy("steady", NOW - 40 * DAY, 1),
                buy("steady", NOW - 10 * DAY, 2),
                # A cancelled order is no purchase and no sign of life.
                Order(
                    number="SO-never-x",
                    customer_id=people["never"].id,
                    placed_at=NOW,
                    total=Money("5", "CNY"),
                    status="cancelled",
                ),
            ]
        )
    policy = ChurnPolicy(inactive_days=90, window_days=30, drop_ratio=Decimal("0.5"))
    with crm.session() as s:
        found = {r.customer_id: r for r in s.customers.at_risk(policy, batch_size=1)}
        assert set(found) == {people["never"].id, people["halved"].id}
        assert found[people["never"].id].reasons == (INACTIVE,)
        assert found[people["never"].id].explanation == "no interaction or purchase on record"
        halved = found[people["halved"].id]
        assert halved.reasons == (FALLING,)
        assert halved.explanation == "1 purchase(s) in the last 30 days against 2 in the 30 before"
        assert (halved.signals.recent_orders, halved.signals.previous_orders) == (1, 2)

        later = {r.customer_id: r for r in s.customers.at_risk(policy, as_of=NOW + DAY)}
        assert set(later) == {
            people["never"].id,
            people["halved"].id,
            people["exactly-90"].id,
            people["just-over-90"].id,
        }
        assert later[people["exactly-90"].id].explanation == (
            "no interaction or purchase for 91 days (since 2026-03-03)"
        )
    crm.close()

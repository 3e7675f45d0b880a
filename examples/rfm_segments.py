"""RFM segments of a shop's customers, computed in the database, then used.

Stores a year of orders for 300 customers in a temporary SQLite file, scores everyone with
one ``crm.rfm(...)`` call, prints the segment summary, picks who to call this week, and
checks the in-database answer against the pure ``pycrm.rfm.score`` on the same orders.

Run: ``python examples/rfm_segments.py``.
"""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pycrm
from pycrm import CRM, Customer, FixedClock, Money, Order, OrderStatus

NOW = datetime(2026, 6, 30, 18, 0, tzinfo=timezone.utc)


def load_orders(crm: CRM, rng: random.Random) -> None:
    """Customers with habits: a few big regulars, many occasional buyers, some gone quiet."""
    with crm.session(actor="import") as s:
        customers = [Customer.person(f"Customer {i:03d}") for i in range(300)]
        s.customers.add_many(customers)
        orders = []
        for index, customer in enumerate(customers):
            habit = rng.choice(("regular", "occasional", "occasional", "lapsed"))
            count = {"regular": rng.randint(8, 20), "occasional": rng.randint(1, 4)}.get(
                habit, rng.randint(1, 6)
            )
            quiet = timedelta(days=200) if habit == "lapsed" else timedelta(0)
            for n in range(count):
                placed = NOW - quiet - timedelta(minutes=rng.randrange(365 * 24 * 60 - 300_000))
                amount = Decimal(rng.randint(20_00, 900_00)) / 100
                status = OrderStatus.REFUNDED if rng.random() < 0.05 else OrderStatus.FULFILLED
                orders.append(
                    Order(
                        number=f"SO-{index:03d}-{n:02d}",
                        customer_id=customer.id,
                        placed_at=placed,
                        total=Money(amount, "CNY"),
                        status=status,
                    )
                )
        s.orders.add_many(orders)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder, 'shop.db').as_posix()}"
        with CRM.open(url, clock=FixedClock(NOW)) as crm:
            load_orders(crm, random.Random(7))

            table = crm.rfm(currency="CNY")  # as of the clock's now, one SQL query
            print(f"scored {len(table)} customers as of {table.as_of:%Y-%m-%d}")
            print(pycrm.rfm.format_summary(table.summary()))

            at_risk = [item for item in table.segmented() if item.segment == "can't lose"]
            at_risk.sort(key=lambda item: item.row.monetary, reverse=True)
            print(f"\ncall this week: {len(at_risk)} big spenders who went quiet")
            with crm.session() as s:
                for item in at_risk[:3]:
                    name = s.customers.get(item.customer_id).name
                    print(
                        f"  {name}: last order {item.row.recency_days} days ago, "
                        f"{item.row.frequency} orders, {item.row.monetary:,.2f} CNY "
                        f"({item.value_class.name}: {item.value_class.action})"
                    )

            with crm.session() as s:
                purchases = [
                    (o.customer_id, o.placed_at, o.total.amount)
                    for o in s.orders.stream()
                    if o.is_purchase
                ]
            same = pycrm.rfm.score(purchases, as_of=NOW) == table
            print(f"\nin-database scores equal the pure function's: {same}")
            assert same
    print("rfm_segments: ok")


if __name__ == "__main__":
    main()

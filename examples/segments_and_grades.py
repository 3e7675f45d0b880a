"""A segment, a saved segment, a grade run and churn risk, on a temporary SQLite file.

Builds a small book of business (manufacturers and retailers, orders, visits), finds the
big manufacturers nobody has visited for three months, saves that rule as a segment, grades
everyone A/B/C with follow-up dates, explains one grade, and lists who is slipping away.

Run: ``python examples/segments_and_grades.py``.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pycrm import (
    CRM,
    ChurnPolicy,
    Customer,
    F,
    FixedClock,
    Interaction,
    Money,
    Order,
    Segment,
    abc_scheme,
)

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=timezone.utc)


def book_of_business(crm: CRM) -> None:
    with crm.session(actor="import") as s:
        north = s.customers.add(
            Customer.company("北方重工", industry="manufacturing", region="north")
        )
        delta = s.customers.add(
            Customer.company("Delta Tools", industry="manufacturing", region="east")
        )
        corner = s.customers.add(Customer.company("Corner Shop", industry="retail", region="east"))
        s.orders.add_many(
            [
                Order(
                    number="SO-1",
                    customer_id=north.id,
                    placed_at=NOW - timedelta(days=40),
                    total=Money("1250000", "CNY"),
                    status="paid",
                ),
                Order(
                    number="SO-2",
                    customer_id=delta.id,
                    placed_at=NOW - timedelta(days=20),
                    total=Money("180000", "CNY"),
                    status="paid",
                ),
                Order(
                    number="SO-3",
                    customer_id=corner.id,
                    placed_at=NOW - timedelta(days=300),
                    total=Money("900", "CNY"),
                    status="fulfilled",
                ),
            ]
        )
        s.interactions.add_many(
            [
                Interaction(
                    customer_id=north.id,
                    channel="visit",
                    summary="plant visit",
                    occurred_at=NOW - timedelta(days=120),
                ),
                Interaction(
                    customer_id=delta.id,
                    channel="phone",
                    summary="reorder call",
                    occurred_at=NOW - timedelta(days=3),
                ),
            ]
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'crm.db'}"
        with CRM.open(url, clock=FixedClock(NOW)) as crm:
            book_of_business(crm)
            quiet_makers = (
                (F.industry == "manufacturing")
                & (F.spend(days=365) > 1_000_000)
                & (F.days_since_interaction > 90)
            )
            with crm.session(actor="marketing") as s:
                found = [c.name for c in s.customers.find(quiet_makers)]
                print(f"segment: {found}")
                s.segments.add(Segment(name="quiet makers", rule=quiet_makers))

            with crm.session() as s:
                saved = s.segment("quiet makers")
                print(f"saved segment {saved.name!r}: {s.customers.count(saved)} customer(s)")

            report = crm.regrade(abc_scheme(), actor="nightly")
            print(f"regrade: {report}")
            with crm.session() as s:
                for grade in s.customer_grades.stream(scheme="abc"):
                    name = s.customers.get(grade.customer_id).name
                    due = grade.next_follow_up_at
                    print(f"  {name}: {grade.grade}, next follow-up {due:%Y-%m-%d}")
                delta = next(c for c in s.customers.stream() if c.name == "Delta Tools")
                print(s.explain_grade(delta, "abc"))
                for risk in s.customers.at_risk(ChurnPolicy(inactive_days=182)):
                    name = s.customers.get(risk.customer_id).name
                    print(f"churn risk: {name}: {risk.explanation}")


if __name__ == "__main__":
    main()

"""Customer reports against a hand-computed book on every store: new customers, retention
and churn, churn reasons, grades, RFM segments per currency and high-value traits."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Actor,
    Customer,
    CustomerGrade,
    FixedClock,
    Money,
    Opportunity,
    Order,
    Role,
    advance_opportunity,
    default_pipeline,
    open_opportunity,
)
from pycrm.analytics import Period
from pycrm.analytics.customers import (
    ALL,
    NONE,
    ChurnReasonRow,
    GradeRow,
    NewCustomersRow,
    RetentionRow,
    RfmSegmentRow,
    TraitRow,
    lift,
)

UTC = timezone.utc
NOVEMBER = Period.parse("2026-11")
SALES = default_pipeline()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


ORDERS = [
    # (customer, placed, status, amount, currency)
    (0, at(9, 15), "paid", "100", "CNY"),
    (0, at(10, 10), "paid", "200", "CNY"),
    (0, at(11, 12), "paid", "300", "CNY"),
    (1, at(10, 20), "paid", "50", "CNY"),
    (1, at(11, 3), "cancelled", "999", "CNY"),
    (2, at(10, 5), "refunded", "80", "CNY"),
    (2, at(11, 10), "paid", "40", "CNY"),
    (3, at(11, 20), "paid", "30", "USD"),
    (4, at(10, 31, 23), "paid", "60", "CNY"),
    (4, at(12, 1), "paid", "70", "CNY"),
]


def lost_deal(
    customer: Customer, amount: str, currency: str, reason: str, when: datetime
) -> Opportunity:
    found, _ = open_opportunity(
        customer_id=customer.id,
        title="deal",
        amount=Money(Decimal(amount), currency),
        owner="rep",
        now=when,
        by="rep",
    )
    lost, _ = advance_opportunity(found, "lost", now=when, by="rep", machine=SALES, reason=reason)
    return lost


def seed(crm: CRM, clock: FixedClock) -> list[Customer]:
    """Six customers written on Oct 15 (c0-c2), Nov 5 (c3, c4) and Dec 2 (c5)."""
    clock.set(at(10, 15))
    with crm.session() as s:
        people = [
            s.customers.add(
                Customer.company("C0", region="north", source_channel="web", industry="retail")
            ),
            s.customers.add(Customer.person("C1", region="south", source_channel="fair")),
            s.customers.add(
                Customer.company(
                    "C2",
                    region="north",
                    source_channel="web",
                    industry="tech",
                    captured_at=at(11, 3),
                )
            ),
        ]
        for person, grade in zip(people, ("A", "A", "B"), strict=True):
            s.customer_grades.add(
                CustomerGrade(
                    customer_id=person.id, scheme="abc", grade=grade, graded_at=at(10, 15)
                )
            )
        s.customer_grades.add(
            CustomerGrade(
                customer_id=people[0].id, scheme="tier", grade="gold", graded_at=at(10, 15)
            )
        )
        # Lost in October (and noted on in November, below): not in November.
        october_loss = s.opportunities.add(lost_deal(people[0], "500", "CNY", "price", at(10, 15)))
    clock.set(at(11, 5))
    with crm.session() as s:
        people.append(s.customers.add(Customer.person("C3", source_channel="web")))
        people.append(
            s.customers.add(
                Customer.company("C4", region="south", industry="retail", captured_at=at(10, 20))
            )
        )
        s.customer_grades.add(
            CustomerGrade(customer_id=people[3].id, scheme="abc", grade=None, graded_at=at(11, 5))
        )
        for n, (who, placed, status, amount, currency) in enumerate(ORDERS):
            s.orders.add(
                Order(
                    number=f"o{n}",
                    customer_id=people[who].id,
                    placed_at=placed,
                    total=Money(Decimal(amount), currency),
                    status=status,
                )
            )
    clock.set(at(11, 8))
    with crm.session() as s:
        for who, status, reason in ((1, "churned", "moved to a rival"), (4, "lost", None)):
            current = s.customers.get(people[who].id)
            s.customers.update(attrs.evolve(current, status=status, churn_reason=reason))
    clock.set(at(11, 9))
    with crm.session() as s:
        s.opportunities.add(lost_deal(people[0], "100", "CNY", "price", at(11, 9)))
        s.opportunities.add(lost_deal(people[1], "50", "CNY", "price", at(11, 9)))
        s.opportunities.add(lost_deal(people[2], "30", "USD", "timing", at(11, 9)))
        s.opportunities.update(october_loss.evolve(custom_fields={"post_mortem": "done"}))
    clock.set(at(12, 2))
    with crm.session() as s:
        people.append(
            s.customers.add(
                Customer.person("C5", region="north", source_channel="fair", status="churned")
            )
        )
    clock.set(at(12, 5))
    return people


def test_new_customers_by_capture_or_creation(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # C2 was created in October but captured in November; C3 created in November; C4
    # created in November but captured in October; C5 is December's.
    assert crm.report("new_customers", NOVEMBER).rows == (
        NewCustomersRow("web", "north", 1),
        NewCustomersRow("web", NONE, 1),
        NewCustomersRow(ALL, ALL, 2),
    )
    with crm.session() as s:
        assert crm.reports.metrics["new_customers"].compute(s, NOVEMBER) == Decimal(2)


def test_retention_of_the_previous_periods_purchasers(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # October's purchasers: C0 (north, buys again Nov 12), C1 (south, only a cancelled order
    # in November), C4 (south, Oct 31; next buys Dec 1). C2's October order was refunded.
    assert crm.report("retention", NOVEMBER).rows == (
        RetentionRow("north", 1, 1, 0, Decimal("1.0000"), Decimal("0.0000")),
        RetentionRow("south", 2, 0, 2, Decimal("0.0000"), Decimal("1.0000")),
        # 1 of 3 retained.
        RetentionRow(ALL, 3, 1, 2, Decimal("0.3333"), Decimal("0.6667")),
    )
    with crm.session() as s:
        assert crm.reports.metrics["retention_rate"].compute(s, NOVEMBER) == Decimal("0.3333")
        assert crm.reports.metrics["churn_rate"].compute(s, NOVEMBER) == Decimal("0.6667")


def test_churn_reasons_by_status_and_lost_deal_reason(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert crm.report("churn_reasons", NOVEMBER).rows == (
        ChurnReasonRow("customer", "churned: moved to a rival", 1, None, None),
        ChurnReasonRow("customer", "lost", 1, None, None),
        # 100 + 50 lost on price in CNY; October's loss is not counted.
        ChurnReasonRow("deal", "price", 2, Decimal("150"), "CNY"),
        ChurnReasonRow("deal", "timing", 1, Decimal("30"), "USD"),
    )


def test_grade_distribution_per_scheme(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert crm.report("grade_distribution", NOVEMBER).rows == (
        # abc: A, A, B and one graded with no grade: 2/4, 1/4, 1/4.
        GradeRow("abc", "A", 2, Decimal("0.5000")),
        GradeRow("abc", "B", 1, Decimal("0.2500")),
        GradeRow("abc", NONE, 1, Decimal("0.2500")),
        GradeRow("tier", "gold", 1, Decimal("1.0000")),
    )


def test_rfm_segments_per_currency(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # CNY at Dec 1 00:00, 4 customers, 5 bins, score = 1 + 5 * (rank - 1) // 4:
    #   C0: 18 days, 3 orders, 600 -> R4 F4 M4, FM 4: champions
    #   C1: 41 days, 1, 50 -> R1 F1 M2, FM 2: lost
    #   C2: 20 days, 1, 40 -> R3 F1 M1, FM 1: about to sleep
    #   C4: 30 days, 1, 60 (Dec 1 10:00 is after) -> R2 F1 M3, FM 2: hibernating
    # USD: C3 alone scores 1, 1, 1: lost.
    assert crm.report("rfm_segments", NOVEMBER).rows == (
        RfmSegmentRow("CNY", "champions", 1, Decimal("0.2500"), Decimal("600"), Decimal("600")),
        RfmSegmentRow("CNY", "about to sleep", 1, Decimal("0.2500"), Decimal("40"), Decimal("40")),
        RfmSegmentRow("CNY", "hibernating", 1, Decimal("0.2500"), Decimal("60"), Decimal("60")),
        RfmSegmentRow("CNY", "lost", 1, Decimal("0.2500"), Decimal("50"), Decimal("50")),
        RfmSegmentRow("USD", "lost", 1, Decimal("1.0000"), Decimal("30"), Decimal("30")),
    )


def test_high_value_traits_against_all_customers(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # Only C0 is high value (R + F + M = 12): a north, retail, web company. Of all six:
    # regions north 3, south 2, none 1; lift of north = (1/1) / (3/6) = 2.
    rows = crm.report("high_value_traits", NOVEMBER).rows
    zero = Decimal("0.0000")
    assert rows == (
        TraitRow("region", "north", 1, Decimal("1.0000"), 3, Decimal("0.5000"), Decimal("2.00")),
        TraitRow("region", "south", 0, zero, 2, Decimal("0.3333"), Decimal("0.00")),
        TraitRow("region", NONE, 0, zero, 1, Decimal("0.1667"), Decimal("0.00")),
        TraitRow("industry", "retail", 1, Decimal("1.0000"), 2, Decimal("0.3333"), Decimal("3.00")),
        TraitRow("industry", "tech", 0, zero, 1, Decimal("0.1667"), Decimal("0.00")),
        TraitRow("industry", NONE, 0, zero, 3, Decimal("0.5000"), Decimal("0.00")),
        TraitRow("source_channel", "fair", 0, zero, 2, Decimal("0.3333"), Decimal("0.00")),
        TraitRow(
            "source_channel", "web", 1, Decimal("1.0000"), 3, Decimal("0.5000"), Decimal("2.00")
        ),
        TraitRow("source_channel", NONE, 0, zero, 1, Decimal("0.1667"), Decimal("0.00")),
        TraitRow("kind", "company", 1, Decimal("1.0000"), 3, Decimal("0.5000"), Decimal("2.00")),
        TraitRow("kind", "person", 0, zero, 3, Decimal("0.5000"), Decimal("0.00")),
    )


def test_an_empty_book_gives_empty_customer_reports(crm: CRM) -> None:
    assert crm.report("new_customers", NOVEMBER).rows == (NewCustomersRow(ALL, ALL, 0),)
    assert crm.report("retention", NOVEMBER).rows == (RetentionRow(ALL, 0, 0, 0, None, None),)
    for name in ("churn_reasons", "grade_distribution", "rfm_segments", "high_value_traits"):
        assert crm.report(name, NOVEMBER).rows == ()
    with crm.session() as s:
        metrics = crm.reports.metrics
        assert metrics["new_customers"].compute(s, NOVEMBER) == Decimal(0)
        assert metrics["retention_rate"].compute(s, NOVEMBER) is None
        assert metrics["churn_rate"].compute(s, NOVEMBER) is None


@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000), st.integers(0, 1000))
def test_lift_is_the_ratio_of_the_two_shares(part: int, rest: int, base: int, others: int) -> None:
    whole, base_whole = part + rest, base + others
    found = lift(part, whole, base, base_whole)
    if whole == 0 or base == 0 or base_whole == 0:
        assert found is None
        return
    assert found is not None
    exact = (Decimal(part) / whole) / (Decimal(base) / base_whole)
    assert abs(found - exact) <= Decimal("0.005")
    assert (found >= 1) == (part * base_whole >= base * whole) or abs(found - 1) <= Decimal("0.005")


def test_a_rep_counts_their_own_customers(crm: CRM, clock: FixedClock) -> None:
    clock.set(at(11, 5))
    with crm.session() as s:
        s.customers.add(Customer.person("Mine", owner="rep0", source_channel="web"))
        s.customers.add(Customer.person("Theirs", owner="rep1", source_channel="web"))
    rep = Actor("rep0", role=Role.REP)
    assert crm.report("new_customers", NOVEMBER, actor=rep).rows == (
        NewCustomersRow("web", NONE, 1),
        NewCustomersRow(ALL, ALL, 1),
    )
    assert crm.report("new_customers", NOVEMBER).rows[-1] == NewCustomersRow(ALL, ALL, 2)

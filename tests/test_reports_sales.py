"""Sales reports and metrics against a small hand-made book, on every store: each expected
row is worked out by hand from the book below."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Actor,
    AlreadyExists,
    Customer,
    FixedClock,
    Money,
    Opportunity,
    Order,
    SalesTarget,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
)
from pycrm.analytics import Period
from pycrm.analytics.sales import (
    LeadConversionRow,
    LeaderboardRow,
    OrderValueRow,
    SalesBreakdownRow,
    SalesTrendRow,
    TargetRow,
    WonDealsRow,
    average,
    rate,
)
from pycrm.domain.order import OrderLine

UTC = timezone.utc
SALES = default_pipeline()
WON_PATH = ("needs_confirmed", "proposal", "negotiation", "contract_signed")
NOVEMBER = Period.parse("2026-11")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def deal(
    customer: Customer, owner: str, amount: str, currency: str, opened: datetime, **fields: Any
) -> Opportunity:
    found, _ = open_opportunity(
        customer_id=customer.id,
        title="deal",
        amount=Money(Decimal(amount), currency),
        owner=owner,
        now=opened,
        by=owner,
        **fields,
    )
    return found


def move(found: Opportunity, path: tuple[str, ...], when: datetime) -> Opportunity:
    for stage in path:
        for name in SALES.stage(found.stage).required_deliverables:
            found, _ = deliver(found, name, now=when)
        reason = "price" if stage == "lost" else None
        found, _ = advance_opportunity(
            found, stage, now=when, by="rep", machine=SALES, reason=reason
        )
    return found


def order(
    customer: Customer, number: str, placed: datetime, lines: list[tuple[str, str, str]], **kw: Any
) -> Order:
    """An order of ``lines`` as (sku, quantity, unit price) in ``kw['currency']``."""
    currency = kw.pop("currency", "CNY")
    made = tuple(
        OrderLine(
            description=sku, quantity=Decimal(q), unit_price=Money(Decimal(p), currency), sku=sku
        )
        for sku, q, p in lines
    )
    total = sum((Decimal(q) * Decimal(p) for _, q, p in lines), Decimal(0))
    return Order(
        number=number,
        customer_id=customer.id,
        placed_at=placed,
        total=Money(total, currency),
        lines=made,
        status=kw.pop("status", "paid"),
    )


def seed(crm: CRM, clock: FixedClock) -> None:
    """The book (all times UTC; the records are written on 5 December):

    - A (north, tech, web; owner alice), B (south, retail, fair; owner bob)
    - d1 alice/east, web, A, 1000 CNY: assigned 3 Nov, won 10 Nov
    - d2 alice/east, web, A, 500 CNY: assigned 5 Nov, open in proposal
    - d3 bob/west, fair, B, 2000 CNY: assigned 20 Oct, won 15 Nov
    - d4 bob/west, fair, B, 300 USD: assigned 7 Nov, lost 20 Nov
    - d5 carol, no channel, B, 700 CNY: assigned 8 Nov, won 2 Dec
    - d6 alice/east, web, A, 100 CNY: assigned 1 Sep, won 30 Oct
    - orders: o1 A 2 Nov 2 x X at 50 CNY; o2 B 30 Nov 23:30 1 x Y at 50.50 CNY;
      o3 A 15 Nov 1 x X at 20 USD; o4 B 16 Nov 999 CNY cancelled; o5 A 1 Dec 00:00 10 CNY
    """
    clock.set(at(12, 5))
    with crm.session() as s:
        a = s.customers.add(
            Customer.company(
                "A", region="north", industry="tech", source_channel="web", owner="alice"
            )
        )
        b = s.customers.add(
            Customer.company(
                "B", region="south", industry="retail", source_channel="fair", owner="bob"
            )
        )
        east = {"team": "east", "source_channel": "web"}
        west = {"team": "west", "source_channel": "fair"}
        s.opportunities.add(
            move(deal(a, "alice", "1000", "CNY", at(11, 3), **east), WON_PATH, at(11, 10))
        )
        s.opportunities.add(
            move(
                deal(a, "alice", "500", "CNY", at(11, 5), **east, expected_close="2026-11-28"),
                WON_PATH[:2],
                at(11, 6),
            )
        )
        s.opportunities.add(
            move(deal(b, "bob", "2000", "CNY", at(10, 20), **west), WON_PATH, at(11, 15))
        )
        s.opportunities.add(
            move(deal(b, "bob", "300", "USD", at(11, 7), **west), ("lost",), at(11, 20))
        )
        s.opportunities.add(move(deal(b, "carol", "700", "CNY", at(11, 8)), WON_PATH, at(12, 2)))
        s.opportunities.add(
            move(deal(a, "alice", "100", "CNY", at(9, 1), **east), WON_PATH, at(10, 30))
        )
        s.orders.add(order(a, "o1", at(11, 2), [("X", "2", "50")]))
        s.orders.add(order(b, "o2", at(11, 30, 23, 30), [("Y", "1", "50.50")]))
        s.orders.add(order(a, "o3", at(11, 15), [("X", "1", "20")], currency="USD"))
        s.orders.add(order(b, "o4", at(11, 16), [("Z", "1", "999")], status="cancelled"))
        s.orders.add(order(a, "o5", at(12, 1, 0), [("X", "1", "10")]))


def test_lead_conversion_by_channel(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    table = crm.report("lead_conversion", "2026-11")
    # Leads assigned in November: d1 (web, won 10 Nov), d2 (web, open), d4 (fair, lost),
    # d5 (no channel, won 2 Dec: won to date, not converted by November's end). d3 and d6
    # were assigned before.
    assert list(table) == [
        LeadConversionRow(None, 1, 0, Decimal("0.0000"), 1),  # 0 / 1
        LeadConversionRow("fair", 1, 0, Decimal("0.0000"), 0),  # 0 / 1
        LeadConversionRow("web", 2, 1, Decimal("0.5000"), 1),  # 1 / 2
    ]
    with crm.session() as s:
        metric = crm.reports.metric("lead_conversion_rate")
        assert metric.compute(s, NOVEMBER) == Decimal("0.2500")  # 1 converted / 4 leads
        assert metric.compute(s, Period.parse("2025-01")) is None


def test_order_value_per_currency_and_time_zone(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # CNY: o1 100 + o2 50.50 = 150.50 over 2 -> 75.25; USD: o3 20. o4 is cancelled, o5 is
    # December.
    assert list(crm.report("order_value", "2026-11")) == [
        OrderValueRow("CNY", 2, Decimal("150.50"), Decimal("75.25")),
        OrderValueRow("USD", 1, Decimal("20"), Decimal("20.00")),
    ]
    # November in Shanghai ends at 30 Nov 16:00 UTC: o2 (23:30 UTC) is December there.
    shanghai = crm.report("order_value", "2026-11", tz="Asia/Shanghai")
    assert shanghai[0] == OrderValueRow("CNY", 1, Decimal("100"), Decimal("100.00"))
    with crm.session() as s:
        aov = crm.reports.metric("average_order_value").compute(s, NOVEMBER)
        assert aov == {"CNY": Decimal("75.25"), "USD": Decimal("20.00")}


def test_won_deals_and_leaderboard(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # Won in November: d1 (10 Nov) and d3 (15 Nov); d6 was won in October, d5 in December.
    assert list(crm.report("won_deals", "2026-11")) == [
        WonDealsRow("alice", "east", "north", "CNY", 1, Decimal("1000")),
        WonDealsRow("bob", "west", "south", "CNY", 1, Decimal("2000")),
    ]
    assert list(crm.report("leaderboard", "2026-11")) == [
        LeaderboardRow(1, "bob", "CNY", 1, Decimal("2000"), None, None),
        LeaderboardRow(2, "alice", "CNY", 1, Decimal("1000"), None, None),
    ]
    with crm.session() as s:
        assert crm.reports.metric("won_amount").compute(s, NOVEMBER) == {
            "CNY": Decimal("3000")  # 1000 + 2000
        }
        assert crm.reports.metric("won_count").compute(s, NOVEMBER) == 2


def test_a_deal_review_later_keeps_the_win_in_its_month(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    with crm.session() as s:
        d1 = next(d for d in s.opportunities.list(owner="alice") if d.stage == "contract_signed")
        s.opportunities.update(move(d1, ("deal_review",), at(12, 3)))
    assert [r.amount for r in crm.report("won_deals", "2026-11")] == [
        Decimal("1000"),
        Decimal("2000"),
    ]
    # December's wins are d5 alone: the review moved d1 on, it did not win it again.
    assert [(r.owner, r.amount) for r in crm.report("won_deals", "2026-12")] == [
        ("carol", Decimal("700"))
    ]


def test_sales_trend_one_row_per_month_and_currency(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert list(crm.report("sales_trend", "2026-Q4")) == [
        # October: d6 won (100); no orders.
        SalesTrendRow("2026-10", "CNY", 1, Decimal("100"), 0, Decimal("0")),
        # November: d1 + d3 = 3000 won; o1 + o2 = 150.50; o3 in USD.
        SalesTrendRow("2026-11", "CNY", 2, Decimal("3000"), 2, Decimal("150.50")),
        SalesTrendRow("2026-11", "USD", 0, Decimal("0"), 1, Decimal("20")),
        # December: d5 won (700); o5 10.
        SalesTrendRow("2026-12", "CNY", 1, Decimal("700"), 1, Decimal("10")),
    ]


def test_sales_breakdown_by_dimension(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert list(crm.report("sales_breakdown", "2026-11")) == [
        # d1 (A: north, tech, web) 1000 and d3 (B: south, retail, fair) 2000.
        SalesBreakdownRow("region", "north", "CNY", 1, Decimal("1000")),
        SalesBreakdownRow("region", "south", "CNY", 1, Decimal("2000")),
        SalesBreakdownRow("industry", "retail", "CNY", 1, Decimal("2000")),
        SalesBreakdownRow("industry", "tech", "CNY", 1, Decimal("1000")),
        SalesBreakdownRow("source_channel", "fair", "CNY", 1, Decimal("2000")),
        SalesBreakdownRow("source_channel", "web", "CNY", 1, Decimal("1000")),
        # Lines: o1 X 2 x 50 = 100 CNY, o3 X 20 USD, o2 Y 50.50 CNY (o4 cancelled).
        SalesBreakdownRow("product", "X", "CNY", 1, Decimal("100")),
        SalesBreakdownRow("product", "X", "USD", 1, Decimal("20")),
        SalesBreakdownRow("product", "Y", "CNY", 1, Decimal("50.50")),
    ]


def add_targets(crm: CRM) -> None:
    with crm.session() as s:
        for subject, name, period, amount, currency in [
            ("rep", "alice", "2026-11", "1500", "CNY"),
            ("rep", "bob", "2026-11", "1000", "CNY"),
            ("team", "east", "2026-11", "5000", "CNY"),
            ("team", "west", "2026-11", "100", "USD"),
            ("rep", "carol", "2026-10", "500", "CNY"),
        ]:
            s.sales_targets.add(
                SalesTarget(
                    period=period, amount=Money(Decimal(amount), currency), **{subject: name}
                )
            )


def test_targets_and_attainment(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    add_targets(crm)
    # Won in November: d1 (alice, east, 1000 CNY), d3 (bob, west, 2000 CNY). carol's target
    # is October's.
    assert list(crm.report("targets", "2026-11")) == [
        TargetRow("rep", "alice", "CNY", Decimal("1500"), Decimal("1000"), Decimal("0.6667")),
        TargetRow("rep", "bob", "CNY", Decimal("1000"), Decimal("2000"), Decimal("2.0000")),
        TargetRow("team", "east", "CNY", Decimal("5000"), Decimal("1000"), Decimal("0.2000")),
        # west won 2000 CNY, none of it in the target's USD.
        TargetRow("team", "west", "USD", Decimal("100"), Decimal("0"), Decimal("0.0000")),
    ]
    assert list(crm.report("leaderboard", "2026-11")) == [
        LeaderboardRow(1, "bob", "CNY", 1, Decimal("2000"), Decimal("1000"), Decimal("2.0000")),
        LeaderboardRow(2, "alice", "CNY", 1, Decimal("1000"), Decimal("1500"), Decimal("0.6667")),
    ]
    assert list(crm.report("targets", "2026-12")) == []


def test_one_target_per_subject_and_period(crm: CRM, clock: FixedClock) -> None:
    add_targets(crm)
    with crm.session() as s:
        again = SalesTarget(period="2026-11", amount=Money(Decimal("9"), "USD"), rep="alice")
        with pytest.raises(AlreadyExists):
            s.sales_targets.add(again)
    with crm.session() as s:
        found = s.sales_targets.list(period="2026-11", rep="alice").items
        assert [(t.key, t.amount) for t in found] == [
            ("rep/alice/2026-11", Money(Decimal("1500"), "CNY"))
        ]
        # A team may share a rep's name: a different subject.
        s.sales_targets.add(
            SalesTarget(period="2026-11", amount=Money(Decimal("1"), "CNY"), team="alice")
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"period": "2026-11", "amount": Money(Decimal("1"), "CNY")}, "rep"),
        (
            {"period": "2026-11", "amount": Money(Decimal("1"), "CNY"), "rep": "a", "team": "b"},
            "rep",
        ),
        ({"period": "November", "amount": Money(Decimal("1"), "CNY"), "rep": "a"}, "period"),
        ({"period": "2026-11", "amount": Money(Decimal("0"), "CNY"), "rep": "a"}, "amount"),
        ({"period": "2026-11", "amount": "100", "rep": "a"}, "amount"),
    ],
)
def test_a_bad_target_is_refused_by_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SalesTarget(**fields)
    assert caught.value.field == field


def test_a_target_period_is_written_as_periods_are() -> None:
    target = SalesTarget(period=" 2026-q4", amount=Money(Decimal("1"), "CNY"), team="east")
    assert (target.period, target.key) == ("2026-Q4", "team/east/2026-Q4")
    assert SalesTarget(period=Period.parse("2026"), amount=target.amount, rep="a").period == "2026"


@pytest.mark.parametrize(
    "name",
    ["lead_conversion", "order_value", "won_deals", "leaderboard", "sales_breakdown", "targets"],
)
def test_an_empty_period_has_no_rows(crm: CRM, clock: FixedClock, name: str) -> None:
    seed(crm, clock)
    table = crm.report(name, "2025-01")
    assert list(table) == []
    assert "(no rows)" in str(table)


def test_an_empty_month_in_a_trend_is_a_row_of_zeros(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert list(crm.report("sales_trend", "2025-01")) == [
        SalesTrendRow("2025-01", None, 0, Decimal("0"), 0, Decimal("0"))
    ]
    with crm.session() as s:
        for name in ("won_amount", "average_order_value"):
            assert crm.reports.metric(name).compute(s, Period.parse("2025-01")) == {}
        assert crm.reports.metric("won_count").compute(s, Period.parse("2025-01")) == 0


def test_an_actor_sees_the_figures_of_their_customers_only(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # alice owns customer A: d1 (1000) is A's; d3 is B's, which bob owns.
    assert list(crm.report("won_deals", "2026-11", actor=Actor("alice"))) == [
        WonDealsRow("alice", "east", "north", "CNY", 1, Decimal("1000")),
    ]


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_a_rate_is_a_rounded_fraction_between_0_and_1(part: int, extra: int) -> None:
    whole = part + extra
    found = rate(part, whole)
    if whole == 0:
        assert found is None
        return
    assert found is not None
    assert Decimal(0) <= found <= Decimal(1)
    assert found.as_tuple().exponent == -4
    assert abs(found - Decimal(part) / Decimal(whole)) <= Decimal("0.00005")


@given(
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    st.integers(min_value=0, max_value=1000),
)
def test_an_average_is_cents_close_to_the_quotient(total: Decimal, count: int) -> None:
    found = average(total, count)
    if count == 0:
        assert found is None
        return
    assert found is not None
    assert abs(found * count - total) <= Decimal("0.005") * count


def test_product_lines_sum_exactly_per_price(crm: CRM, clock: FixedClock) -> None:
    clock.set(at(12, 5))
    with crm.session() as s:
        a = s.customers.add(Customer.company("A", owner="alice"))
        lines = [("X", "1.5", "10.25"), ("X", "2", "10.25"), ("X", "1", "9.99")]
        s.orders.add(order(a, "p1", at(11, 3), lines))
    # 1.5 x 10.25 + 2 x 10.25 + 1 x 9.99 = 15.375 + 20.5 + 9.99 = 45.865, over 3 lines.
    expected = [SalesBreakdownRow("product", "X", "CNY", 3, Decimal("45.865"))]
    assert list(crm.report("sales_breakdown", "2026-11")) == expected
    assert list(crm.report("sales_breakdown", "2026-11", actor=Actor("alice"))) == expected
    assert list(crm.report("sales_breakdown", "2026-11", actor=Actor("bob"))) == []

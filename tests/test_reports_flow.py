"""Pipeline reports (stage flow, weighted forecast, forecast calibration) and their metrics
against a hand-made book of stage visits, on every store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    Actor,
    Customer,
    FixedClock,
    Money,
    Opportunity,
    advance_opportunity,
    default_pipeline,
    deliver,
    open_opportunity,
)
from pycrm.analytics import Period
from pycrm.analytics.flow import CalibrationRow, ForecastRow, StageFlowRow, days
from pycrm.analytics.visits import StageEntries, StageStays, Window, microseconds

UTC = timezone.utc
SALES = default_pipeline()
NOVEMBER = Period.parse("2026-11")


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def deal(
    customer: Customer,
    amount: str,
    currency: str,
    opened: datetime,
    moves: list[tuple[str, datetime]],
    **fields: Any,
) -> Opportunity:
    found, _ = open_opportunity(
        customer_id=customer.id,
        title="deal",
        amount=Money(Decimal(amount), currency),
        owner="alice",
        now=opened,
        by="alice",
        **fields,
    )
    for stage, when in moves:
        for name in SALES.stage(found.stage).required_deliverables:
            found, _ = deliver(found, name, now=when)
        reason = "price" if stage == "lost" else None
        found, _ = advance_opportunity(
            found, stage, now=when, by="alice", machine=SALES, reason=reason
        )
    return found


def seed(crm: CRM, clock: FixedClock) -> None:
    """The book (UTC; written on 5 December):

    - f1 1000 CNY, close 20 Nov: initial 1 Nov, needs 3 Nov, proposal 4 Nov 12:00 (open)
    - f2 400 CNY: initial 25 Oct, needs 5 Nov, lost 10 Nov
    - f3 2000 CNY: initial 2 Nov, needs 2 Nov 12:00, proposal 6 Nov 12:00,
      negotiation 8 Nov 12:00, contract_signed 9 Nov (won)
    - f4 500 USD, close 15 Jan 2027, manual probability 0.5: initial 20 Nov (open)
    - f5 100 CNY: initial 1 Sep, needs 1 Oct, lost 1 Oct 12:00 (closed before November)
    - f6 800 CNY, no close date: initial 15 Nov, needs 16 Nov 12:00 (open)
    - f7 300 CNY, close 15 Oct: initial 1 Sep (open, overdue)
    """
    clock.set(at(12, 5))
    with crm.session() as s:
        c = s.customers.add(Customer.company("Acme"))
        add = s.opportunities.add
        add(
            deal(
                c,
                "1000",
                "CNY",
                at(11, 1),
                [("needs_confirmed", at(11, 3)), ("proposal", at(11, 4, 12))],
                expected_close="2026-11-20",
            )
        )
        add(
            deal(
                c, "400", "CNY", at(10, 25), [("needs_confirmed", at(11, 5)), ("lost", at(11, 10))]
            )
        )
        add(
            deal(
                c,
                "2000",
                "CNY",
                at(11, 2),
                [
                    ("needs_confirmed", at(11, 2, 12)),
                    ("proposal", at(11, 6, 12)),
                    ("negotiation", at(11, 8, 12)),
                    ("contract_signed", at(11, 9)),
                ],
            )
        )
        add(
            deal(
                c,
                "500",
                "USD",
                at(11, 20),
                [],
                expected_close="2027-01-15",
                manual_probability="0.5",
            )
        )
        add(
            deal(
                c, "100", "CNY", at(9, 1), [("needs_confirmed", at(10, 1)), ("lost", at(10, 1, 12))]
            )
        )
        add(deal(c, "800", "CNY", at(11, 15), [("needs_confirmed", at(11, 16, 12))]))
        add(deal(c, "300", "CNY", at(9, 1), [], expected_close="2026-10-15"))


def test_stage_flow(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert list(crm.report("stage_flow", "2026-11")) == [
        # entered: f1, f3, f4, f6 (f2 entered in October); moved on: f1, f3, f6 -> 3 / 4;
        # left: f1 2 d, f2 11 d, f3 0.5 d, f6 1.5 d = 15 / 4 = 3.75.
        StageFlowRow("sales", "initial_contact", 4, 3, Decimal("0.7500"), 4, Decimal("3.75")),
        # entered: f1, f2, f3, f6; moved on: f1, f3 (f2 lost) -> 2 / 4;
        # left: f1 1.5 d, f2 5 d, f3 4 d = 10.5 / 3 = 3.50.
        StageFlowRow("sales", "needs_confirmed", 4, 2, Decimal("0.5000"), 3, Decimal("3.50")),
        # entered: f1, f3; moved on: f3; left: f3 2 d.
        StageFlowRow("sales", "proposal", 2, 1, Decimal("0.5000"), 1, Decimal("2.00")),
        # f3: 8 Nov 12:00 to 9 Nov 00:00 = 0.5 d.
        StageFlowRow("sales", "negotiation", 1, 1, Decimal("1.0000"), 1, Decimal("0.50")),
        StageFlowRow("sales", "contract_signed", 1, 0, Decimal("0.0000"), 0, None),
        StageFlowRow("sales", "deal_review", 0, 0, None, 0, None),
    ]
    with crm.session() as s:
        assert crm.reports.metric("stage_days").compute(s, NOVEMBER) == {
            "sales/initial_contact": Decimal("3.75"),
            "sales/needs_confirmed": Decimal("3.50"),
            "sales/proposal": Decimal("2.00"),
            "sales/negotiation": Decimal("0.50"),
        }
        assert crm.reports.metric("stage_conversion").compute(s, NOVEMBER) == {
            "sales/initial_contact": Decimal("0.7500"),
            "sales/needs_confirmed": Decimal("0.5000"),
            "sales/proposal": Decimal("0.5000"),
            "sales/negotiation": Decimal("1.0000"),
            "sales/contract_signed": Decimal("0.0000"),
        }


def test_weighted_forecast_by_close_month(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    assert list(crm.report("forecast", "2026-11")) == [
        # f6 in needs_confirmed: 800 x 0.25.
        ForecastRow(None, "unscheduled", "CNY", 1, Decimal("800"), Decimal("200.00")),
        # f7 in initial_contact: 300 x 0.10.
        ForecastRow("2026-10", "overdue", "CNY", 1, Decimal("300"), Decimal("30.00")),
        # f1 in proposal: 1000 x 0.50.
        ForecastRow("2026-11", "within", "CNY", 1, Decimal("1000"), Decimal("500.00")),
        # f4: manual 0.5 over the stage's 0.10: 500 x 0.5.
        ForecastRow("2027-01", "after", "USD", 1, Decimal("500"), Decimal("250.00")),
    ]
    with crm.session() as s:
        assert crm.reports.metric("forecast_amount").compute(s, NOVEMBER) == {
            "CNY": Decimal("500.00")
        }


def test_forecast_calibration(crm: CRM, clock: FixedClock) -> None:
    seed(crm, clock)
    # Closed in November: f2 (lost; initial, needs) and f3 (won; initial, needs, proposal,
    # negotiation). f5 closed in October.
    assert list(crm.report("forecast_calibration", "2026-11")) == [
        CalibrationRow("sales", "initial_contact", Decimal("0.10"), 2, 1, Decimal("0.5000")),
        CalibrationRow("sales", "needs_confirmed", Decimal("0.25"), 2, 1, Decimal("0.5000")),
        CalibrationRow("sales", "proposal", Decimal("0.50"), 1, 1, Decimal("1.0000")),
        CalibrationRow("sales", "negotiation", Decimal("0.70"), 1, 1, Decimal("1.0000")),
    ]


@pytest.mark.parametrize("name", ["stage_flow", "forecast_calibration"])
def test_an_empty_period_has_no_rows(crm: CRM, clock: FixedClock, name: str) -> None:
    seed(crm, clock)
    assert list(crm.report(name, "2027-03")) == []
    with crm.session() as s:
        for metric in ("stage_days", "stage_conversion"):
            assert crm.reports.metric(metric).compute(s, Period.parse("2027-03")) == {}


def test_an_empty_book_forecasts_nothing(crm: CRM) -> None:
    assert list(crm.report("forecast", "2026-11")) == []
    with crm.session() as s:
        assert crm.reports.metric("forecast_amount").compute(s, NOVEMBER) == {}


@given(st.lists(st.integers(min_value=0, max_value=10**14), max_size=20))
def test_average_days_is_the_mean_stay_rounded(stays: list[int]) -> None:
    found = days(sum(stays), len(stays))
    if not stays:
        assert found is None
        return
    assert found is not None
    exact = Decimal(sum(stays)) / len(stays) / 86_400_000_000
    assert abs(found - exact) <= Decimal("0.005")
    assert found.as_tuple().exponent == -2


@given(st.timedeltas(min_value=timedelta(0)))
def test_a_length_in_microseconds_is_exact(length: timedelta) -> None:
    assert timedelta(microseconds=microseconds(length)) == length


def test_visit_lengths_are_exact_to_the_microsecond(crm: CRM, clock: FixedClock) -> None:
    opened = datetime(2026, 11, 1, 0, 0, 0, 1, tzinfo=UTC)
    moved = datetime(2026, 11, 2, 3, 4, 5, 678912, tzinfo=UTC)
    clock.set(at(12, 5))
    with crm.session() as s:
        c = s.customers.add(Customer.company("Acme", owner="bob"))
        s.opportunities.add(deal(c, "1", "CNY", opened, [("needs_confirmed", moved)]))
    window = Window(NOVEMBER.start, NOVEMBER.end)
    with crm.session() as s:
        # 1 day 3:04:05.678911 = (86400 + 11045) s and 678911 microseconds.
        assert s._analytics.stage_stays(window) == [
            StageStays("sales", "initial_contact", 1, 97_445_678_911)
        ]
        assert s._analytics.stage_entries(window) == [
            StageEntries("sales", "initial_contact", "needs_confirmed", 1),
            StageEntries("sales", "needs_confirmed", None, 1),
        ]
    # bob's customer: alice sees no visits, so no flow.
    assert list(crm.report("stage_flow", "2026-11", actor=Actor("alice"))) == []
    assert len(crm.report("stage_flow", "2026-11", actor=Actor("bob"))) == 6

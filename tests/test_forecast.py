"""The grouped weighted forecast and dated exchange rates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycrm import (
    ExchangeRate,
    ExchangeRates,
    ForecastGroup,
    Money,
    Opportunity,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    forecast,
    forecast_by,
    forecast_totals,
    open_opportunity,
)
from pycrm.testing import strategies as pst

SALES = default_pipeline()
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)


def deal(
    amount: str,
    currency: str = "CNY",
    *,
    owner: str = "alice",
    team: str | None = "east",
    close: date | None = None,
    win_on: datetime | None = None,
) -> Opportunity:
    opportunity, _ = open_opportunity(
        customer_id="cus_1",
        title="t",
        amount=Money(amount, currency),
        owner=owner,
        now=T0,
        by=owner,
        team=team,
        expected_close=close,
    )
    if win_on is not None:
        for stage in ("needs_confirmed", "proposal", "negotiation", "contract_signed"):
            for key in SALES.stage(opportunity.stage).required_deliverables:
                opportunity, _ = deliver(opportunity, key, now=win_on)
            opportunity, _ = advance_opportunity(
                opportunity, stage, now=win_on, by=owner, machine=SALES
            )
    return opportunity


RATES = ExchangeRates(
    base="CNY",
    rates=[
        ExchangeRate(currency="USD", on=date(2026, 1, 1), rate="7.1000"),
        ExchangeRate(currency="USD", on=date(2026, 3, 1), rate="7.3000"),
    ],
)


def test_rates_hold_from_their_date_until_the_next() -> None:
    assert RATES.rate("USD", date(2026, 2, 28)) == Decimal("7.1")
    assert RATES.rate("USD", date(2026, 3, 1)) == Decimal("7.3")
    assert RATES.rate("CNY", date(1999, 1, 1)) == 1
    assert RATES.convert(Money("10", "USD"), date(2026, 4, 1)) == Money("73", "CNY")
    with pytest.raises(ValidationError, match="no USD rate on or before 2025-12-31"):
        RATES.rate("USD", date(2025, 12, 31))
    with pytest.raises(ValidationError, match="two USD rates"):
        ExchangeRates(
            base="CNY", rates=[ExchangeRate(currency="USD", on=date(2026, 1, 1), rate=7)] * 2
        )
    with pytest.raises(ValidationError) as info:
        ExchangeRate(currency="USD", on=date(2026, 1, 1), rate=0)
    assert info.value.field == "rate"


def test_won_deals_convert_at_close_open_ones_at_today() -> None:
    won = deal("1000", "USD", win_on=T0 + timedelta(days=1))  # won in January at 7.1
    open_ = deal("1000", "USD", close=date(2026, 6, 30))  # initial contact: probability 0.10
    grouped = forecast_by([won, open_], SALES, group="month", rates=RATES, today=date(2026, 4, 1))
    assert grouped == {
        "2026-01": {"CNY": Money("7100", "CNY")},
        "2026-06": {"CNY": Money("730", "CNY")},
    }
    with pytest.raises(ValidationError) as info:
        forecast_by([open_], SALES, group="month", rates=RATES)
    assert info.value.field == "today"


def test_groups_by_owner_team_and_quarter() -> None:
    deals = [
        deal("100", owner="alice", team="east", close=date(2026, 2, 1)),
        deal("300", owner="bob", team=None, close=date(2026, 5, 1)),
        deal("500", owner="alice", team="east"),
    ]
    assert forecast_by(deals, SALES, group="owner") == {
        "alice": {"CNY": Money("60", "CNY")},
        "bob": {"CNY": Money("30", "CNY")},
    }
    assert set(forecast_by(deals, SALES, group=ForecastGroup.TEAM)) == {"east", "(no team)"}
    assert set(forecast_by(deals, SALES, group="quarter")) == {"2026-Q1", "2026-Q2", "(no date)"}
    with pytest.raises(ValidationError) as info:
        forecast_by(deals, SALES, group="region")
    assert info.value.field == "group"


@settings(max_examples=40)
@given(st.lists(pst.opportunities("cus_1"), max_size=8), st.sampled_from(ForecastGroup))
def test_every_grouping_adds_up_to_the_plain_forecast(
    deals: list[Opportunity], group: ForecastGroup
) -> None:
    grouped = forecast_by(deals, SALES, group=group)
    expected = forecast([d for d in deals if not d.is_lost], SALES)
    assert forecast_totals(grouped) == expected
    for per_currency in grouped.values():
        for amount in per_currency.values():
            assert amount.amount >= 0


@settings(max_examples=40)
@given(st.lists(pst.opportunities("cus_1"), max_size=8))
def test_conversion_at_rate_one_changes_only_the_currency(deals: list[Opportunity]) -> None:
    others = {d.amount.currency for d in deals} - {"CNY"}
    unit = ExchangeRates(
        base="CNY",
        rates=[ExchangeRate(currency=c, on=date(1900, 1, 1), rate=1) for c in others],
    )
    grouped = forecast_by(deals, SALES, group="owner", rates=unit, today=date(2090, 1, 1))
    total = forecast_totals(grouped).get("CNY", Money(0, "CNY"))
    plain = sum(
        (m.amount for m in forecast([d for d in deals if not d.is_lost], SALES).values()),
        Decimal(0),
    )
    # each deal is rounded to 4 places on conversion, nothing else changes
    assert abs(total.amount - plain) <= Decimal("0.00005") * len(deals)

"""Exchange rates stored on every backend and read back for the forecast."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    AlreadyExists,
    ExchangeRate,
    ExchangeRates,
    Money,
    StoredExchangeRate,
    ValidationError,
    default_pipeline,
    forecast_by,
    load_rates,
    open_opportunity,
)
from pycrm.storage.sqlalchemy.translators import exchange_rate_from_row, exchange_rate_row

SALES = default_pipeline()
T0 = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)


def rate(currency: str, on: date, value: str, base: str = "CNY") -> StoredExchangeRate:
    return StoredExchangeRate(base=base, currency=currency, on=on, rate=value)


def test_a_stored_rate_is_validated_field_by_field() -> None:
    for fields, field in (
        ({"base": "CN"}, "base"),
        ({"currency": "CNY"}, "currency"),
        ({"on": None}, "on"),
        ({"rate": "-1"}, "rate"),
    ):
        values = {"base": "CNY", "currency": "USD", "on": date(2026, 1, 1), "rate": "7.1"}
        values.update(fields)
        with pytest.raises(ValidationError) as info:
            StoredExchangeRate(**values)
        assert info.value.field == field
    stored = rate("USD", date(2026, 1, 1), "7.1")
    assert stored.key == "CNY/USD/2026-01-01"
    assert stored.exchange_rate == ExchangeRate(currency="USD", on=date(2026, 1, 1), rate="7.1")


def test_rates_round_trip_exactly_and_feed_the_forecast(crm: CRM) -> None:
    with crm.session(actor="finance") as s:
        s.exchange_rates.add(rate("USD", date(2026, 1, 1), "7.1"))
        s.exchange_rates.add(rate("USD", date(2026, 3, 1), "7.3"))
        s.exchange_rates.add(rate("JPY", date(2026, 1, 1), "0.047812345678"))
        s.exchange_rates.add(rate("CNY", date(2026, 1, 1), "0.14", base="USD"))
    with crm.session(actor="finance") as s:
        assert s.exchange_rates.count(base="CNY") == 3
        assert s.exchange_rates.count(currency="USD", on=date(2026, 3, 1)) == 1
        rates = s.load_rates("CNY")
        assert load_rates(s, "USD").rate("CNY", date(2026, 2, 1)) == Decimal("0.14")
    assert rates.base == "CNY"
    assert rates.rate("JPY", date(2026, 2, 1)) == Decimal("0.047812345678")
    assert rates.rate("USD", date(2026, 2, 28)) == Decimal("7.1")
    deal, _ = open_opportunity(
        customer_id="cus_1",
        title="t",
        amount=Money(1000, "USD"),
        owner="alice",
        now=T0,
        by="alice",
        expected_close=date(2026, 6, 30),
    )
    grouped = forecast_by([deal], SALES, group="owner", rates=rates, today=date(2026, 4, 1))
    assert grouped == {"alice": {"CNY": Money("730", "CNY")}}  # 10% of 1000 USD at 7.3


def test_one_rate_per_base_currency_and_day(crm: CRM) -> None:
    with crm.session(actor="finance") as s:
        s.exchange_rates.add(rate("USD", date(2026, 1, 1), "7.1"))
    with pytest.raises(AlreadyExists), crm.session(actor="finance") as s:
        s.exchange_rates.add(rate("EUR", date(2026, 1, 1), "7.8"))
        s.exchange_rates.add(rate("USD", date(2026, 1, 1), "7.2"))
    with crm.session(actor="finance") as s:
        assert [r.rate for r in s.exchange_rates.stream()] == [Decimal("7.1")]
        with pytest.raises(ValidationError) as info:
            s.load_rates("C")
        assert info.value.field == "base"


@given(
    st.decimals(
        min_value=Decimal("0.000000000001"),
        max_value=Decimal("100000"),
        places=12,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_a_rate_survives_its_row_exactly(value: Decimal) -> None:
    # SQL keeps the rate as text; every digit must come back, in any exponent form.
    stored = rate("USD", date(2026, 1, 1), str(value))
    again = exchange_rate_from_row(exchange_rate_row(stored))
    assert again == stored
    rates = ExchangeRates(base="CNY", rates=[again.exchange_rate])
    converted = rates.convert(Money(100, "USD"), date(2026, 5, 1))
    assert converted == Money((100 * value).quantize(Decimal("0.0001")), "CNY")

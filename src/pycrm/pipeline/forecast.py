"""The weighted forecast grouped by owner, team, month or quarter, optionally in one currency.

Amounts keep their currency until a caller asks for one base currency; then each deal is
converted with a dated rate table: a won deal at the rate of the day it was won (that is what
it brought in), an open deal at the latest rate on or before ``today`` (what it is worth now).
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from pycrm.domain import Entity, Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.machine import StageMachine, StageOutcome
from pycrm.pipeline.opportunity import Opportunity

NO_DATE = "(no date)"
NO_TEAM = "(no team)"
NO_OWNER = "(unassigned)"


class ForecastGroup(str, enum.Enum):
    OWNER = "owner"
    TEAM = "team"
    MONTH = "month"
    QUARTER = "quarter"


def _currency(value: Any) -> str:
    return Money(0, value).currency


def _rate_value(value: Any) -> Decimal:
    rate = conv.check_decimal(value, "rate")
    if rate <= 0:
        raise ValidationError("rate", "must be greater than zero", value=value)
    return rate


def _rate_date(value: Any) -> date:
    checked = conv.check_date(value, "on")
    if checked is None:
        raise ValidationError("on", "is required")
    return checked


@attrs.frozen(kw_only=True)
class ExchangeRate:
    """One unit of ``currency`` is worth ``rate`` units of the table's base, from ``on``."""

    currency: str = attrs.field(converter=_currency)
    on: date = attrs.field(converter=_rate_date)
    rate: Decimal = attrs.field(converter=_rate_value)


def _base(value: Any) -> str:
    try:
        return _currency(value)
    except ValidationError as error:
        raise ValidationError("base", error.problem, value=value) from None


@attrs.frozen(kw_only=True)
class StoredExchangeRate(Entity):
    """One stored rate into ``base``: a row of the rate table the forecast converts with.

    A separate entity rather than :class:`ExchangeRate` with an id, because the value names
    no base (the :class:`ExchangeRates` holding it does) and stays cheap to build in a
    notebook. ``key`` is unique, so a base has one rate per currency and day.
    """

    ENTITY_TYPE: ClassVar[str] = "exchange_rate"
    ID_PREFIX: ClassVar[str] = "fxr"

    base: str = attrs.field(converter=_base)
    currency: str = attrs.field(converter=_currency)
    on: date = attrs.field(converter=_rate_date)
    rate: Decimal = attrs.field(converter=_rate_value)

    def __attrs_post_init__(self) -> None:
        if self.currency == self.base:
            raise ValidationError("currency", f"{self.base} is the base; it needs no rate")

    @property
    def key(self) -> str:
        """``base/currency/on``: one per base, currency and day (a unique column in SQL)."""
        return f"{self.base}/{self.currency}/{self.on.isoformat()}"

    @property
    def exchange_rate(self) -> ExchangeRate:
        """The value :class:`ExchangeRates` is built from."""
        return ExchangeRate(currency=self.currency, on=self.on, rate=self.rate)


def _rates(value: Iterable[ExchangeRate]) -> tuple[ExchangeRate, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, ExchangeRate):
            raise ValidationError("rates", f"expected ExchangeRate, got {type(item).__name__}")
    return tuple(sorted(items, key=lambda r: (r.currency, r.on)))


@attrs.frozen(kw_only=True)
class ExchangeRates:
    """A dated rate table into ``base``; a rate holds from its date until the next one."""

    base: str = attrs.field(converter=_currency)
    rates: tuple[ExchangeRate, ...] = attrs.field(default=(), converter=_rates)

    def __attrs_post_init__(self) -> None:
        seen: set[tuple[str, date]] = set()
        for item in self.rates:
            if item.currency == self.base:
                raise ValidationError("rates", f"{self.base} is the base; it needs no rate")
            if (item.currency, item.on) in seen:
                raise ValidationError("rates", f"two {item.currency} rates on {item.on}")
            seen.add((item.currency, item.on))

    def rate(self, currency: str, on: date) -> Decimal:
        """The rate of ``currency`` in force on ``on``."""
        if currency == self.base:
            return Decimal(1)
        dated = [r for r in self.rates if r.currency == currency]
        index = bisect.bisect_right([r.on for r in dated], on)
        if index == 0:
            raise ValidationError("rates", f"no {currency} rate on or before {on.isoformat()}")
        return dated[index - 1].rate

    def convert(self, money: Money, on: date) -> Money:
        """``money`` in the base currency at the rate in force on ``on``, to 4 places."""
        amount = (money.amount * self.rate(money.currency, on)).quantize(Decimal("0.0001"))
        return Money(amount, self.base)


def won_on(opportunity: Opportunity, machine: StageMachine) -> date | None:
    """The day a won deal was won (first entered a won stage of ``machine``), else ``None``.

    The machine says which stages are won; the stored outcome only says the current one is.
    """
    if not opportunity.is_won:
        return None
    for visit in opportunity.stage_state.history:
        if machine.outcome(visit.stage) is StageOutcome.WON:
            return visit.entered_at.date()
    return None


def forecast_by(
    opportunities: Iterable[Opportunity],
    machine: StageMachine,
    *,
    group: ForecastGroup | str,
    rates: ExchangeRates | None = None,
    today: date | None = None,
) -> dict[str, dict[str, Money]]:
    """Weighted amounts per group, then per currency (one currency, the base, with ``rates``).

    Groups: ``owner``, ``team`` (``"(no team)"`` when unset), ``month`` (``"2026-03"``) or
    ``quarter`` (``"2026-Q1"``) of the won date for won deals and of ``expected_close`` for
    open ones (``"(no date)"`` when unknown). Lost deals weigh nothing and are left out.
    ``today`` is required with ``rates``: open deals convert at the rate in force then.
    """
    grouping = conv.check_enum(group, "group", ForecastGroup)
    if not isinstance(machine, StageMachine):
        raise ValidationError("machine", f"expected StageMachine, got {type(machine).__name__}")
    if rates is not None:
        if not isinstance(rates, ExchangeRates):
            raise ValidationError("rates", f"expected ExchangeRates, got {type(rates).__name__}")
        if today is None:
            raise ValidationError("today", "is required to convert open deals")
    totals: dict[str, dict[str, Money]] = {}
    for opportunity in opportunities:
        if not isinstance(opportunity, Opportunity):
            raise ValidationError(
                "opportunities", f"expected Opportunity, got {type(opportunity).__name__}"
            )
        if opportunity.is_lost:
            continue
        won = won_on(opportunity, machine)
        amount = opportunity.weighted_amount(machine)
        if rates is not None:
            on = won if won is not None else today
            assert on is not None  # checked above: today is required with rates
            amount = rates.convert(amount, on)
        key = _group_key(opportunity, grouping, won)
        per_currency = totals.setdefault(key, {})
        found = per_currency.get(amount.currency)
        per_currency[amount.currency] = amount if found is None else found + amount
    return totals


def _group_key(opportunity: Opportunity, group: ForecastGroup, won: date | None) -> str:
    if group is ForecastGroup.OWNER:
        return opportunity.owner or NO_OWNER
    if group is ForecastGroup.TEAM:
        return opportunity.team or NO_TEAM
    when = won or opportunity.expected_close
    if when is None:
        return NO_DATE
    if group is ForecastGroup.MONTH:
        return f"{when.year:04d}-{when.month:02d}"
    return f"{when.year:04d}-Q{(when.month - 1) // 3 + 1}"


def forecast_totals(groups: Mapping[str, Mapping[str, Money]]) -> dict[str, Money]:
    """The grand total per currency of a grouped forecast."""
    result: dict[str, Money] = {}
    for per_currency in groups.values():
        for currency, amount in per_currency.items():
            found = result.get(currency)
            result[currency] = amount if found is None else found + amount
    return result

"""Money as ``Decimal`` with an ISO 4217 currency code; never a float."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _currency(value: Any, field: attrs.Attribute) -> str:  # type: ignore[type-arg]
    if not isinstance(value, str) or not _CURRENCY.match(value.upper()):
        raise ValidationError(field.name, "must be a three-letter ISO 4217 code such as 'CNY'")
    return value.upper()


@attrs.frozen(order=False)
class Money:
    """An amount in one currency. Adding different currencies is an error, not a conversion."""

    amount: Decimal = attrs.field(converter=conv.decimal())
    currency: str = attrs.field(converter=attrs.Converter(_currency, takes_field=True))

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: object, op: str) -> Money:
        if not isinstance(other, Money):
            raise ValidationError("money", f"cannot {op} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError("currency", f"cannot {op} {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other, "add").amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other, "subtract").amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, (float, bool)) or not isinstance(factor, (int, Decimal)):
            raise ValidationError("factor", "multiply Money by an int or Decimal")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"

"""Which approval levels a contract needs, decided by its amount."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from pycrm.contracts.machine import DEFAULT_LEVELS, check_levels
from pycrm.domain import Money
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


def _levels(value: Iterable[str]) -> tuple[str, ...]:
    return check_levels(value)


def _limits(value: Mapping[str, Iterable[Any]]) -> Mapping[str, tuple[Decimal, ...]]:
    if not isinstance(value, Mapping):
        raise ValidationError("limits", f"expected a mapping, got {type(value).__name__}")
    checked: dict[str, tuple[Decimal, ...]] = {}
    for currency, bounds in value.items():
        code = Money.zero(currency).currency if isinstance(currency, str) else None
        if code is None:
            raise ValidationError("limits", "keys are currency codes such as 'CNY'")
        if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Iterable):
            raise ValidationError("limits", f"{code}: expected a list of amounts")
        numbers = tuple(conv.check_decimal(bound, "limits") for bound in bounds)
        if any(n <= 0 for n in numbers) or list(numbers) != sorted(set(numbers)):
            raise ValidationError("limits", f"{code}: amounts must be positive and rising")
        checked[code] = numbers
    return MappingProxyType(checked)


@attrs.frozen
class ApprovalPolicy:
    """Amount limits per currency: below ``limits[c][0]`` only the first level approves,
    below ``limits[c][1]`` the first two, and so on; at or above the last limit every level.

    A currency without limits needs every level: the cautious answer when a host has not
    said otherwise. Amounts are compared, never converted between currencies.
    """

    limits: Mapping[str, tuple[Decimal, ...]] = attrs.field(converter=_limits, hash=False)
    levels: tuple[str, ...] = attrs.field(default=DEFAULT_LEVELS, converter=_levels)

    def __attrs_post_init__(self) -> None:
        for currency, bounds in self.limits.items():
            if len(bounds) >= len(self.levels):
                raise ValidationError(
                    "limits",
                    f"{currency}: {len(self.levels)} levels take at most "
                    f"{len(self.levels) - 1} limits",
                )

    @classmethod
    def default(cls) -> ApprovalPolicy:
        """Sales alone below 100,000 CNY, sales and finance below 1,000,000, else all three."""
        return cls(limits={"CNY": (Decimal(100_000), Decimal(1_000_000))})

    def levels_for(self, amount: Money) -> tuple[str, ...]:
        """The levels, in order, that must approve a contract of ``amount``."""
        if not isinstance(amount, Money):
            raise ValidationError("amount", f"expected Money, got {type(amount).__name__}")
        bounds = self.limits.get(amount.currency)
        if bounds is None:
            return self.levels
        needed = 1 + sum(1 for bound in bounds if amount.amount >= bound)
        return self.levels[:needed]

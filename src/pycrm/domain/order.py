"""Orders: the purchase history that grading and RFM read."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.domain.money import Money
from pycrm.errors import ValidationError


class OrderStatus(str, enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


PURCHASE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED})
"""Order statuses that count as a purchase in spend, frequency, grading and RFM: every
order except a cancelled or refunded one."""


def _money(value: Any, field: attrs.Attribute) -> Money:  # type: ignore[type-arg]
    if not isinstance(value, Money):
        raise ValidationError(field.name, f"expected Money, got {type(value).__name__}")
    return value


def _positive(value: Any, field: attrs.Attribute) -> Decimal:  # type: ignore[type-arg]
    number = conv.check_decimal(value, field.name)
    if number <= 0:
        raise ValidationError(field.name, "must be greater than zero", value=value)
    return number


def _lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(value)


_MONEY = attrs.Converter(_money, takes_field=True)


@attrs.frozen(kw_only=True)
class OrderLine:
    """One product line; ``amount`` is quantity times unit price."""

    description: str = attrs.field(converter=conv.text(400))
    quantity: Decimal = attrs.field(converter=attrs.Converter(_positive, takes_field=True))
    unit_price: Money = attrs.field(converter=_MONEY)
    sku: str | None = attrs.field(default=None, converter=conv.optional_text(64))

    @property
    def amount(self) -> Money:
        return self.unit_price * self.quantity


@attrs.frozen(kw_only=True)
class Order(Entity):
    """A customer's order. With lines, ``total`` must equal their sum in the same currency;
    without lines (history imported from elsewhere) the total stands on its own."""

    ENTITY_TYPE: ClassVar[str] = "order"
    ID_PREFIX: ClassVar[str] = "ord"

    number: str = attrs.field(converter=conv.text(64))
    customer_id: str = attrs.field(converter=conv.text(64))
    placed_at: datetime = attrs.field(converter=conv.aware_datetime())
    total: Money = attrs.field(converter=_MONEY)
    lines: tuple[OrderLine, ...] = attrs.field(factory=tuple, converter=_lines)
    status: OrderStatus = attrs.field(
        default=OrderStatus.PENDING, converter=conv.choice(OrderStatus)
    )

    def __attrs_post_init__(self) -> None:
        if self.total.amount < 0:
            raise ValidationError("total", "must not be negative")
        for line in self.lines:
            if not isinstance(line, OrderLine):
                raise ValidationError("lines", f"expected OrderLine, got {type(line).__name__}")
            if line.unit_price.currency != self.total.currency:
                raise ValidationError(
                    "lines", f"line currency {line.unit_price.currency} differs from the total's"
                )
        if self.lines:
            summed = sum((line.amount.amount for line in self.lines), Decimal(0))
            if summed != self.total.amount:
                raise ValidationError(
                    "total", f"is {self.total.amount} but the lines add up to {summed}"
                )

    @property
    def is_purchase(self) -> bool:
        """Whether the order counts as a purchase (see ``PURCHASE_STATUSES``)."""
        return self.status in PURCHASE_STATUSES

    @classmethod
    def from_lines(
        cls,
        *,
        number: str,
        customer_id: str,
        placed_at: datetime,
        lines: Iterable[OrderLine],
        **fields: Any,
    ) -> Order:
        """An order whose total is computed from its lines."""
        items = tuple(lines)
        if not items:
            raise ValidationError("lines", "an order built from lines needs at least one")
        total = sum((line.amount for line in items[1:]), items[0].amount)
        return cls(
            number=number,
            customer_id=customer_id,
            placed_at=placed_at,
            lines=items,
            total=total,
            **fields,
        )

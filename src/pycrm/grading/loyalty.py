"""The loyalty points ledger: append-only entries, and the arithmetic over them.

A customer's points are never a stored number that gets overwritten; they are the sum of
ledger entries (earned, redeemed, expired, adjusted), so every balance can be explained and
an earn for the same order can be refused by its ``source`` key instead of counted twice.

Expiry is first in, first out by expiry date: redemptions, negative adjustments and earlier
expirations use up the earned points that expire soonest, so a customer loses only what they
did not spend in time. Pure domain: the functions take the entries and ``now``; the session
reads and writes the ledger (``pycrm.loyalty``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, ClassVar

import attrs
from dateutil.relativedelta import relativedelta

from pycrm.domain import _convert as conv
from pycrm.domain.entity import Entity
from pycrm.domain.money import Money
from pycrm.domain.order import Order
from pycrm.errors import ValidationError


class PointsKind(str, enum.Enum):
    """Why a ledger entry changes the balance."""

    EARN = "earn"
    """Points for a purchase (positive; may expire)."""
    REDEEM = "redeem"
    """Points spent (negative)."""
    EXPIRE = "expire"
    """Earned points that were not spent in time (negative)."""
    ADJUST = "adjust"
    """A correction by hand, either sign; never expires."""


MAX_POINTS = 10**15
"""The most points one entry may move (the SQL column is a 64-bit integer)."""

_SIGNS: dict[PointsKind, str] = {
    PointsKind.EARN: "positive",
    PointsKind.REDEEM: "negative",
    PointsKind.EXPIRE: "negative",
}


@attrs.frozen(kw_only=True)
class PointsEntry(Entity):
    """One line of a customer's points ledger.

    ``source`` is an idempotency key, unique in the store (``"order:<order id>"`` for
    points earned on an order), so the same earning can never be written twice.
    """

    ENTITY_TYPE: ClassVar[str] = "points_entry"
    ID_PREFIX: ClassVar[str] = "pts"

    customer_id: str = attrs.field(converter=conv.text(64))
    points: int = attrs.field(converter=conv.integer())
    kind: PointsKind = attrs.field(converter=conv.choice(PointsKind))
    occurred_at: datetime = attrs.field(converter=conv.aware_datetime())
    expires_at: datetime | None = attrs.field(default=None, converter=conv.optional_datetime())
    order_id: str | None = attrs.field(default=None, converter=conv.optional_text(64))
    source: str | None = attrs.field(default=None, converter=conv.optional_text(120))
    reason: str | None = attrs.field(default=None, converter=conv.optional_text(400))

    def __attrs_post_init__(self) -> None:
        if self.points == 0:
            raise ValidationError("points", "must not be zero")
        if abs(self.points) > MAX_POINTS:
            raise ValidationError("points", f"at most {MAX_POINTS} in one entry", value=self.points)
        sign = _SIGNS.get(self.kind)
        if (sign == "positive" and self.points < 0) or (sign == "negative" and self.points > 0):
            raise ValidationError(
                "points", f"must be {sign} for a {self.kind.value} entry", value=self.points
            )
        if self.expires_at is not None:
            if self.kind is not PointsKind.EARN:
                raise ValidationError("expires_at", "only earned points expire")
            if self.expires_at <= self.occurred_at:
                raise ValidationError("expires_at", "must be after occurred_at")


def _per_unit(value: Any) -> Decimal:
    number = conv.check_decimal(value, "points_per_unit")
    if number <= 0:
        raise ValidationError("points_per_unit", "must be greater than zero", value=value)
    return number


def _currency(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return Money(0, value).currency
    except ValidationError as error:
        raise ValidationError("currency", error.problem, value=value) from None


_RELATIVE = ("years", "months", "weeks", "days", "hours", "minutes", "seconds", "microseconds")
_ABSOLUTE = ("year", "month", "day", "weekday", "hour", "minute", "second", "microsecond")


def _valid_for(value: Any) -> relativedelta | None:
    if value is None:
        return None
    if not isinstance(value, relativedelta):
        raise ValidationError("valid_for", f"expected a relativedelta, got {type(value).__name__}")
    if any(getattr(value, name) is not None for name in _ABSOLUTE):
        raise ValidationError("valid_for", "must be a duration, without absolute fields")
    parts = [getattr(value, name) for name in _RELATIVE]
    if any(part < 0 for part in parts) or not any(parts):
        raise ValidationError("valid_for", "must be a positive duration")
    return value


@attrs.frozen(kw_only=True)
class EarnRule:
    """How many points an order earns and how long they stay valid.

    ``points_per_unit`` points per currency unit of the order total, rounded down to whole
    points; only orders in ``currency`` earn (any currency when ``None``); earned points
    expire ``valid_for`` after the order was placed (never when ``None``).
    """

    points_per_unit: Decimal = attrs.field(default=Decimal(1), converter=_per_unit)
    currency: str | None = attrs.field(default=None, converter=_currency)
    valid_for: relativedelta | None = attrs.field(
        factory=lambda: relativedelta(years=1), converter=_valid_for
    )


def _aware(value: Any, field: str) -> datetime:
    checked = conv.check_datetime(value, field, required=True)
    assert checked is not None
    return checked


def earn_for_order(order: Order, rule: EarnRule, *, now: datetime) -> PointsEntry | None:
    """The earn entry for ``order`` under ``rule``, or ``None`` when it earns nothing.

    Nothing is earned by an order that is not a purchase (cancelled, refunded), is in
    another currency than the rule's, or is too small for one whole point. Points are dated
    when the order was placed, so their expiry runs from the purchase; an order placed after
    ``now`` is refused, as points are not given ahead of the purchase.
    """
    if not isinstance(order, Order):
        raise ValidationError("order", f"expected an Order, got {type(order).__name__}")
    if not isinstance(rule, EarnRule):
        raise ValidationError("rule", f"expected an EarnRule, got {type(rule).__name__}")
    current = _aware(now, "now")
    if order.placed_at > current:
        raise ValidationError("order", "is placed after now; earn points once it is placed")
    if not order.is_purchase:
        return None
    if rule.currency is not None and order.total.currency != rule.currency:
        return None
    points = int((order.total.amount * rule.points_per_unit).to_integral_value(ROUND_FLOOR))
    if points <= 0:
        return None
    return PointsEntry(
        customer_id=order.customer_id,
        points=points,
        kind=PointsKind.EARN,
        occurred_at=order.placed_at,
        expires_at=None if rule.valid_for is None else order.placed_at + rule.valid_for,
        order_id=order.id,
        source=f"order:{order.id}",
        reason=f"order {order.number}",
    )


def _entries(entries: Iterable[PointsEntry]) -> list[PointsEntry]:
    items = list(entries)
    for item in items:
        if not isinstance(item, PointsEntry):
            raise ValidationError("entries", f"expected PointsEntry, got {type(item).__name__}")
    return items


def balance(entries: Iterable[PointsEntry], *, as_of: datetime) -> int:
    """The sum of the points of the entries at or before ``as_of``.

    Earned points past their expiry still count until an expire entry is written; see
    :func:`available_points` for what a customer can spend.
    """
    moment = _aware(as_of, "as_of")
    return sum(e.points for e in _entries(entries) if e.occurred_at <= moment)


def points_to_expire(entries: Iterable[PointsEntry], *, as_of: datetime) -> int:
    """How many earned points expire by ``as_of`` and have not been written off yet.

    First in, first out by expiry: redemptions, negative adjustments and the expirations
    already written use up the earned points that expire soonest, so what remains to expire is
    the points earned with ``expires_at <= as_of`` minus everything used up so far, never less
    than zero. Only entries at or before ``as_of`` count.

    This holds as long as points due are written off before anything later is spent (as
    ``Session.redeem_points`` does): a redemption after an expiry date with nothing written
    off is counted against the expired points.
    """
    moment = _aware(as_of, "as_of")
    due = 0
    used = 0
    for entry in _entries(entries):
        if entry.occurred_at > moment:
            continue
        if entry.points < 0:
            used -= entry.points
        elif entry.expires_at is not None and entry.expires_at <= moment:
            due += entry.points
    return max(0, due - used)


def available_points(entries: Iterable[PointsEntry], *, as_of: datetime) -> int:
    """What a customer can spend at ``as_of``: the balance less the points due to expire."""
    items = _entries(entries)
    return balance(items, as_of=as_of) - points_to_expire(items, as_of=as_of)


def expiry(
    customer_id: str, entries: Iterable[PointsEntry], *, as_of: datetime
) -> PointsEntry | None:
    """The expire entry writing off the customer's points due by ``as_of``, or ``None``."""
    due = points_to_expire(entries, as_of=as_of)
    if not due:
        return None
    return PointsEntry(
        customer_id=customer_id,
        points=-due,
        kind=PointsKind.EXPIRE,
        occurred_at=as_of,
        reason="points not used before they expired",
    )


def redemption(
    customer_id: str,
    points: int,
    *,
    available: int,
    now: datetime,
    reason: str | None = None,
) -> PointsEntry:
    """The redeem entry spending ``points`` (a positive number) out of ``available``.

    Raises ``ValidationError("points", ...)`` when the customer has fewer points, so a
    redemption never takes a balance below zero.
    """
    amount = conv.check_int(points, "points", minimum=1, required=True)
    have = conv.check_int(available, "available", minimum=None, required=True)
    assert amount is not None
    assert have is not None
    if amount > have:
        raise ValidationError("points", f"only {max(have, 0)} points available", value=amount)
    return PointsEntry(
        customer_id=customer_id,
        points=-amount,
        kind=PointsKind.REDEEM,
        occurred_at=now,
        reason=reason,
    )

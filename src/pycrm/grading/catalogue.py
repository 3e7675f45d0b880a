"""What a segment or grading rule can talk about: customer fields and derived metrics.

Each entry says what kind of value it has, so a rule is checked when it is built (a text
field cannot be compared with ``<``; a spend threshold must be an exact amount) and both
evaluators, Python and SQL, treat its values alike.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from pycrm.domain import CustomerKind, Gender, LifecycleStatus, Priority
from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError


class ValueKind(str, enum.Enum):
    """How a field's or metric's values behave in comparisons."""

    TEXT = "text"
    CHOICE = "choice"
    INTEGER = "integer"
    AMOUNT = "amount"
    DATE = "date"
    DATETIME = "datetime"
    DAYS = "days"
    TAGS = "tags"

    @property
    def ordered(self) -> bool:
        """Whether ``<``, ``between`` and friends make sense (not on text: collations differ
        between databases, so ordering text would not agree across stores)."""
        return self not in (ValueKind.TEXT, ValueKind.CHOICE, ValueKind.TAGS)


@attrs.frozen
class FieldInfo:
    """A customer field a rule may read."""

    name: str
    kind: ValueKind
    choices: type[enum.Enum] | None = None


@attrs.frozen
class MetricInfo:
    """A derived metric: computed from a customer's orders, interactions, opportunities or
    points at a moment (``as_of``); ``params`` are the keyword arguments it accepts."""

    name: str
    kind: ValueKind
    params: tuple[str, ...] = ()
    nullable: bool = False
    doc: str = ""


_TEXT_FIELDS = (
    "name",
    "industry",
    "region",
    "source_channel",
    "owner",
    "team",
    "member_id",
    "honorific",
    "employer",
    "position",
    "website",
    "phone",
    "email",
)

FIELDS: Mapping[str, FieldInfo] = {
    **{name: FieldInfo(name, ValueKind.TEXT) for name in _TEXT_FIELDS},
    "kind": FieldInfo("kind", ValueKind.CHOICE, CustomerKind),
    "status": FieldInfo("status", ValueKind.CHOICE, LifecycleStatus),
    "priority": FieldInfo("priority", ValueKind.CHOICE, Priority),
    "gender": FieldInfo("gender", ValueKind.CHOICE, Gender),
    "employees": FieldInfo("employees", ValueKind.INTEGER),
    "yearly_revenue": FieldInfo("yearly_revenue", ValueKind.AMOUNT),
    "founded_on": FieldInfo("founded_on", ValueKind.DATE),
    "birthday": FieldInfo("birthday", ValueKind.DATE),
    "captured_at": FieldInfo("captured_at", ValueKind.DATETIME),
    "created_at": FieldInfo("created_at", ValueKind.DATETIME),
    "updated_at": FieldInfo("updated_at", ValueKind.DATETIME),
    "tags": FieldInfo("tags", ValueKind.TAGS),
}
"""Customer fields rules may read. ``yearly_revenue`` compares its amount."""

METRICS: Mapping[str, MetricInfo] = {
    m.name: m
    for m in (
        MetricInfo(
            "spend",
            ValueKind.AMOUNT,
            ("days", "currency"),
            doc="total of purchase orders (0 without any)",
        ),
        MetricInfo("order_count", ValueKind.INTEGER, ("days",), doc="number of purchase orders"),
        MetricInfo(
            "first_order_at", ValueKind.DATETIME, nullable=True, doc="time of the first purchase"
        ),
        MetricInfo(
            "last_order_at", ValueKind.DATETIME, nullable=True, doc="time of the last purchase"
        ),
        MetricInfo(
            "days_since_order", ValueKind.DAYS, nullable=True, doc="whole days since last purchase"
        ),
        MetricInfo("interaction_count", ValueKind.INTEGER, ("days",), doc="number of interactions"),
        MetricInfo(
            "last_interaction_at",
            ValueKind.DATETIME,
            nullable=True,
            doc="time of the last interaction",
        ),
        MetricInfo(
            "days_since_interaction",
            ValueKind.DAYS,
            nullable=True,
            doc="whole days since the last interaction",
        ),
        MetricInfo(
            "potential",
            ValueKind.AMOUNT,
            ("currency",),
            doc="open opportunities' amounts times their probability (0 without any)",
        ),
        MetricInfo("points", ValueKind.INTEGER, doc="loyalty points balance"),
    )
}
"""Derived metrics. Each counts only what happened at or before ``as_of``; ``days=N`` keeps
the last N days, ``(as_of - N days, as_of]``; ``currency=`` keeps one currency (without it,
amounts of every currency are added as numbers)."""

_CURRENCY = re.compile(r"^[A-Z]{3}$")

DAY_LIMIT = 36_600
"""Largest ``days`` window or day count a rule may use (a century)."""


def check_params(metric: MetricInfo, params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """``params`` validated for ``metric``, as a sorted tuple (hashable, comparable)."""
    checked: dict[str, Any] = {}
    for key, value in params.items():
        where = f"F.{metric.name}({key}=)"
        if key not in metric.params:
            allowed = ", ".join(metric.params) or "none"
            raise ValidationError(where, f"is not a parameter of {metric.name} ({allowed})")
        if value is None:
            continue
        if key == "days":
            checked[key] = conv.check_int(value, where, minimum=1, required=True)
            if checked[key] > DAY_LIMIT:
                raise ValidationError(where, f"must be at most {DAY_LIMIT}")
        elif key == "currency":
            if not isinstance(value, str) or not _CURRENCY.match(value.upper()):
                raise ValidationError(where, "must be a three-letter ISO 4217 code such as 'CNY'")
            checked[key] = value.upper()
    return tuple(sorted(checked.items()))


def check_value(kind: ValueKind, value: Any, where: str, choices: type[enum.Enum] | None) -> Any:
    """``value`` checked and normalised for comparing with something of ``kind``."""
    if value is None:
        raise ValidationError(where, "cannot be compared with None; use .is_null()")
    if kind is ValueKind.TEXT:
        return conv.check_text(value, where, max_length=400, required=True)
    if kind is ValueKind.CHOICE:
        assert choices is not None
        try:
            return choices(value).value
        except ValueError:
            allowed = ", ".join(str(c.value) for c in choices)
            raise ValidationError(where, f"{value!r} is not one of {allowed}") from None
    if kind in (ValueKind.INTEGER, ValueKind.DAYS):
        value = conv.whole(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(where, f"expected a whole number, got {value!r}")
        return value
    if kind is ValueKind.AMOUNT:
        return _amount(value, where)
    if kind is ValueKind.DATE:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValidationError(where, f"expected a date, got {value!r}")
        return value
    if kind is ValueKind.DATETIME:
        return conv.check_datetime(value, where, required=True)
    raise ValidationError(where, "tags are tested with .has_tag(), not compared")


def _amount(value: Any, where: str) -> Decimal:
    number = conv.check_decimal(value, where)
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValidationError(where, f"{value} has more than 4 decimal places")
    if abs(number) >= Decimal(10) ** 15:
        raise ValidationError(where, f"{value} is too large")
    return number

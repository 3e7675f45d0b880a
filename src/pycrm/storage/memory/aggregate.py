""":class:`pycrm.analytics.Aggregation` on the memory store: the rows SQL's ``GROUP BY``
would give, computed over the transaction's visible records."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycrm.analytics.aggregate import (
    CUSTOMER_PREFIX,
    Aggregation,
    Count,
    CountDistinct,
    Max,
    Measure,
    Min,
    Sum,
    sort_key,
)
from pycrm.domain import Money
from pycrm.query import matcher, plain

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTable

_MISSING = object()


def value_of(entity: Any, field: str) -> Any:
    """A record's value as its SQL column holds it: Money split into ``<name>_amount`` and
    ``<name>_currency`` (``amount``/``currency`` for a Money field called ``amount``), an
    enum by its value."""
    value = getattr(entity, field, _MISSING)
    if value is _MISSING:
        for suffix in ("_amount", "_currency"):
            if field.endswith(suffix):
                money = getattr(entity, field[: -len(suffix)], None)
                if isinstance(money, Money):
                    return money.amount if suffix == "_amount" else money.currency
                if money is None:
                    return None
        if field == "currency" and isinstance(getattr(entity, "amount", None), Money):
            return entity.amount.currency
        raise AttributeError(field)
    if isinstance(value, Money):
        return value.amount
    return plain(value)


def aggregate(
    table: MemoryTable[Any], customers: MemoryTable[Any], aggregation: Aggregation
) -> list[tuple[Any, ...]]:
    """The aggregation's rows over ``table`` (already narrowed to an actor's scope)."""
    own = {k: v for k, v in aggregation.filters.items() if not k.startswith(CUSTOMER_PREFIX)}
    of_customer = [
        (k[len(CUSTOMER_PREFIX) :], matcher(v))
        for k, v in aggregation.filters.items()
        if k.startswith(CUSTOMER_PREFIX)
    ]
    is_customer = aggregation.entity == "customer"

    def read(entity: Any, field: str) -> Any:
        if not field.startswith(CUSTOMER_PREFIX):
            return value_of(entity, field)
        name = field[len(CUSTOMER_PREFIX) :]
        if is_customer:
            return value_of(entity, name)
        customer = customers._current(entity.customer_id or "")
        return None if customer is None else value_of(customer, name)

    groups: dict[tuple[Any, ...], list[Any]] = {}
    tests = [(k, matcher(v)) for k, v in own.items()]
    for entity in table._matching({}):
        if not all(test(value_of(entity, k)) for k, test in tests):
            continue
        if of_customer and not all(
            test(read(entity, CUSTOMER_PREFIX + k)) for k, test in of_customer
        ):
            continue
        key = tuple(read(entity, field) for field in aggregation.group_by)
        groups.setdefault(key, []).append(entity)
    if not aggregation.group_by and not groups:
        groups[()] = []
    rows = [
        (*key, *(_measure(m, members, read) for m in aggregation.measures))
        for key, members in groups.items()
    ]
    width = len(aggregation.group_by)
    return sorted(rows, key=lambda row: sort_key(row, width))


def _measure(measure: Measure, members: list[Any], read: Callable[[Any, str], Any]) -> Any:
    if isinstance(measure, Count):
        return len(members)
    values = [v for v in (read(e, measure.field) for e in members) if v is not None]
    if isinstance(measure, CountDistinct):
        return len(set(values))
    if not values:
        return None
    if isinstance(measure, Sum):
        total = values[0]
        for value in values[1:]:
            total += value
        return total
    if isinstance(measure, Min):
        return min(values)
    assert isinstance(measure, Max)
    return max(values)

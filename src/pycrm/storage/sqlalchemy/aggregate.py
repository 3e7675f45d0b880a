""":class:`pycrm.analytics.Aggregation` as one ``GROUP BY`` query on a SQL store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

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
from pycrm.query import plain

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pycrm.storage.sqlalchemy.repository import SqlEntityTable


def aggregate(
    connection: Connection,
    table: SqlEntityTable[Any],
    customers: SqlEntityTable[Any],
    aggregation: Aggregation,
) -> list[tuple[Any, ...]]:
    """The aggregation's rows, from one query over ``table`` (narrowed to an actor's scope
    by the table itself), joined to its customers when a key or filter reads them."""
    main = table._s.table
    is_customer = aggregation.entity == "customer"
    customer_table = main if is_customer else customers._s.table
    own = {k: v for k, v in aggregation.filters.items() if not k.startswith(CUSTOMER_PREFIX)}
    theirs = {
        k[len(CUSTOMER_PREFIX) :]: v
        for k, v in aggregation.filters.items()
        if k.startswith(CUSTOMER_PREFIX)
    }
    fields = [*aggregation.group_by, *(getattr(m, "field", "") for m in aggregation.measures)]
    joined = not is_customer and (
        bool(theirs) or any(f.startswith(CUSTOMER_PREFIX) for f in fields)
    )

    def column(field: str) -> sa.ColumnElement[Any]:
        if field.startswith(CUSTOMER_PREFIX):
            return customer_table.c[field[len(CUSTOMER_PREFIX) :]]
        return main.c[field]

    keys = [column(f).label(f"k{i}") for i, f in enumerate(aggregation.group_by)]
    measures = [_measure(m, column).label(f"m{i}") for i, m in enumerate(aggregation.measures)]
    source: Any = main
    if joined:
        source = main.outerjoin(customer_table, main.c.customer_id == customer_table.c.id)
    conditions = table._conditions(own)
    if theirs:
        conditions += customers._conditions(theirs)
    query = sa.select(*keys, *measures).select_from(source).where(*conditions)
    if keys:
        query = query.group_by(*keys)
    whole = [
        isinstance(m, Sum) and isinstance(column(m.field).type, sa.Integer)
        for m in aggregation.measures
    ]
    rows = [_row(row, len(keys), whole) for row in connection.execute(table._scoped(query))]
    width = len(keys)
    return sorted(rows, key=lambda row: sort_key(row, width))


def _measure(measure: Measure, column: Any) -> sa.ColumnElement[Any]:
    if isinstance(measure, Count):
        return sa.func.count()
    target = column(measure.field)
    if isinstance(measure, CountDistinct):
        return sa.func.count(sa.distinct(target))
    if isinstance(measure, Sum):
        return sa.func.sum(target, type_=target.type)
    if isinstance(measure, Min):
        return sa.func.min(target, type_=target.type)
    assert isinstance(measure, Max)
    return sa.func.max(target, type_=target.type)


def _row(row: Any, width: int, whole: list[bool]) -> tuple[Any, ...]:
    values = [plain(v) for v in row]
    for i, is_whole in enumerate(whole):
        # MySQL sums integers as DECIMAL; a sum of whole numbers is a whole number.
        if is_whole and values[width + i] is not None:
            values[width + i] = int(values[width + i])
    return tuple(values)

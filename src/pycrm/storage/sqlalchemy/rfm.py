"""RFM in one SQL query: aggregation, whole-day recency and ``RANK()`` scores in the database.

The answer must equal :func:`pycrm.grading.rfm.score` on the same purchases, on SQLite,
PostgreSQL and MariaDB alike, so two things are done with care:

* Recency is ``floor((as_of - last purchase) / 1 day)``. Instead of dividing a duration
  (floating point on SQLite, rounded decimals on MariaDB) it is the difference of the two
  calendar dates, less one when the last purchase's time of day is later than ``as_of``'s.
  Both values are naive UTC in the database, so there is no DST or session time zone.
* Scores are ``1 + bins * (rank - 1) DIV n`` in integers: MariaDB's ``/`` rounds decimals
  to four places, which can push ``4.99995`` up to ``5``, so it gets ``DIV`` there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Context, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from pycrm.domain import PURCHASE_STATUSES
from pycrm.grading.rfm import RfmRow, RfmTable, check_as_of, check_bins
from pycrm.storage.sqlalchemy.tables import Tables
from pycrm.storage.sqlalchemy.types import SCALE, UtcDateTime

_MYSQL = ("mysql", "mariadb")
_WIDE = Context(prec=80)
"""Room for any sum of ``NUMERIC(19, 4)`` values, so scaling it is exact."""


def _whole_days(dialect: str, later: Any, earlier: Any) -> ColumnElement[int]:
    """Calendar days from ``earlier``'s date to ``later``'s (both naive UTC datetimes)."""
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff'; julianday of a date is an exact x.5.
        return sa.cast(
            sa.func.julianday(sa.func.substr(later, 1, 10))
            - sa.func.julianday(sa.func.substr(earlier, 1, 10)),
            sa.Integer,
        )
    if dialect in _MYSQL:
        return sa.func.datediff(later, earlier, type_=sa.Integer)
    return sa.type_coerce(sa.cast(later, sa.Date) - sa.cast(earlier, sa.Date), sa.Integer)


def _time_of_day(dialect: str, value: Any) -> ColumnElement[Any]:
    """The time of day of a naive UTC datetime, comparable with ``>`` to microseconds."""
    if dialect == "sqlite":
        return sa.func.substr(value, 12)  # 'HH:MM:SS.ffffff' sorts as text
    if dialect in _MYSQL:
        return sa.func.time(value)
    return sa.cast(value, sa.Time)


def _int_div(dialect: str, left: Any, right: Any) -> ColumnElement[int]:
    if dialect in _MYSQL:
        return sa.type_coerce(left, sa.Integer).op("DIV", return_type=sa.Integer)(right)
    # Integer operands: SQLite and PostgreSQL truncate, which is floor for these
    # non-negative values.
    return sa.type_coerce(left, sa.Integer) // sa.type_coerce(right, sa.Integer)


def rfm_query(
    tables: Tables,
    dialect: str,
    *,
    as_of: datetime,
    bins: int,
    currency: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> sa.Select[Any]:
    """The RFM select: one row per customer with purchases at or before ``as_of``, in
    ``customer_id`` order (code point order on every backend, as ids are collated).
    ``where`` narrows the orders counted (an actor's scope)."""
    orders = tables.orders
    when = sa.literal(as_of, UtcDateTime())
    conditions = [
        orders.c.status.in_(sorted(status.value for status in PURCHASE_STATUSES)),
        orders.c.placed_at <= when,
        *where,
    ]
    if currency is not None:
        conditions.append(orders.c.total_currency == currency)
    customer: ColumnElement[str] = orders.c.customer_id
    if dialect == "sqlite":
        # SQLite would walk the (customer_id, placed_at) index to get the groups in order
        # and look up every order's row from it: more than twice as slow as reading the
        # purchases and grouping them in a temporary b-tree. A unary "+" (a no-op) keeps the
        # index out of the GROUP BY.
        customer = UnaryExpression(customer, operator=operators.custom_op("+"), type_=sa.String())
    per_customer = (
        sa.select(
            customer.label("customer_id"),
            sa.func.max(orders.c.placed_at).label("last_at"),
            sa.func.count().label("frequency"),
            sa.func.sum(orders.c.total_amount).label("monetary"),
        )
        .where(*conditions)
        .group_by(customer)
        .subquery("per_customer")
    )
    last = per_customer.c.last_at
    late = sa.case(
        (_time_of_day(dialect, last) > _time_of_day(dialect, when), 1),
        else_=0,
    )
    measured = sa.select(
        per_customer.c.customer_id,
        (_whole_days(dialect, when, last) - late).label("recency_days"),
        per_customer.c.frequency,
        per_customer.c.monetary,
    ).subquery("measured")
    n = sa.func.count().over()

    def scored(order_by: Any) -> ColumnElement[int]:
        rank = sa.func.rank().over(order_by=order_by)
        return 1 + _int_div(dialect, bins * (rank - 1), n)

    return sa.select(
        measured.c.customer_id,
        measured.c.recency_days,
        measured.c.frequency,
        measured.c.monetary,
        scored(measured.c.recency_days.desc()).label("r"),
        scored(measured.c.frequency.asc()).label("f"),
        scored(measured.c.monetary.asc()).label("m"),
    ).order_by(measured.c.customer_id)


def rfm(
    connection: Connection,
    tables: Tables,
    *,
    as_of: datetime,
    bins: int,
    currency: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> RfmTable:
    """Run :func:`rfm_query` on ``connection`` and return its rows as an :class:`RfmTable`."""
    as_of = check_as_of(as_of)
    bins = check_bins(bins)
    query = rfm_query(
        tables, connection.dialect.name, as_of=as_of, bins=bins, currency=currency, where=where
    )
    sqlite = connection.dialect.name == "sqlite"
    result = connection.execute(query)
    try:
        # Every column arrives as the driver's plain int, str or Decimal, so the rows are
        # read straight from the DBAPI cursor, without building a SQLAlchemy Row for each
        # of (potentially) millions of customers.
        fetched = result.cursor.fetchall()
    finally:
        result.close()
    # Integer columns come back as int from every supported driver; sums are converted.
    rows = [
        RfmRow(
            customer_id=customer_id,
            recency_days=recency,
            frequency=frequency,
            monetary=_money(monetary if sqlite else int(monetary.scaleb(SCALE, _WIDE))),
            r=r,
            f=f,
            m=m,
        )
        for customer_id, recency, frequency, monetary, r, f, m in fetched
    ]
    return RfmTable(rows, as_of=as_of, bins=bins)


def _money(units: int) -> Decimal:
    """A sum in ten-thousandths (``Amount`` columns hold four places) as a Decimal: two
    places for whole cents, four otherwise, like ``Amount`` reads single values, and the
    same on every database."""
    if units % 100 == 0:
        return Decimal(units // 100).scaleb(-2)
    return Decimal(units).scaleb(-SCALE)

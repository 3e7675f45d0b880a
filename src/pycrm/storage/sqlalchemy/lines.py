"""Order lines of the SQL store: a period's purchase lines by SKU, currency and unit price,
one ``GROUP BY`` over the line table joined to its orders."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pycrm.analytics.lines import LineSales, line_order
from pycrm.analytics.visits import Window

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pycrm.storage.sqlalchemy.repository import SqlEntityTable
    from pycrm.storage.sqlalchemy.tables import Tables


def line_sales(
    connection: Connection,
    tables: Tables,
    orders: SqlEntityTable[Any],
    window: Window,
    statuses: Collection[str],
) -> list[LineSales]:
    line, o = tables.order_lines, tables.orders
    quantity = line.c.quantity
    query = (
        sa.select(
            line.c.sku,
            line.c.unit_price_currency,
            line.c.unit_price_amount,
            sa.func.count(),
            sa.func.sum(quantity, type_=quantity.type),
        )
        .select_from(line.join(o, o.c.id == line.c.order_id))
        .where(
            o.c.placed_at >= window.start,
            o.c.placed_at < window.end,
            o.c.status.in_(sorted(statuses)),
        )
        .group_by(line.c.sku, line.c.unit_price_currency, line.c.unit_price_amount)
    )
    rows = connection.execute(orders._scoped(query)).all()
    return sorted(
        (LineSales(sku, cur, Decimal(price), int(n), Decimal(q)) for sku, cur, price, n, q in rows),
        key=line_order,
    )

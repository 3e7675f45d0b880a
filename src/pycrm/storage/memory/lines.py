"""Order lines of the memory store, grouped as the SQL store's query groups them."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pycrm.analytics.lines import LineSales, line_order
from pycrm.analytics.visits import Window

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTable


def line_sales(
    orders: MemoryTable[Any], window: Window, statuses: Collection[str]
) -> list[LineSales]:
    groups: dict[tuple[str | None, str, Decimal], tuple[int, Decimal]] = {}
    for order in orders._matching({}):
        if order.status.value not in statuses or not window.contains(order.placed_at):
            continue
        for line in order.lines:
            key = (line.sku, line.unit_price.currency, line.unit_price.amount)
            count, quantity = groups.get(key, (0, Decimal(0)))
            groups[key] = (count + 1, quantity + line.quantity)
    return sorted((LineSales(*key, *value) for key, value in groups.items()), key=line_order)

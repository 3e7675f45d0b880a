"""Set-based reads on the memory store, computed in Python over the transaction's view.

The memory store is the reference model: each answer here is what the SQL store's query must
return on the same data.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pycrm.domain import Order
from pycrm.grading.rfm import RfmTable, score

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTransaction


class MemoryAnalytics:
    """``Analytics`` for a :class:`MemoryTransaction`."""

    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx

    def rfm(self, *, as_of: datetime, bins: int, currency: str | None) -> RfmTable:
        orders: list[Order] = self._tx.table(Order.ENTITY_TYPE)._visible()
        purchases = (
            (order.customer_id, order.placed_at, order.total.amount)
            for order in orders
            if order.is_purchase and (currency is None or order.total.currency == currency)
        )
        return score(purchases, as_of=as_of, bins=bins)

    def points_holders(self, *, after: str | None, limit: int) -> list[str]:
        entries = self._tx.table("points_entry")._visible()
        holders = {e.customer_id for e in entries if after is None or e.customer_id > after}
        return sorted(holders)[:limit]

"""Set-based reads on the memory store, computed in Python over the transaction's view.

The memory store is the reference model: each answer here is what the SQL store's query must
return on the same data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pycrm.storage.memory.store import MemoryTransaction


class MemoryAnalytics:
    """``Analytics`` for a :class:`MemoryTransaction`."""

    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx

"""Identity blocks on the memory store, computed in Python: the reference the SQL store's
GROUP BY queries must agree with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

from pycrm.domain import Customer
from pycrm.storage.identity import Block, check_field, sorted_blocks


class MemoryIdentityIndex:
    def __init__(self, table: Any) -> None:
        self._table = table

    def _groups(self, field: str, kind: str | None) -> dict[str, list[str]]:
        check_field(field)
        groups: dict[str, list[str]] = defaultdict(list)
        # ``_matching({})``: every customer this transaction (and its access scope) sees.
        for customer in self._table._matching({}):
            value = getattr(customer, field)
            if value is not None and (kind is None or customer.kind.value == kind):
                groups[value].append(customer.id)
        return groups

    def blocks(self, field: str, *, kind: str | None, after: str | None, limit: int) -> list[Block]:
        return sorted_blocks(self._groups(field, kind), after, limit)

    def shared(self, field: str, values: Collection[str], *, kind: str | None) -> set[str]:
        groups = self._groups(field, kind)
        return {v for v in values if len(groups.get(v, ())) > 1}

    def customers(self, ids: Collection[str]) -> list[Customer]:
        found = (self._table.get(customer_id) for customer_id in sorted(set(ids)))
        return [c for c in found if c is not None]

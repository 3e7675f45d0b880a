"""Set-based identity queries on a customers table: blocks of customers sharing a key.

Duplicate detection and the data-quality report need "which key values do several customers
share", which equality filters cannot say. Each store answers it where its data is (GROUP BY
on SQL stores), through the same table object the session reads customers with, so an
actor's access scope narrows these queries as it narrows every other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from pycrm.domain import Customer
from pycrm.errors import ConfigurationError

KEY_FIELDS = ("phone_hash", "email_hash", "id_number_hash", "company_key")
"""The customer fields customers can be blocked on."""

Block = tuple[str, tuple[str, ...]]
"""A key value and the ids (ascending) of the customers holding it: at least two."""


class IdentityIndex(Protocol):
    def blocks(self, field: str, *, kind: str | None, after: str | None, limit: int) -> list[Block]:
        """Up to ``limit`` values of ``field`` held by two or more customers (of ``kind``,
        if given), in ascending order of value, greater than ``after``, each with its
        customers' ids."""
        ...

    def shared(self, field: str, values: Collection[str], *, kind: str | None) -> set[str]:
        """Which of ``values`` two or more customers (of ``kind``, if given) hold."""
        ...

    def customers(self, ids: Collection[str]) -> list[Customer]:
        """The customers with ``ids`` (those visible), in a few set-based reads."""
        ...


def identity_index(table: Any) -> IdentityIndex:
    """The identity queries of a store's customers table (memory or SQL)."""
    from pycrm.storage.memory.identity import MemoryIdentityIndex
    from pycrm.storage.memory.store import MemoryTable
    from pycrm.storage.watched import WatchedTable

    if isinstance(table, WatchedTable):  # a session's table: these queries only read
        table = table.inner
    if isinstance(table, MemoryTable):
        return MemoryIdentityIndex(table)
    from pycrm.storage.sqlalchemy.identity import SqlIdentityIndex
    from pycrm.storage.sqlalchemy.repository import SqlEntityTable

    if isinstance(table, SqlEntityTable):
        return SqlIdentityIndex(table)
    raise ConfigurationError(
        f"{type(table).__name__} cannot answer identity queries (duplicates, quality report)"
    )


def check_field(field: str) -> str:
    if field not in KEY_FIELDS:
        raise ValueError(f"not an identity key field: {field!r}")
    return field


def sorted_blocks(groups: dict[str, list[str]], after: str | None, limit: int) -> list[Block]:
    """The blocks of ``groups`` (value -> ids) as a store returns them."""
    values: Sequence[str] = sorted(
        v for v, ids in groups.items() if len(ids) > 1 and (after is None or v > after)
    )
    return [(v, tuple(sorted(groups[v]))) for v in values[:limit]]

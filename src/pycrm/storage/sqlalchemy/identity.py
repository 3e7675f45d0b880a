"""Identity blocks on a SQL store: GROUP BY on the indexed key columns, set-based."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from pycrm.domain import Customer
from pycrm.storage.identity import Block, check_field
from pycrm.storage.sqlalchemy.repository import SqlEntityTable, chunked, in_chunk


class SqlIdentityIndex:
    """Runs on the customers table object the session reads through, and narrows each query
    as that table does (its access scope, when it has one)."""

    def __init__(self, table: SqlEntityTable[Any]) -> None:
        self._t = table
        self._conn = table._conn
        self._table: sa.Table = table._s.table

    def _scoped(self, query: Any) -> Any:
        scoped = getattr(self._t, "_scoped", None)
        return query if scoped is None else scoped(query)

    def _shared_values(
        self, field: str, kind: str | None, conditions: list[sa.ColumnElement[bool]]
    ) -> sa.Select[Any]:
        column = self._table.c[check_field(field)]
        query = sa.select(column).where(column.is_not(None), *conditions)
        if kind is not None:
            query = query.where(self._table.c.kind == kind)
        grouped: sa.Select[Any] = self._scoped(query).group_by(column)
        return grouped.having(sa.func.count() > 1)

    def blocks(self, field: str, *, kind: str | None, after: str | None, limit: int) -> list[Block]:
        column = self._table.c[check_field(field)]
        conditions = [] if after is None else [column > after]
        values = list(
            self._conn.execute(
                self._shared_values(field, kind, conditions).order_by(column).limit(limit)
            ).scalars()
        )
        if not values:
            return []
        members = sa.select(column, self._table.c.id).where(column.in_(values))
        if kind is not None:
            members = members.where(self._table.c.kind == kind)
        groups: dict[str, list[str]] = defaultdict(list)
        for value, customer_id in self._conn.execute(self._scoped(members)):
            groups[value].append(customer_id)
        return [(v, tuple(sorted(groups[v]))) for v in values]

    def shared(self, field: str, values: Collection[str], *, kind: str | None) -> set[str]:
        column = self._table.c[check_field(field)]
        found: set[str] = set()
        for chunk in chunked(sorted(set(values)), in_chunk(self._conn.dialect)):
            query = self._shared_values(field, kind, [column.in_(chunk)])
            found.update(self._conn.execute(query).scalars())
        return found

    def customers(self, ids: Collection[str]) -> list[Customer]:
        found: list[Customer] = []
        for chunk in chunked(sorted(set(ids)), in_chunk(self._conn.dialect)):
            found.extend(
                self._t.page_where([self._table.c.id.in_(chunk)], after=None, limit=len(chunk))
            )
        return found

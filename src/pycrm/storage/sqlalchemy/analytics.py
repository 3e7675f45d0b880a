"""Set-based reads on a SQL store: each one query, run where the data is."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pycrm.grading.rfm import RfmTable
from pycrm.storage.sqlalchemy.rfm import rfm
from pycrm.storage.sqlalchemy.tables import Tables


class SqlAnalytics:
    """``Analytics`` on one connection (inside the transaction's unit of work)."""

    def __init__(self, connection: Connection, tables: Tables) -> None:
        self._conn = connection
        self._tables = tables

    def rfm(self, *, as_of: datetime, bins: int, currency: str | None) -> RfmTable:
        return rfm(self._conn, self._tables, as_of=as_of, bins=bins, currency=currency)

    def points_holders(self, *, after: str | None, limit: int) -> list[str]:
        # DISTINCT over the (customer_id, occurred_at) index: no ledger rows are read.
        holder = self._tables.points_entries.c.customer_id
        query = sa.select(holder).distinct().order_by(holder).limit(limit)
        if after is not None:
            query = query.where(holder > after)
        return [row[0] for row in self._conn.execute(query)]

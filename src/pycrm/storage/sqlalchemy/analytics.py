"""Set-based reads on a SQL store: each one query, run where the data is."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from pycrm.storage.sqlalchemy.tables import Tables


class SqlAnalytics:
    """``Analytics`` on one connection (inside the transaction's unit of work)."""

    def __init__(self, connection: Connection, tables: Tables) -> None:
        self._conn = connection
        self._tables = tables

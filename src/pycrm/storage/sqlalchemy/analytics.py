"""Set-based reads on a SQL store: each one query, run where the data is."""

from __future__ import annotations

from datetime import datetime

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

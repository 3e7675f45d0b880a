"""One unit of work on a SQL database: owned by pycrm, or joined to a host's transaction.

Owned: a connection is taken from the engine, used for one transaction and given back on
commit or rollback; after-commit callbacks run right after the commit. On SQLite it takes
the write lock before its first write (see ``sqlite.py``).

Joined: pycrm works inside a SAVEPOINT on the host's connection. ``commit()`` releases it and
``rollback()`` rolls back to it; the host's transaction is never ended here. Callbacks wait
for the host's own commit (see ``hooks.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection, Engine, NestedTransaction

from pycrm.errors import SessionClosed
from pycrm.storage.sqlalchemy.analytics import SqlAnalytics
from pycrm.storage.sqlalchemy.hooks import HostCommitHooks
from pycrm.storage.sqlalchemy.outbox import SqlOutboxQueue
from pycrm.storage.sqlalchemy.repository import SqlAuditTable, SqlEntityTable, TableSet
from pycrm.storage.sqlalchemy.sqlite import ensure_transaction, lock_before_first_write


class SqlTransaction:
    """A ``StoreTransaction`` on one SQLAlchemy ``Connection``."""

    def __init__(self, tables: TableSet, engine: Engine, connection: Connection | None) -> None:
        self._tables = tables
        self._callbacks: list[Callable[[], None]] = []
        self._savepoint: NestedTransaction | None = None
        if connection is None:
            conn = engine.connect()
            try:
                conn.begin()
                ensure_transaction(conn)
                lock_before_first_write(conn)
            except BaseException:
                conn.close()
                raise
        else:
            conn = connection
            ensure_transaction(conn)
            self._savepoint = conn.begin_nested()
        self._conn = conn
        self._open = True
        self._entity_tables: dict[str, SqlEntityTable[Any]] = {}
        self._audit = SqlAuditTable(conn, tables)
        self._analytics = SqlAnalytics(conn, tables.tables, self.table)

    @property
    def connection(self) -> Connection:
        """The connection this unit of work runs on (for set-based queries of its own)."""
        self._check_open()
        return self._conn

    @property
    def joined(self) -> bool:
        """Whether this unit of work runs inside a host's transaction."""
        return self._savepoint is not None

    def table(self, entity_type: str) -> SqlEntityTable[Any]:
        self._check_open()
        found = self._entity_tables.get(entity_type)
        if found is None:
            statements = self._tables.entities.get(entity_type)
            if statements is None:
                raise KeyError(f"no table for entity type {entity_type!r}")
            found = self._entity_tables[entity_type] = SqlEntityTable(
                self._conn, statements, self._tables
            )
        return found

    @property
    def audit(self) -> SqlAuditTable:
        self._check_open()
        return self._audit

    @property
    def analytics(self) -> SqlAnalytics:
        self._check_open()
        return self._analytics

    @property
    def outbox(self) -> SqlOutboxQueue:
        self._check_open()
        return SqlOutboxQueue(self._conn, self._tables)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A SAVEPOINT: a failure inside is rolled back to it, so the transaction (on
        PostgreSQL, aborted by a failed statement) goes on."""
        self._check_open()
        nested = self._conn.begin_nested()
        try:
            yield
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
        if nested.is_active:
            nested.commit()

    def commit(self) -> None:
        self._check_open()
        self._open = False
        callbacks, self._callbacks = self._callbacks, []
        if self._savepoint is not None:
            self._savepoint.commit()
            HostCommitHooks.of(self._conn).defer(self._conn, callbacks)
            return
        try:
            self._conn.commit()
        finally:
            self._conn.close()
        _run(callbacks)

    def rollback(self) -> None:
        """Undo this unit of work; a no-op once it has ended."""
        if not self._open:
            return
        self._open = False
        self._callbacks.clear()
        if self._savepoint is not None:
            if self._savepoint.is_active:
                self._savepoint.rollback()
            return
        try:
            self._conn.rollback()
        finally:
            self._conn.close()

    def _check_open(self) -> None:
        if not self._open:
            raise SessionClosed("this transaction has already ended")


def _run(callbacks: list[Callable[[], None]]) -> None:
    """Run every callback; the first error is raised after all have had their turn."""
    first: BaseException | None = None
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:
            if first is None:
                first = exc
    if first is not None:
        raise first

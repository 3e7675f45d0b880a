"""Making SQLite behave as a transactional database under SQLAlchemy.

Python's ``sqlite3`` driver, in its default (legacy) mode, issues ``BEGIN`` only before
INSERT/UPDATE/DELETE. Reads then run outside the transaction, and a SAVEPOINT issued before
the first write starts a transaction of its own, whose RELEASE commits it: a later ROLLBACK
would not undo it. SQLAlchemy's documented remedy (the "Serializable isolation / Savepoints /
Transactional DDL" section of its SQLite docs) is to switch the driver's own transaction
handling off and emit ``BEGIN`` when SQLAlchemy begins a transaction.

What pycrm does:

* On engines it creates itself (``SqlStore.from_url``, ``upgrade(url)``) it installs that
  remedy with :func:`configure_sqlite_engine`, plus ``PRAGMA foreign_keys=ON``, a busy
  timeout and WAL mode for file databases.
* On a host's engine it installs nothing: listeners there would change how the host's own
  code runs. Instead, before working on a connection it makes sure a real transaction is open
  (:func:`ensure_transaction`), which also makes its savepoints nest properly. Foreign-key
  enforcement and WAL stay the host's choice there (pycrm's sessions check references
  themselves); a host can call :func:`configure_sqlite_engine` on its engine to opt in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine

DEFAULT_BUSY_TIMEOUT_MS = 10_000

_MARK = "_pycrm_sqlite_configured"


def is_file_database(url: URL) -> bool:
    database = url.database or ""
    if database in ("", ":memory:"):
        return False
    return not ("mode=memory" in database or url.query.get("mode") == "memory")


def ensure_transaction(connection: Connection) -> None:
    """Open a real SQLite transaction on ``connection`` if the driver has not begun one.

    Begins SQLAlchemy's transaction first when needed, so a ``begin`` listener that emits
    ``BEGIN`` itself (the documented recipe) has run before the driver's state is checked.
    """
    if connection.dialect.name != "sqlite":
        return
    if not connection.in_transaction():
        connection.begin()
    dbapi_connection: Any = connection.connection.dbapi_connection
    if not getattr(dbapi_connection, "in_transaction", True):
        connection.exec_driver_sql("BEGIN")


def configure_sqlite_engine(
    engine: Engine, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, wal: bool = True
) -> Engine:
    """Install SQLAlchemy's transaction recipe and pycrm's PRAGMAs on a SQLite ``engine``.

    Idempotent; affects connections the pool opens from now on. WAL lets readers run while a
    writer commits, which is what an embedded CRM shared by a web app's threads needs.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, _MARK, False):
        return engine
    use_wal = wal and is_file_database(engine.url)
    timeout = int(busy_timeout_ms)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if use_wal:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        dbapi_connection: Any = connection.connection.dbapi_connection
        if not getattr(dbapi_connection, "in_transaction", False):
            connection.exec_driver_sql("BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    setattr(engine, _MARK, True)
    return engine

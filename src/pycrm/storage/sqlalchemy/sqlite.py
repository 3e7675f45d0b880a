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
* A transaction of its own takes the write lock before its first write
  (:func:`lock_before_first_write`). In WAL mode a transaction that has read and then writes
  after another connection committed fails at once with "database is locked"
  (``SQLITE_BUSY_SNAPSHOT``): the busy timeout cannot help, since waiting would not make its
  snapshot current. Reads-then-writes are what a session does (get, then update), so two
  threads or processes saving at once would fail instead of taking turns. Until its first
  write the transaction has only read, so it is ended there and begun again with
  ``BEGIN IMMEDIATE``, which waits its turn; versions checked on update still catch a
  change made in between (as :class:`pycrm.ConcurrencyConflict`), as on the server
  databases, whose transactions read committed data too. A host's own transaction is left
  as the host runs it.
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


def take_write_lock(connection: Connection) -> None:
    """Restart ``connection``'s SQLite transaction, which must not have written yet, as
    ``BEGIN IMMEDIATE``: it waits (up to the busy timeout) until it is the one writer."""
    dbapi_connection: Any = connection.connection.dbapi_connection
    # On the driver's connection, so SQLAlchemy's own transaction goes on as it is.
    dbapi_connection.execute("ROLLBACK")
    dbapi_connection.execute("BEGIN IMMEDIATE")


def lock_before_first_write(connection: Connection) -> None:
    """Take the write lock on ``connection`` (a transaction of pycrm's own, begun, nothing
    written yet) just before its first statement that is not a ``SELECT``; a savepoint
    counts, since a transaction cannot be restarted under one. See the module docstring."""
    if connection.dialect.name != "sqlite":
        return
    locked = False

    def before_execute(
        conn: Connection, _cursor: Any, statement: str, *_args: Any, **_kw: Any
    ) -> None:
        nonlocal locked
        if locked or statement.lstrip()[:6].upper() == "SELECT":
            return
        locked = True
        take_write_lock(conn)

    event.listen(connection, "before_cursor_execute", before_execute)


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

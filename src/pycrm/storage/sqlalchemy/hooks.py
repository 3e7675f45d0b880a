"""After-commit callbacks for work done inside a host's transaction.

When pycrm joins a host's ``Connection`` it only releases its savepoint; the changes become
durable when the host commits its own transaction. SQLAlchemy's ``commit`` event is the one
signal for that, but it fires just *before* the driver's COMMIT. Running callbacks there
would let them see (and announce) data that is not yet visible to other connections, or that
a failing COMMIT never writes. So the listener performs the driver-level commit itself first
and runs the callbacks only once that has succeeded; SQLAlchemy's own COMMIT that follows
finds no open transaction, which every supported driver treats as a no-op. If the early
commit fails, its error propagates from the host's ``commit()`` and no callback runs.

Callbacks are dropped when the host rolls back, and when it rolls back a savepoint of its own
that enclosed pycrm's work. Exceptions from callbacks are logged, never raised: by then the
host's data is committed, and an error from ``commit()`` would tell it otherwise.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

Callback = Callable[[], None]


@attrs.define
class _Pending:
    callbacks: list[Callback]
    enclosing: frozenset[str]
    """Host savepoints open around pycrm's work when it was released."""


class HostCommitHooks:
    """Listeners on one host ``Connection``, installed once and kept for its lifetime."""

    _registry: ClassVar[weakref.WeakKeyDictionary[Connection, HostCommitHooks]] = (
        weakref.WeakKeyDictionary()
    )
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, connection: Connection) -> None:
        self._pending: list[_Pending] = []
        event.listen(connection, "commit", self._on_commit)
        event.listen(connection, "rollback", self._on_rollback)
        event.listen(connection, "rollback_savepoint", self._on_rollback_savepoint)

    @classmethod
    def of(cls, connection: Connection) -> HostCommitHooks:
        with cls._lock:
            hooks = cls._registry.get(connection)
            if hooks is None:
                hooks = cls._registry[connection] = cls(connection)
            return hooks

    def defer(self, connection: Connection, callbacks: Sequence[Callback]) -> None:
        """Run ``callbacks`` when the host's transaction on ``connection`` commits."""
        if callbacks:
            self._pending.append(_Pending(list(callbacks), _open_savepoints(connection)))

    def _on_commit(self, connection: Connection) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            connection.connection.dbapi_connection.commit()  # type: ignore[union-attr]
        except Exception as exc:
            dbapi = connection.dialect.loaded_dbapi
            raise sa.exc.DBAPIError.instance(None, None, exc, dbapi.Error) from exc
        for item in pending:
            for callback in item.callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("after-commit callback %r failed", callback)

    def _on_rollback(self, _connection: Connection) -> None:
        self._pending.clear()

    def _on_rollback_savepoint(self, _connection: Connection, name: str, _context: Any) -> None:
        self._pending = [p for p in self._pending if name not in p.enclosing]


def _open_savepoints(connection: Connection) -> frozenset[str]:
    # SQLAlchemy exposes the innermost savepoint publicly; the chain and the names are
    # attributes of NestedTransaction without a public accessor. Without them the set is
    # empty and only a rollback of the whole transaction drops callbacks.
    names: set[str] = set()
    nested: Any = connection.get_nested_transaction()
    while nested is not None:
        name = getattr(nested, "_savepoint", None)
        if isinstance(name, str):
            names.add(name)
        nested = getattr(nested, "_previous_nested", None)
    return frozenset(names)

"""A store transaction that tells its session before anything is written through it.

A session keeps the read-only analytics results it has computed (see
:mod:`pycrm.analytics.memo`) only as long as its data is unchanged. Rather than trusting
every write path (repositories, merges, erasure, purges, bulk regrades) to say so, the
session works through this wrapper: each write method of a table, of the audit log and of
the outbox calls ``on_write`` first, and so does a savepoint rolled back (its reads may
have seen writes that are now undone). Reads go straight through.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from pycrm.access.scope import Scope
from pycrm.domain import AuditEntry
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.storage.protocols import (
    Analytics,
    AuditTable,
    EntityTable,
    OutboxQueue,
    StoreTransaction,
)


class WatchedTable:
    """An :class:`EntityTable` whose writes call ``on_write`` first."""

    def __init__(self, table: EntityTable[Any], on_write: Callable[[], None]) -> None:
        self._table = table
        self._on_write = on_write

    @property
    def inner(self) -> EntityTable[Any]:
        """The store's own table."""
        return self._table

    def insert(self, entity: Any) -> None:
        self._on_write()
        self._table.insert(entity)

    def insert_many(self, entities: Sequence[Any]) -> None:
        self._on_write()
        self._table.insert_many(entities)

    def get(self, entity_id: str) -> Any:
        return self._table.get(entity_id)

    def update(self, entity: Any, expected_version: int) -> bool:
        self._on_write()
        return self._table.update(entity, expected_version)

    def delete(self, entity_id: str, expected_version: int) -> bool:
        self._on_write()
        return self._table.delete(entity_id, expected_version)

    def page(self, *, after: str | None, limit: int, filters: Mapping[str, Any]) -> list[Any]:
        return self._table.page(after=after, limit=limit, filters=filters)

    def count(self, filters: Mapping[str, Any]) -> int:
        return self._table.count(filters)

    def existing(self, ids: Collection[str]) -> set[str]:
        return self._table.existing(ids)

    def within(self, scope: Scope) -> WatchedTable:
        return WatchedTable(self._table.within(scope), self._on_write)

    def reassign(
        self,
        field: str,
        old: Collection[str],
        new: str,
        *,
        now: datetime,
        only: Collection[str] | None = None,
    ) -> list[str]:
        self._on_write()
        return self._table.reassign(field, old, new, now=now, only=only)

    def __getattr__(self, name: str) -> Any:
        # A backend's own extras (bulk paths of the SQL tables) stay reachable.
        return getattr(self._table, name)


class WatchedAudit:
    """An :class:`AuditTable` whose writes call ``on_write`` first."""

    def __init__(self, audit: AuditTable, on_write: Callable[[], None]) -> None:
        self._audit = audit
        self._on_write = on_write

    def append(self, entries: Sequence[AuditEntry]) -> None:
        self._on_write()
        self._audit.append(entries)

    def for_entity(self, entity_type: str, entity_id: str) -> list[AuditEntry]:
        return self._audit.for_entity(entity_type, entity_id)

    def page(
        self, *, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[AuditEntry]:
        return self._audit.page(since=since, after=after, limit=limit)

    def purge(self, before: datetime) -> int:
        self._on_write()
        return self._audit.purge(before)

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        return self._audit.for_customer(customer_id)

    def redact(self, changes: Mapping[str, Mapping[str, list[Any]] | None]) -> None:
        self._on_write()
        self._audit.redact(changes)


class WatchedOutbox:
    """An :class:`OutboxQueue` whose claims and purges call ``on_write`` first."""

    def __init__(self, outbox: OutboxQueue, on_write: Callable[[], None]) -> None:
        self._outbox = outbox
        self._on_write = on_write

    def claim(
        self, *, worker: str, claim: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        self._on_write()
        return self._outbox.claim(worker=worker, claim=claim, now=now, lease=lease, limit=limit)

    def purge(self, *, before: datetime, statuses: Collection[OutboxStatus]) -> int:
        self._on_write()
        return self._outbox.purge(before=before, statuses=statuses)


class WatchedTransaction:
    """A :class:`StoreTransaction` that calls ``on_write`` before every write through it."""

    def __init__(self, tx: StoreTransaction, on_write: Callable[[], None]) -> None:
        self._tx = tx
        self._on_write = on_write
        self._tables: dict[str, WatchedTable] = {}

    @property
    def inner(self) -> StoreTransaction:
        """The store's own transaction."""
        return self._tx

    def table(self, entity_type: str) -> WatchedTable:
        table = self._tx.table(entity_type)
        found = self._tables.get(entity_type)
        if found is None or found._table is not table:
            found = self._tables[entity_type] = WatchedTable(table, self._on_write)
        return found

    @property
    def audit(self) -> WatchedAudit:
        return WatchedAudit(self._tx.audit, self._on_write)

    @property
    def analytics(self) -> Analytics:
        return self._tx.analytics

    @property
    def outbox(self) -> WatchedOutbox:
        return WatchedOutbox(self._tx.outbox, self._on_write)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        try:
            with self._tx.savepoint():
                yield
        except BaseException:
            self._on_write()
            raise

    def commit(self) -> None:
        self._tx.commit()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._tx.after_commit(callback)

    def rollback(self) -> None:
        self._tx.rollback()

    def __getattr__(self, name: str) -> Any:
        # A backend's own extras (the SQL transaction's connection) stay reachable.
        return getattr(self._tx, name)

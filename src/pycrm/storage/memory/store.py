"""The in-memory store: the reference model for the SQL stores, and the quick store for notebooks.

Transactions are optimistic: each one works on an overlay of its own writes and, on commit,
checks under a lock that nothing it changed was changed by another transaction meanwhile.
Stored entities are immutable attrs objects, so sharing them between transactions is safe.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Generic

import attrs

from pycrm.access.scope import Scope
from pycrm.domain import AuditEntry
from pycrm.errors import AlreadyExists, ConcurrencyConflict, ConfigurationError, SessionClosed
from pycrm.outbox.message import OutboxMessage, OutboxStatus
from pycrm.outbox.policy import claimed, is_due
from pycrm.outbox.retention import purgeable_statuses
from pycrm.query import OneOf, matcher
from pycrm.storage.memory.analytics import MemoryAnalytics
from pycrm.storage.protocols import E
from pycrm.storage.scoping import customer_link
from pycrm.storage.spec import SPEC_BY_TYPE, EntitySpec

_DELETED = object()


class MemoryStore:
    """A thread-safe store in a dict per entity type. Data lives as long as the object."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._data: dict[str, dict[str, Any]] = {name: {} for name in SPEC_BY_TYPE}
        self._audit: list[AuditEntry] = []

    def begin(self, *, connection: Any = None) -> MemoryTransaction:
        if connection is not None:
            raise ConfigurationError("the memory store cannot join a host's connection")
        return MemoryTransaction(self)

    def close(self) -> None:
        """Nothing to release; the data stays until the store is garbage-collected."""

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(rows)}" for name, rows in self._data.items())
        return f"MemoryStore({sizes})"


class MemoryTransaction:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._tables = {name: MemoryTable[Any](self, SPEC_BY_TYPE[name]) for name in SPEC_BY_TYPE}
        self._audit_table = MemoryAuditTable(self)
        self._analytics = MemoryAnalytics(self)
        self._callbacks: list[Callable[[], None]] = []
        self._open = True

    @property
    def committed(self) -> Mapping[str, dict[str, Any]]:
        return self._store._data

    def table(self, entity_type: str) -> MemoryTable[Any]:
        self._check_open()
        return self._tables[entity_type]

    @property
    def audit(self) -> MemoryAuditTable:
        self._check_open()
        return self._audit_table

    @property
    def analytics(self) -> MemoryAnalytics:
        self._check_open()
        return self._analytics

    @property
    def outbox(self) -> MemoryOutboxQueue:
        self._check_open()
        return MemoryOutboxQueue(self)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """What a SQL savepoint does: the overlays as they were before the block come back
        when it raises. Copies only what this transaction has written so far."""
        self._check_open()
        tables = {name: table.mark() for name, table in self._tables.items() if table.written}
        audit = self._audit_table.mark()
        try:
            yield
        except BaseException:
            for name, table in self._tables.items():
                table.restore(tables.get(name))
            self._audit_table.restore(audit)
            raise

    def commit(self) -> None:
        self._check_open()
        with self._store._lock:
            for table in self._tables.values():
                table.verify_base()
            for table in self._tables.values():
                table.apply()
            self._audit_table.apply()
        self._open = False
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._open = False
        self._callbacks.clear()

    def _check_open(self) -> None:
        if not self._open:
            raise SessionClosed("this transaction has already ended")


class MemoryOutboxQueue:
    """Outbox claims and purges on the memory store.

    A claim is taken at once under the store's lock: it is its own unit of work, whatever the
    transaction it is made in does afterwards. A purge is part of its transaction: the
    messages are deleted in the transaction's overlay (read under the lock), so a rollback
    keeps them, and a commit after another transaction changed one of them (a dead message
    retried meanwhile, another purge) fails with ``ConcurrencyConflict`` as any stale write.
    """

    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx
        self._store = tx._store

    def claim(
        self, *, worker: str, claim: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxMessage]:
        with self._store._lock:
            rows = self._store._data["outbox_message"]
            due = sorted(
                (m for m in rows.values() if is_due(m, now)),
                key=lambda m: (m.next_attempt_at, m.id),
            )[:limit]
            taken = [claimed(m, worker=worker, claim=claim, now=now, lease=lease) for m in due]
            for message in taken:
                rows[message.id] = message
        return taken

    def purge(self, *, before: datetime, statuses: Collection[OutboxStatus]) -> int:
        wanted = purgeable_statuses(statuses)
        table = self._tx.table(OutboxMessage.ENTITY_TYPE)
        with self._store._lock:
            doomed = [
                m
                for m in table._visible()
                if m.status in wanted and m.updated_at is not None and m.updated_at < before
            ]
        for message in doomed:
            table.delete(message.id, message.version)
        return len(doomed)


class MemoryTable(Generic[E]):
    """One entity type in one transaction; a view :meth:`within` a scope shares its writes
    and tests the scope inside every query, as SQL stores add it to every statement."""

    def __init__(self, tx: MemoryTransaction, spec: EntitySpec) -> None:
        self._tx = tx
        self._spec = spec
        self._overlay: dict[str, Any] = {}
        # id -> version the stored entity had when this transaction first wrote it (None: absent)
        self._base: dict[str, int | None] = {}
        self._scope: Scope | None = None
        self._link = customer_link(spec)

    def within(self, scope: Scope) -> MemoryTable[E]:
        if scope.unrestricted or self._link is None:
            return self
        view = copy.copy(self)  # shares the overlay: writes through the view are this table's
        view._scope = scope if self._scope is None else self._scope & scope
        return view

    def _allowed(self, entity: Any) -> bool:
        scope = self._scope
        if scope is None:
            return True
        if self._link == "self":
            return scope.allows(entity)
        customer = self._tx._tables["customer"]._current(entity.customer_id or "")
        return customer is not None and scope.allows(customer)

    @property
    def _committed(self) -> dict[str, Any]:
        return self._tx.committed[self._spec.entity_type]

    def _current(self, entity_id: str) -> Any:
        if entity_id in self._overlay:
            found = self._overlay[entity_id]
            return None if found is _DELETED else found
        return self._committed.get(entity_id)

    def _remember_base(self, entity_id: str) -> None:
        if entity_id not in self._base:
            stored = self._committed.get(entity_id)
            self._base[entity_id] = None if stored is None else stored.version

    def _check_unique(self, entity: E) -> None:
        for field in self._spec.unique:
            value = getattr(entity, field)
            if value is None:
                continue
            for other in self._visible():
                if other.id != entity.id and getattr(other, field) == value:
                    raise AlreadyExists(self._spec.entity_type, f"{field}={value}")

    def _visible(self) -> list[E]:
        merged = dict(self._committed)
        merged.update(self._overlay)
        return [e for e in merged.values() if e is not _DELETED]

    def insert(self, entity: E) -> None:
        self.insert_many([entity])

    def insert_many(self, entities: Sequence[E]) -> None:
        batch: dict[str, E] = {}
        unique_seen: dict[str, dict[Any, str]] = {f: {} for f in self._spec.unique}
        for entity in self._visible():
            for field, seen in unique_seen.items():
                value = getattr(entity, field)
                if value is not None:
                    seen[value] = entity.id
        for entity in entities:
            if entity.id in batch or self._current(entity.id) is not None:
                raise AlreadyExists(self._spec.entity_type, entity.id)
            for field, seen in unique_seen.items():
                value = getattr(entity, field)
                if value is None:
                    continue
                if value in seen:
                    raise AlreadyExists(self._spec.entity_type, f"{field}={value}")
                seen[value] = entity.id
            batch[entity.id] = entity
        for entity_id, entity in batch.items():
            self._remember_base(entity_id)
            self._overlay[entity_id] = entity

    def get(self, entity_id: str) -> E | None:
        found: E | None = self._current(entity_id)
        return found if found is not None and self._allowed(found) else None

    def update(self, entity: E, expected_version: int) -> bool:
        current = self._current(entity.id)
        if current is None or current.version != expected_version or not self._allowed(current):
            return False
        self._check_unique(entity)
        self._remember_base(entity.id)
        self._overlay[entity.id] = entity
        return True

    def delete(self, entity_id: str, expected_version: int) -> bool:
        current = self._current(entity_id)
        if current is None or current.version != expected_version or not self._allowed(current):
            return False
        self._remember_base(entity_id)
        self._overlay[entity_id] = _DELETED
        return True

    def _matching(self, filters: Mapping[str, Any]) -> list[E]:
        tests = [(field, matcher(value)) for field, value in filters.items()]
        wanted_ids = filters.get("id")
        if isinstance(wanted_ids, OneOf):
            # Reading by ids (get_many) looks each one up rather than scanning the table.
            found = (self._current(i) for i in set(wanted_ids.values))
            candidates: Iterable[E] = (e for e in found if e is not None)
        else:
            candidates = self._visible()
        items = [
            e
            for e in candidates
            if all(test(getattr(e, field)) for field, test in tests) and self._allowed(e)
        ]
        items.sort(key=lambda e: e.id)
        return items

    def page(self, *, after: str | None, limit: int, filters: Mapping[str, Any]) -> list[E]:
        items = self._matching(filters)
        if after is not None:
            items = [e for e in items if e.id > after]
        return items[:limit]

    def count(self, filters: Mapping[str, Any]) -> int:
        return len(self._matching(filters))

    def existing(self, ids: Collection[str]) -> set[str]:
        return {i for i in ids if (found := self._current(i)) is not None and self._allowed(found)}

    def reassign(
        self,
        field: str,
        old: Collection[str],
        new: str,
        *,
        now: datetime,
        only: Collection[str] | None = None,
    ) -> list[str]:
        olds = set(old)
        wanted = None if only is None else set(only)
        moving = [
            e
            for e in self._matching({})
            if getattr(e, field) in olds and (wanted is None or e.id in wanted)
        ]
        moved = [
            attrs.evolve(e, **{field: new}, version=e.version + 1, updated_at=now) for e in moving
        ]
        for entity in moved:
            self._check_unique(entity)
        for entity in moved:
            self._remember_base(entity.id)
            self._overlay[entity.id] = entity
        return [e.id for e in moved]

    @property
    def written(self) -> bool:
        return bool(self._overlay)

    def mark(self) -> tuple[dict[str, Any], dict[str, int | None]]:
        return dict(self._overlay), dict(self._base)

    def restore(self, mark: tuple[dict[str, Any], dict[str, int | None]] | None) -> None:
        """Back to ``mark`` (``None``: nothing written), in place: views share the dicts."""
        overlay, base = mark or ({}, {})
        if self._overlay != overlay:
            self._overlay.clear()
            self._overlay.update(overlay)
            self._base.clear()
            self._base.update(base)

    def verify_base(self) -> None:
        """Fail the commit if another transaction changed what this one wrote."""
        for entity_id, base_version in self._base.items():
            stored = self._committed.get(entity_id)
            if (None if stored is None else stored.version) != base_version:
                raise ConcurrencyConflict(self._spec.entity_type, entity_id, base_version or 0)
        if self._spec.unique and self._overlay:
            merged = dict(self._committed)
            merged.update(self._overlay)
            for field in self._spec.unique:
                seen: set[Any] = set()
                for entity in merged.values():
                    value = None if entity is _DELETED else getattr(entity, field)
                    if value is None:
                        continue
                    if value in seen:
                        raise AlreadyExists(self._spec.entity_type, f"{field}={value}")
                    seen.add(value)

    def apply(self) -> None:
        committed = self._committed
        for entity_id, entity in self._overlay.items():
            if entity is _DELETED:
                committed.pop(entity_id, None)
            else:
                committed[entity_id] = entity


class MemoryAuditTable:
    def __init__(self, tx: MemoryTransaction) -> None:
        self._tx = tx
        self.pending: list[AuditEntry] = []
        self.redacted: dict[str, Mapping[str, list[Any]] | None] = {}
        self.purged_before: datetime | None = None

    def append(self, entries: Sequence[AuditEntry]) -> None:
        self.pending.extend(entries)

    def mark(self) -> tuple[int, dict[str, Mapping[str, list[Any]] | None], datetime | None]:
        return len(self.pending), dict(self.redacted), self.purged_before

    def restore(
        self, mark: tuple[int, dict[str, Mapping[str, list[Any]] | None], datetime | None]
    ) -> None:
        pending, redacted, purged_before = mark
        del self.pending[pending:]
        self.redacted = redacted
        self.purged_before = purged_before

    def _entries(self) -> list[AuditEntry]:
        entries = [*self._tx._store._audit, *self.pending]
        cutoff = self.purged_before
        if cutoff is not None:
            entries = [e for e in entries if e.at >= cutoff]
        if not self.redacted:
            return entries
        return [self._redacted(e) for e in entries]

    def _redacted(self, entry: AuditEntry) -> AuditEntry:
        if entry.id not in self.redacted:
            return entry
        return attrs.evolve(entry, changes=self.redacted[entry.id])

    def for_entity(self, entity_type: str, entity_id: str) -> list[AuditEntry]:
        entries = self._entries()
        return [e for e in entries if e.entity_type == entity_type and e.entity_id == entity_id]

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        return [e for e in self._entries() if e.customer_id == customer_id]

    def redact(self, changes: Mapping[str, Mapping[str, list[Any]] | None]) -> None:
        self.redacted.update(changes)

    def page(
        self, *, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[AuditEntry]:
        found = sorted(
            (
                e
                for e in self._entries()
                if (since is None or e.at >= since) and (after is None or (e.at, e.id) > after)
            ),
            key=lambda e: (e.at, e.id),
        )
        return found[:limit]

    def purge(self, before: datetime) -> int:
        doomed = sum(1 for e in self._entries() if e.at < before)
        previous = self.purged_before
        self.purged_before = before if previous is None else max(before, previous)
        return doomed

    def apply(self) -> None:
        """Add the pending entries and apply the redactions to the committed log."""
        audit = self._tx._store._audit
        if self.purged_before is not None:
            cutoff = self.purged_before
            audit[:] = [e for e in audit if e.at >= cutoff]
            self.pending = [e for e in self.pending if e.at >= cutoff]
        audit.extend(self.pending)
        if self.redacted:
            audit[:] = [self._redacted(e) for e in audit]

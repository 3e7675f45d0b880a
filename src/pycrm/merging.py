"""Merging duplicate customers into one, and undoing a merge, in the caller's session.

A merge points every record of the duplicates at the survivor (one set-based ``reassign`` per
record type and duplicate, through :data:`pycrm.storage.spec.DEPENDENTS`, so a new record type
is covered without touching this module), removes the duplicates, gives the survivor the
richest values (:func:`pycrm.merge.merge_customers`) and writes a :class:`~pycrm.MergeLog`.
Everything happens in the caller's unit of work: should any step fail, the session rolls
back and the store is as it was.

A customer holds at most one grade per grade scheme. Where the survivor and a duplicate both
have one, the survivor's stays and the duplicate's is removed (kept in the log, so an unmerge
puts it back); where only duplicates have one, the first duplicate's moves. The next regrade
decides afresh in any case.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from pycrm.domain import ChangeKind, Customer
from pycrm.domain.entity import BOOKKEEPING_FIELDS, Entity
from pycrm.errors import ConcurrencyConflict, NotFound, ValidationError
from pycrm.merge import MergeLog, MovedRecords, entity_from_data, entity_to_data, merge_customers
from pycrm.repository import Repository
from pycrm.storage.protocols import EntityTable
from pycrm.storage.spec import DEPENDENTS, SPEC_BY_TYPE

if TYPE_CHECKING:
    from pycrm.session import Session

EXCLUSIVE: Mapping[str, str] = {"customer_grade": "scheme"}
"""Record types a customer holds at most one of per value of a field: these move only where
the survivor has none of that value yet."""

_PAGE = 1000
_E = TypeVar("_E", bound=Entity)


def merge(
    session: Session, survivor: Customer | str, duplicates: Iterable[Customer | str]
) -> MergeLog:
    """Merge ``duplicates`` into ``survivor`` now; returns the stored merge log.

    Customers may be given as entities (then their version must be the stored one) or ids.
    """
    session._check_open()
    kept = stored_customer(session, survivor, "survivor")
    if isinstance(duplicates, str | Customer) or not isinstance(duplicates, Iterable):
        raise ValidationError("duplicates", f"expected customers or ids, got {duplicates!r}")
    dups = [stored_customer(session, d, "duplicates") for d in duplicates]
    if not dups:
        raise ValidationError("duplicates", "give at least one duplicate")
    ids = [d.id for d in dups]
    if len(set(ids)) != len(ids):
        raise ValidationError("duplicates", "lists a customer more than once", value=ids)
    if kept.id in ids:
        raise ValidationError("duplicates", "the survivor cannot be its own duplicate")
    now = session.now
    tx = session._tx
    moved: list[MovedRecords] = []
    dropped: list[dict[str, Any]] = []
    for entity_type, field in DEPENDENTS["customer"]:
        table: EntityTable[Any] = tx.table(entity_type)
        exclusive = EXCLUSIVE.get(entity_type)
        held = (
            set()
            if exclusive is None
            else {getattr(e, exclusive) for e in all_records(table, {field: kept.id})}
        )
        for dup in dups:
            only: list[str] | None = None
            if exclusive is not None:
                only = []
                for record in all_records(table, {field: dup.id}):
                    value = getattr(record, exclusive)
                    if value in held:
                        dropped.append(
                            {
                                "entity_type": entity_type,
                                "id": record.id,
                                "data": entity_to_data(record),
                            }
                        )
                        _repository(session, entity_type).remove(record)
                    else:
                        held.add(value)
                        only.append(record.id)
            got = table.reassign(field, [dup.id], kept.id, now=now, only=only)
            if got:
                moved.append(
                    MovedRecords(duplicate_id=dup.id, entity_type=entity_type, field=field, ids=got)
                )
    for dup in dups:
        session.customers.remove(dup)
    merged = merge_customers(kept, dups)
    stored = session.customers.update(merged) if merged != kept else kept
    log = session.merge_logs.add(
        MergeLog(
            customer_id=kept.id,
            survivor_before=entity_to_data(kept),
            survivor_after=entity_to_data(stored),
            duplicates=[entity_to_data(d) for d in dups],
            moved=moved,
            dropped=dropped,
            merged_at=now,
            merged_by=session.actor,
        )
    )
    counts: dict[str, int] = {}
    for m in moved:
        counts[m.entity_type] = counts.get(m.entity_type, 0) + len(m.ids)
    session._record(
        ChangeKind.MERGED,
        stored,
        {"duplicates": (None, ids), "moved": (None, counts), "merge_log": (None, log.id)},
    )
    return log


def unmerge(session: Session, log: MergeLog | str) -> MergeLog:
    """Undo the merge ``log`` records, now; returns the log marked undone.

    The duplicates come back as they were, the records that moved go back to them (records
    given to the survivor since stay with it), removed grades return, and each survivor field
    the merge filled in gets its old value, unless it was changed since (the later change
    wins). Refused with :class:`pycrm.ValidationError` when that cannot be done cleanly: the
    merge was undone already, the survivor is gone, a duplicate's id is taken, or a record
    that moved has been removed or given to another customer since. A refusal found after
    writing began raises too, and the session rolls back.
    """
    session._check_open()
    if isinstance(log, MergeLog):
        log_id = log.id
    elif isinstance(log, str):
        log_id = log
    else:
        raise ValidationError("log", f"expected a MergeLog or its id, got {log!r}")
    stored = session.merge_logs.get(log_id)
    if stored.is_undone:
        raise ValidationError("log", f"merge {log_id!r} was undone already")
    tx = session._tx
    survivor = session.customers.get_or_none(stored.customer_id)
    if survivor is None:
        raise ValidationError(
            "log", f"cannot undo merge {log_id!r}: survivor {stored.customer_id!r} is gone"
        )
    taken = tx.table("customer").existing(stored.duplicate_ids)
    if taken:
        raise ValidationError(
            "log", f"cannot undo merge {log_id!r}: customer id {sorted(taken)[0]!r} is taken"
        )
    for m in stored.moved:
        gone = set(m.ids) - tx.table(m.entity_type).existing(m.ids)
        if gone:
            raise ValidationError(
                "log",
                f"cannot undo merge {log_id!r}: {m.entity_type} {sorted(gone)[0]!r} "
                "has been removed since",
            )
    now = session.now
    restored = _restore_survivor(survivor, stored)
    if restored != survivor:
        survivor = session.customers.update(restored)
    for data in stored.duplicates:
        duplicate = entity_from_data(Customer, data)
        tx.table("customer").insert(duplicate)
        session._record(ChangeKind.CREATED, duplicate, {})
    for m in stored.moved:
        got = tx.table(m.entity_type).reassign(
            m.field, [survivor.id], m.duplicate_id, now=now, only=m.ids
        )
        if len(got) != len(m.ids):
            missing = sorted(set(m.ids) - set(got))
            raise ValidationError(
                "log",
                f"cannot undo merge {log_id!r}: {m.entity_type} {missing[0]!r} no longer "
                f"belongs to {survivor.id!r}",
            )
    for item in stored.dropped:
        entity_type = item["entity_type"]
        record = entity_from_data(SPEC_BY_TYPE[entity_type].cls, item["data"])
        tx.table(entity_type).insert(record)
        session._record(ChangeKind.CREATED, record, {})
    undone = session.merge_logs.update(stored.evolve(undone_at=now, undone_by=session.actor))
    session._record(
        ChangeKind.UNMERGED,
        survivor,
        {"duplicates": (None, list(stored.duplicate_ids)), "merge_log": (None, log_id)},
    )
    return undone


def _restore_survivor(current: Customer, log: MergeLog) -> Customer:
    """``current`` with each field the merge changed back at its old value, where it still
    holds the merged one."""
    before = entity_from_data(Customer, log.survivor_before)
    after = entity_from_data(Customer, log.survivor_after)
    changes: dict[str, Any] = {}
    for field in attrs.fields(Customer):
        name = field.name
        if name in BOOKKEEPING_FIELDS:
            continue
        old, merged = getattr(before, name), getattr(after, name)
        if old != merged and getattr(current, name) == merged:
            changes[name] = old
    return current.evolve(**changes) if changes else current


def stored_customer(session: Session, customer: Customer | str, field: str) -> Customer:
    """The stored customer behind ``customer`` (an entity or an id), which merges and erasures
    act on; an entity must be at its stored version, and anything else is refused naming
    ``field``."""
    if isinstance(customer, str):
        found = session.customers.get_or_none(customer)
        if found is None:
            raise NotFound("customer", customer)
        return found
    if not isinstance(customer, Customer):
        raise ValidationError(field, f"expected a Customer or its id, got {customer!r}")
    stored = session.customers.get(customer.id)
    if stored.version != customer.version:
        raise ConcurrencyConflict("customer", customer.id, customer.version)
    return stored


def all_records(table: EntityTable[_E], filters: Mapping[str, Any]) -> Iterator[_E]:
    """Every record of ``table`` matching ``filters``, read a page at a time."""
    after: str | None = None
    while True:
        page = table.page(after=after, limit=_PAGE, filters=filters)
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1].id


def _repository(session: Session, entity_type: str) -> Repository[Any]:
    found: Repository[Any] = getattr(session, SPEC_BY_TYPE[entity_type].repository)
    return found

"""Repositories: add, read, change and remove one kind of entity inside a session.

The session owns the transaction, the clock and the events; a repository checks what goes
in (types, references, filters) and records each change in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

import attrs

from pycrm.access.scope import check_storable
from pycrm.domain import AuditEntry, ChangeKind, Customer, DomainEvent, Entity, new_id
from pycrm.domain import _convert as conv
from pycrm.domain._copy import replacer
from pycrm.domain.audit import diff, snapshot
from pycrm.errors import ConcurrencyConflict, NotFound, ValidationError
from pycrm.paging import Page
from pycrm.query import MAX_ONE_OF, OneOf, Range
from pycrm.storage.protocols import EntityTable
from pycrm.storage.scoping import SCOPED_TYPES, customer_link
from pycrm.storage.spec import DEPENDENTS, EntitySpec

if TYPE_CHECKING:
    from pycrm.session import Session

E = TypeVar("E", bound=Entity)

MAX_PAGE = 10_000
BULK_BATCH = 5_000


class Repository(Generic[E]):
    """Add, read, change and remove one kind of entity inside a session.

    Every method validates its arguments and raises a :class:`pycrm.PycrmError` subclass on
    bad input; nothing is written until the session commits.
    """

    def __init__(self, session: Session, spec: EntitySpec) -> None:
        self._session = session
        self._spec = spec
        self._entity_type = spec.entity_type

    @property
    def _table(self) -> EntityTable[E]:
        """The table as the session's actor sees it: the store applies the scope."""
        return self._session._table(self._entity_type)

    def _check_reach(self, entities: Sequence[E], operation: str) -> None:
        """Refuse (audited) writing a record the session's actor could not see afterwards:
        a customer out of scope, a customer's record with no customer, or one whose customer
        no reference check looks for and is out of reach. References to customers and their
        records out of reach are refused by ``_check_references``."""
        scope = self._session.scope
        if scope is None:
            return
        link = customer_link(self._spec)
        for entity in entities:
            if link == "self":
                outside = not scope.allows(entity)  # type: ignore[arg-type]
            else:
                outside = link == "customer_id" and customer_id_of(entity) is None
            if outside:
                self._session._deny(operation, self._entity_type, entity.id, customer_id_of(entity))
        if self._spec.follows_customer and "customer_id" not in self._spec.references:
            # No reference check will look for the customer (a merge log outlives it), so
            # reach is checked here: in scope, or refused like any record out of reach.
            by_customer = {e.customer_id: e for e in entities}  # type: ignore[attr-defined]
            seen = self._session._table("customer").existing(set(by_customer))
            for customer_id, entity in by_customer.items():
                if customer_id not in seen:
                    self._session._deny(operation, self._entity_type, entity.id, customer_id)

    def _refuse_unseen(self, entity_id: str, operation: str) -> NoReturn:
        """A write to an id the actor cannot see: refused when the session is scoped (a
        record out of reach and a missing one look alike), else simply not found."""
        if self._session.scope is not None and self._entity_type in SCOPED_TYPES:
            owner = entity_id if self._entity_type == "customer" else None
            self._session._deny(operation, self._entity_type, entity_id, owner)
        raise NotFound(self._entity_type, entity_id)

    def _check_type(self, entity: object) -> E:
        if not isinstance(entity, self._spec.cls):
            raise ValidationError(
                self._entity_type,
                f"expected a {self._spec.cls.__name__}, got {type(entity).__name__}",
            )
        return entity  # type: ignore[return-value]

    def _check_references(self, entities: Iterable[E]) -> None:
        for field, target in self._spec.references.items():
            wanted = {getattr(e, field) for e in entities} - {None}
            if not wanted:
                continue
            found = self._session._table(target).existing(wanted)
            missing = wanted - found
            if missing:
                first = sorted(missing)[0]
                if self._session.scope is not None and target in SCOPED_TYPES:
                    # Out of reach and missing look alike, so an actor learns nothing.
                    self._session._deny(f"refer to {target}", target, first, None)
                raise ValidationError(field, f"no {target} with id {first!r}")

    def add(self, entity: E) -> E:
        """Store a new entity; returns it as stored (with its timestamps)."""
        self._session._check_open()
        entity = self._check_type(entity)
        self._check_reach([entity], "add")
        self._check_references([entity])
        now = self._session.now
        stored = attrs.evolve(entity, version=1, created_at=now, updated_at=now)
        self._table.insert(stored)
        self._session._record(ChangeKind.CREATED, stored, {})
        return stored

    def add_many(self, entities: Iterable[E], *, batch_size: int = BULK_BATCH) -> int:
        """The bulk path: store many new entities set-based, ``batch_size`` rows per statement.

        One audit entry per entity and one ``<type>.bulk_created`` event for the whole call.
        Returns how many were stored.
        """
        self._session._check_open()
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        now = self._session.now
        cls = self._spec.cls
        ids: list[str] = []
        batch: list[E] = []
        for entity in entities:
            if not isinstance(entity, cls):
                self._check_type(entity)  # raises, naming the type
            batch.append(entity)
            if len(batch) >= batch_size:
                ids.extend(self._insert_batch(batch, now))
                batch = []
        if batch:
            ids.extend(self._insert_batch(batch, now))
        if ids:
            self._session._events.append(
                DomainEvent(
                    kind=ChangeKind.BULK_CREATED,
                    entity_type=self._entity_type,
                    entity_id=None,
                    at=now,
                    actor=self._session.actor,
                    entity_ids=tuple(ids),
                )
            )
        return len(ids)

    def _insert_batch(self, batch: list[E], now: datetime) -> list[str]:
        """Stamp, store and audit one batch.

        The entities were validated when they were built, and only their bookkeeping fields
        (and derived ones, see :meth:`_derive`) change here, so instead of ``attrs.evolve``
        (which re-runs every converter of every field) each one is copied with version and
        timestamps set; ``now`` is checked once per batch. The audit entries differ only in
        id, entity and customer, so they are copies of one validated entry. A subclass of the
        entity type may have invariants of its own and takes the validating path.
        """
        self._check_reach(batch, "add")
        self._check_references(batch)
        stamp = conv.check_datetime(now, "created_at", required=False)
        cls = self._spec.cls
        derived, derive = self._derived_fields, self._derive
        copy = replacer(cls, ("version", "created_at", "updated_at", *derived))
        stamped: list[E] = []
        for e in batch:
            if type(e) is not cls:
                values = dict(zip(derived, derive(e), strict=True))
                stamped.append(attrs.evolve(e, version=1, created_at=now, updated_at=now, **values))
            elif derived:
                stamped.append(copy(e, 1, stamp, stamp, *derive(e)))
            else:
                stamped.append(copy(e, 1, stamp, stamp))
        self._table.insert_many(stamped)
        template = AuditEntry(
            at=now,
            actor=self._session.actor,
            action=ChangeKind.CREATED,
            entity_type=self._entity_type,
            entity_id=stamped[0].id,
        )
        entry = replacer(AuditEntry, ("id", "entity_id", "customer_id"))
        prefix = AuditEntry.ID_PREFIX
        if cls is Customer:
            entries = [entry(template, new_id(prefix), e.id, e.id) for e in stamped]
        else:
            entries = [entry(template, new_id(prefix), e.id, customer_id_of(e)) for e in stamped]
        self._session._tx.audit.append(entries)
        return [e.id for e in stamped]

    _derived_fields: tuple[str, ...] = ()
    """Fields the bulk path derives from the others while it stamps each entity."""

    def _derive(self, entity: E) -> tuple[Any, ...]:
        """The values of :attr:`_derived_fields` for ``entity``, in that order."""
        return ()

    def get(self, entity_id: str) -> E:
        """The stored entity with ``entity_id``; raises :class:`pycrm.NotFound`."""
        found = self.get_or_none(entity_id)
        if found is None:
            raise NotFound(self._entity_type, entity_id)
        return found

    def get_or_none(self, entity_id: str) -> E | None:
        """The stored entity with ``entity_id``, or ``None``; also ``None`` for one outside
        the session actor's scope (the refusal is audited, the caller learns nothing)."""
        self._session._check_open()
        conv.check_text(entity_id, "id", max_length=64, required=True)
        found = self._table.get(entity_id)
        if found is None and self._session.scope is not None:
            hidden = self._session._tx.table(self._entity_type).get(entity_id)
            if hidden is not None:
                self._session._note_denied(
                    "read", self._entity_type, entity_id, customer_id_of(hidden)
                )
        return found

    def update(self, entity: E) -> E:
        """Save a changed entity (made with ``evolve``) and return it with its new version.

        Raises :class:`pycrm.ConcurrencyConflict` if the stored version is not
        ``entity.version`` (someone else saved a change since it was read), and
        :class:`pycrm.NotFound` if it was never stored or has been removed.
        """
        self._session._check_open()
        entity = self._check_type(entity)
        before = self._table.get(entity.id)
        if before is None:
            self._refuse_unseen(entity.id, "update")
        if before.version != entity.version:
            raise ConcurrencyConflict(self._entity_type, entity.id, entity.version)
        changes = diff(before, entity)
        if not changes:
            return before
        self._check_reach([entity], "update")
        self._check_references([entity])
        stored = attrs.evolve(
            entity,
            version=entity.version + 1,
            created_at=before.created_at,
            updated_at=self._session.now,
        )
        if not self._table.update(stored, entity.version):
            raise ConcurrencyConflict(self._entity_type, entity.id, entity.version)
        self._session._record(ChangeKind.CHANGED, stored, changes)
        return stored

    def remove(self, entity: E | str) -> None:
        """Remove an entity (version-checked when an entity is given, not just an id).

        Refuses, with :class:`pycrm.ValidationError`, while other records point at it: a
        customer with contacts, orders, opportunities or contracts is made inactive through its
        ``status`` instead.
        """
        self._session._check_open()
        if isinstance(entity, str):
            conv.check_text(entity, "id", max_length=64, required=True)
            found = self._table.get(entity)
            if found is None:
                self._refuse_unseen(entity, "remove")
            current = found
        else:
            current = self._check_type(entity)
            if self._session.scope is not None and self._table.get(current.id) is None:
                self._refuse_unseen(current.id, "remove")
        for dependent, field in DEPENDENTS[self._entity_type]:
            count = self._session._tx.table(dependent).count({field: current.id})
            if count:
                raise ValidationError(
                    self._entity_type,
                    f"{current.id!r} still has {count} {dependent} record(s) "
                    f"referring to it through {field}",
                )
        if not self._table.delete(current.id, current.version):
            if self._table.get(current.id) is None:
                raise NotFound(self._entity_type, current.id)
            raise ConcurrencyConflict(self._entity_type, current.id, current.version)
        self._session._record(ChangeKind.REMOVED, current, snapshot(current))

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        spec = self._spec
        for field, value in filters.items():
            if isinstance(value, Range):
                if field not in spec.ranges:
                    allowed = ", ".join(sorted(spec.ranges))
                    raise ValidationError(
                        field, f"cannot filter {self._entity_type} by a range of it ({allowed})"
                    )
                checked[field] = Range(
                    self._filter_value(field, value.start), self._filter_value(field, value.end)
                )
                continue
            if field not in spec.filters and not (field == "id" and isinstance(value, OneOf)):
                allowed = ", ".join(sorted(spec.filters))
                raise ValidationError(field, f"cannot filter {self._entity_type} by it ({allowed})")
            if isinstance(value, OneOf):
                checked[field] = OneOf(self._filter_value(field, v) for v in value.values)
            else:
                checked[field] = self._filter_value(field, value)
        return checked

    def _filter_value(self, field: str, value: Any) -> Any:
        """``value`` checked and normalised as the field itself is (``None`` stays ``None``)."""
        if value is None:
            return None
        if field == "id":
            return conv.check_text(value, "id", max_length=64, required=True)
        attribute = attrs.fields_dict(self._spec.cls).get(field)
        if attribute is None:
            # A property such as an opportunity's stage: text unless the spec says otherwise.
            check = self._spec.derived.get(field)
            if check is not None:
                value = check(value, field)
            else:
                conv.check_text(value, field, max_length=200, required=True)
        else:
            converter = attribute.converter
            # Filter values get the same checks and normalisation as the field itself.
            if isinstance(converter, attrs.Converter):
                value = converter.converter(value, attribute)  # type: ignore[attr-defined]
            elif converter is not None:
                value = converter(value)
        if isinstance(value, str):
            check_storable(value, field)
        return value

    def get_many(self, ids: Iterable[str]) -> dict[str, E]:
        """The stored entities with these ids, by id, read in one query per thousand ids;
        ids not stored (or out of the session actor's reach) are absent."""
        self._session._check_open()
        wanted = sorted({conv.required_text(i, "id", 64) for i in ids})
        found: dict[str, E] = {}
        for start in range(0, len(wanted), MAX_ONE_OF):
            chunk = wanted[start : start + MAX_ONE_OF]
            items = self._table.page(after=None, limit=len(chunk), filters={"id": OneOf(chunk)})
            found.update((e.id, e) for e in items)
        return found

    def list(self, *, limit: int = 100, after: str | None = None, **filters: Any) -> Page[E]:
        """A page of entities in id (creation) order. A filter compares a field with a value
        for equality, or asks for a :class:`pycrm.Range` or :class:`pycrm.OneOf` of values."""
        self._session._check_open()
        conv.check_int(limit, "limit", minimum=1, required=True)
        if limit > MAX_PAGE:
            raise ValidationError("limit", f"at most {MAX_PAGE} per page; use stream() for more")
        conv.check_text(after, "after", max_length=64, required=False)
        items = self._table.page(after=after, limit=limit, filters=self._filters(filters))
        next_after = items[-1].id if len(items) == limit else None
        return Page(items, next_after)

    def stream(self, *, batch_size: int = 1000, **filters: Any) -> Iterator[E]:
        """Every matching entity, fetched ``batch_size`` at a time (constant memory)."""
        after: str | None = None
        while True:
            page = self.list(limit=batch_size, after=after, **filters)
            yield from page.items
            if page.next_after is None:
                return
            after = page.next_after

    def count(self, **filters: Any) -> int:
        self._session._check_open()
        return self._table.count(self._filters(filters))


def customer_id_of(entity: Entity) -> str | None:
    """The customer an entity belongs to (its own id for a customer), for the audit log."""
    if isinstance(entity, Customer):
        return entity.id
    value = getattr(entity, "customer_id", None)
    return value if isinstance(value, str) else None

"""``EntityTable`` and ``AuditTable`` over SQLAlchemy Core, inside one transaction.

Errors are turned into pycrm's own where the protocol promises them: a taken id or unique key
becomes ``AlreadyExists``, a dangling reference ``NotFound``. Single inserts and updates have
to survive such an error with the transaction still usable. SQLite and MySQL/MariaDB undo just
the failed statement, so a write of one row needs no savepoint there; PostgreSQL aborts the
whole transaction on an error, so there each write runs inside a SAVEPOINT. Writes with child
rows (a customer's tags, an order's lines) take several statements and always get one.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any, Generic

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from pycrm.access.scope import Scope
from pycrm.domain import AuditEntry
from pycrm.errors import AlreadyExists, ConcurrencyConflict, NotFound, PycrmError, ValidationError
from pycrm.identity.cipher import FieldCipher
from pycrm.query import OneOf, Range, plain
from pycrm.storage.protocols import E
from pycrm.storage.scoping import customer_link
from pycrm.storage.spec import EntitySpec
from pycrm.storage.sqlalchemy import integrity
from pycrm.storage.sqlalchemy.access import visible
from pycrm.storage.sqlalchemy.bulk import BulkInsert
from pycrm.storage.sqlalchemy.encryption import sealed_mapping
from pycrm.storage.sqlalchemy.tables import Tables
from pycrm.storage.sqlalchemy.translators import (
    MAPPINGS,
    Children,
    EntityMapping,
    Row,
    RowDict,
    audit_from_row,
    audit_row,
)

IN_CHUNK = 10_000
"""Ids per ``IN (...)`` list, so a page of up to this many entities loads its child rows with
one query: well inside PostgreSQL's 65,535 bound parameters and SQLite's 32,766 (since 3.32)."""

OLD_SQLITE_IN_CHUNK = 900
"""For SQLite before 3.32, which allows only 999 bound parameters per statement."""

STATEMENT_ATOMIC = frozenset({"sqlite", "mysql", "mariadb"})
"""Dialects where a failed statement leaves the transaction usable."""


def in_chunk(dialect: Dialect) -> int:
    if dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 32):
        return OLD_SQLITE_IN_CHUNK
    return IN_CHUNK


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def unwrap_pycrm_errors() -> Iterator[None]:
    """Re-raise pycrm errors that SQLAlchemy wrapped while converting parameters."""
    try:
        yield
    except sa.exc.StatementError as exc:
        if isinstance(exc.orig, PycrmError):
            raise exc.orig from None
        raise


class TableSet:
    """What every transaction of one store shares: its tables and statements built once."""

    def __init__(
        self,
        tables: Tables,
        specs: Mapping[str, EntitySpec],
        cipher: FieldCipher | None = None,
    ) -> None:
        self.tables = tables
        self.cipher = cipher
        self.entities: dict[str, EntityStatements] = {
            entity_type: EntityStatements(
                tables, specs[entity_type], sealed_mapping(mapping, cipher)
            )
            for entity_type, mapping in MAPPINGS.items()
        }
        audit = tables.audit_log
        self.audit_select = (
            sa.select(audit)
            .where(
                audit.c.entity_type == sa.bindparam("entity_type"),
                audit.c.entity_id == sa.bindparam("entity_id"),
            )
            .order_by(audit.c.at, audit.c.id)
        )
        self._bulk: dict[tuple[Dialect, str], BulkInsert] = {}

    def bulk_insert(self, table: sa.Table, dialect: Dialect) -> BulkInsert:
        """The prepared bulk INSERT of ``table`` for ``dialect`` (built on first use)."""
        key = (dialect, table.key)
        found = self._bulk.get(key)
        if found is None:
            found = self._bulk[key] = BulkInsert(table, dialect)
        return found


class ChildStatements:
    """One child table of an entity type (an order's lines) and its statements."""

    def __init__(self, tables: Tables, children: Children) -> None:
        table: sa.Table = getattr(tables, children.table)
        self.table = table
        self.rows = children.rows
        self.parent = table.c[children.parent_column]
        self.insert = table.insert()
        self.delete = table.delete().where(self.parent == sa.bindparam("_id"))
        self.order = [table.c[name] for name in children.order_by]


class EntityStatements:
    """Tables and prepared statements of one entity type."""

    def __init__(self, tables: Tables, spec: EntitySpec, mapping: EntityMapping) -> None:
        self.spec = spec
        self.mapping = mapping
        table: sa.Table = getattr(tables, mapping.table)
        self.table = table
        self.id = table.c.id
        self.insert = table.insert()
        self.select_one = sa.select(table).where(table.c.id == sa.bindparam("id"))
        self.update = (
            table.update()
            .where(table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_expected"))
            .values({c.name: sa.bindparam(c.name) for c in table.columns if c.name != "id"})
        )
        self.delete = table.delete().where(
            table.c.id == sa.bindparam("_id"), table.c.version == sa.bindparam("_expected")
        )
        self.children = [ChildStatements(tables, child) for child in mapping.children]
        self.references = {
            field: getattr(tables, MAPPINGS[target].table)
            for field, target in spec.references.items()
        }


class SqlEntityTable(Generic[E]):
    """One entity type's rows, read and written through one connection.

    A table :meth:`within` a scope adds the scope's condition to every statement it runs,
    reads and writes alike, so rows out of reach are never loaded, counted or changed.
    """

    def __init__(
        self,
        connection: Connection,
        statements: EntityStatements,
        table_set: TableSet,
        scope: Scope | None = None,
    ) -> None:
        self._conn = connection
        self._s = statements
        self._table_set = table_set
        self._type = statements.spec.entity_type
        self._atomic = connection.dialect.name in STATEMENT_ATOMIC
        self._chunk = in_chunk(connection.dialect)
        self._scope = scope
        self._visible: sa.ColumnElement[bool] | None = None
        link = customer_link(statements.spec)
        if scope is not None and link is not None and not scope.unrestricted:
            self._visible = visible(scope, statements.table, link, table_set.tables.customers)

    def within(self, scope: Scope) -> SqlEntityTable[E]:
        """This table as seen from ``scope`` (itself for types no scope restricts)."""
        if scope.unrestricted or customer_link(self._s.spec) is None:
            return self
        combined = scope if self._scope is None else self._scope & scope
        return SqlEntityTable(self._conn, self._s, self._table_set, combined)

    def _scoped(self, statement: Any) -> Any:
        return statement if self._visible is None else statement.where(self._visible)

    # -- writing ---------------------------------------------------------------------------

    def insert(self, entity: E) -> None:
        s = self._s
        row = s.mapping.to_row(entity)
        child_rows = [(child, child.rows(entity)) for child in s.children]
        # With child rows a later statement can fail after the first succeeded, so the
        # whole insert needs a savepoint on every backend.
        several = any(rows for _, rows in child_rows)
        with self._guard([entity], savepoint=not self._atomic or several):
            self._conn.execute(s.insert, row)
            for child, rows in child_rows:
                if rows:
                    self._conn.execute(child.insert, rows)

    def insert_many(self, entities: Sequence[E]) -> None:
        if not entities:
            return
        s = self._s
        to_row = s.mapping.to_row
        rows = [to_row(e) for e in entities]
        child_rows: list[tuple[ChildStatements, list[RowDict]]] = []
        for child in s.children:
            collected: list[RowDict] = []
            child_of = child.rows
            for e in entities:
                collected.extend(child_of(e))
            child_rows.append((child, collected))
        # All or none, with the transaction still usable afterwards, on every backend.
        dialect = self._conn.dialect
        with self._guard(entities, savepoint=True):
            self._table_set.bulk_insert(s.table, dialect).execute(self._conn, rows)
            for child, collected in child_rows:
                if collected:
                    self._table_set.bulk_insert(child.table, dialect).execute(self._conn, collected)

    def update(self, entity: E, expected_version: int) -> bool:
        s = self._s
        params = s.mapping.to_row(entity)
        params["_id"] = params.pop("id")
        params["_expected"] = expected_version
        savepoint = not self._atomic or bool(s.children)
        with self._guard([entity], savepoint=savepoint, expected_version=expected_version):
            matched = self._conn.execute(self._scoped(s.update), params).rowcount
            if matched == 1:
                for child in s.children:
                    self._conn.execute(child.delete, {"_id": entity.id})
                    rows = child.rows(entity)
                    if rows:
                        self._conn.execute(child.insert, rows)
        return bool(matched == 1)

    def delete(self, entity_id: str, expected_version: int) -> bool:
        s = self._s
        params = {"_id": entity_id, "_expected": expected_version}
        try:
            with self._savepoint(not self._atomic):
                matched = self._conn.execute(self._scoped(s.delete), params).rowcount
        except sa.exc.IntegrityError:
            # The session checked for dependents in this transaction; one appearing since
            # means another transaction added it meanwhile.
            raise ConcurrencyConflict(self._type, entity_id, expected_version) from None
        except sa.exc.DBAPIError as exc:
            if integrity.is_write_conflict(exc):
                raise ConcurrencyConflict(self._type, entity_id, expected_version) from exc
            raise
        if matched != 1:
            return False
        for child in s.children:
            # Foreign keys cascade this already, unless a host's SQLite runs without them.
            self._conn.execute(child.delete, {"_id": entity_id})
        return True

    def reassign(
        self,
        field: str,
        old: Collection[str],
        new: str,
        *,
        now: datetime,
        only: Collection[str] | None = None,
    ) -> list[str]:
        """One ``UPDATE`` per chunk of ids (and per child table carrying ``field``, such as an
        order's lines with their customer id). A type with a unique key derived from its
        fields (a grade's scheme/customer key) is saved row by row instead, so the key
        column follows."""
        s = self._s
        column = s.table.c[field]
        olds = sorted(set(old))
        if not olds or (only is not None and not only):
            return []
        ids: list[str] = []
        if only is None:
            query = sa.select(s.id).where(column.in_(olds))
            ids.extend(self._conn.execute(query).scalars())
        else:
            for chunk in chunked(sorted(set(only)), self._chunk):
                query = sa.select(s.id).where(column.in_(olds), s.id.in_(chunk))
                ids.extend(self._conn.execute(query).scalars())
        ids.sort()
        if not ids:
            return []
        fields = attrs.fields_dict(s.spec.cls)
        if any(key not in fields for key in s.spec.unique):
            for chunk in chunked(ids, self._chunk):
                for entity in self.page_where([s.id.in_(chunk)], after=None, limit=len(chunk)):
                    moved = attrs.evolve(
                        entity, **{field: new}, version=entity.version + 1, updated_at=now
                    )
                    if not self.update(moved, entity.version):
                        raise ConcurrencyConflict(self._type, entity.id, entity.version)
            return ids
        try:
            with self._savepoint(True):
                for chunk in chunked(ids, self._chunk):
                    for child in s.children:
                        if field in child.table.c:
                            self._conn.execute(
                                child.table.update()
                                .where(child.parent.in_(chunk))
                                .values({field: new})
                            )
                    self._conn.execute(
                        s.table.update()
                        .where(s.id.in_(chunk), column.in_(olds))
                        .values({field: new, "version": s.table.c.version + 1, "updated_at": now})
                    )
        except sa.exc.IntegrityError as exc:
            if integrity.classify(exc).kind == "foreign_key":
                raise NotFound(s.spec.references.get(field, field), new) from None
            raise
        except sa.exc.DBAPIError as exc:
            if integrity.is_write_conflict(exc):
                raise ConcurrencyConflict(self._type, ids[0], 0) from exc
            raise
        return ids

    # -- reading ---------------------------------------------------------------------------

    def get(self, entity_id: str) -> E | None:
        query = self._scoped(self._s.select_one)
        row = self._conn.execute(query, {"id": entity_id}).mappings().first()
        if row is None:
            return None
        entities: list[E] = self._build([row])
        return entities[0]

    def page(self, *, after: str | None, limit: int, filters: Mapping[str, Any]) -> list[E]:
        return self.page_where(self._conditions(filters), after=after, limit=limit)

    def page_where(
        self, conditions: Sequence[sa.ColumnElement[bool]], *, after: str | None, limit: int
    ) -> list[E]:
        """Like :meth:`page`, for any conditions on the table (compiled rules, id lists)."""
        if limit <= 0:
            return []
        s = self._s
        query = self._scoped(sa.select(s.table).where(*conditions))
        if after is not None:
            query = query.where(s.id > after)
        rows = self._conn.execute(query.order_by(s.id).limit(limit)).mappings().all()
        return self._build(rows)

    def count(self, filters: Mapping[str, Any]) -> int:
        return self.count_where(self._conditions(filters))

    def count_where(self, conditions: Sequence[sa.ColumnElement[bool]]) -> int:
        query = sa.select(sa.func.count()).select_from(self._s.table).where(*conditions)
        query = self._scoped(query)
        return int(self._conn.execute(query).scalar_one())

    def existing(self, ids: Collection[str]) -> set[str]:
        wanted = list(set(ids))
        found: set[str] = set()
        column = self._s.id
        for chunk in chunked(wanted, self._chunk):
            query = self._scoped(sa.select(column).where(column.in_(chunk)))
            found.update(self._conn.execute(query).scalars())
        return found

    def _conditions(self, filters: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        table = self._s.table
        spec = self._s.spec
        for field, value in filters.items():
            if isinstance(value, Range):
                allowed = field in spec.ranges
            else:
                allowed = field in spec.filters or (field == "id" and isinstance(value, OneOf))
            if not allowed or field not in table.c:
                raise ValidationError(field, f"cannot filter {self._type} by it")
            column = table.c[field]
            if value is None:
                conditions.append(column.is_(None))
            elif isinstance(value, Range):
                if value.start is not None:
                    conditions.append(column >= plain(value.start))
                if value.end is not None:
                    conditions.append(column < plain(value.end))
            elif isinstance(value, OneOf):
                if value.values:
                    conditions.append(column.in_([plain(v) for v in value.values]))
                else:
                    conditions.append(sa.false())
            else:
                conditions.append(column == plain(value))
        return conditions

    def _build(self, rows: Sequence[Row]) -> list[E]:
        """Entities from their main rows, loading child rows with one query per child table
        and chunk of ids."""
        s = self._s
        from_row = s.mapping.from_row
        if not s.children:
            return [from_row(row, ()) for row in rows]
        ids = [row["id"] for row in rows]
        loaded: list[defaultdict[str, list[Row]]] = []
        for child in s.children:
            found: defaultdict[str, list[Row]] = defaultdict(list)
            parent_column = child.parent.name
            for chunk in chunked(ids, self._chunk):
                query = sa.select(child.table).where(child.parent.in_(chunk)).order_by(*child.order)
                for child_row in self._conn.execute(query).mappings():
                    found[child_row[parent_column]].append(child_row)
            loaded.append(found)
        return [from_row(row, *(found.get(row["id"], ()) for found in loaded)) for row in rows]

    # -- errors ----------------------------------------------------------------------------

    def _savepoint(self, wanted: bool) -> Any:
        return self._conn.begin_nested() if wanted else nullcontext()

    @contextmanager
    def _guard(
        self, entities: Sequence[E], *, savepoint: bool, expected_version: int | None = None
    ) -> Iterator[None]:
        try:
            with unwrap_pycrm_errors(), self._savepoint(savepoint):
                yield
        except sa.exc.IntegrityError as exc:
            raise self._translate(exc, entities) from None
        except sa.exc.DBAPIError as exc:
            if not integrity.is_write_conflict(exc):
                raise
            first = entities[0]
            version = first.version if expected_version is None else expected_version
            raise ConcurrencyConflict(self._type, first.id, version) from exc

    def _translate(self, exc: sa.exc.IntegrityError, entities: Sequence[E]) -> Exception:
        violation = integrity.classify(exc)
        s = self._s
        if violation.kind == "unique":
            columns = integrity.unique_columns(s.table, violation)
            if columns is not None and set(columns) <= {c.name for c in s.table.columns}:
                return self._already_exists(columns, entities)
            return AlreadyExists(self._type, entities[0].id if len(entities) == 1 else "?")
        if violation.kind == "foreign_key":
            column = integrity.foreign_key_column(s.table, violation)
            for child in s.children:
                if column is not None:
                    break
                column = integrity.foreign_key_column(child.table, violation)
            return self._missing_reference(column, entities)
        return exc

    def _already_exists(self, columns: tuple[str, ...], entities: Sequence[E]) -> AlreadyExists:
        field = columns[0]
        values = [getattr(e, field) for e in entities]
        taken: Any = None
        seen: set[Any] = set()
        for value in values:  # a duplicate inside the batch
            if value in seen:
                taken = value
                break
            seen.add(value)
        if taken is None:  # or a value stored before
            column = self._s.table.c[field]
            for chunk in chunked([v for v in seen if v is not None], self._chunk):
                query = sa.select(column).where(column.in_(chunk)).limit(1)
                taken = self._conn.execute(query).scalar()
                if taken is not None:
                    break
        if taken is None:
            taken = values[0]
        return AlreadyExists(self._type, taken if field == "id" else f"{field}={taken}")

    def _missing_reference(self, column: str | None, entities: Sequence[E]) -> PycrmError:
        references = self._s.references
        fields = [column] if column in references else list(references)
        for field in fields:
            target = references[field]
            wanted = {getattr(e, field) for e in entities} - {None}
            found: set[str] = set()
            for chunk in chunked(list(wanted), self._chunk):
                query = sa.select(target.c.id).where(target.c.id.in_(chunk))
                found.update(self._conn.execute(query).scalars())
            missing = sorted(wanted - found)
            if missing:
                return NotFound(self._s.spec.references[field], missing[0])
        field = fields[0] if fields else "reference"
        return ValidationError(field, "refers to a record that does not exist")


def _after_boundary(
    dialect: Dialect, audit: sa.Table, after: tuple[datetime, str]
) -> sa.ColumnElement[bool]:
    """``(at, id) > after``, written the way each database turns into an index range:
    SQLite and PostgreSQL seek on a row-value comparison; MySQL and MariaDB only on the
    expanded form (a row value there scans the index from its start)."""
    at = sa.literal(after[0], audit.c.at.type)
    entry_id = sa.literal(after[1], audit.c.id.type)
    if dialect.name in ("mysql", "mariadb"):
        return sa.or_(audit.c.at > at, sa.and_(audit.c.at == at, audit.c.id > entry_id))
    return sa.tuple_(audit.c.at, audit.c.id) > sa.tuple_(at, entry_id)


class SqlAuditTable:
    """The append-only audit log."""

    def __init__(self, connection: Connection, tables: TableSet) -> None:
        self._conn = connection
        self._tables = tables

    def append(self, entries: Sequence[AuditEntry]) -> None:
        if not entries:
            return
        rows = [audit_row(e) for e in entries]
        bulk = self._tables.bulk_insert(self._tables.tables.audit_log, self._conn.dialect)
        with unwrap_pycrm_errors():
            try:
                bulk.execute(self._conn, rows)
            except sa.exc.IntegrityError:
                ids = [e.id for e in entries]
                raise AlreadyExists("audit", ids[0] if len(ids) == 1 else "?") from None

    def for_entity(self, entity_type: str, entity_id: str) -> list[AuditEntry]:
        params = {"entity_type": entity_type, "entity_id": entity_id}
        rows = self._conn.execute(self._tables.audit_select, params).mappings()
        return [audit_from_row(row) for row in rows]

    def page(
        self, *, since: datetime | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[AuditEntry]:
        audit = self._tables.tables.audit_log
        query = sa.select(audit)
        if after is not None and since is not None and after[0] < since:
            after = None  # a boundary before ``since`` bounds nothing
        if after is not None:
            # The boundary alone (it is never before ``since``), so the database starts its
            # range scan of the ``(at, id)`` index there, also inside a run of entries that
            # share one moment (a bulk add stamps them alike).
            query = query.where(_after_boundary(self._conn.dialect, audit, after))
        elif since is not None:
            query = query.where(audit.c.at >= sa.literal(since, audit.c.at.type))
        query = query.order_by(audit.c.at, audit.c.id).limit(limit)
        return [audit_from_row(row) for row in self._conn.execute(query).mappings()]

    def purge(self, before: datetime) -> int:
        audit = self._tables.tables.audit_log
        statement = audit.delete().where(audit.c.at < sa.literal(before, audit.c.at.type))
        return int(self._conn.execute(statement).rowcount)

    def for_customer(self, customer_id: str) -> list[AuditEntry]:
        audit = self._tables.tables.audit_log
        query = (
            sa.select(audit)
            .where(audit.c.customer_id == customer_id)
            .order_by(audit.c.at, audit.c.id)
        )
        return [audit_from_row(row) for row in self._conn.execute(query).mappings()]

    def redact(self, changes: Mapping[str, Mapping[str, list[Any]] | None]) -> None:
        audit = self._tables.tables.audit_log
        statement = (
            audit.update()
            .where(audit.c.id == sa.bindparam("_id"))
            .values(changes=sa.bindparam("_changes", type_=audit.c.changes.type))
        )
        rows = [{"_id": entry_id, "_changes": value} for entry_id, value in changes.items()]
        if rows:
            self._conn.execute(statement, rows)

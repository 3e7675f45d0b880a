"""Bulk import: rows from CSV, a DataFrame or dicts, validated, matched and stored in batches.

Each row is mapped to fields, its text read by the field's reader, and the entity built with
its own converters, so an import accepts exactly what the domain accepts. A refused row
becomes a :class:`~pycrm.io.report.RowError` in the report instead of an exception.

Two modes (see ``docs/concepts/import.md`` for the trade-off):

* ``all_or_nothing`` (the default) runs in one session: rows are stored in batches inside one
  transaction, and any refused row rolls all of it back. After the first refusal the rest of
  the source is still read and checked, so the report lists every bad row.
* ``skip_bad_rows`` commits one session per batch and leaves refused rows out. When the store
  refuses a batch (a unique key taken, say), that batch is retried row by row so only the
  offending rows are left out.

Either way the source is streamed and at most one batch of rows is held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from datetime import datetime, tzinfo
from itertools import islice
from typing import TYPE_CHECKING, Any

import attrs

from pycrm.domain import Entity
from pycrm.domain import _convert as conv
from pycrm.errors import PycrmError, ValidationError
from pycrm.io.columns import Column, MappingLike, Parse, default_readers
from pycrm.io.kinds import CUSTOMER_REFERENCES, ImportKind, import_kind
from pycrm.io.match import find_customer, find_existing, match_key
from pycrm.io.progress import with_progress
from pycrm.io.report import ImportReport, RowError, masked
from pycrm.io.sources import check_csv_format, malformed, open_rows

if TYPE_CHECKING:
    from pycrm.crm import CRM
    from pycrm.session import Session

MODES = ("all_or_nothing", "skip_bad_rows")
DEFAULT_BATCH = 5_000
"""Rows per batch: each batch is one ``add_many`` (and, skipping bad rows, one commit)."""

_ROW = "(row)"
"""The ``field`` of an error about a whole row rather than one value."""


def import_records(
    crm: CRM,
    kind: str,
    source: Any,
    *,
    mapping: MappingLike | None = None,
    key: str | None = None,
    mode: str = "all_or_nothing",
    batch_size: int = DEFAULT_BATCH,
    actor: str = "import",
    currency: str | None = None,
    tz: tzinfo | None = None,
    tag_separator: str = ",",
    encoding: str = "utf-8",
    delimiter: str = ",",
    progress: bool = False,
) -> ImportReport:
    """Import ``kind`` records (``"customers"``, ``"contacts"``, ``"orders"``,
    ``"interactions"``) from ``source``: a CSV path or file object, a pandas DataFrame, or an
    iterable of dicts.

    ``mapping`` maps source columns to fields (a name, a :class:`Column` with its own
    reader, or ``None`` to ignore the column); columns named like a field need no entry.
    With ``key`` (``member_id``, ``phone`` or ``email`` for customers, ``number`` for
    orders, ``email`` or ``phone`` for a customer's contacts) a row whose key is already
    stored updates that record, and a later row of the same source updates an earlier one;
    blank cells leave stored values as they are. ``currency`` is used for amounts without a
    currency column, ``tz`` for times without an offset (text, or a DataFrame's naive
    ``Timestamp``). A CSV file is read in ``encoding`` with cells separated by
    ``delimiter``. ``progress`` shows a ``tqdm`` bar when ``tqdm`` is installed.

    Returns an :class:`ImportReport`; bad rows are reported there, not raised. Bad
    arguments, an unknown column in a CSV header or DataFrame, or an unreadable source raise
    :class:`pycrm.ValidationError` before anything is stored.
    """
    plan = _Plan.make(
        import_kind(kind), mapping, key=key, currency=currency, tz=tz, tag_separator=tag_separator
    )
    if mode not in MODES:
        raise ValidationError("mode", f"must be one of {', '.join(MODES)}", value=mode)
    conv.check_int(batch_size, "batch_size", minimum=1, required=True)
    conv.check_text(actor, "actor", max_length=120, required=True)
    conv.check_bool(progress, "progress")
    check_csv_format(encoding, delimiter)
    with ExitStack() as stack:
        rows = open_rows(source, stack, encoding=encoding, delimiter=delimiter)
        if rows.columns is not None:
            plan.check_header(rows.columns)
        stream = with_progress(
            rows.rows, enabled=progress, total=rows.total, description=f"importing {kind}"
        )
        run = _Run(crm, plan, actor, batch_size)
        if mode == "all_or_nothing":
            run.all_or_nothing(stream)
        else:
            run.skip_bad_rows(stream)
        return run.report(mode)


@attrs.define
class _Plan:
    """How each column of a source becomes a field of ``kind``."""

    kind: ImportKind
    targets: dict[str, tuple[str, Parse | None] | None]
    readers: dict[str, Parse | None]
    key: str | None
    currency: str | None
    tz: tzinfo | None = None
    resolved: dict[Any, tuple[str, Parse | None] | None] = attrs.Factory(dict)
    """Column -> target, filled as columns are first seen (a cache of :meth:`target`)."""

    @classmethod
    def make(
        cls,
        kind: ImportKind,
        mapping: MappingLike | None,
        *,
        key: str | None,
        currency: str | None,
        tz: tzinfo | None,
        tag_separator: str,
    ) -> _Plan:
        if key is not None and key not in kind.keys:
            allowed = ", ".join(kind.keys) or f"none: {kind.name} are always added"
            raise ValidationError("key", f"{kind.name} can be matched on {allowed}", value=key)
        if currency is not None:
            conv.check_text(currency, "currency", max_length=3, required=True)
        readers = _readers(kind, tz=tz, tag_separator=tag_separator)
        targets: dict[str, tuple[str, Parse | None] | None] = {}
        if mapping is not None and not isinstance(mapping, Mapping):
            raise ValidationError("mapping", f"expected a dict, got {type(mapping).__name__}")
        filled: dict[str, str] = {}
        for column, target in (mapping or {}).items():
            if not isinstance(column, str):
                raise ValidationError("mapping", "source column names are text", value=column)
            if target is None:
                targets[column] = None
                continue
            column_spec = target if isinstance(target, Column) else None
            field = column_spec.field if column_spec is not None else target
            if not isinstance(field, str) or field not in kind.fields:
                raise ValidationError(
                    "mapping",
                    f"column {column!r} maps to {field!r}, which is not one of the "
                    f"{kind.name} fields ({', '.join(kind.fields)})",
                )
            if field in filled:
                raise ValidationError(
                    "mapping", f"columns {filled[field]!r} and {column!r} both fill {field!r}"
                )
            filled[field] = column
            parse = column_spec.parse if column_spec and column_spec.parse else readers[field]
            targets[column] = (field, parse)
        return cls(kind, targets, readers, key, currency, tz)

    def target(self, column: str) -> tuple[str, Parse | None] | None:
        """The field ``column`` fills and its reader (``None``: text taken as it is);
        ``None`` for an ignored column."""
        if column in self.targets:
            return self.targets[column]
        if column in self.kind.fields:
            return column, self.readers[column]
        raise ValidationError(
            column,
            f"is not a {self.kind.name} field; map it to one or to None to ignore it",
        )

    def check_header(self, columns: tuple[str, ...]) -> None:
        """Refuse unknown or doubled columns before any row is read."""
        seen: dict[str, str] = {}
        for column in columns:
            target = self.target(column)
            if target is None:
                continue
            field = target[0]
            if field in seen:
                raise ValidationError(
                    column, f"fills {field!r}, which column {seen[field]!r} fills already"
                )
            seen[field] = column


def _readers(kind: ImportKind, *, tz: tzinfo | None, tag_separator: str) -> dict[str, Parse | None]:
    by_type = default_readers(tag_separator=tag_separator, tz=tz)
    return {
        field: None if reader == "text" else by_type[reader]
        for field, reader in kind.fields.items()
    }


def _bad_text(value: Any) -> str | None:
    """Why ``value`` (or text inside it) cannot be stored as text, else ``None``."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return (
                    "is not valid text (bytes the file's encoding cannot read, or a lone "
                    "surrogate); if the file is not UTF-8, pass its encoding"
                )
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return next((p for p in map(_bad_text, value) if p), None)
    if isinstance(value, Mapping):
        return next((p for p in map(_bad_text, [*value.keys(), *value.values()]) if p), None)
    return None


@attrs.frozen
class _Row:
    """One row read: its fields, and the column each field came from."""

    number: int
    data: dict[str, Any]
    columns: dict[str, str]


_UNSEEN = ("", None)


def read_row(plan: _Plan, number: int, row: Mapping[str, Any]) -> _Row | RowError:
    """Map, check and read one row's cells; the first problem found is its error.

    This runs for every cell of every row, so the common case (text that is plain ASCII or
    valid Unicode, read as it is) takes a short path; everything else goes through
    :func:`_bad_text` and the field's reader.
    """
    reason = malformed(row)
    if reason is not None:
        return RowError(number, _ROW, f"cannot be read: {reason}")
    data: dict[str, Any] = {}
    columns: dict[str, str] = {}
    resolved = plan.resolved
    for column, value in row.items():
        target = resolved.get(column, _UNSEEN)
        if target is _UNSEEN:
            if not isinstance(column, str):
                return RowError(number, _ROW, "column names are text", value=masked("", column))
            try:
                target = resolved[column] = plan.target(column)
            except ValidationError as exc:
                return RowError(number, column, exc.problem, column=column)
        if target is None:
            continue
        field, parse = target
        columns[field] = column  # also for a blank cell, so "is required" names its column
        if value is None:
            continue
        if type(value) is str and "\x00" not in value and value.isascii():
            pass  # plain text: nothing to refuse
        else:
            problem = _bad_text(value)
            if problem is not None:
                return RowError(number, field, problem, column=column, value=masked(field, value))
        if isinstance(value, str):
            text = value.strip()
            if not text:
                continue  # a blank cell: no value
            if parse is None:
                data[field] = text
                continue
            try:
                value = parse(text)
            except ValidationError as exc:
                return RowError(number, field, exc.problem, column, masked(field, value))
            except (ValueError, TypeError, ArithmeticError) as exc:
                problem = str(exc) or "cannot be read"
                return RowError(number, field, problem, column, masked(field, value))
        elif (
            isinstance(value, datetime)  # a naive Timestamp, as pandas reads dates
            and value.tzinfo is None
            and plan.tz is not None
            and plan.kind.fields[field] == "datetime"
        ):
            value = value.replace(tzinfo=plan.tz)
        data[field] = value
    return _Row(number, data, columns)


def _error(row: _Row, exc: ValidationError) -> RowError:
    field = exc.field
    column = row.columns.get(field) or row.columns.get(f"{field}_amount")
    value = exc.value if exc.value is not None else row.data.get(field)
    if value is None:  # a refused amount is reported as its money field ("total")
        value = row.data.get(f"{field}_amount")
    return RowError(row.number, field, exc.problem, column, masked(field, value))


def _provided(kind: ImportKind, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The entity fields a row gave values for (money given as amount and currency)."""
    names = set(data) - set(CUSTOMER_REFERENCES)
    for money in kind.money:
        if f"{money}_amount" in names or f"{money}_currency" in names:
            names -= {f"{money}_amount", f"{money}_currency"}
            names.add(money)
    return tuple(sorted(names))


class _Rollback(Exception):
    """Raised inside the all-or-nothing session to undo it once a row was refused."""


@attrs.define
class _Batch:
    """What one batch did; added to the run's totals only once it is committed."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = attrs.Factory(list)


class _Run:
    def __init__(self, crm: CRM, plan: _Plan, actor: str, batch_size: int) -> None:
        self.crm = crm
        self.plan = plan
        self.actor = actor
        self.batch_size = batch_size
        self.rows = 0
        self.created = self.updated = self.unchanged = 0
        self.errors: list[RowError] = []
        self.committed = False

    def report(self, mode: str) -> ImportReport:
        return ImportReport(
            kind=self.plan.kind.name,
            mode=mode,
            rows=self.rows,
            created=self.created if self.committed else 0,
            updated=self.updated if self.committed else 0,
            unchanged=self.unchanged if self.committed else 0,
            errors=tuple(self.errors),
            committed=self.committed,
        )

    def _batches(
        self, rows: Iterator[tuple[int, Mapping[str, Any]]]
    ) -> Iterator[list[tuple[int, Mapping[str, Any]]]]:
        while True:
            batch = list(islice(rows, self.batch_size))
            if not batch:
                return
            self.rows += len(batch)
            yield batch

    def _add(self, batch: _Batch) -> None:
        self.created += batch.created
        self.updated += batch.updated
        self.unchanged += batch.unchanged
        self.errors.extend(batch.errors)

    def all_or_nothing(self, rows: Iterator[tuple[int, Mapping[str, Any]]]) -> None:
        first_row = 0
        try:
            with self.crm.session(actor=self.actor) as s:
                for batch in self._batches(rows):
                    first_row = batch[0][0]
                    outcome = _stage_batch(s, self.plan, batch, write=not self.errors)
                    self._add(outcome)
                if self.errors:
                    raise _Rollback
            self.committed = True
        except _Rollback:
            pass
        except PycrmError as exc:
            self.errors.append(
                RowError(
                    first_row,
                    getattr(exc, "field", _ROW),
                    f"the store refused the batch from this row on: {exc}; nothing was stored",
                )
            )

    def skip_bad_rows(self, rows: Iterator[tuple[int, Mapping[str, Any]]]) -> None:
        for batch in self._batches(rows):
            try:
                with self.crm.session(actor=self.actor) as s:
                    outcome = _stage_batch(s, self.plan, batch, write=True)
            except PycrmError:
                outcome = self._row_by_row(batch)
            self._add(outcome)
        self.committed = True

    def _row_by_row(self, batch: list[tuple[int, Mapping[str, Any]]]) -> _Batch:
        """Retry a refused batch one row per session, so only the rows at fault are left out."""
        total = _Batch()
        for item in batch:
            try:
                with self.crm.session(actor=self.actor) as s:
                    outcome = _stage_batch(s, self.plan, [item], write=True)
            except PycrmError as exc:
                outcome = _Batch(errors=[RowError(item[0], getattr(exc, "field", _ROW), str(exc))])
            total.created += outcome.created
            total.updated += outcome.updated
            total.unchanged += outcome.unchanged
            total.errors.extend(outcome.errors)
        return total


def _stage_batch(
    s: Session, plan: _Plan, batch: list[tuple[int, Mapping[str, Any]]], *, write: bool
) -> _Batch:
    """Read, check and store one batch in session ``s``. Updates are saved as they come;
    new records are kept and stored together with ``add_many`` at the end. Without
    ``write`` the rows are only checked."""
    outcome = _Batch()
    pending: list[Entity] = []
    pending_by_key: dict[Any, int] = {}
    known_customers: dict[str, bool] = {}
    repository = getattr(s, plan.kind.repository)
    for number, raw in batch:
        row = read_row(plan, number, raw)
        if isinstance(row, RowError):
            outcome.errors.append(row)
            continue
        try:
            data = dict(row.data)
            if plan.kind.belongs_to_customer:
                _resolve_customer(s, data, known_customers)
            entity = plan.kind.build(data, plan.currency)
            if not write:
                continue
            if plan.key is None:
                pending.append(entity)
                continue
            if getattr(entity, plan.key) is None:
                raise ValidationError(plan.key, "is required: rows are matched on it")
            value = match_key(s, plan.kind.name, plan.key, entity)
            changes = {name: getattr(entity, name) for name in _provided(plan.kind, row.data)}
            if value in pending_by_key:
                index = pending_by_key[value]
                pending[index] = pending[index].evolve(**changes)
                outcome.updated += 1
                continue
            existing = find_existing(s, plan.kind.name, plan.key, entity)
            if existing is None:
                pending_by_key[value] = len(pending)
                pending.append(entity)
                continue
            if all(getattr(existing, name) == value for name, value in changes.items()):
                outcome.unchanged += 1  # a re-import of the same row: no write, no audit
                continue
            stored = repository.update(existing.evolve(**changes))
            if stored.version == existing.version:
                outcome.unchanged += 1
            else:
                outcome.updated += 1
        except ValidationError as exc:
            outcome.errors.append(_error(row, exc))
    if pending:
        outcome.created += repository.add_many(pending)
    return outcome


def _resolve_customer(s: Session, data: dict[str, Any], known: dict[str, bool]) -> None:
    """Turn a ``customer_<key>`` column into ``customer_id``; check the customer exists."""
    for column, key in CUSTOMER_REFERENCES.items():
        value = data.pop(column, None)
        if value is None:
            continue
        if "customer_id" in data:
            raise ValidationError(column, "give the customer once: by customer_id or by one key")
        try:
            customer = find_customer(s, key, value)
        except ValidationError as exc:
            raise ValidationError(column, exc.problem, value=value) from None
        if customer is None:
            raise ValidationError(column, f"no stored customer has this {key}", value=value)
        data["customer_id"] = customer.id
        known[customer.id] = True
    customer_id = data.get("customer_id")
    if not isinstance(customer_id, str):
        return  # the entity refuses a missing or mistyped customer_id, naming the field
    if customer_id not in known:
        checked = conv.check_text(customer_id, "customer_id", max_length=64, required=True)
        known[customer_id] = checked is not None and s.customers.get_or_none(checked) is not None
    if not known[customer_id]:
        raise ValidationError("customer_id", "no stored customer has this id", value=customer_id)

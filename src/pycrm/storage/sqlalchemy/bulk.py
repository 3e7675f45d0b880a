"""Set-based INSERT of many rows with the per-row work cut to the bone.

``connection.execute(table.insert(), rows)`` spends most of its time, per row, building the
compiled statement's parameter dict and looking up processors for every bind, which costs
more than the driver's own ``executemany``. Here the statement is compiled once per dialect,
the columns that need a bind processor are picked out once, and the rows are converted by one
comprehension generated for the table (a tuple display per row: no per-column loop); the
driver then gets the rows through ``exec_driver_sql``, so engine events and error wrapping
still apply. Results are identical: the SQL text and the processors are SQLAlchemy's own for
that table and dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.interfaces import BindTyping

Processor = Callable[[Any], Any]


class BulkInsert:
    """A prepared multi-row INSERT into ``table`` for one dialect.

    Rows are dicts with every column of the table (the translators build them that way).
    """

    def __init__(self, table: sa.Table, dialect: Dialect) -> None:
        self.table = table
        self.columns = [c.name for c in table.columns]
        compiled = table.insert().compile(dialect=dialect, column_keys=self.columns)
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        # Drivers that need type information passed separately keep SQLAlchemy's own path.
        self.usable = dialect.bind_typing is not BindTyping.SETINPUTSIZES
        names = list(compiled.positiontup or ()) if self.positional else self.columns
        if self.positional and sorted(names) != sorted(self.columns):
            self.usable = False
        self.order = names
        processors: dict[str, Processor] = {}
        for name in names:
            column_type = table.c[name].type
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        self.processors = processors
        self._to_tuples = _tuple_converter(names, processors) if self.positional else None

    def execute(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` (which may be modified in place) with one ``executemany``."""
        if not rows:
            return
        if not self.usable:
            connection.execute(self.table.insert(), list(rows))
            return
        if self._to_tuples is not None:
            connection.exec_driver_sql(self.sql, self._to_tuples(rows))
            return
        pairs = list(self.processors.items())
        for row in rows:
            for name, processor in pairs:
                row[name] = processor(row[name])
        connection.exec_driver_sql(self.sql, list(rows))


def _tuple_converter(
    names: Sequence[str], processors: dict[str, Processor]
) -> Callable[[Sequence[dict[str, Any]]], list[tuple[Any, ...]]]:
    """``rows -> [(r["a"], p1(r["b"]), ...) for r in rows]`` for these columns, compiled once.

    Column names only ever appear as ``repr()`` string keys, and processors are passed in as
    values of the namespace, so nothing from outside becomes code.
    """
    namespace: dict[str, Any] = {}
    items = []
    for index, name in enumerate(names):
        if name in processors:
            namespace[f"p{index}"] = processors[name]
            items.append(f"p{index}(r[{name!r}])")
        else:
            items.append(f"r[{name!r}]")
    source = f"def convert(rows):\n    return [({', '.join(items)},) for r in rows]\n"
    exec(compile(source, "<pycrm bulk insert>", "exec"), namespace)
    converter: Callable[[Sequence[dict[str, Any]]], list[tuple[Any, ...]]] = namespace["convert"]
    return converter

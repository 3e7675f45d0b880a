"""Which constraint an ``IntegrityError`` is about, read from each driver's own error details.

Drivers report violations differently: SQLite names the columns (or nothing, for foreign
keys), PostgreSQL gives an SQLSTATE and the constraint name, MySQL/MariaDB an error number and
the key name inside the message. This module reduces them to one shape the tables can map back
to entity fields.
"""

from __future__ import annotations

import re
from typing import Literal

import attrs
import sqlalchemy as sa

Kind = Literal["unique", "foreign_key", "other"]

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_MYSQL_DUPLICATE_KEY = re.compile(r"for key '(?:[^']*\.)?([^'.]+)'")
_MYSQL_FOREIGN_KEY = re.compile(r"CONSTRAINT `([^`]+)` FOREIGN KEY")
_MYSQL_DUPLICATE = {1062, 1586}
_MYSQL_FOREIGN = {1216, 1217, 1451, 1452}


@attrs.frozen
class Violation:
    """``constraint`` is the violated constraint's name and ``columns`` its columns, when the
    driver says (MySQL calls every primary key ``PRIMARY``)."""

    kind: Kind
    constraint: str | None = None
    columns: tuple[str, ...] = ()


def classify(error: sa.exc.IntegrityError) -> Violation:
    orig = error.orig
    message = str(orig)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL and other MySQL drivers: (errno, message)
        code = args[0]
        if code in _MYSQL_DUPLICATE:
            key = _MYSQL_DUPLICATE_KEY.search(message)
            return Violation("unique", key.group(1) if key else None)
        if code in _MYSQL_FOREIGN:
            key = _MYSQL_FOREIGN_KEY.search(message)
            return Violation("foreign_key", key.group(1) if key else None)
        return Violation("other")
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        sqlstate = getattr(orig, "sqlstate", None)
        name = getattr(diag, "constraint_name", None)
        if sqlstate == "23505":
            return Violation("unique", name)
        if sqlstate == "23503":
            return Violation("foreign_key", name)
        return Violation("other", name)
    # sqlite3: the message names the columns of a unique key, nothing for a foreign key.
    unique = _SQLITE_UNIQUE.search(message)
    if unique:
        columns = tuple(part.strip().rpartition(".")[2] for part in unique.group(1).split(","))
        return Violation("unique", None, columns)
    errorname = getattr(orig, "sqlite_errorname", "")
    if "FOREIGN KEY constraint failed" in message or errorname == "SQLITE_CONSTRAINT_FOREIGNKEY":
        return Violation("foreign_key")
    return Violation("other")


def unique_columns(table: sa.Table, violation: Violation) -> tuple[str, ...] | None:
    """The columns of ``table``'s primary key or unique constraint that ``violation`` names."""
    if violation.columns:
        return violation.columns
    name = violation.constraint
    if name is None:
        return None
    if name == "PRIMARY":
        return tuple(c.name for c in table.primary_key.columns)
    for constraint in table.constraints:
        if constraint.name == name and isinstance(
            constraint, (sa.PrimaryKeyConstraint, sa.UniqueConstraint)
        ):
            return tuple(c.name for c in constraint.columns)
    return None


def foreign_key_column(table: sa.Table, violation: Violation) -> str | None:
    """The referencing column of ``table`` whose foreign key ``violation`` names."""
    for constraint in table.foreign_key_constraints:
        if constraint.name == violation.constraint and len(constraint.columns) == 1:
            return next(iter(constraint.columns)).name
    return None


_PG_CONFLICTS = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_MYSQL_CONFLICTS = {1213}  # ER_LOCK_DEADLOCK


def is_write_conflict(error: sa.exc.DBAPIError) -> bool:
    """Whether ``error`` means another transaction got in the way and a retry may succeed.

    SQLite in WAL mode reports ``SQLITE_BUSY_SNAPSHOT`` when a transaction that has read
    tries to write after another one committed (Python 3.11+ tells it apart from a plain
    timeout); PostgreSQL reports serialization failures and deadlocks, MySQL deadlocks.
    """
    orig = error.orig
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _MYSQL_CONFLICTS
    if getattr(orig, "diag", None) is not None:
        return getattr(orig, "sqlstate", None) in _PG_CONFLICTS
    return getattr(orig, "sqlite_errorname", None) == "SQLITE_BUSY_SNAPSHOT"

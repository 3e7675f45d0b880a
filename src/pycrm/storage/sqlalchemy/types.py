"""Column types that keep values exact and timezone-aware on every supported database.

The types override ``bind_processor``/``result_processor`` rather than only the
``process_*_param`` hooks: the bulk path converts hundreds of thousands of values, and a
processor chosen once per dialect costs one call per value instead of two or three. Where the
implementing type has a driver-level processor of its own it is still applied.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Context, Decimal, Inexact
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from pycrm.errors import ValidationError

UTC = timezone.utc

SCALE = 4
"""Decimal places of every stored amount and quantity."""

AMOUNT_LIMIT = Decimal(10) ** 15
"""Amounts must be smaller than this in magnitude: ``Numeric(19, 4)`` leaves 15 integer digits."""

_EXACT = Context(prec=60, traps=[Inexact])
_MYSQL = ("mysql", "mariadb")

Processor = Callable[[Any], Any]


def _then(first: Processor, second: Processor | None) -> Processor:
    if second is None:
        return first
    return lambda value: second(first(value))


def _before(first: Processor | None, second: Processor) -> Processor:
    if first is None:
        return second
    return lambda value: second(first(value))


def id_type(length: int = 64) -> TypeEngine[str]:
    """Text ids that sort by code point everywhere, as they do in Python.

    Keyset paging orders by id, and the memory store orders ids as Python strings; PostgreSQL's
    default collations would sort by language rules instead, hence ``COLLATE "C"`` there.
    MySQL/MariaDB tables get a binary collation as a whole (see ``tables.py``).
    """
    return sa.String(length).with_variant(postgresql.VARCHAR(length, collation="C"), "postgresql")


def sealed_text(length: int) -> TypeEngine[str]:
    """A personal-data column, which may hold an encrypted token several times the length of
    the value (see :mod:`pycrm.storage.sqlalchemy.encryption`): ``TEXT``.

    SQLite keeps the ``VARCHAR(length)`` these columns were first created with: it never
    enforces a declared length, and changing a column's type there means rebuilding the table
    under its foreign keys. The columns are not indexed; lookups use the identity hashes.
    """
    return sa.Text().with_variant(sa.String(length), "sqlite")


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value.replace(tzinfo=None)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("datetime", "must be timezone-aware (naive datetimes are ambiguous)")
    return value.astimezone(UTC).replace(tzinfo=None)


def _sqlite_datetime_text(value: datetime) -> str:
    # The text layout SQLAlchemy's own SQLite DATETIME uses, so plain SQL comparisons and
    # values written by other SQLAlchemy code line up.
    if value.tzinfo is UTC:
        return value.isoformat(" ", "microseconds")[:-6]  # drop "+00:00"
    return _to_naive_utc(value).isoformat(" ", "microseconds")


def _sqlite_datetime_bind(value: datetime | None) -> str | None:
    return None if value is None else _sqlite_datetime_text(value)


def _sqlite_datetime_binder() -> Processor:
    """A bind processor for one column that remembers its last conversion.

    A bulk insert stamps every row with the same ``created_at`` object, so most values of
    such a column are the previous one again. The pair is kept as one tuple, so a thread never
    sees the input of one conversion with the output of another.
    """
    last: tuple[object, str | None] = (None, None)

    def process(value: datetime | None) -> str | None:
        nonlocal last
        seen = last
        if value is seen[0]:
            return seen[1]
        text = None if value is None else _sqlite_datetime_text(value)
        last = (value, text)
        return text

    return process


def _sqlite_datetime_result(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return parsed.replace(tzinfo=UTC)


def _naive_utc_bind(value: datetime | None) -> datetime | None:
    return None if value is None else _to_naive_utc(value)


def _aware_utc_result(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware datetimes in, aware UTC datetimes out, stored as naive UTC.

    Naive UTC is the one representation SQLite, PostgreSQL and MySQL share; keeping the zone
    out of the column means no session time zone can shift a value. MySQL/MariaDB need
    ``DATETIME(6)``, or microseconds are silently dropped. Naive input is refused rather than
    guessed at.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _MYSQL:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _sqlite_datetime_bind(value)
        return _naive_utc_bind(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime_result(value)
        return _aware_utc_result(value)

    def bind_processor(self, dialect: Dialect) -> Processor:
        if dialect.name == "sqlite":
            return _sqlite_datetime_binder()
        return _then(_naive_utc_bind, self.impl_instance.bind_processor(dialect))

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        if dialect.name == "sqlite":
            return _sqlite_datetime_result
        return _before(self.impl_instance.result_processor(dialect, coltype), _aware_utc_result)


def _checked_amount(value: Decimal) -> Decimal:
    """``value`` scaled by 10**4, exactly; refuses what ``Numeric(19, 4)`` would round."""
    if not -AMOUNT_LIMIT < value < AMOUNT_LIMIT:
        raise ValidationError("amount", f"{value} is too large to store", value=value)
    try:
        scaled = value.scaleb(SCALE, _EXACT)
    except Inexact:
        scaled = None
    if scaled is None or scaled != scaled.to_integral_value():
        raise ValidationError(
            "amount", f"{value} has more than {SCALE} decimal places", value=value
        )
    return scaled


def _scaled_bind(value: Decimal | None) -> int | None:
    return None if value is None else int(_checked_amount(value))


def _exact_bind(value: Decimal | None) -> Decimal | None:
    if value is not None:
        _checked_amount(value)
    return value


def _from_units(units: int, min_places: int) -> Decimal:
    """``units`` ten-thousandths as a Decimal, trailing zeros dropped down to ``min_places``."""
    places = SCALE
    while places > min_places and units % 10 == 0:
        units //= 10
        places -= 1
    return Decimal(units).scaleb(-places)


def _sqlite_amount_result(min_places: int) -> Processor:
    def process(value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, int):
            return _from_units(value, min_places)
        # Only floats get here (AVG() and the like); they are inexact by nature.
        return Decimal(repr(value)).scaleb(-SCALE)

    return process


def _decimal_amount_result(inner: Processor | None, min_places: int) -> Processor:
    def process(value: Any) -> Decimal | None:
        if inner is not None:
            value = inner(value)
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        try:
            units = number.scaleb(SCALE, _EXACT)
        except Inexact:
            return number
        if units != units.to_integral_value():
            return number  # more places than a column holds: a computed value, keep it
        return _from_units(int(units), min_places)

    return process


class Amount(sa.TypeDecorator[Decimal]):
    """A ``Decimal`` with up to four decimal places, exact on every backend, ``SUM()`` included.

    PostgreSQL and MariaDB store ``NUMERIC(19, 4)``. SQLite has no exact decimal (it would
    store a float), so there the column is an integer holding the value times 10**4: storage
    and ``SUM()`` stay exact, and ``func.sum(column)`` comes back as ``Decimal`` through this
    type. Values with more than four decimal places are refused, not rounded.

    Read values equal what was stored; their trailing zeros are dropped down to
    ``min_places`` (2 for money, so ``89.50`` reads back as ``89.50``, not ``89.5000``),
    the same on every backend.
    """

    impl = sa.Numeric(19, SCALE, asdecimal=True)
    cache_ok = True

    def __init__(self, min_places: int = 2) -> None:
        super().__init__()
        self.min_places = min_places

    def __repr__(self) -> str:
        # Alembic's autogenerate writes a column's type into a host's migration as its repr;
        # the inherited one spells the arguments of Numeric, which this constructor refuses.
        return "Amount()" if self.min_places == 2 else f"Amount(min_places={self.min_places})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.BigInteger())
        return dialect.type_descriptor(sa.Numeric(19, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return _scaled_bind(value)
        return _exact_bind(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        result: Decimal | None = self.result_processor(dialect, None)(value)
        return result

    def bind_processor(self, dialect: Dialect) -> Processor:
        if dialect.name == "sqlite":
            return _scaled_bind
        return _then(_exact_bind, self.impl_instance.bind_processor(dialect))

    def result_processor(self, dialect: Dialect, coltype: object) -> Processor:
        if dialect.name == "sqlite":
            return _sqlite_amount_result(self.min_places)
        inner = self.impl_instance.result_processor(dialect, coltype)
        return _decimal_amount_result(inner, self.min_places)


def json_type() -> TypeEngine[Any]:
    """JSON that stores Python ``None`` as SQL NULL (empty collections are written as NULL)."""
    return sa.JSON(none_as_null=True)

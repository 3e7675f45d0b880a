"""Column mapping for imports: which source column feeds which field, and how text is read.

Sources speak text (a CSV cell, a DataFrame's strings); entities want dates, numbers, sets.
Each importable kind names its fields and the reader a text value of each field goes through
before the entity's own converters check it, so an import accepts what the entity accepts and
words its refusals the same way. A :class:`Column` overrides the reader for one column (a
``31/12/2026`` date, a ``1.234,56`` amount, tags split on ``|``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

import attrs

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError

Parse: TypeAlias = Callable[[str], Any]
"""Reads one non-blank text cell; raises ``ValueError`` (or ``ValidationError``) on bad text."""


@attrs.frozen
class Column:
    """Where a source column goes: ``field``, read with ``parse`` instead of the field's
    default reader. ``parse`` gets the stripped, non-blank text of a cell; values that are not
    text (from dicts or a DataFrame) reach the entity unchanged."""

    field: str
    parse: Parse | None = None

    def __attrs_post_init__(self) -> None:
        conv.check_text(self.field, "field", max_length=80, required=True)
        if self.parse is not None and not callable(self.parse):
            raise ValidationError("parse", "must be callable", value=self.parse)


MappingLike: TypeAlias = Mapping[str, "str | Column | None"]
"""Source column -> field name, :class:`Column`, or ``None`` to ignore the column."""


def parse_int(text: str) -> int:
    """``"12"`` -> 12; ``"12.0"`` (how a DataFrame writes a whole float) is accepted too."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


_TRUE = frozenset({"true", "yes", "y", "1", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "f"})


def parse_bool(text: str) -> bool:
    """``true/yes/y/1/t`` or ``false/no/n/0/f``, in any case."""
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false (yes/no, 1/0)")


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError("not valid JSON") from None


def split_on(separator: str) -> Parse:
    """Text split on ``separator`` into its non-blank parts (tags, list fields)."""
    if not isinstance(separator, str) or not separator:
        raise ValidationError("separator", "must be non-empty text", value=separator)

    def parse(text: str) -> list[str]:
        return [part for part in text.split(separator) if part.strip()]

    return parse


def parse_date(format: str) -> Parse:
    """Dates in ``format`` (``strptime`` codes), e.g. ``parse_date("%d/%m/%Y")``."""
    conv.check_text(format, "format", max_length=80, required=True)

    def parse(text: str) -> date:
        return datetime.strptime(text, format).date()

    return parse


def parse_datetime(format: str | None = None, *, tz: tzinfo | None = None) -> Parse:
    """Times in ``format`` (ISO 8601 when ``None``); a time without an offset is taken to
    be in ``tz`` when one is given, else the entity refuses it as ambiguous."""
    if format is not None:
        conv.check_text(format, "format", max_length=80, required=True)
    if tz is not None and not isinstance(tz, tzinfo):
        raise ValidationError("tz", f"expected a tzinfo, got {type(tz).__name__}")

    def parse(text: str) -> datetime:
        value = datetime.fromisoformat(text) if format is None else datetime.strptime(text, format)
        if value.tzinfo is None and tz is not None:
            value = value.replace(tzinfo=tz)
        return value

    return parse


def parse_decimal(*, decimal_point: str = ".", thousands: str = ",") -> Parse:
    """Amounts such as ``1,234.56`` (or ``1.234,56`` with ``decimal_point=","`` and
    ``thousands="."``), read exactly as ``Decimal``."""
    if decimal_point == thousands:
        raise ValidationError("thousands", "must differ from decimal_point", value=thousands)

    def parse(text: str) -> Decimal:
        cleaned = text.replace(thousands, "") if thousands else text
        if decimal_point != ".":
            cleaned = cleaned.replace(decimal_point, ".")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
        if not number.is_finite():
            raise ValueError("must be finite")
        return number

    return parse


def _text(text: str) -> str:
    return text


def _lines(text: str) -> list[str]:
    # Text lists (needs, objections, commitments) are one item per line of the cell.
    return text.splitlines()


def default_readers(*, tag_separator: str = ",", tz: tzinfo | None = None) -> dict[str, Parse]:
    """Readers by value kind, used for fields whose :class:`ImportKind` names a kind."""
    return {
        "text": _text,
        "int": parse_int,
        "bool": parse_bool,
        "json": parse_json,
        "tags": split_on(tag_separator),
        "lines": _lines,
        "datetime": parse_datetime(tz=tz),
        "decimal": parse_decimal(thousands=""),
    }

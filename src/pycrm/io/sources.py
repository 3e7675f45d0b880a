"""Rows from a CSV file, a pandas DataFrame or any iterable of dicts, read one at a time.

Nothing here loads a source whole: a CSV file is read row by row, a DataFrame walked with
``itertuples``, an iterable consumed as it yields. CSV bytes that are not valid in the
file's encoding do not stop the read: they arrive as lone surrogates, which the importer
reports as invalid text in that row and field (in the header, they refuse the file with a
hint to pass its encoding). Rows with no value in any cell, which spreadsheets leave at the
end of a sheet, are skipped but counted, so row numbers stay those of the spreadsheet.
A cell pycrm's exports defused against formulas (see :mod:`pycrm.io.safe`) reads back as
the value stored.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from typing import IO, Any

import attrs

from pycrm.domain._convert import required_text
from pycrm.errors import ValidationError
from pycrm.io.safe import csv_unquote


@attrs.frozen
class Rows:
    """``columns``: the header, when the source has one (CSV, DataFrame), so unknown columns
    are refused before any row is read; ``rows``: ``(row number, values)``, numbered from 1
    (for a CSV file, row 1 is the first record after the header); ``total``: the number of
    rows when known without reading them (a DataFrame's length)."""

    columns: tuple[str, ...] | None
    rows: Iterator[tuple[int, Mapping[str, Any]]]
    total: int | None = None


def check_csv_format(encoding: Any, delimiter: Any = ",") -> None:
    """Refuse an unknown ``encoding``, or a ``delimiter`` that is not one character a CSV
    file can separate cells with (a quote or a line break cannot), before a file is read."""
    try:
        codecs.lookup(required_text(encoding, "encoding", 40))
    except LookupError:
        raise ValidationError("encoding", "is not a known text encoding", value=encoding) from None
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValidationError(
            "delimiter", "must be one character other than a quote or a line break", value=delimiter
        )


def open_rows(
    source: Any, stack: ExitStack, *, encoding: str = "utf-8", delimiter: str = ","
) -> Rows:
    """Rows of ``source``: a path, a file object (text or binary), a DataFrame or an
    iterable of mappings; a CSV file's cells are separated by ``delimiter`` (``";"`` in
    spreadsheets saved where the decimal point is a comma). Files this opens are closed by
    ``stack``. A UTF-8 file may start with a byte-order mark (spreadsheets write one); it is
    not part of the first column."""
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    if isinstance(source, str | os.PathLike):
        stream = stack.enter_context(
            open(source, encoding=codec, errors="surrogateescape", newline="")  # noqa: SIM115
        )
        return _csv_rows(stream, encoding, delimiter)
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(source, pandas.DataFrame):
        return _frame_rows(source)
    if hasattr(source, "read"):
        return _csv_rows(_text_stream(source, codec), encoding, delimiter)
    if isinstance(source, Mapping | bytes) or not isinstance(source, Iterable):
        raise ValidationError(
            "source",
            "expected a CSV path or file, a pandas DataFrame or an iterable of dicts, "
            f"got {type(source).__name__}",
        )
    return Rows(None, _dict_rows(source))


def _text_stream(stream: IO[Any], encoding: str) -> IO[str]:
    if isinstance(stream, io.TextIOBase):
        return stream
    if isinstance(stream, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(stream, "mode", ""):
        return io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    return stream


def _csv_rows(stream: IO[str], encoding: str, delimiter: str) -> Rows:
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return Rows((), iter(()))
    except UnicodeDecodeError as exc:
        raise _undecodable(exc) from None
    if header:  # a file object opened as plain UTF-8 keeps the byte-order mark
        header[0] = header[0].removeprefix("\ufeff")
    columns = tuple(name.strip() for name in header)
    for name in columns:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(
                "encoding",
                f"the header is not valid {encoding} text; name the file's encoding "
                "(Chinese spreadsheets often save gb18030)",
            ) from None
    return Rows(columns, _csv_records(reader, columns))


def _undecodable(exc: UnicodeDecodeError) -> ValidationError:
    # A text stream opened by the caller decodes strictly; opened by us, bad bytes are kept.
    return ValidationError(
        "source", f"not valid text ({exc.reason}); pass the file's path or open it in binary mode"
    )


def _csv_records(reader: Any, columns: tuple[str, ...]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    number = 0
    width = len(columns)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            number += 1
            yield number, {_MALFORMED: str(exc)}
            continue
        except UnicodeDecodeError as exc:
            raise _undecodable(exc) from None
        number += 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a row of empty cells, is not a record
        if len(cells) != width:
            yield number, {_MALFORMED: f"has {len(cells)} cells, the header {width}"}
            continue
        yield number, dict(zip(columns, map(csv_unquote, cells), strict=True))


_MALFORMED = "\0malformed"
"""Key of a row the CSV reader could not split into the header's cells; its value is why."""


def malformed(row: Mapping[str, Any]) -> str | None:
    """Why the CSV reader could not read ``row``, or ``None`` for a well-formed row."""
    reason = row.get(_MALFORMED)
    return reason if isinstance(reason, str) else None


def _frame_rows(frame: Any) -> Rows:
    columns = tuple(str(name) for name in frame.columns)

    def records() -> Iterator[tuple[int, Mapping[str, Any]]]:
        for number, values in enumerate(frame.itertuples(index=False, name=None), start=1):
            row = dict(zip(columns, map(_plain_value, values), strict=True))
            if not all(map(_blank, row.values())):
                yield number, row  # an all-missing row (a sheet's empty line) is no record

    return Rows(columns, records(), total=len(frame))


def _plain_value(value: Any) -> Any:
    """A DataFrame cell as a plain Python value: missing -> ``None``; a number -> its text,
    read by the field's reader as a CSV cell would be: a float as its shortest text (so
    amounts stay exact), a whole one without ``.0`` (pandas makes a column of phone numbers
    or member ids with a gap floats, and ``13812345678.0`` is no phone number); numpy
    scalars and Timestamps -> their Python equivalents."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() and abs(value) < _EXACT else repr(value)
    to_python = getattr(value, "to_pydatetime", None)
    if to_python is not None:
        return None if str(value) == "NaT" else to_python()
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return _plain_value(item())
    if value.__class__.__name__ in ("NAType", "NaTType"):
        return None
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_EXACT = 2**53
"""Floats below this are whole numbers exactly when they look it."""


def _dict_rows(source: Iterable[Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, row in enumerate(source, start=1):
        if not isinstance(row, Mapping):
            yield number, {_MALFORMED: f"expected a dict, got {type(row).__name__}"}
            continue
        yield number, row

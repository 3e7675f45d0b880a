"""The import report: counts, and one machine-readable line per refused row.

A report outlives the import and is often shared (mailed back to whoever sent the file), so
the offending value in it is masked like any export: personal fields by their mask, other
text cut short, undecodable bytes shown as escapes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, time
from decimal import Decimal
from typing import IO, Any

import attrs

from pycrm.domain.personal import PERSONAL_FIELDS, mask_text, mask_value
from pycrm.extras import require_pandas
from pycrm.io.kinds import CUSTOMER_REFERENCES
from pycrm.io.safe import csv_safe

_SHOWN = 40
"""At most this many characters of a refused value appear in a report."""

_SHOWN_AS_WRITTEN = (int, float, Decimal, date, time)
"""Values a report shows as their text; anything else as its ``repr``, which tells a list
from a string."""


def masked(field: str, value: object) -> str | None:
    """``value`` as a report shows it: masked if personal, cut to a few dozen characters,
    and always encodable as UTF-8 (lone surrogates become ``\\udcxx`` escapes)."""
    if value is None:
        return None
    field = CUSTOMER_REFERENCES.get(field, field)  # a customer named by phone is a phone
    if field in PERSONAL_FIELDS:
        try:
            shown = str(mask_value(field, value))
        except (TypeError, AttributeError, ValueError):  # not the shape its mask expects
            shown = str(mask_text(repr(value)))
    elif isinstance(value, str):
        shown = value
    elif isinstance(value, _SHOWN_AS_WRITTEN):
        shown = str(value)  # -5, not Decimal('-5'): the value as a spreadsheet shows it
    else:
        shown = repr(value)
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    return shown if len(shown) <= _SHOWN else shown[: _SHOWN - 1] + "…"


@attrs.frozen
class RowError:
    """Row ``row`` (numbered from 1; for CSV, from the first record after the header) was
    refused: ``field`` had ``problem``. ``column`` is the source column it came from, when
    there is one; ``value`` the offending value, masked."""

    row: int
    field: str
    problem: str
    column: str | None = None
    value: str | None = None


REPORT_COLUMNS = ("row", "column", "field", "problem", "value")


def errors_csv(errors: Iterable[RowError], target: IO[str] | None = None) -> str:
    """``errors`` as CSV (:data:`REPORT_COLUMNS`), written to ``target`` if given, else
    returned; cells are safe to open in a spreadsheet."""
    buffer = io.StringIO() if target is None else None
    out = target if target is not None else buffer
    assert out is not None
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for error in errors:
        writer.writerow(
            [
                error.row,
                csv_safe(error.column or ""),
                csv_safe(error.field),
                csv_safe(error.problem),
                csv_safe(error.value or ""),
            ]
        )
    return buffer.getvalue() if buffer is not None else ""


@attrs.frozen
class ImportReport:
    """What an import did. ``committed`` says whether anything was stored: in
    ``all_or_nothing`` mode it is ``False`` whenever a row was refused. ``created``,
    ``updated`` and ``unchanged`` count stored rows (an update that changed nothing is
    ``unchanged``); iterating gives the :class:`RowError` of each refused row."""

    kind: str
    mode: str
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: tuple[RowError, ...]
    committed: bool

    @property
    def ok(self) -> bool:
        """No row was refused."""
        return not self.errors

    @property
    def skipped(self) -> int:
        """Rows refused (each has at least one entry in :attr:`errors`)."""
        return len({error.row for error in self.errors})

    def __iter__(self) -> Iterator[RowError]:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def to_csv(self, target: IO[str] | None = None) -> str:
        """The errors as CSV (``row,column,field,problem,value``), written to ``target`` if
        given; returns the text written. Cells are safe to open in a spreadsheet."""
        return errors_csv(self.errors, target)

    def to_pandas(self) -> Any:
        """The errors as a pandas ``DataFrame``, one row per :class:`RowError`, with the columns
        of :meth:`to_csv` (``row`` as integers; no defusing, since nothing is opened in a
        spreadsheet). Needs pandas (``pip install pycrm-core[pandas]``)."""
        pandas = require_pandas("ImportReport.to_pandas()")
        records = [[getattr(error, name) for name in REPORT_COLUMNS] for error in self.errors]
        frame = pandas.DataFrame.from_records(records, columns=list(REPORT_COLUMNS))
        return frame.astype({"row": "int64"})

    def summary(self) -> str:
        """One line: rows read, what was stored, what was refused."""
        stored = (
            f"{self.created:,} created, {self.updated:,} updated, {self.unchanged:,} unchanged"
            if self.committed
            else "nothing stored"
        )
        return f"{self.kind}: {self.rows:,} rows read; {stored}; {self.skipped:,} refused"

"""A report's answer: typed rows with the shapes people read them in.

A :class:`ReportTable` holds rows of one attrs class; ``str()`` is an aligned text table for
terminals and logs, ``_repr_html_`` a table for Jupyter, :meth:`to_pandas` a DataFrame (the
``pandas`` extra) and :meth:`to_records` plain dicts for anything else.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs

from pycrm.analytics.period import Period
from pycrm.errors import ValidationError
from pycrm.extras import require_pandas

R = TypeVar("R")

NOTHING = "\u2013"
"""How an empty cell (``None``) is shown: an en dash."""


def _rows(value: Any) -> tuple[Any, ...]:
    return tuple(value)


def _notes(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def format_cell(value: Any) -> str:
    """A value as a report shows it: ``None`` as a dash, ratios and amounts as written."""
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,f}" if value == value.to_integral_value() else f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@attrs.frozen
class ReportTable(Generic[R]):
    """``rows`` of ``row_type`` (an attrs class: its fields are the columns), titled, for
    ``period`` when the report covers one, with ``notes`` saying how to read it."""

    title: str
    row_type: type[R]
    rows: tuple[R, ...] = attrs.field(default=(), converter=_rows)
    period: Period | None = None
    notes: tuple[str, ...] = attrs.field(default=(), converter=_notes)

    def __attrs_post_init__(self) -> None:
        if not attrs.has(self.row_type):
            raise ValidationError("row_type", "must be an attrs class")
        for row in self.rows:
            if not isinstance(row, self.row_type):
                raise ValidationError(
                    "rows", f"expected {self.row_type.__name__} rows, got {type(row).__name__}"
                )

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(a.name for a in attrs.fields(self.row_type))  # type: ignore[arg-type]

    def to_records(self) -> list[dict[str, Any]]:
        """Each row as a dict of column -> value."""
        return [attrs.asdict(row, recurse=False) for row in self.rows]  # type: ignore[arg-type]

    def to_pandas(self) -> Any:
        """The rows as a pandas ``DataFrame`` with these columns (needs ``pandas``)."""
        pandas = require_pandas("to_pandas")
        return pandas.DataFrame.from_records(self.to_records(), columns=list(self.columns))

    def _cells(self) -> list[list[str]]:
        return [[format_cell(getattr(row, c)) for c in self.columns] for row in self.rows]

    @property
    def heading(self) -> str:
        return self.title if self.period is None else f"{self.title} ({self.period.label})"

    def __str__(self) -> str:
        columns = self.columns
        cells = self._cells()
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        numeric = [_is_numeric(self.rows, c) for c in columns]

        def line(values: Sequence[str]) -> str:
            return "  ".join(
                v.rjust(w) if right else v.ljust(w)
                for v, w, right in zip(values, widths, numeric, strict=True)
            ).rstrip()

        out = [self.heading, line(columns), line(["-" * w for w in widths])]
        out.extend(line(r) for r in cells)
        if not cells:
            out.append("(no rows)")
        out.extend(self.notes)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>"
            for r in self._cells()
        )
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return (
            f"<table><caption>{html.escape(self.heading)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"
        )

    def __iter__(self) -> Iterator[R]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> R:
        return self.rows[index]


def _is_numeric(rows: Sequence[Any], column: str) -> bool:
    values = [getattr(r, column) for r in rows if getattr(r, column) is not None]
    return bool(values) and all(
        isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values
    )

"""Aligned plain-text tables, without a dependency: the demo's summary, RFM tables and the
command line print through it.

Chinese characters take two columns in a terminal, so widths are measured in display columns
(East Asian width), not in code points; otherwise every row with a Chinese name would be
misaligned.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal


def display_width(text: str) -> int:
    """Columns ``text`` occupies in a monospaced terminal."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def format_cell(value: object) -> str:
    """Numbers with thousands separators (amounts with two decimals); ``None`` as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def format_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    right: Sequence[bool] | None = None,
    indent: str = "  ",
    rule: bool = True,
) -> list[str]:
    """Lines of a table, with a rule under the header unless ``rule=False``; numeric
    columns are right-aligned by default.

    ``right`` overrides the alignment per column (``True`` for right-aligned).
    """
    raw = [list(row) for row in rows]
    for row in raw:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells for {len(headers)} columns: {row!r}")
    if right is None:
        right = [bool(raw) and all(_is_number(row[i]) for row in raw) for i in range(len(headers))]
    cells = [[format_cell(value) for value in row] for row in raw]
    widths = [
        max([display_width(header)] + [display_width(row[i]) for row in cells])
        for i, header in enumerate(headers)
    ]

    def line(values: Sequence[str]) -> str:
        padded = (_pad(v, w, r) for v, w, r in zip(values, widths, right, strict=True))
        return (indent + "  ".join(padded)).rstrip()

    rules = [line(["-" * w for w in widths])] if rule else []
    return [line(headers), *rules, *(line(row) for row in cells)]

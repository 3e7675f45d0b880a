"""Spreadsheet-safe CSV cells.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula, which can run commands or leak data when the file is
opened (CSV or formula injection). Following the OWASP guidance, such text cells get a
leading ``'`` so they are shown as text; the stored data is never changed.

pycrm reads its own files back (an unmasked export is meant to be edited and imported
again), so the quote must come off exactly where it was put on: text that already starts
with quotes before a formula character gets one more, and :func:`csv_unquote` removes one
from any cell whose quotes are followed by a formula character.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula (or it is
    such text behind quotes of its own, so :func:`csv_unquote` gives it back whole)."""
    if text.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_unquote(text: str) -> str:
    """The text :func:`csv_safe` was given, read back from a cell it wrote."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text

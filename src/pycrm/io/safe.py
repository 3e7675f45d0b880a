"""Spreadsheet-safe CSV cells.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula, which can run commands or leak data when the file is
opened (CSV or formula injection). Following the OWASP guidance, such text cells get a
leading ``'`` so they are shown as text; the stored data is never changed.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text

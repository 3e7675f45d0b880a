"""Order lines counted where they are stored: what the product breakdown is built from.

Lines are a child table on SQL stores (``order_lines``); a period's purchase lines are
grouped by SKU, currency and unit price with their quantities summed in one ``GROUP BY``,
exactly on every store, and multiplied out per price afterwards (so no store multiplies
scaled amounts in SQL).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class LineSales(NamedTuple):
    """Purchase lines of ``sku`` at ``unit_price`` (in ``currency``): how many, and the
    quantity they sold."""

    sku: str | None
    currency: str
    unit_price: Decimal
    lines: int
    quantity: Decimal


def line_order(row: LineSales) -> tuple[object, ...]:
    """Rows in SKU (``None`` first), currency and price order, the same on every store."""
    return (row.sku is not None, row.sku or "", row.currency, row.unit_price)

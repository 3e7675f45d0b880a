"""Aggregates over orders that both the loader and the summary need.

The loader picks the account whose history it enriches by the same ranking the summary
prints, so the audit example always shows the customer at the top of the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from pycrm import Order, OrderStatus

REVENUE_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED})
"""Orders that count towards a customer's total: cancelled and refunded ones do not."""

CURRENCY_ORDER = ("CNY", "USD")
"""The demo's currencies, in the order tables list them."""


def order_totals(orders: Iterable[Order]) -> dict[str, dict[str, tuple[int, Decimal]]]:
    """currency -> customer id -> (number of orders, total) over revenue orders.

    Currencies are kept apart: adding CNY to USD would need an exchange rate, which is a
    decision for the host, not for a demo.
    """
    totals: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for order in orders:
        if order.status not in REVENUE_STATUSES:
            continue
        per_customer = totals[order.total.currency]
        count, amount = per_customer.get(order.customer_id, (0, Decimal(0)))
        per_customer[order.customer_id] = (count + 1, amount + order.total.amount)
    return dict(totals)


def currencies(totals: Mapping[str, object]) -> list[str]:
    """The currencies present, known ones first in :data:`CURRENCY_ORDER`."""
    known = [c for c in CURRENCY_ORDER if c in totals]
    return known + sorted(c for c in totals if c not in CURRENCY_ORDER)


def top_customers(
    totals: Mapping[str, Mapping[str, tuple[int, Decimal]]], currency: str, limit: int
) -> list[tuple[str, int, Decimal]]:
    """The ``limit`` customers with the largest total in ``currency``: (id, orders, total).

    Ties go to the smaller id, so the ranking is the same on every run.
    """
    ranked = sorted(totals.get(currency, {}).items(), key=lambda item: (-item[1][1], item[0]))
    return [(customer_id, count, total) for customer_id, (count, total) in ranked[:limit]]


def featured_customer(totals: Mapping[str, Mapping[str, tuple[int, Decimal]]]) -> str | None:
    """The first customer of the first currency's ranking, if any order counts."""
    for currency in currencies(totals):
        top = top_customers(totals, currency, 1)
        if top:
            return top[0][0]
    return None

"""When a customer is due to buy again, from the rhythm of their own past orders.

Consumables, licences and spare parts are bought again at a customer's own pace; the median
gap between their orders is a robust guess at it (one unusually late order does not move it),
and a reminder some time before the expected date gives the rep a reason to call.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from pycrm.domain import Order, OrderStatus
from pycrm.errors import ValidationError

_A_WEEK = relativedelta(weeks=1)

COUNTED = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED})
"""Orders that show a purchase; cancelled and refunded ones do not."""


def repurchase_due(orders: Iterable[Order], *, min_orders: int = 3) -> date | None:
    """The day the customer is expected to order again: their last order day plus the median
    gap between order days, or ``None`` with fewer than ``min_orders`` distinct order days
    (too little history to call it a rhythm). Give one customer's orders."""
    if isinstance(min_orders, bool) or not isinstance(min_orders, int) or min_orders < 2:
        raise ValidationError("min_orders", "must be a whole number of at least 2")
    days: set[date] = set()
    customers: set[str] = set()
    for order in orders:
        if not isinstance(order, Order):
            raise ValidationError("orders", f"expected Order, got {type(order).__name__}")
        customers.add(order.customer_id)
        if order.status in COUNTED:
            days.add(_day(order.placed_at))
    if len(customers) > 1:
        raise ValidationError("orders", "belong to more than one customer")
    if len(days) < min_orders:
        return None
    ordered = sorted(days)
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(ordered)]
    return ordered[-1] + timedelta(days=round(statistics.median(gaps)))


def repurchase_reminder_date(
    orders: Iterable[Order], *, before: relativedelta = _A_WEEK, min_orders: int = 3
) -> date | None:
    """When to remind the rep: ``before`` the expected repurchase (a week by default)."""
    if not isinstance(before, relativedelta):
        raise ValidationError("before", f"expected relativedelta, got {type(before).__name__}")
    due = repurchase_due(orders, min_orders=min_orders)
    if due is None:
        return None
    reminder: date = due - before
    return reminder


def _day(moment: datetime) -> date:
    return moment.date()

"""What a page's notices say about the customers its records concern: read in one query,
named by name, and ``-`` for a value the record lacks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from pycrm.domain import Customer

if TYPE_CHECKING:
    from pycrm.automation.rule import TickContext

NOT_ON_RECORD = "-"
"""What a message shows for a value the record lacks (a template needs every value)."""


def customers_by_id(context: TickContext, ids: Iterable[str | None]) -> Mapping[str, Customer]:
    """The customers with these ids (``None`` skipped), in one query per thousand; those the
    session cannot see are absent."""
    return context.session.customers.get_many(i for i in ids if i is not None)


def customer_name(customers: Mapping[str, Customer], customer_id: str) -> str:
    """What a message calls customer ``customer_id``: their name, else the id, when the
    session cannot see them (the message still says whom it is about)."""
    customer = customers.get(customer_id)
    return customer.name if customer is not None else customer_id

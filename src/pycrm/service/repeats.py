"""Repeat complaints: the same customer complaining about the same thing again and again.

A repeat is a chain, not a pair: complaints of one customer in one category, each opened
within ``window`` of the one before it. A customer who complains about delivery every three
weeks has one long chain under a 30-day window even though the first and the last complaint
lie months apart, because each new complaint says the last fix did not hold. Categories
compare case-insensitively ("Delivery" is "delivery"); a complaint without a category is
about nothing in particular and never repeats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

import attrs

from pycrm.errors import ValidationError
from pycrm.service.ticket import Ticket

COMPLAINT = "complaint"
"""The ticket type that counts towards repeat complaints."""

DEFAULT_REPEAT_WINDOW = timedelta(days=30)
"""How close a complaint must follow the previous one to repeat it, unless told otherwise."""


@attrs.frozen(kw_only=True)
class RepeatComplaint:
    """Two or more complaints of one customer in one category, each within the window of the
    previous one. ``ticket_ids`` are in opening order; ``category`` is as the first complaint
    spelled it."""

    customer_id: str
    category: str
    ticket_ids: tuple[str, ...]
    first_opened_at: datetime
    last_opened_at: datetime


class _Complaint(NamedTuple):
    """What repeat detection needs of a ticket, so a long stream is not held whole."""

    opened_at: datetime
    id: str
    category: str


def check_window(window: timedelta) -> timedelta:
    """``window`` if it is a positive ``timedelta``; ``ValidationError("window")`` otherwise."""
    if not isinstance(window, timedelta):
        raise ValidationError("window", f"expected a timedelta, got {type(window).__name__}")
    if window <= timedelta(0):
        raise ValidationError("window", "must be positive", value=window)
    return window


def category_key(ticket: Ticket) -> str | None:
    """The key repeats are grouped by: the category, case-folded; ``None`` when the ticket
    is not a complaint or has no category, so it never repeats."""
    if ticket.type != COMPLAINT or ticket.category is None:
        return None
    return ticket.category.casefold()


def repeat_complaints(
    tickets: Iterable[Ticket], window: timedelta = DEFAULT_REPEAT_WINDOW
) -> list[RepeatComplaint]:
    """Every chain of repeated complaints among ``tickets``, ordered by customer, then by the
    chain's first opening.

    Tickets of other types and complaints without a category are skipped, so any mix of
    tickets may be passed; ``tickets`` is read once, keeping only what the chains need.
    Complaints opened at the same moment are ordered by id. A complaint opened exactly
    ``window`` after the previous one still repeats it.
    """
    span = check_window(window)
    groups: dict[tuple[str, str], list[_Complaint]] = defaultdict(list)
    for ticket in tickets:
        if not isinstance(ticket, Ticket):
            raise ValidationError("tickets", f"expected Ticket, got {type(ticket).__name__}")
        key = category_key(ticket)
        if key is not None:
            assert ticket.category is not None  # category_key is None without one
            groups[ticket.customer_id, key].append(
                _Complaint(ticket.opened_at, ticket.id, ticket.category)
            )
    found: list[RepeatComplaint] = []
    for (customer_id, _key), complaints in groups.items():
        complaints.sort()
        chain = [complaints[0]]
        for complaint in complaints[1:]:
            if complaint.opened_at - chain[-1].opened_at <= span:
                chain.append(complaint)
                continue
            _keep(found, customer_id, chain)
            chain = [complaint]
        _keep(found, customer_id, chain)
    found.sort(key=lambda r: (r.customer_id, r.first_opened_at, r.ticket_ids))
    return found


def _keep(found: list[RepeatComplaint], customer_id: str, chain: list[_Complaint]) -> None:
    if len(chain) < 2:
        return
    found.append(
        RepeatComplaint(
            customer_id=customer_id,
            category=chain[0].category,
            ticket_ids=tuple(c.id for c in chain),
            first_opened_at=chain[0].opened_at,
            last_opened_at=chain[-1].opened_at,
        )
    )


def repeats_earlier(
    ticket: Ticket, others: Iterable[Ticket], window: timedelta = DEFAULT_REPEAT_WINDOW
) -> bool:
    """Whether ``ticket`` repeats an earlier complaint among ``others``: one of the same
    customer and category opened before it (at the same moment, with a smaller id) and no
    more than ``window`` before it. Exactly the complaints that are not the first of their
    chain in :func:`repeat_complaints`."""
    span = check_window(window)
    if not isinstance(ticket, Ticket):
        raise ValidationError("ticket", f"expected Ticket, got {type(ticket).__name__}")
    key = category_key(ticket)
    if key is None:
        return False
    mine = (ticket.opened_at, ticket.id)
    for other in others:
        if other.customer_id != ticket.customer_id or category_key(other) != key:
            continue
        if (other.opened_at, other.id) < mine and ticket.opened_at - other.opened_at <= span:
            return True
    return False

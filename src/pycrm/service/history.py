"""A customer's service history: their tickets and what they say about the service.

The figures are computed from the tickets every time rather than kept on the customer, so
the customer's satisfaction can never disagree with the ratings on their tickets: a rating
replaced on a ticket is replaced in the history too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType

import attrs

from pycrm.errors import ValidationError
from pycrm.service.repeats import DEFAULT_REPEAT_WINDOW, RepeatComplaint, repeat_complaints
from pycrm.service.ticket import Satisfaction, Ticket


@attrs.frozen(kw_only=True)
class ServiceHistory:
    """Everything the service desk did for one customer.

    ``tickets`` are newest first (by opening); ``by_type`` counts them per ticket type;
    ``satisfaction_average`` is the mean score of the rated tickets (``None`` when none is
    rated) and ``last_rating`` the most recent rating given; ``repeat_complaints`` are the
    customer's chains of repeated complaints.
    """

    customer_id: str
    tickets: tuple[Ticket, ...]
    open_count: int
    by_type: Mapping[str, int]
    satisfaction_average: float | None
    satisfaction_count: int
    last_rating: Satisfaction | None
    repeat_complaints: tuple[RepeatComplaint, ...]


def service_history(
    customer_id: str, tickets: Iterable[Ticket], *, window: timedelta = DEFAULT_REPEAT_WINDOW
) -> ServiceHistory:
    """The history of ``customer_id`` from their ``tickets`` (other customers' are refused,
    as they would silently skew every figure)."""
    mine = list(tickets)
    for ticket in mine:
        if not isinstance(ticket, Ticket):
            raise ValidationError("tickets", f"expected Ticket, got {type(ticket).__name__}")
        if ticket.customer_id != customer_id:
            raise ValidationError(
                "tickets", f"{ticket.id!r} belongs to another customer", value=ticket.customer_id
            )
    mine.sort(key=lambda t: (t.opened_at, t.id), reverse=True)
    ratings = [t.satisfaction for t in mine if t.satisfaction is not None]
    return ServiceHistory(
        customer_id=customer_id,
        tickets=tuple(mine),
        open_count=sum(1 for t in mine if t.is_open),
        by_type=MappingProxyType(dict(Counter(t.type for t in mine))),
        satisfaction_average=sum(r.score for r in ratings) / len(ratings) if ratings else None,
        satisfaction_count=len(ratings),
        last_rating=max(ratings, key=lambda r: r.rated_at, default=None),
        repeat_complaints=tuple(repeat_complaints(mine, window)),
    )

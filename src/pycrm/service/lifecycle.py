"""What happens to a ticket: opened, assigned, answered, moved, resolved, rated, linked.

Pure functions from a ticket to the next ticket; the session stores what they return. The
facts the SLA clocks read are set here and nowhere else, so they obey one rule each: the
first response is the first explicit answer or the first move that answers the customer
(waiting on them, resolving); the resolution is the latest move to ``resolved``, undone by a
reopen; every resolution asks the customer for a rating.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pycrm.domain import _convert as conv
from pycrm.errors import ValidationError
from pycrm.pipeline.run import advance, start
from pycrm.service.status import TicketStatus, ticket_machine
from pycrm.service.ticket import CLOSED_STATUSES, Satisfaction, Ticket

_SET_BY_LIFECYCLE = (
    "status_state",
    "assigned_at",
    "first_response_at",
    "first_response_by",
    "resolved_at",
    "solution",
    "satisfaction",
    "survey_requested_at",
    "linked_ticket_ids",
)

_ANSWERING = frozenset(
    {TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLOSED}
)
"""Entering these tells the customer something, so it counts as the first response."""


def open_ticket(*, customer_id: str, subject: str, now: datetime, by: str, **fields: Any) -> Ticket:
    """A new ticket, ``new`` at ``now``; with an ``assignee`` among ``fields`` it is assigned
    at once (``assigned`` at ``now``).

    ``fields`` are further :class:`Ticket` fields (``type``, ``priority``, ``category``,
    ``group``, ...). Status, response, resolution, rating and links are the lifecycle's to
    set, so passing them raises ``ValidationError``.
    """
    for name in _SET_BY_LIFECYCLE:
        if name in fields:
            raise ValidationError(name, "is set by the ticket's lifecycle, not when opening")
    assignee = fields.pop("assignee", None)
    state, _events = start(ticket_machine(), now=now, by=by)
    ticket = Ticket(customer_id=customer_id, subject=subject, status_state=state, **fields)
    if assignee is None:
        return ticket
    return assign_ticket(ticket, assignee, now=now, by=by)


def assign_ticket(
    ticket: Ticket, assignee: str, *, now: datetime, by: str, group: str | None = None
) -> Ticket:
    """Give an open ticket to ``assignee`` (in ``group``, if given) at ``now``.

    A new ticket moves to ``assigned``; one already being worked keeps its status, so a
    reassignment does not restart anything. Resolved and closed tickets are not reassigned.
    """
    _check(ticket)
    if not ticket.is_open:
        raise ValidationError("ticket", f"is {ticket.status.value}; only open tickets are assigned")
    changes: dict[str, Any] = {"assignee": assignee, "assigned_at": now}
    if group is not None:
        changes["group"] = group
    if ticket.status is TicketStatus.NEW:
        state, _events = advance(
            ticket.status_state,
            TicketStatus.ASSIGNED.value,
            now=now,
            by=by,
            machine=ticket_machine(),
            subject=ticket,
        )
        changes["status_state"] = state
    return ticket.evolve(**changes)


def respond(ticket: Ticket, *, now: datetime, by: str) -> Ticket:
    """Record that the customer heard back at ``now``: the response clock stops.

    Only the first response counts; later ones return the ticket unchanged.
    """
    _check(ticket)
    moment = conv.check_datetime(now, "now", required=True)
    assert moment is not None  # required=True never returns None
    if ticket.first_response_at is not None:
        return ticket
    if moment < ticket.status_state.entered_at:
        raise ValidationError("now", "is before the ticket's last status change", value=moment)
    return ticket.evolve(first_response_at=moment, first_response_by=by)


def move_ticket(
    ticket: Ticket,
    to: TicketStatus | str,
    *,
    now: datetime,
    by: str,
    reason: str | None = None,
    solution: str | None = None,
) -> Ticket:
    """Move ``ticket`` to status ``to`` at ``now`` along the ``"tickets"`` machine.

    Moving to ``assigned`` needs an assignee (see :func:`assign_ticket`); reopening a
    resolved ticket (back to ``in_progress``) needs a ``reason``. A move that answers the
    customer (waiting on them, resolved) is the first response if none was recorded. A move
    to ``resolved`` records ``resolved_at``, the ``solution`` if given, and asks for a
    rating; a reopen clears ``resolved_at``. ``solution`` is refused on any other move.
    """
    _check(ticket)
    target = conv.check_enum(to, "to", TicketStatus)
    if target is TicketStatus.ASSIGNED and ticket.assignee is None:
        raise ValidationError("to", "a ticket is assigned to someone: use assign_ticket")
    if solution is not None and target is not TicketStatus.RESOLVED:
        raise ValidationError("solution", "is given when a ticket is resolved")
    state, _events = advance(
        ticket.status_state,
        target.value,
        now=now,
        by=by,
        machine=ticket_machine(),
        reason=reason,
        subject=ticket,
    )
    moment = state.entered_at
    changes: dict[str, Any] = {"status_state": state}
    if target in _ANSWERING and ticket.first_response_at is None:
        changes["first_response_at"] = moment
        changes["first_response_by"] = state.current.entered_by
    if target is TicketStatus.RESOLVED:
        changes["resolved_at"] = moment
        changes["survey_requested_at"] = moment
        if solution is not None:
            changes["solution"] = solution
    elif target not in CLOSED_STATUSES:
        changes["resolved_at"] = None
    return ticket.evolve(**changes)


def resolve_ticket(ticket: Ticket, *, solution: str, now: datetime, by: str) -> Ticket:
    """Resolve ``ticket`` with the ``solution`` the customer was given (required here)."""
    conv.check_text(solution, "solution", max_length=4000, required=True)
    return move_ticket(ticket, TicketStatus.RESOLVED, now=now, by=by, solution=solution)


def rate_ticket(ticket: Ticket, score: int, *, now: datetime, comment: str | None = None) -> Ticket:
    """Record the customer's rating (1-5, with an optional comment) of a resolved ticket.

    A later rating replaces an earlier one (the audit trail keeps both); open tickets
    cannot be rated, since there is nothing to rate yet.
    """
    _check(ticket)
    if ticket.is_open:
        raise ValidationError(
            "ticket", f"is {ticket.status.value}; only resolved tickets are rated"
        )
    rating = Satisfaction(score=score, rated_at=now, comment=comment)
    if ticket.resolved_at is not None and rating.rated_at < ticket.resolved_at:
        raise ValidationError("now", "is before the ticket was resolved", value=now)
    return ticket.evolve(satisfaction=rating)


def link_tickets(first: Ticket, second: Ticket) -> tuple[Ticket, Ticket]:
    """Link two tickets both ways (a follow-up to a closed ticket, a duplicate report)."""
    _check(first)
    _check(second)
    if first.id == second.id:
        raise ValidationError("second", "a ticket cannot be linked to itself")
    return (
        first.evolve(linked_ticket_ids=first.linked_ticket_ids | {second.id}),
        second.evolve(linked_ticket_ids=second.linked_ticket_ids | {first.id}),
    )


def _check(value: object) -> Ticket:
    if not isinstance(value, Ticket):
        raise ValidationError("ticket", f"expected Ticket, got {type(value).__name__}")
    return value

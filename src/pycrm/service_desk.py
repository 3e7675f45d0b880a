"""The service desk inside a session: ``s.service.open(...)``, ``s.service.resolve(...)``.

Each operation is the pure lifecycle function (:mod:`pycrm.service.lifecycle`) at the
session's time, by its actor, and then one save through the ticket repository, which checks
the version, writes the audit entry and raises the ``ticket.changed`` event. Everything is
checked before the first write, so a refused operation leaves the store as it was.

Satisfaction surveys ride on those events until the notification outbox exists: a
resolution sets ``survey_requested_at``, so a plugin's ``pycrm_event`` hook that sees
``survey_requested_at`` among a ``ticket.changed`` event's changes sends the survey, after
the resolution is committed. :meth:`ServiceDesk.surveys_due` lists the surveys still
unanswered, for a host that sends or chases them in batches instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pycrm.dispatching import dispatch_ticket
from pycrm.domain import Customer
from pycrm.domain import _convert as conv
from pycrm.errors import ConcurrencyConflict, ValidationError
from pycrm.repository import Repository
from pycrm.service.calendar import BusinessCalendar
from pycrm.service.dispatch import DispatchRules
from pycrm.service.history import ServiceHistory, service_history
from pycrm.service.lifecycle import (
    assign_ticket,
    link_tickets,
    move_ticket,
    open_ticket,
    rate_ticket,
    resolve_ticket,
    respond,
)
from pycrm.service.policy import SlaPolicies
from pycrm.service.repeats import (
    COMPLAINT,
    DEFAULT_REPEAT_WINDOW,
    RepeatComplaint,
    check_window,
    repeat_complaints,
    repeats_earlier,
)
from pycrm.service.sla import TicketSla, ticket_sla
from pycrm.service.status import TicketStatus
from pycrm.service.ticket import Ticket

if TYPE_CHECKING:
    from pycrm.session import Session

SURVEY_BATCH = 500
"""Tickets read per query while looking for unanswered surveys."""


class ServiceDesk:
    """Ticket operations of one session, reached as ``session.service``.

    Tickets may be passed as entities or ids. An entity is saved as given, so one read
    before someone else changed the ticket raises :class:`pycrm.ConcurrencyConflict`, as
    a repository update does. Every operation returns the saved ticket.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        # Built stored calendars by (id, version): building one is cheap, but each keeps
        # its own per-year tables, which are worth keeping for the session's length.
        self._built: dict[tuple[str, int], BusinessCalendar] = {}

    @property
    def _tickets(self) -> Repository[Ticket]:
        return self._session.tickets

    # -- the lifecycle ---------------------------------------------------------------------

    def open(self, customer: Customer | str, subject: str, **fields: Any) -> Ticket:
        """Open a ticket for ``customer`` now; ``fields`` are those of
        :func:`~pycrm.service.lifecycle.open_ticket` (``type``, ``priority``, ``category``,
        ``contact_id``, ``assignee``, ...).

        A ``contact_id`` must name one of the customer's own contacts.
        """
        session = self._session
        customer_id = self._existing_customer(customer)
        contact_id = fields.get("contact_id")
        if contact_id is not None:
            conv.check_text(contact_id, "contact_id", max_length=64, required=True)
            contact = session.contacts.get_or_none(contact_id)
            if contact is None:
                raise ValidationError("contact_id", f"no contact with id {contact_id!r}")
            if contact.customer_id != customer_id:
                raise ValidationError(
                    "contact_id", f"is a contact of another customer, not {customer_id!r}"
                )
        ticket = open_ticket(
            customer_id=customer_id, subject=subject, now=session.now, by=session.actor, **fields
        )
        return self._tickets.add(ticket)

    def assign(self, ticket: Ticket | str, assignee: str, group: str | None = None) -> Ticket:
        """Give an open ticket to ``assignee`` (in service ``group``, if given)."""
        current = self._ticket(ticket)
        session = self._session
        return self._save(
            assign_ticket(current, assignee, now=session.now, by=session.actor, group=group)
        )

    def respond(self, ticket: Ticket | str) -> Ticket:
        """Record that the customer heard back now; only the first response counts."""
        current = self._ticket(ticket)
        return self._save(respond(current, now=self._session.now, by=self._session.actor))

    def move(
        self, ticket: Ticket | str, to: TicketStatus | str, reason: str | None = None
    ) -> Ticket:
        """Move a ticket to status ``to`` (see :func:`~pycrm.service.lifecycle.move_ticket`);
        resolve with :meth:`resolve` to record the solution."""
        current = self._ticket(ticket)
        session = self._session
        return self._save(
            move_ticket(current, to, now=session.now, by=session.actor, reason=reason)
        )

    def resolve(self, ticket: Ticket | str, solution: str) -> Ticket:
        """Resolve a ticket with the ``solution`` given to the customer; this asks the
        customer for a rating (``survey_requested_at``)."""
        current = self._ticket(ticket)
        session = self._session
        return self._save(
            resolve_ticket(current, solution=solution, now=session.now, by=session.actor)
        )

    def close(self, ticket: Ticket | str) -> Ticket:
        """Close a resolved ticket for good; the customer's next message opens a new one."""
        return self.move(ticket, TicketStatus.CLOSED)

    def reopen(self, ticket: Ticket | str, reason: str) -> Ticket:
        """Take a resolved ticket back into work (``in_progress``), saying why."""
        current = self._ticket(ticket)
        if current.status is not TicketStatus.RESOLVED:
            raise ValidationError(
                "ticket", f"is {current.status.value}; only resolved tickets are reopened"
            )
        # The machine requires the reason on this move (and checks it like any other).
        return self.move(current, TicketStatus.IN_PROGRESS, reason=reason)

    def link(self, first: Ticket | str, second: Ticket | str) -> tuple[Ticket, Ticket]:
        """Link two tickets both ways; returns both as saved.

        Both are checked to be current before either is saved, so a stale second ticket
        does not leave the first linked alone.
        """
        one, other = link_tickets(self._ticket(first), self._ticket(second))
        for ticket in (one, other):
            stored = self._tickets.get(ticket.id)
            if stored.version != ticket.version:
                raise ConcurrencyConflict(Ticket.ENTITY_TYPE, ticket.id, ticket.version)
        return self._save(one), self._save(other)

    def rate(self, ticket: Ticket | str, score: int, comment: str | None = None) -> Ticket:
        """Record the customer's rating (1-5) of a resolved or closed ticket; a later rating
        replaces an earlier one, and the audit trail keeps both."""
        current = self._ticket(ticket)
        return self._save(rate_ticket(current, score, now=self._session.now, comment=comment))

    # -- surveys, history, repeats ---------------------------------------------------------

    def surveys_due(self, *, batch_size: int = SURVEY_BATCH) -> Iterator[Ticket]:
        """Resolved and closed tickets whose satisfaction survey was requested and not
        answered since, oldest first by id.

        A rating given before the latest resolution (the ticket was reopened and resolved
        again) does not answer the new request. The tickets are read ``batch_size`` at a
        time as the iterator is consumed, so use it inside the session.
        """
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        resolved = self._tickets.stream(batch_size=batch_size, is_open=False)
        return (ticket for ticket in resolved if _survey_unanswered(ticket))

    def history(
        self, customer: Customer | str, *, window: timedelta = DEFAULT_REPEAT_WINDOW
    ) -> ServiceHistory:
        """The customer's tickets (newest first) with their counts, satisfaction and repeat
        complaints (chains within ``window``).

        Computed from the tickets each time, so it always agrees with them.
        """
        check_window(window)
        customer_id = self._existing_customer(customer)
        tickets = self._tickets.stream(customer_id=customer_id)
        return service_history(customer_id, tickets, window=window)

    def repeat_complaints(
        self, customer: Customer | str | None = None, *, window: timedelta = DEFAULT_REPEAT_WINDOW
    ) -> list[RepeatComplaint]:
        """Chains of repeated complaints (see :func:`~pycrm.repeat_complaints`) of one
        customer, or of every customer when none is given.

        Only complaints are read, a page at a time, and only what the chains need of each
        is kept.
        """
        check_window(window)
        filters: dict[str, Any] = {"type": COMPLAINT}
        if customer is not None:
            filters["customer_id"] = self._existing_customer(customer)
        return repeat_complaints(self._tickets.stream(**filters), window)

    def is_repeat(self, ticket: Ticket | str, *, window: timedelta = DEFAULT_REPEAT_WINDOW) -> bool:
        """Whether an earlier complaint of the same customer and category (ignoring case)
        was opened no more than ``window`` before this one."""
        check_window(window)
        current = self._ticket(ticket)
        if current.type != COMPLAINT or current.category is None:
            return False
        earlier = self._tickets.stream(customer_id=current.customer_id, type=COMPLAINT)
        return repeats_earlier(current, earlier, window)

    def dispatch(self, ticket: Ticket | str, rules: DispatchRules | None) -> Ticket:
        """Send an open ticket to a service group and, where one is free, an agent.

        Plugins decide first (``pycrm_dispatch``); otherwise ``rules`` route it and pick the
        agent by the group's strategy, from turns and loads kept in the store. See
        :func:`pycrm.dispatching.dispatch_ticket`.
        """
        return dispatch_ticket(self._session, self._ticket(ticket), rules)

    # -- calendars and SLA clocks ----------------------------------------------------------

    def calendar(self, name: str) -> BusinessCalendar:
        """The business calendar called ``name``: the one stored in the CRM
        (``s.calendars``, with the host's own days off) if there is one, else the one
        registered by a plugin or built in (:meth:`pycrm.CRM.calendar`)."""
        key = conv.check_text(name, "calendar", max_length=64, required=True)
        assert key is not None  # required=True never returns None
        stored = self._session.calendars.list(name=key, limit=1).items
        if not stored:
            return self._session.crm.calendar(key)
        definition = stored[0]
        built = self._built.get((definition.id, definition.version))
        if built is None:
            built = self._built[(definition.id, definition.version)] = definition.build()
        return built

    def sla(
        self,
        ticket: Ticket | str,
        *,
        as_of: datetime | None = None,
        policies: SlaPolicies | None = None,
    ) -> TicketSla:
        """The ticket's response and resolution clocks at ``as_of`` (default: now), under
        ``policies`` (default: the CRM's :attr:`~pycrm.CRM.sla_policies`).

        Nothing about SLAs is stored: the clocks are recomputed from the ticket's status
        history on the policy's calendar, so a changed policy applies at once, to old
        tickets too. See :func:`pycrm.service.ticket_sla`.
        """
        current = self._ticket(ticket)
        table = self._policies(policies)
        policy = table.for_ticket(current)
        moment = self._session.now if as_of is None else as_of
        return ticket_sla(current, policy, self.calendar(policy.calendar), as_of=moment)

    def open_tickets(
        self,
        *,
        as_of: datetime | None = None,
        policies: SlaPolicies | None = None,
        batch_size: int = SURVEY_BATCH,
        **filters: Any,
    ) -> Iterator[tuple[Ticket, TicketSla]]:
        """Open tickets (narrowed by repository ``filters`` such as ``assignee`` or
        ``group``) each with its SLA clocks at ``as_of``, read ``batch_size`` at a time.

        An agent's queue is ``s.service.open_tickets(assignee="li.na")``; sort the pairs by
        ``sla.next_due_at`` to work the most pressing first.
        """
        conv.check_int(batch_size, "batch_size", minimum=1, required=True)
        if "is_open" in filters:
            raise ValidationError("is_open", "open_tickets lists open tickets only")
        table = self._policies(policies)
        moment = self._session.now if as_of is None else as_of
        # Every calendar the table names, looked up now: a missing one fails here, not
        # halfway through the tickets.
        calendars = {name: self.calendar(name) for name in table.calendars}
        tickets = self._tickets.stream(batch_size=batch_size, is_open=True, **filters)
        return (
            (ticket, ticket_sla(ticket, policy, calendars[policy.calendar], as_of=moment))
            for ticket in tickets
            for policy in (table.for_ticket(ticket),)
        )

    def _policies(self, policies: SlaPolicies | None) -> SlaPolicies:
        if policies is None:
            return self._session.crm.sla_policies
        if not isinstance(policies, SlaPolicies):
            raise ValidationError(
                "policies", f"expected SlaPolicies, got {type(policies).__name__}"
            )
        return policies

    # -- helpers ---------------------------------------------------------------------------

    def _ticket(self, ticket: Ticket | str) -> Ticket:
        if isinstance(ticket, Ticket):
            return ticket
        if isinstance(ticket, str):
            return self._tickets.get(ticket)
        raise ValidationError("ticket", f"expected a Ticket or its id, got {type(ticket).__name__}")

    def _save(self, ticket: Ticket) -> Ticket:
        return self._tickets.update(ticket)

    def _existing_customer(self, customer: Customer | str) -> str:
        customer_id = _customer_id(customer)
        if self._session.customers.get_or_none(customer_id) is None:
            raise ValidationError("customer", f"no customer with id {customer_id!r}")
        return customer_id


def _customer_id(customer: Customer | str) -> str:
    if isinstance(customer, Customer):
        return customer.id
    checked = conv.check_text(customer, "customer", max_length=64, required=True)
    assert checked is not None  # required=True never returns None
    return checked


def _survey_unanswered(ticket: Ticket) -> bool:
    requested = ticket.survey_requested_at
    if requested is None:
        return False
    rating = ticket.satisfaction
    return rating is None or rating.rated_at < requested

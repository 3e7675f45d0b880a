"""Dispatching tickets inside a session: plugins first, else routing rules and the store.

The pure parts (:func:`pycrm.route_ticket`, :func:`pycrm.choose_agent`) decide; this module
reads what they need (each agent's last turn in the group, their open tickets) and saves what
they decide, in the caller's session, so a dispatch is all or nothing. Plugins may decide
instead (``pycrm_dispatch``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pycrm.errors import ValidationError
from pycrm.service.dispatch import (
    Dispatch,
    DispatchRules,
    DispatchStrategy,
    ServiceGroup,
    choose_agent,
    route,
)
from pycrm.service.lifecycle import assign_ticket
from pycrm.service.ticket import Ticket
from pycrm.service.turns import AgentTurn

if TYPE_CHECKING:
    from pycrm.session import Session


def dispatch_ticket(session: Session, ticket: Ticket, rules: DispatchRules | None) -> Ticket:
    """Send an open, stored ``ticket`` to a service group and an agent now; return it saved.

    Plugins are asked first (``pycrm_dispatch``), and their answer is applied as given. Else
    ``rules`` route the ticket (:func:`pycrm.route_ticket`) and the group picks an agent
    (:func:`pycrm.choose_agent`) with figures read from the store: each agent's last turn
    in the group, kept in one :class:`~pycrm.service.turns.AgentTurn` row per group and
    agent, and, for least loaded, their open tickets. The agent is assigned as
    :func:`~pycrm.service.lifecycle.assign_ticket` does; with nobody available the ticket
    only joins the group's queue (keeping any assignee it had), and with no group at all it
    is saved unchanged. Resolved and closed tickets are refused with ``ValidationError``.
    """
    if not isinstance(ticket, Ticket):
        raise ValidationError("ticket", f"expected Ticket, got {type(ticket).__name__}")
    if rules is not None and not isinstance(rules, DispatchRules):
        raise ValidationError("rules", f"expected DispatchRules, got {type(rules).__name__}")
    if not ticket.is_open:
        raise ValidationError(
            "ticket", f"is {ticket.status.value}; only open tickets are dispatched"
        )
    decision = session.crm.plugin_dispatch(ticket, rules)
    turns: dict[str, AgentTurn] = {}
    if decision is None:
        group = None if rules is None else route(ticket, rules)
        if group is None:
            decision = Dispatch()
        else:
            turns = _turns(session, group)
            decision = Dispatch(group.name, _choose(session, ticket, group, turns))
    now = session.now
    if decision.assignee is not None:
        changed = assign_ticket(
            ticket, decision.assignee, now=now, by=session.actor, group=decision.group
        )
    elif decision.group is not None:
        changed = ticket.evolve(group=decision.group)
    else:
        changed = ticket
    # Saved even when unchanged: the version check proves the ticket is stored and current.
    stored = session.tickets.update(changed)
    if decision.assignee is not None and stored.group is not None:
        _remember(session, stored, turns, now)
    return stored


def _turns(session: Session, group: ServiceGroup) -> dict[str, AgentTurn]:
    """The group's turn rows by agent: one query for the whole group."""
    return {turn.agent: turn for turn in session.agent_turns.stream(group=group.name)}


def _choose(
    session: Session, ticket: Ticket, group: ServiceGroup, turns: dict[str, AgentTurn]
) -> str | None:
    last_assigned: dict[str, datetime | None] = {
        agent: turn.last_assigned_at for agent, turn in turns.items()
    }
    # A turn row starts at version 1 and every assignment rewrites it, so its version counts
    # the agent's turns; that breaks ties between equal times (a fixed clock).
    taken = {agent: turn.version for agent, turn in turns.items()}
    load: dict[str, int] = {}
    if group.strategy is DispatchStrategy.LEAST_LOADED:
        for agent in group.available:
            count = session.tickets.count(assignee=agent, is_open=True)
            # A ticket being dispatched again is not load on the agent who holds it.
            load[agent] = count - (1 if ticket.assignee == agent else 0)
    return choose_agent(group, last_assigned=last_assigned, open_load=load, turns=taken)


def _remember(session: Session, ticket: Ticket, turns: dict[str, AgentTurn], now: datetime) -> None:
    """Rewrite the assignee's turn row in the ticket's group (version-checked, so two sessions
    handing out the same turn at once conflict instead of both succeeding)."""
    assert ticket.group is not None
    assert ticket.assignee is not None
    turn = turns.get(ticket.assignee)
    if turn is None or turn.group != ticket.group:
        key = f"{ticket.group}/{ticket.assignee}"
        found = session.agent_turns.list(key=key, limit=1).items
        turn = found[0] if found else None
    if turn is None:
        session.agent_turns.add(
            AgentTurn(
                group=ticket.group,
                agent=ticket.assignee,
                last_assigned_at=now,
                last_ticket_id=ticket.id,
            )
        )
    else:
        session.agent_turns.update(turn.evolve(last_assigned_at=now, last_ticket_id=ticket.id))

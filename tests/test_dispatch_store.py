"""Dispatching stored tickets on every backend: rotation, load, plugins, refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from pycrm import (
    CRM,
    ConcurrencyConflict,
    Customer,
    Dispatch,
    DispatchRule,
    DispatchRules,
    DispatchStrategy,
    FixedClock,
    NotFound,
    ServiceGroup,
    Session,
    TicketStatus,
    ValidationError,
    hookimpl,
)
from pycrm.dispatching import dispatch_ticket
from pycrm.service.lifecycle import open_ticket, resolve_ticket
from pycrm.service.ticket import Ticket
from pycrm.storage import MemoryStore, Store

RULES = DispatchRules(
    [
        ServiceGroup("tech", ("ann", "bob", "cai")),
        ServiceGroup("complaints", ("dee", "eve"), DispatchStrategy.LEAST_LOADED),
    ],
    [DispatchRule("complaints", types=["complaint"])],
    default_group="tech",
)


def new_ticket(s: Session, **fields: Any) -> Ticket:
    """A stored ticket for a new customer, opened now."""
    customer = s.customers.add(Customer.person("Li Lei"))
    return s.tickets.add(
        open_ticket(
            customer_id=customer.id, subject="Printer jams", now=s.now, by=s.actor, **fields
        )
    )


def dispatch_new(crm: CRM, rules: DispatchRules | None = RULES, **fields: Any) -> Ticket:
    with crm.session(actor="desk") as s:
        return dispatch_ticket(s, new_ticket(s, **fields), rules)


def test_dispatch_assigns_saves_and_records_the_turn(crm: CRM, clock: FixedClock) -> None:
    dispatched = dispatch_new(crm, type="fault")
    assert (dispatched.group, dispatched.assignee) == ("tech", "ann")
    assert dispatched.status is TicketStatus.ASSIGNED
    assert dispatched.assigned_at == clock.now()
    with crm.session(actor="report") as s:
        assert s.tickets.get(dispatched.id) == dispatched
        (turn,) = s.agent_turns.list(key="tech/ann").items
        assert turn.last_ticket_id == dispatched.id
        assert turn.last_assigned_at == clock.now()
        assert s.agent_turns.count() == 1


def test_rotation_continues_across_sessions_and_restarts(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    store = store_factory()
    first = CRM(store, clock=clock)
    assignees = [dispatch_new(first).assignee for _ in range(2)]
    clock.advance(timedelta(minutes=5))
    second = CRM(store, clock=clock)  # a restart: nothing carried over in memory
    assignees += [dispatch_new(second).assignee for _ in range(5)]
    assert assignees == ["ann", "bob", "cai", "ann", "bob", "cai", "ann"]
    with second.session(actor="report") as s:
        (turn,) = s.agent_turns.list(key="tech/cai").items
        assert turn.last_assigned_at == clock.now()
        assert s.tickets.count(assignee="ann", group="tech") == 3
    second.close()


def test_rotation_is_fair_under_a_moving_clock(crm: CRM, clock: FixedClock) -> None:
    assignees = []
    for _ in range(6):
        clock.advance(timedelta(seconds=1))
        assignees.append(dispatch_new(crm).assignee)
    assert assignees == ["ann", "bob", "cai"] * 2


def test_least_loaded_counts_only_open_tickets(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="desk") as s:
        for _ in range(2):
            held = new_ticket(s, type="complaint", assignee="dee")
            s.tickets.update(resolve_ticket(held, solution="Refunded", now=s.now, by="dee"))
        new_ticket(s, type="complaint", assignee="eve")
    # dee has two resolved tickets and none open; eve has one open.
    assert dispatch_new(crm, type="complaint").assignee == "dee"
    # One open each: the tie goes to eve, who has had no turn yet; then dee has fewer.
    assert dispatch_new(crm, type="complaint").assignee == "eve"
    assert dispatch_new(crm, type="complaint").assignee == "dee"


def test_dispatching_again_does_not_count_the_ticket_against_its_holder(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        new_ticket(s, type="complaint", assignee="eve")
        ticket = new_ticket(s, type="complaint", assignee="dee")
        # dee's only open ticket is this one; eve has another: it stays with dee.
        assert dispatch_ticket(s, ticket, RULES).assignee == "dee"


def test_nobody_available_leaves_the_ticket_in_the_groups_queue(crm: CRM) -> None:
    rules = DispatchRules([ServiceGroup("tech", ("ann",), away={"ann"})], default_group="tech")
    dispatched = dispatch_new(crm, rules)
    assert (dispatched.group, dispatched.assignee) == ("tech", None)
    assert dispatched.status is TicketStatus.NEW
    with crm.session(actor="report") as s:
        assert s.tickets.get(dispatched.id).group == "tech"
        assert s.agent_turns.count() == 0


def test_no_rules_and_no_plugin_leave_the_ticket_as_it_was(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s, group="billing")
        assert dispatch_ticket(s, ticket, None) == ticket
        unmatched = DispatchRules(
            [ServiceGroup("tech", ("ann",))], [DispatchRule("tech", types=["fault"])]
        )
        assert dispatch_ticket(s, ticket, unmatched) == ticket


class Decider:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked: list[tuple[Ticket, DispatchRules | None]] = []

    @hookimpl
    def pycrm_dispatch(self, ticket: Ticket, rules: DispatchRules | None) -> Any:
        self.asked.append((ticket, rules))
        return self.answer


def test_a_plugins_decision_wins_over_the_rules(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    silent, decider, late = Decider(None), Decider(Dispatch("vip", "zoe")), Decider(Dispatch())
    # pluggy calls the last registered first: silent, then decider; late is never reached.
    crm = CRM(store_factory(), clock=clock, plugins=[late, decider, silent])
    dispatched = dispatch_new(crm, type="complaint")
    assert (dispatched.group, dispatched.assignee) == ("vip", "zoe")
    assert dispatched.status is TicketStatus.ASSIGNED
    assert silent.asked[0][1] is RULES
    assert decider.asked[0][0].id == dispatched.id
    assert not late.asked
    with crm.session(actor="report") as s:
        # The rules' complaints group took no turn: they were not consulted.
        assert s.agent_turns.count(group="complaints") == 0
        (turn,) = s.agent_turns.list(key="vip/zoe").items
        assert turn.last_ticket_id == dispatched.id
    crm.close()


def test_a_plugin_may_assign_without_rules_and_within_the_tickets_group(clock: FixedClock) -> None:
    crm = CRM(MemoryStore(), clock=clock, plugins=[Decider(Dispatch(assignee="zoe"))])
    with crm.session(actor="desk") as s:
        dispatched = dispatch_ticket(s, new_ticket(s, group="billing"), None)
        assert (dispatched.group, dispatched.assignee) == ("billing", "zoe")
        assert s.agent_turns.list(key="billing/zoe").items


def test_a_plugin_answer_must_be_a_dispatch(clock: FixedClock) -> None:
    crm = CRM(MemoryStore(), clock=clock, plugins=[Decider("zoe")])
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s)
    with crm.session(actor="desk") as s, pytest.raises(ValidationError, match="pycrm_dispatch"):
        dispatch_ticket(s, ticket, RULES)
    with crm.session(actor="report") as s:
        assert s.tickets.get(ticket.id) == ticket


def test_a_resolved_ticket_is_refused(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s, assignee="ann")
        resolved = s.tickets.update(resolve_ticket(ticket, solution="Reset", now=s.now, by="ann"))
    with crm.session(actor="desk") as s, pytest.raises(ValidationError, match="resolved") as raised:
        dispatch_ticket(s, resolved, RULES)
    assert raised.value.field == "ticket"
    with crm.session(actor="report") as s:
        assert s.tickets.get(ticket.id) == resolved
        assert s.agent_turns.count() == 0


def test_a_stale_or_unstored_ticket_is_refused_and_nothing_is_written(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s)
        s.tickets.update(ticket.evolve(subject="Printer jams on page two"))
    with crm.session(actor="desk") as s, pytest.raises(ConcurrencyConflict):
        dispatch_ticket(s, ticket, RULES)
    unstored = open_ticket(
        customer_id=ticket.customer_id, subject="Never saved", now=ticket.opened_at, by="desk"
    )
    with crm.session(actor="desk") as s, pytest.raises(NotFound):
        dispatch_ticket(s, unstored, RULES)
    with crm.session(actor="report") as s:
        assert s.tickets.get(ticket.id).assignee is None
        assert s.agent_turns.count() == 0


def test_a_failed_unit_of_work_leaves_no_turn_behind(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s)
    with pytest.raises(RuntimeError), crm.session(actor="desk") as s:
        assert dispatch_ticket(s, ticket, RULES).assignee == "ann"
        raise RuntimeError("the host's own step failed")
    with crm.session(actor="report") as s:
        assert s.tickets.get(ticket.id) == ticket
        assert s.agent_turns.count() == 0
    assert dispatch_new(crm).assignee == "ann"


def test_bad_arguments_are_refused(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = new_ticket(s)
        with pytest.raises(ValidationError) as raised:
            dispatch_ticket(s, ticket.id, RULES)  # type: ignore[arg-type]
        assert raised.value.field == "ticket"
        with pytest.raises(ValidationError) as raised:
            dispatch_ticket(s, ticket, [DispatchRule("tech")])  # type: ignore[arg-type]
        assert raised.value.field == "rules"


def test_the_desk_dispatches_by_id_in_the_callers_session(crm: CRM) -> None:
    with crm.session(actor="desk") as s:
        ticket = s.service.open(
            s.customers.add(Customer.person("Han Mei")), "Charged twice", type="complaint"
        )
        dispatched = s.service.dispatch(ticket.id, RULES)
        assert (dispatched.group, dispatched.assignee) == ("complaints", "dee")
        again = s.service.dispatch(
            s.service.open(ticket.customer_id, "Still charged twice", type="complaint"), RULES
        )
        assert again.assignee == "eve"  # least loaded: dee holds one open complaint
    with crm.session() as s, pytest.raises(ValidationError):
        s.service.dispatch(ticket.id, "complaints")  # type: ignore[arg-type]
    with crm.session() as s:
        assert s.tickets.get(ticket.id).assignee == "dee"

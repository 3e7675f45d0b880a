"""The ticket status machine: the moves a help desk makes, and the ones it must refuse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import IllegalTransition, ValidationError
from pycrm.pipeline import advance, start
from pycrm.service.status import PAUSED_STATUSES, TicketStatus, ticket_machine

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
S = TicketStatus


def test_a_ticket_walks_the_usual_path_with_a_pause_and_a_reopening() -> None:
    machine = ticket_machine()
    state, _ = start(machine, now=NOW, by="desk")
    path = [
        (S.ASSIGNED, None),
        (S.IN_PROGRESS, None),
        (S.WAITING_ON_CUSTOMER, None),
        (S.IN_PROGRESS, None),
        (S.RESOLVED, None),
        (S.IN_PROGRESS, "the fix did not hold"),
        (S.RESOLVED, None),
        (S.CLOSED, None),
    ]
    for minutes, (status, reason) in enumerate(path, start=1):
        state, _ = advance(
            state,
            status.value,
            now=NOW + timedelta(minutes=minutes),
            by="agent",
            machine=machine,
            reason=reason,
        )
    assert [visit.stage for visit in state.history] == ["new", *(s.value for s, _ in path)]
    assert machine.stage("closed").terminal
    assert machine.stage("new").labels["zh-CN"] == "新建"


def test_reopening_needs_a_reason_and_closed_stays_closed() -> None:
    machine = ticket_machine()
    state, _ = start(machine, now=NOW, by="desk")
    state, _ = advance(state, "resolved", now=NOW, by="agent", machine=machine)
    with pytest.raises(ValidationError) as caught:
        advance(state, "in_progress", now=NOW, by="agent", machine=machine)
    assert caught.value.field == "reason"
    state, _ = advance(state, "closed", now=NOW, by="agent", machine=machine)
    with pytest.raises(IllegalTransition):
        advance(state, "in_progress", now=NOW, by="agent", machine=machine, reason="again")


def test_waiting_is_the_only_paused_status() -> None:
    assert {s.value for s in PAUSED_STATUSES} == {"waiting_on_customer"}
    assert set(ticket_machine().keys) == {s.value for s in TicketStatus}


@given(st.lists(st.sampled_from([s.value for s in TicketStatus]), max_size=30))
def test_random_moves_never_reach_an_undeclared_status(moves: list[str]) -> None:
    machine = ticket_machine()
    state, _ = start(machine, now=NOW, by="desk")
    for target in moves:
        try:
            state, _ = advance(
                state, target, now=NOW, by="agent", machine=machine, reason="customer asked"
            )
        except IllegalTransition:
            assert target not in machine.targets(state.stage)
        assert state.stage in machine.keys
    # Every open status can still end the ticket: resolved is one move away.
    if not machine.stage(state.stage).terminal and state.stage != "resolved":
        assert "resolved" in machine.targets(state.stage)

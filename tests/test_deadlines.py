"""Stage deadlines and staleness: when a deal is overdue or has gone quiet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    Money,
    Stage,
    StageMachine,
    Transition,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    is_overdue,
    is_stale,
    open_opportunity,
    stage_deadline,
    stale_since,
)

SALES = default_pipeline()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def confirmed_deal():  # type: ignore[no-untyped-def]
    deal, _ = open_opportunity(
        customer_id="cus_1", title="t", amount=Money(1000, "CNY"), owner="alice", now=T0, by="alice"
    )
    deal, _ = advance_opportunity(
        deal, "needs_confirmed", now=T0 + timedelta(days=1), by="alice", machine=SALES
    )
    return deal


def test_needs_confirmation_must_turn_into_a_proposal_within_three_days() -> None:
    deal = confirmed_deal()
    due = T0 + timedelta(days=4)
    assert stage_deadline(deal.stage_state, SALES) == due
    assert not is_overdue(deal.stage_state, SALES, now=due)
    assert is_overdue(deal.stage_state, SALES, now=due + timedelta(seconds=1))
    moved, _ = deliver(deal, "needs_document", now=due)
    moved, _ = advance_opportunity(moved, "proposal", now=due, by="alice", machine=SALES)
    assert stage_deadline(moved.stage_state, SALES) == due + timedelta(days=14)


def test_activity_postpones_staleness() -> None:
    state = confirmed_deal().stage_state
    entered = T0 + timedelta(days=1)
    assert stale_since(state, SALES, last_activity=None) == entered + timedelta(days=7)
    call = entered + timedelta(days=5)
    assert stale_since(state, SALES, last_activity=call) == call + timedelta(days=7)
    older = entered - timedelta(days=30)  # activity before the move does not count
    assert stale_since(state, SALES, last_activity=older) == entered + timedelta(days=7)
    assert is_stale(state, SALES, last_activity=None, now=entered + timedelta(days=8))
    assert not is_stale(state, SALES, last_activity=call, now=entered + timedelta(days=8))


def test_terminal_stages_have_no_clock() -> None:
    deal = confirmed_deal()
    lost, _ = advance_opportunity(
        deal, "lost", now=T0 + timedelta(days=2), by="bob", machine=SALES, reason="no budget"
    )
    far = T0 + timedelta(days=400)
    assert stage_deadline(lost.stage_state, SALES) is None
    assert not is_overdue(lost.stage_state, SALES, now=far)
    assert not is_stale(lost.stage_state, SALES, last_activity=None, now=far)
    with pytest.raises(ValidationError) as info:
        Stage(key="done", terminal=True, deadline=timedelta(days=1))
    assert info.value.field == "deadline"


@pytest.mark.parametrize(
    ("value", "problem"), [(timedelta(0), "longer than zero"), ("3 days", "timedelta")]
)
def test_bad_durations_name_the_field(value: object, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        Stage(key="s", stale_after=value)
    assert (info.value.field, problem in info.value.problem) == ("stale_after", True)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        is_overdue(confirmed_deal().stage_state, SALES, now=datetime(2026, 3, 9))
    assert info.value.field == "now"


@given(
    deadline=st.none() | st.integers(1, 10**8),
    stale=st.none() | st.integers(1, 10**8),
)
def test_durations_round_trip_through_json(deadline: int | None, stale: int | None) -> None:
    machine = StageMachine(
        name="m",
        stages=(
            Stage(key="a", deadline=deadline, stale_after=stale),
            Stage(key="z", terminal=True),
        ),
        transitions=(Transition(source="a", target="z"),),
    )
    assert StageMachine.from_dict(machine.to_dict()) == machine
    assert machine.to_dict()["stages"][0]["deadline"] == deadline
    assert StageMachine.from_dict(SALES.to_dict()) == SALES

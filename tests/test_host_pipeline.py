"""A host pipeline with its own stage names: won, lost and open come from the stages'
outcomes, so storage filters, forecasts and assignment load judge its deals correctly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from pycrm import (
    CRM,
    Customer,
    FixedClock,
    ForecastGroup,
    Money,
    Opportunity,
    Stage,
    StageMachine,
    StageOutcome,
    Transition,
    ValidationError,
    forecast_by,
    hookimpl,
    open_opportunity,
)
from pycrm.pipeline.forecast import won_on


def hosted_pipeline() -> StageMachine:
    """``new`` -> ``qualified`` -> ``closed_won``, and ``closed_lost`` (with a reason) from
    either open stage: none of the default pipeline's stage keys."""
    stages = (
        Stage(key="new", probability="0.2"),
        Stage(key="qualified", probability="0.5"),
        Stage(key="closed_won", terminal=True, probability="1", outcome="won"),
        Stage(key="closed_lost", terminal=True, probability="0", outcome=StageOutcome.LOST),
    )
    return StageMachine(
        name="hosted",
        stages=stages,
        transitions=(
            Transition(source="new", target="qualified"),
            Transition(source="qualified", target="closed_won"),
            Transition(source="new", target="closed_lost", requires_reason=True),
            Transition(source="qualified", target="closed_lost", requires_reason=True),
        ),
    )


class Hosted:
    @hookimpl
    def pycrm_pipelines(self, register: Callable[[StageMachine], None]) -> None:
        register(hosted_pipeline())


def _open(crm: CRM, customer_id: str, title: str, amount: str) -> Opportunity:
    with crm.session(actor="alice") as s:
        deal, _ = open_opportunity(
            customer_id=customer_id,
            title=title,
            amount=Money(amount, "CNY"),
            owner="alice",
            now=crm.clock.now(),
            by="alice",
            machine=crm.pipeline("hosted"),
            expected_close=date(2026, 9, 30),
        )
        return s.opportunities.add(deal)


def _three_deals(crm: CRM, clock: FixedClock) -> tuple[Opportunity, Opportunity, Opportunity]:
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme"))
    won = _open(crm, customer.id, "Won", "1000")
    lost = _open(crm, customer.id, "Lost", "500")
    still_open = _open(crm, customer.id, "Open", "200")
    clock.advance(days=3)
    with crm.session(actor="alice") as s:
        won = s.advance(s.advance(won, "qualified"), "closed_won")
        lost = s.advance(lost, "closed_lost", reason="went with a rival")
        still_open = s.advance(still_open, "qualified")
    return won, lost, still_open


def test_outcomes_are_recorded_and_filtered_on_every_backend(
    store_factory: Callable[..., Any], clock: FixedClock
) -> None:
    crm = CRM(store_factory(), clock=clock, plugins=[Hosted()])
    won, lost, still_open = _three_deals(crm, clock)
    with crm.session() as s:
        stored = {d.title: d for d in s.opportunities.stream(pipeline="hosted")}
        assert [(d.is_won, d.is_lost, d.is_open) for d in stored.values()] == [
            (True, False, False),
            (False, True, False),
            (False, False, True),
        ]
        assert list(stored.values()) == [won, lost, still_open]
        assert stored["Won"].outcome is StageOutcome.WON
        assert stored["Lost"].lost_reason == "went with a rival"
        assert stored["Open"].outcome is None
        assert [d.id for d in s.opportunities.list(is_open=True)] == [still_open.id]
        assert [d.id for d in s.opportunities.list(is_open=False)] == [won.id, lost.id]
        assert [d.id for d in s.opportunities.list(outcome="won")] == [won.id]
        assert [d.id for d in s.opportunities.list(outcome=StageOutcome.LOST)] == [lost.id]
        assert [d.id for d in s.opportunities.list(outcome=None)] == [still_open.id]
        # Assignment counts a rep's load as her open deals.
        assert s.opportunities.count(owner="alice", is_open=True) == 1
        with pytest.raises(ValidationError) as info:
            s.opportunities.count(outcome="maybe")
        assert info.value.field == "outcome"


def test_forecast_judges_host_deals_by_outcome(clock: FixedClock) -> None:
    crm = CRM.memory(clock=clock, plugins=[Hosted()])
    won, lost, still_open = _three_deals(crm, clock)
    machine = crm.pipeline("hosted")
    won_day = clock.now().date()
    assert won_on(won, machine) == won_day
    assert won_on(lost, machine) is None
    assert won_on(still_open, machine) is None
    grouped = forecast_by([won, lost, still_open], machine, group=ForecastGroup.MONTH)
    assert grouped == {
        f"{won_day.year:04d}-{won_day.month:02d}": {"CNY": Money("1000", "CNY")},
        "2026-09": {"CNY": Money(Decimal("100.0"), "CNY")},
    }


def test_the_outcome_is_set_by_the_pipeline(clock: FixedClock) -> None:
    with pytest.raises(ValidationError) as info:
        open_opportunity(
            customer_id="cus_1",
            title="Deal",
            amount=Money("1", "CNY"),
            owner=None,
            now=clock.now(),
            by="alice",
            machine=hosted_pipeline(),
            outcome="won",
        )
    assert info.value.field == "outcome"

"""Pipelines and stage changes through plugins: registering machines and vetoing moves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from pycrm import (
    CRM,
    Customer,
    FixedClock,
    GateRefused,
    IllegalTransition,
    Money,
    Opportunity,
    PluginError,
    Stage,
    StageMachine,
    Transition,
    ValidationError,
    deliver,
    hookimpl,
    open_opportunity,
)


def _service_pipeline() -> StageMachine:
    return StageMachine(
        name="renewals",
        stages=(Stage(key="due"), Stage(key="renewed", terminal=True)),
        transitions=(Transition(source="due", target="renewed"),),
    )


class Renewals:
    @hookimpl
    def pycrm_pipelines(self, register: Callable[[StageMachine], None]) -> None:
        register(_service_pipeline())


class CreditCheck:
    """Vetoes proposals above a credit limit, as a host's ERP might."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    @hookimpl
    def pycrm_validate_stage_change(
        self, subject: Opportunity, source: str, target: str, context: Mapping[str, Any]
    ) -> str | None:
        self.asked.append((source, target))
        if target == "proposal" and subject.amount.amount > Decimal(context.get("limit", 10**6)):
            return "over the customer's credit limit"
        return None


def test_builtin_and_plugin_pipelines_are_registered() -> None:
    crm = CRM.memory(plugins=[Renewals()])
    assert set(crm.pipelines) == {"sales", "renewals"}
    assert crm.pipeline("renewals") == _service_pipeline()
    with pytest.raises(ValidationError) as info:
        crm.pipeline("nope")
    assert info.value.field == "pipeline"
    with pytest.raises(PluginError, match="already registered"):
        CRM.memory(plugins=[Renewals(), Renewals()])


def _opportunity(crm: CRM, clock: FixedClock, amount: str) -> Opportunity:
    with crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme"))
        opportunity, _ = open_opportunity(
            customer_id=customer.id,
            title="Drills",
            amount=Money(amount, "CNY"),
            owner="alice",
            now=clock.now(),
            by="alice",
        )
        opportunity = s.opportunities.add(opportunity)
        opportunity = s.advance(opportunity, "needs_confirmed")
        delivered, _ = deliver(opportunity, "needs_document", now=clock.now())
        return s.opportunities.update(delivered)


def test_plugin_veto_changes_nothing_and_names_the_plugin(clock: FixedClock) -> None:
    check = CreditCheck()
    crm = CRM.memory(clock=clock, plugins=[check])
    opportunity = _opportunity(crm, clock, "2000000")
    clock.advance(days=1)
    with pytest.raises(GateRefused) as info, crm.session(actor="alice") as s:
        s.advance(opportunity, "proposal")
    assert "over the customer's credit limit" in str(info.value)
    assert list(info.value.refusals) == [crm.plugins.get_name(check)]
    with crm.session() as s:
        assert s.opportunities.get(opportunity.id) == opportunity
    with crm.session(actor="bob") as s:
        moved = s.advance(opportunity, "proposal", context={"limit": 5_000_000})
    assert (moved.stage, moved.stage_state.current.entered_by) == ("proposal", "bob")
    assert moved.stage_state.current.entered_at == clock.now()
    assert check.asked[-1] == ("needs_confirmed", "proposal")


def test_pipeline_rules_come_before_plugins(clock: FixedClock) -> None:
    check = CreditCheck()
    crm = CRM.memory(clock=clock, plugins=[check])
    opportunity = _opportunity(crm, clock, "100")
    asked = len(check.asked)
    with pytest.raises(IllegalTransition), crm.session() as s:
        s.advance(opportunity, "deal_review")
    with pytest.raises(ValidationError) as info, crm.session() as s:
        s.advance(opportunity, "lost")
    assert info.value.field == "reason"
    assert len(check.asked) == asked  # plugins were not asked about moves the pipeline refuses


def test_advance_on_every_backend(store_factory: Callable[..., Any], clock: FixedClock) -> None:
    crm = CRM(store_factory(), clock=clock, plugins=[CreditCheck()])
    opportunity = _opportunity(crm, clock, "100")
    with crm.session(actor="carol") as s:
        s.advance(opportunity, "lost", reason="budget frozen")
    with crm.session() as s:
        stored = s.opportunities.get(opportunity.id)
        assert (stored.stage, stored.lost_reason) == ("lost", "budget frozen")
        assert s.opportunities.count(stage="lost") == 1

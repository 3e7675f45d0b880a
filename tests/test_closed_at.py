"""When a deal closed: set by the pipeline on the move that decides it, kept by moves that
do not, stored and filtered on by every backend, and filled in by migration 0015."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import NullPool

from conftest import BACKENDS, sql_url
from pycrm import (
    CRM,
    Customer,
    FixedClock,
    Money,
    Opportunity,
    Range,
    Stage,
    StageMachine,
    StageOutcome,
    Transition,
    ValidationError,
    advance_opportunity,
    deliver,
    hookimpl,
    open_opportunity,
)
from pycrm.pipeline import default_pipeline
from pycrm.storage import Store
from pycrm.storage.sqlalchemy import SqlStore, upgrade
from pycrm.storage.sqlalchemy.migrate import alembic_config
from pycrm.testing import strategies as pst

SALES = default_pipeline()
START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)
KEY = "closed-at-tests-identity-key"
FORWARD = ("needs_confirmed", "proposal", "negotiation", "contract_signed", "deal_review")


def fallible_pipeline() -> StageMachine:
    """A signed deal may still fall through: ``signed`` (won) can move to ``lost``."""
    return StageMachine(
        name="fallible",
        stages=(
            Stage(key="talk", probability="0.3"),
            Stage(key="signed", probability="1", outcome="won"),
            Stage(key="lost", terminal=True, probability="0", outcome="lost"),
        ),
        transitions=(
            Transition(source="talk", target="signed"),
            Transition(source="talk", target="lost"),
            Transition(source="signed", target="lost"),
        ),
    )


class Fallible:
    @hookimpl
    def pycrm_pipelines(self, register: Callable[[StageMachine], None]) -> None:
        register(fallible_pipeline())


def opened(customer_id: str = "cus_1", machine: StageMachine = SALES) -> Opportunity:
    deal, _ = open_opportunity(
        customer_id=customer_id,
        title="MES rollout",
        amount=Money("1000", "CNY"),
        owner="alice",
        now=START,
        by="alice",
        machine=machine,
    )
    return deal


def walk(
    deal: Opportunity, *stages: str, machine: StageMachine = SALES, start: int = 1
) -> Opportunity:
    """Advance through ``stages`` a day apart, delivering what each gate needs first."""
    for day, stage in enumerate(stages, start):
        now = START + day * DAY
        for key in machine.stage(deal.stage).required_deliverables:
            deal, _ = deliver(deal, key, now=now, machine=machine)
        deal, _ = advance_opportunity(
            deal, stage, now=now, by="alice", machine=machine, reason="gone quiet"
        )
    return deal


# -- the pipeline sets it --------------------------------------------------------------------


def test_an_open_deal_has_not_closed() -> None:
    assert opened().closed_at is None
    assert walk(opened(), "needs_confirmed", "proposal").closed_at is None


def test_the_win_is_the_first_won_stage_and_a_review_keeps_it() -> None:
    signed = walk(opened(), *FORWARD[:4])
    assert signed.closed_at == START + 4 * DAY
    reviewed = walk(signed, "deal_review", start=9)
    assert reviewed.stage == "deal_review"
    assert reviewed.closed_at == START + 4 * DAY


def test_a_loss_closes_when_it_happens() -> None:
    lost = walk(opened(), "needs_confirmed", "lost")
    assert lost.closed_at == START + 2 * DAY


def test_a_won_deal_that_falls_through_closes_again_when_lost() -> None:
    machine = fallible_pipeline()
    signed = walk(opened(machine=machine), "signed", machine=machine)
    assert signed.closed_at == START + DAY
    lost = walk(signed, "lost", machine=machine, start=5)
    assert lost.is_lost
    assert lost.closed_at == START + 5 * DAY


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_closed_at_is_the_entry_into_the_first_stage_of_the_outcome(data: st.DataObject) -> None:
    deal = data.draw(pst.opportunities("cus_1"))
    outcome_stages = [
        v.entered_at
        for v in deal.stage_state.history
        if deal.outcome is not None and SALES.outcome(v.stage) is deal.outcome
    ]
    if deal.outcome is None:
        assert deal.closed_at is None
    else:
        assert deal.closed_at == outcome_stages[0]


def test_closed_at_is_the_pipelines_to_set_and_is_checked() -> None:
    with pytest.raises(ValidationError) as refused:
        open_opportunity(
            customer_id="cus_1",
            title="Deal",
            amount=Money("1", "CNY"),
            owner=None,
            now=START,
            by="alice",
            closed_at=START,
        )
    assert refused.value.field == "closed_at"
    won = walk(opened(), *FORWARD[:4])
    for bad, problem in [
        (None, "needs the moment"),
        (START - DAY, "outside"),
        (START + 30 * DAY, "outside"),
        ("yesterday", "closed_at"),
    ]:
        with pytest.raises(ValidationError, match=problem) as caught:
            won.evolve(closed_at=bad)
        assert caught.value.field == "closed_at"
    with pytest.raises(ValidationError, match="open deal") as caught:
        opened().evolve(closed_at=START)
    assert caught.value.field == "closed_at"


def test_a_closed_deal_built_without_the_moment_closed_entering_its_stage() -> None:
    won = walk(opened(), *FORWARD)
    fields = {a: getattr(won, a) for a in ("customer_id", "title", "amount", "stage_state")}
    rebuilt = Opportunity(**fields, outcome=StageOutcome.WON)
    assert rebuilt.closed_at == won.stage_state.entered_at


# -- stores keep it and filter on it -----------------------------------------------------------


@pytest.fixture
def fallible_crm(store_factory: Callable[[], Store], clock: FixedClock) -> CRM:
    return CRM(store_factory(), clock=clock, plugins=[Fallible()], identity_key=KEY)


def test_stores_keep_closed_at_and_filter_the_period_on_it(fallible_crm: CRM) -> None:
    machine = fallible_pipeline()
    with fallible_crm.session(actor="alice") as s:
        customer = s.customers.add(Customer.company("Acme"))
        deals = {
            "open": opened(customer.id, machine),
            "won_day_1": walk(opened(customer.id, machine), "signed", machine=machine),
            "won_day_3": walk(opened(customer.id, machine), "signed", machine=machine, start=3),
            "lost_day_2": walk(opened(customer.id, machine), "lost", machine=machine, start=2),
        }
        for deal in deals.values():
            s.opportunities.add(deal)
    with fallible_crm.session(actor="alice") as s:
        for deal in deals.values():
            assert s.opportunities.get(deal.id).closed_at == deal.closed_at
        won_early = s.opportunities.list(
            outcome=StageOutcome.WON, closed_at=Range(START, START + 2 * DAY)
        )
        assert [d.id for d in won_early] == [deals["won_day_1"].id]
        closed = s.opportunities.count(closed_at=Range(START + 2 * DAY, START + 4 * DAY))
        assert closed == 2
        # A signed deal that falls through leaves the won deals of its old day.
        fell = walk(s.opportunities.get(deals["won_day_1"].id), "lost", machine=machine, start=6)
        s.opportunities.update(fell)
    with fallible_crm.session(actor="alice") as s:
        assert s.opportunities.count(outcome="won", closed_at=Range(START, START + 2 * DAY)) == 0
        assert s.opportunities.get(deals["won_day_1"].id).closed_at == START + 6 * DAY


# -- migration 0015 fills it in ----------------------------------------------------------------


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sql_url(request.param, tmp_path)


def test_migration_0015_fills_closed_at_from_the_stage_visits(url: str) -> None:
    prefix = f"t{uuid4().hex[:8]}_"
    store = SqlStore.from_url(url, table_prefix=prefix)
    store.ensure_schema()
    crm = CRM(store, identity_key=KEY)
    try:
        with crm.session(actor="alice") as s:
            customer = s.customers.add(Customer.company("Acme"))
            deals = [
                opened(customer.id),
                walk(opened(customer.id), "needs_confirmed", "lost"),
                walk(opened(customer.id), *FORWARD[:4]),
                walk(opened(customer.id), *FORWARD, start=3),
            ]
            s.opportunities.add_many(deals)
        deals_table = store.tables.opportunities
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn, table_prefix=prefix), "0014")
            assert "closed_at" not in {
                c["name"] for c in sa.inspect(conn).get_columns(deals_table.name)
            }
        upgrade(url, table_prefix=prefix)
        with crm.session(actor="alice") as s:
            for deal in deals:
                assert s.opportunities.get(deal.id).closed_at == deal.closed_at
            assert s.opportunities.count(closed_at=Range(START + 4 * DAY, START + 5 * DAY)) == 1
    finally:
        store.close()
        _drop(url, prefix)


def _drop(url: str, prefix: str) -> None:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn, table_prefix=prefix), "base")
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {prefix}alembic_version"))
    finally:
        engine.dispose()

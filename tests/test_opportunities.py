"""Opportunities on the default sales pipeline: the pure domain, then storage on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycrm import (
    CRM,
    ConcurrencyConflict,
    Customer,
    FixedClock,
    GateRefused,
    IllegalTransition,
    Money,
    Opportunity,
    ValidationError,
    advance_opportunity,
    default_pipeline,
    deliver,
    forecast,
    open_opportunity,
    set_manual_probability,
)
from pycrm.pipeline import StageEvent, StageMachine, StageVisit
from pycrm.storage import Store
from pycrm.testing import strategies as pst

SALES = default_pipeline()
START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)


class Boom(Exception):
    pass


def opened(**fields: object) -> Opportunity:
    fields.setdefault("amount", Money("120000.00", "CNY"))
    opportunity, _ = open_opportunity(
        customer_id="cus_1",
        title="MES rollout, plant 2",
        owner="alice",
        now=START,
        by="alice",
        **fields,  # type: ignore[arg-type]
    )
    return opportunity


def walk(opportunity: Opportunity, *stages: str, start: int = 1) -> Opportunity:
    """Advance through ``stages`` a day apart, delivering what each gate needs first."""
    for day, stage in enumerate(stages, start):
        now = START + day * DAY
        for key in SALES.stage(opportunity.stage).required_deliverables:
            opportunity, _ = deliver(opportunity, key, now=now)
        opportunity, _ = advance_opportunity(opportunity, stage, now=now, by="alice", machine=SALES)
    return opportunity


FORWARD = ("needs_confirmed", "proposal", "negotiation", "contract_signed", "deal_review")


# -- the default pipeline ------------------------------------------------------------------


def test_default_pipeline_is_the_sales_process() -> None:
    assert SALES.name == "sales"
    assert SALES.keys == ("initial_contact", *FORWARD, "lost")
    assert SALES.initial == "initial_contact"
    assert SALES.stages_with("won") == ("contract_signed", "deal_review")
    assert SALES.stages_with("lost") == ("lost",)
    assert [SALES.stage(k).label("zh-CN") for k in SALES.keys] == [
        "初步接触",
        "需求确认",
        "方案提交",
        "商务谈判",
        "合同签订",
        "成交复盘",
        "输单",
    ]
    assert SALES.stage("proposal").label("en") == "Proposal"
    assert [SALES.stage(k).probability for k in SALES.keys] == [
        Decimal(p) for p in ("0.10", "0.25", "0.50", "0.70", "1.00", "1.00", "0")
    ]
    assert SALES.stage("needs_confirmed").required_deliverables == ("needs_document",)
    assert SALES.stage("proposal").required_deliverables == ("quote",)
    assert SALES.stage("contract_signed").required_deliverables == ("signed_contract",)
    assert all(SALES.stage(k).actions for k in SALES.keys)
    for key in SALES.keys:
        if not SALES.stage(key).terminal:
            move = SALES.transition(key, "lost")
            assert move is not None
            assert move.requires_reason
            assert move.waive_deliverables
    assert StageMachine.from_dict(SALES.to_dict()) == SALES
    assert default_pipeline() is SALES


# -- the domain ----------------------------------------------------------------------------


def test_open_puts_a_deal_in_initial_contact_with_one_event() -> None:
    opportunity, events = open_opportunity(
        customer_id="cus_1",
        title="MES rollout",
        amount=Money("1000", "CNY"),
        owner="alice",
        now=START,
        by="bob",
        team="east",
        expected_close="2026-06-30",
    )
    assert opportunity.id.startswith("opp_")
    assert opportunity.stage == "initial_contact"
    assert opportunity.pipeline == "sales"
    assert opportunity.expected_close == date(2026, 6, 30)
    assert opportunity.is_open
    assert not opportunity.is_won
    assert opportunity.stage_state.history == (
        StageVisit(stage="initial_contact", entered_at=START, entered_by="bob"),
    )
    assert events == [
        StageEvent(machine="sales", source=None, target="initial_contact", at=START, by="bob")
    ]


def test_a_full_walk_to_deal_review_records_every_visit() -> None:
    opportunity = walk(opened(), *FORWARD[:-1])
    assert opportunity.stage == "contract_signed"
    assert opportunity.is_won
    assert not opportunity.is_open
    assert opportunity.probability(SALES) == Decimal("1.00")
    opportunity, _ = deliver(opportunity, "signed_contract", now=START + 5 * DAY)
    opportunity, events = advance_opportunity(
        opportunity, "deal_review", now=START + 5 * DAY, by="bob", machine=SALES
    )
    assert events == [
        StageEvent(
            machine="sales",
            source="contract_signed",
            target="deal_review",
            at=START + 5 * DAY,
            by="bob",
        )
    ]
    assert opportunity.stage == "deal_review"
    assert opportunity.is_won
    assert opportunity.deliverables == {"needs_document", "quote", "signed_contract"}
    assert [v.stage for v in opportunity.stage_state.history] == ["initial_contact", *FORWARD]
    expected = dict.fromkeys(("initial_contact", *FORWARD[:-1]), DAY)
    assert opportunity.stage_state.durations() == expected
    assert opportunity.lost_reason is None


def test_lost_from_any_open_stage_records_the_reason_without_deliverables() -> None:
    opportunity = walk(opened(), "needs_confirmed", "proposal")
    assert "quote" not in opportunity.deliverables
    lost, events = advance_opportunity(
        opportunity,
        "lost",
        now=START + 9 * DAY,
        by="bob",
        machine=SALES,
        reason="budget moved to next year",
    )
    assert lost.stage == "lost"
    assert lost.lost_reason == "budget moved to next year"
    assert lost.stage_state.current.reason == "budget moved to next year"
    assert not lost.is_open
    assert not lost.is_won
    assert lost.probability(SALES) == 0
    assert isinstance(events[0], StageEvent)
    assert events[0].reason == "budget moved to next year"
    with pytest.raises(IllegalTransition):
        advance_opportunity(lost, "proposal", now=START + 10 * DAY, by="bob", machine=SALES)


def test_negotiation_may_step_back_to_a_new_proposal() -> None:
    opportunity = walk(opened(), "needs_confirmed", "proposal", "negotiation", "proposal")
    assert [v.stage for v in opportunity.stage_state.history][-2:] == ["negotiation", "proposal"]


def _refused(opportunity: Opportunity, error: type[Exception], match: str, **kw: object) -> None:
    before = attrs.asdict(opportunity, recurse=False)
    arguments: dict[str, object] = {"now": START + DAY, "by": "alice", "machine": SALES}
    arguments.update(kw)
    to = arguments.pop("to")
    with pytest.raises(error, match=match):
        advance_opportunity(opportunity, to, **arguments)  # type: ignore[arg-type]
    assert attrs.asdict(opportunity, recurse=False) == before


def test_every_refused_move_leaves_the_opportunity_unchanged() -> None:
    opportunity = opened()
    _refused(opportunity, ValidationError, "not a stage", to="won_somehow")
    _refused(opportunity, IllegalTransition, "contract_signed", to="contract_signed")
    _refused(opportunity, ValidationError, "reason", to="lost")
    _refused(opportunity, ValidationError, "before", to="needs_confirmed", now=START - DAY)
    confirmed = walk(opportunity, "needs_confirmed")
    _refused(confirmed, GateRefused, "needs_document", to="proposal", now=START + 2 * DAY)
    with pytest.raises(GateRefused) as refused:
        advance_opportunity(confirmed, "proposal", now=START + 2 * DAY, by="a", machine=SALES)
    assert refused.value.missing == ("needs_document",)
    other = StageMachine(name="other", stages=SALES.stages, transitions=SALES.transitions)
    _refused(confirmed, ValidationError, "pipeline", to="proposal", machine=other)


def test_bad_values_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="amount"):
        opened(amount=Money("-1", "CNY"))
    with pytest.raises(ValidationError, match="amount"):
        opened(amount="100")
    with pytest.raises(ValidationError, match="stage_state"):
        opened(stage_state=None)
    with pytest.raises(ValidationError, match="title"):
        open_opportunity(
            customer_id="cus_1", title=" ", amount=Money(1, "CNY"), owner="a", now=START, by="a"
        )
    with pytest.raises(ValidationError, match="now"):
        open_opportunity(
            customer_id="cus_1",
            title="x",
            amount=Money(1, "CNY"),
            owner="a",
            now=START.replace(tzinfo=None),
            by="a",
        )
    opportunity = opened()
    with pytest.raises(ValidationError, match="amount"):
        opportunity.evolve(amount=Money("-0.01", "CNY"))


def test_deliver_takes_only_declared_keys_of_open_deals() -> None:
    opportunity = opened()
    before = attrs.asdict(opportunity, recurse=False)
    with pytest.raises(ValidationError, match="key") as error:
        deliver(opportunity, "qoute", now=START)
    assert "quote" in str(error.value)
    with pytest.raises(ValidationError, match="now"):
        deliver(opportunity, "quote", now=START - DAY)
    assert attrs.asdict(opportunity, recurse=False) == before
    delivered, events = deliver(opportunity, "quote", now=START)
    assert delivered.deliverables == {"quote"}
    assert events == []
    assert deliver(delivered, "quote", now=START)[0] is delivered
    lost, _ = advance_opportunity(
        opportunity, "lost", now=START, by="a", machine=SALES, reason="no budget"
    )
    with pytest.raises(ValidationError, match="closed"):
        deliver(lost, "quote", now=START)


def test_manual_probability_is_kept_beside_the_stage_probability() -> None:
    opportunity = walk(opened(amount=Money("200.00", "USD")), "needs_confirmed", "proposal")
    assert opportunity.probability(SALES) == Decimal("0.50")
    assert opportunity.weighted_amount(SALES) == Money("100.00", "USD")
    hopeful, events = set_manual_probability(opportunity, "0.8")
    assert events == []
    assert hopeful.manual_probability == Decimal("0.8")
    assert SALES.stage(hopeful.stage).probability == Decimal("0.50")
    assert hopeful.probability(SALES) == Decimal("0.8")
    assert hopeful.weighted_amount(SALES) == Money("160", "USD")
    assert set_manual_probability(hopeful, None)[0].probability(SALES) == Decimal("0.50")
    for bad in ("1.5", "-0.1", 0.5, "0.12345", "abc"):
        with pytest.raises(ValidationError, match="manual_probability"):
            set_manual_probability(opportunity, bad)  # type: ignore[arg-type]
    lost, _ = advance_opportunity(
        opportunity, "lost", now=START + 5 * DAY, by="a", machine=SALES, reason="price"
    )
    with pytest.raises(ValidationError, match="closed"):
        set_manual_probability(lost, "0.5")


def test_open_leaves_the_pipelines_fields_to_the_pipeline() -> None:
    for field in ("stage_state", "pipeline", "deliverables", "lost_reason"):
        with pytest.raises(ValidationError, match=field):
            opened(**{field: None})


@given(data=st.data())
def test_forecast_sums_weighted_amounts_per_currency(data: st.DataObject) -> None:
    deals = data.draw(st.lists(pst.opportunities("cus_1"), max_size=8))
    totals = forecast(deals, SALES)
    for deal in deals:
        weighted = deal.weighted_amount(SALES)
        assert Money.zero(weighted.currency) <= weighted <= deal.amount
    assert set(totals) == {deal.amount.currency for deal in deals}
    for currency, total in totals.items():
        expected = sum(
            (d.weighted_amount(SALES).amount for d in deals if d.amount.currency == currency),
            Decimal(0),
        )
        assert total == Money(expected, currency)


def test_forecast_of_nothing_is_empty_and_other_pipelines_are_refused() -> None:
    assert forecast([], SALES) == {}
    other = StageMachine(name="other", stages=SALES.stages, transitions=SALES.transitions)
    with pytest.raises(ValidationError, match="pipeline"):
        forecast([opened()], other)


# -- storage on every backend --------------------------------------------------------------


def _customer(crm: CRM) -> Customer:
    with crm.session(actor="alice") as s:
        return s.customers.add(Customer.company("华东精密制造有限公司"))


def _open(customer: Customer, clock: FixedClock, **fields: object) -> Opportunity:
    fields.setdefault("amount", Money("88000.50", "CNY"))
    fields.setdefault("owner", "alice")
    opportunity, _ = open_opportunity(
        customer_id=customer.id,
        title="Line-side kanban",
        now=clock.now(),
        by="alice",
        **fields,  # type: ignore[arg-type]
    )
    return opportunity


def test_opportunity_is_stored_advanced_and_read_back_exactly(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session(actor="alice") as s:
        stored = s.opportunities.add(
            _open(customer, clock, team="east", custom_fields={"crm_ref": "X-1"})
        )
    clock.advance(hours=5)
    changed, _ = deliver(stored, "needs_document", now=clock.now())
    changed = walk(changed, "needs_confirmed", "proposal", start=1)
    changed, _ = set_manual_probability(changed, "0.65")
    with crm.session(actor="bob") as s:
        updated = s.opportunities.update(changed)
    assert updated.version == 2
    with crm.session() as s:
        read = s.opportunities.get(stored.id)
        assert read == updated
        assert read.stage_state.history == updated.stage_state.history
        assert read.deliverables == {"needs_document"}
        assert read.manual_probability == Decimal("0.65")
        assert [e.action.value for e in s.audit.for_entity(read)] == ["created", "changed"]
    clock.advance(days=10)
    lost, _ = advance_opportunity(
        read, "lost", now=clock.now(), by="bob", machine=SALES, reason="选择了竞争对手"
    )
    with crm.session(actor="bob") as s:
        s.opportunities.update(lost)
    with crm.session() as s:
        final = s.opportunities.get(stored.id)
    assert final.stage == "lost"
    assert final.lost_reason == "选择了竞争对手"
    assert final.stage_state == lost.stage_state


def test_opportunities_filter_by_stage_owner_team_and_customer(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        first = s.opportunities.add(_open(customer, clock, owner="alice", team="east"))
        second = s.opportunities.add(_open(customer, clock, owner="bob"))
        s.opportunities.update(walk(first, "needs_confirmed"))
    with crm.session() as s:
        assert s.opportunities.count(stage="needs_confirmed") == 1
        assert [o.id for o in s.opportunities.list(stage="initial_contact").items] == [second.id]
        assert [o.id for o in s.opportunities.list(owner="alice").items] == [first.id]
        assert s.opportunities.count(team="east") == 1
        assert s.opportunities.count(team=None) == 1
        assert s.opportunities.count(customer_id=customer.id, pipeline="sales") == 2
        assert s.opportunities.count(stage="lost") == 0
        with pytest.raises(ValidationError, match="title"):
            s.opportunities.count(title="x")
        with pytest.raises(ValidationError, match="stage"):
            s.opportunities.count(stage=3)


def test_stale_opportunity_gets_a_conflict(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        original = s.opportunities.add(_open(customer, clock))
    with crm.session(actor="alice") as s:
        s.opportunities.update(walk(original, "needs_confirmed"))
    stale, _ = set_manual_probability(original, "0.3")
    with pytest.raises(ConcurrencyConflict), crm.session(actor="bob") as s:
        s.opportunities.update(stale)
    with crm.session() as s:
        kept = s.opportunities.get(original.id)
    assert kept.stage == "needs_confirmed"
    assert kept.manual_probability is None


def test_rollback_leaves_no_opportunity_and_no_visit(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with pytest.raises(Boom), crm.session() as s:
        s.opportunities.add(walk(_open(customer, clock), "needs_confirmed"))
        raise Boom
    with crm.session() as s:
        assert s.opportunities.count() == 0


def test_customers_with_opportunities_cannot_be_removed(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    with crm.session() as s:
        opportunity = s.opportunities.add(_open(customer, clock))
    with pytest.raises(ValidationError, match="opportunity"), crm.session() as s:
        s.customers.remove(customer.id)
    with crm.session() as s:
        s.opportunities.remove(opportunity)
        s.customers.remove(customer.id)
    with pytest.raises(ValidationError, match="customer_id"), crm.session() as s:
        s.opportunities.add(_open(customer, clock))


def test_bulk_add_stores_opportunities_with_their_history(crm: CRM, clock: FixedClock) -> None:
    customer = _customer(crm)
    deals = [
        walk(_open(customer, clock, owner=f"rep{i % 3}"), *FORWARD[: i % 5]) for i in range(30)
    ]
    with crm.session() as s:
        assert s.opportunities.add_many(deals, batch_size=7) == 30
    with crm.session() as s:
        read = list(s.opportunities.stream(batch_size=8))
        assert [o.stage_state for o in read] == [d.stage_state for d in deals]
        assert s.opportunities.count(stage="proposal") == 6


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_opportunities_round_trip(
    store_factory: Callable[[], Store], clock: FixedClock, data: st.DataObject
) -> None:
    crm = CRM(store_factory(), clock=clock)  # a fresh store per example
    customer = _customer(crm)
    deals = data.draw(st.lists(pst.opportunities(customer.id), min_size=1, max_size=3))
    with crm.session() as s:
        stored = [s.opportunities.add(deal) for deal in deals]
    with crm.session() as s:
        for deal in stored:
            read = s.opportunities.get(deal.id)
            assert read == deal
            assert read.stage == deal.stage
            assert s.opportunities.count(stage=deal.stage) == sum(
                d.stage == deal.stage for d in stored
            )
    crm.close()

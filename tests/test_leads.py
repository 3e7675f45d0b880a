"""Capturing leads, grading them, and assigning the deals they open, on every backend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    CRM,
    DEFAULT_LEAD_GRADING,
    AssignmentRules,
    AssignmentStrategy,
    Customer,
    FixedClock,
    Lead,
    LeadGrading,
    Money,
    Opportunity,
    Priority,
    Rep,
    ValidationError,
    choose_rep,
    grade_lead,
    hookimpl,
    open_opportunity,
)
from pycrm.storage import MemoryStore, Store

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
TODAY = START.date()


def lead(**fields: Any) -> Lead:
    values: dict[str, Any] = {
        "channel": "web_form",
        "name": "Li Lei",
        "received_at": START - timedelta(minutes=3),
        "phone": "13812345678",
    }
    values.update(fields)
    return Lead(**values)


def team_rules(strategy: str = "round_robin", *reps: Rep) -> AssignmentRules:
    chosen = reps or (Rep(name="alice", team="east"), Rep(name="bob", team="east"))
    return AssignmentRules(strategy=strategy, reps=chosen)


# -- grading ---------------------------------------------------------------------------------


def test_default_grading_goes_by_budget() -> None:
    assert grade_lead(lead(budget=Money(2_000_000, "CNY")))[0] is Priority.HIGH
    assert grade_lead(lead(budget=Money(200_000, "CNY")))[0] is Priority.MEDIUM
    assert grade_lead(lead(budget=Money(50_000, "CNY")))[0] is Priority.LOW
    assert grade_lead(lead())[0] is Priority.LOW
    assert grade_lead(lead(budget=Money(10**9, "JPY")))[0] is Priority.LOW
    assert DEFAULT_LEAD_GRADING.high_budget["USD"] == 150_000


def test_grading_combines_value_and_fit_and_says_why() -> None:
    rules = LeadGrading(
        high_budget={"CNY": 500_000},
        medium_budget={"CNY": 50_000},
        target_industries={"Manufacturing"},
        target_regions={"east"},
    )
    high, why = grade_lead(lead(budget=Money(600_000, "CNY"), industry="manufacturing"), rules)
    assert high is Priority.HIGH
    assert "high threshold" in why
    assert "'manufacturing' is a target" in why
    assert grade_lead(lead(budget=Money(600_000, "CNY"), industry="retail"), rules)[0] is (
        Priority.MEDIUM
    )
    assert grade_lead(lead(budget=Money(60_000, "CNY"), region="East"), rules)[0] is (
        Priority.MEDIUM
    )
    assert grade_lead(lead(budget=Money(60_000, "CNY")), rules)[0] is Priority.LOW


def test_grading_rules_are_validated() -> None:
    with pytest.raises(ValidationError, match="medium_budget"):
        LeadGrading(high_budget={"CNY": 10}, medium_budget={"CNY": 20})
    with pytest.raises(ValidationError, match="high_budget"):
        LeadGrading(high_budget={"CNY": -1}, medium_budget={})
    with pytest.raises(ValidationError, match="currency"):
        LeadGrading(high_budget={"yuan": 1}, medium_budget={})


def test_bad_leads_name_the_field() -> None:
    with pytest.raises(ValidationError, match="phone"):
        lead(phone=None)
    with pytest.raises(ValidationError, match="email"):
        lead(email="not-an-email")
    with pytest.raises(ValidationError, match="received_at"):
        lead(received_at=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValidationError, match="budget"):
        lead(budget=1000)
    with pytest.raises(ValidationError, match="channel"):
        lead(channel="  ")
    with pytest.raises(ValidationError, match="daily_cap"):
        Rep(name="a", daily_cap=-1)
    with pytest.raises(ValidationError, match="on_leave"):
        Rep(name="a", on_leave=[(date(2026, 3, 5), date(2026, 3, 1))])
    with pytest.raises(ValidationError, match="reps"):
        AssignmentRules(reps=[Rep(name="a"), Rep(name="a")])
    with pytest.raises(ValidationError, match="strategy"):
        AssignmentRules(strategy="lottery", reps=[Rep(name="a")])
    assert "13812345678" not in repr(lead())


# -- choosing a rep (pure) -------------------------------------------------------------------


def choose(rules: AssignmentRules, **kw: Any) -> str | None:
    args: dict[str, Any] = {
        "lead": None,
        "team": "east",
        "today": TODAY,
        "last_assigned": {},
        "assigned_today": {},
        "open_load": {},
    }
    args.update(kw)
    rep = choose_rep(rules, **args)
    return None if rep is None else rep.name


def test_round_robin_takes_the_oldest_turn_never_assigned_first() -> None:
    rules = team_rules("round_robin", Rep(name="carol", team="east"), *team_rules().reps)
    assert choose(rules) == "alice"
    assert choose(rules, last_assigned={"alice": START}) == "bob"
    earlier = START - timedelta(hours=1)
    assigned = {"alice": START, "bob": earlier, "carol": START}
    assert choose(rules, last_assigned=assigned) == "bob"


def test_leave_caps_and_team_limit_who_is_eligible() -> None:
    rules = team_rules(
        "round_robin",
        Rep(name="alice", team="east", on_leave=[(TODAY, TODAY + timedelta(days=3))]),
        Rep(name="bob", team="east", daily_cap=2),
        Rep(name="dave", team="west"),
    )
    assert choose(rules) == "bob"
    assert choose(rules, assigned_today={"bob": 2}) is None
    assert choose(rules, today=TODAY + timedelta(days=4), assigned_today={"bob": 2}) == "alice"
    assert choose(rules, team=None, assigned_today={"bob": 2}) == "dave"


def test_territory_prefers_coverage_and_falls_back_to_the_team() -> None:
    rules = team_rules(
        "territory",
        Rep(name="alice", team="east", regions={"Shanghai"}),
        Rep(name="bob", team="east", regions={"Beijing"}, industries={"manufacturing"}),
    )
    assert choose(rules, lead=lead(region="beijing", industry="Manufacturing")) == "bob"
    assert choose(rules, lead=lead(region="Beijing")) == "alice"  # bob needs the industry too
    assert choose(rules, lead=lead(region="Shanghai"), last_assigned={"alice": START}) == "alice"
    nobody = {"alice": START, "bob": START - timedelta(days=1)}
    assert choose(rules, lead=lead(region="Tibet"), last_assigned=nobody) == "bob"


def test_load_takes_the_fewest_open_deals_then_turns() -> None:
    rules = team_rules("load")
    assert choose(rules, open_load={"alice": 5, "bob": 2}) == "bob"
    assert choose(rules, open_load={"alice": 2, "bob": 2}, last_assigned={"alice": START}) == "bob"


_names = st.sampled_from(["ann", "ben", "cai", "dan", "eve"])
_reps = st.lists(
    st.builds(
        Rep,
        name=_names,
        team=st.sampled_from(["east", "west"]),
        on_leave=st.lists(
            st.tuples(st.just(TODAY - timedelta(days=1)), st.just(TODAY + timedelta(days=1))),
            max_size=1,
        ),
        daily_cap=st.none() | st.integers(0, 3),
        regions=st.sets(st.sampled_from(["north", "south"]), max_size=1),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda rep: rep.name,
)


@given(
    reps=_reps,
    strategy=st.sampled_from(list(AssignmentStrategy)),
    team=st.sampled_from(["east", "west"]),
    today_counts=st.dictionaries(_names, st.integers(0, 4)),
    load=st.dictionaries(_names, st.integers(0, 9)),
    region=st.sampled_from(["north", "south", "west"]),
)
def test_never_picks_a_rep_on_leave_at_cap_or_outside_the_team(
    reps: list[Rep],
    strategy: AssignmentStrategy,
    team: str,
    today_counts: dict[str, int],
    load: dict[str, int],
    region: str,
) -> None:
    rules = AssignmentRules(strategy=strategy, reps=reps)
    chosen = choose_rep(
        rules,
        lead=lead(region=region),
        team=team,
        today=TODAY,
        last_assigned={},
        assigned_today=today_counts,
        open_load=load,
    )
    eligible = [
        r
        for r in reps
        if r.team == team
        and not r.is_on_leave(TODAY)
        and (r.daily_cap is None or today_counts.get(r.name, 0) < r.daily_cap)
    ]
    if chosen is None:
        assert not eligible
    else:
        assert chosen in eligible


@given(
    count=st.integers(1, 5),
    rounds=st.integers(1, 40),
    fixed_clock=st.booleans(),
)
def test_round_robin_counts_differ_by_at_most_one(
    count: int, rounds: int, fixed_clock: bool
) -> None:
    rules = AssignmentRules(reps=[Rep(name=f"rep{i}") for i in range(count)])
    last: dict[str, datetime | None] = {}
    today: Counter[str] = Counter()
    for step in range(rounds):
        now = START if fixed_clock else START + timedelta(seconds=step)
        rep = choose_rep(
            rules,
            lead=None,
            team=None,
            today=TODAY,
            last_assigned=last,
            assigned_today=today,
            open_load={},
        )
        assert rep is not None
        last[rep.name] = now
        today[rep.name] += 1
    counts = [today[rep.name] for rep in rules.reps]
    assert max(counts) - min(counts) <= 1


# -- capture and assignment in a session -----------------------------------------------------


def test_capture_creates_a_prospect_and_a_graded_deal(crm: CRM, clock: FixedClock) -> None:
    company_lead = lead(
        company="Acme Tools",
        email="LI@acme.example",
        industry="manufacturing",
        region="east",
        need="20 CNC machines",
        budget=Money(2_000_000, "CNY"),
        tags={"expo-2026"},
        channel="exhibition",
    )
    with crm.session(actor="intake") as s:
        captured = s.capture_lead(company_lead)
        assert not captured.matched
        assert not captured.assigned
        assert captured.grade is Priority.HIGH
        assert "high threshold" in captured.reason
    with crm.session(actor="intake") as s:
        customer = s.customers.get(captured.customer.id)
        assert customer.is_company
        assert customer.name == "Acme Tools"
        assert customer.industry == "manufacturing"
        assert customer.source_channel == "exhibition"
        assert customer.captured_at == company_lead.received_at
        assert customer.tags == {"expo-2026"}
        assert [c.name for c in s.contacts.list(customer_id=customer.id).items] == ["Li Lei"]
        deal = s.opportunities.get(captured.opportunity.id)
        assert deal.title == "20 CNC machines"
        assert deal.amount == Money(2_000_000, "CNY")
        assert deal.grade is Priority.HIGH
        assert deal.owner is None
        assert deal.assigned_at is None
        assert deal.source_channel == "exhibition"
        assert s.opportunities.count(owner=None, is_open=True) == 1
        assert s.opportunities.count(grade="high") == 1


def test_a_person_lead_without_budget_opens_a_zero_deal(crm: CRM) -> None:
    with crm.session(actor="intake") as s:
        captured = s.capture_lead(lead(industry="retail"), currency="USD")
        assert not captured.customer.is_company
        assert captured.customer.industry is None  # a person has no industry
        assert captured.opportunity.amount == Money(0, "USD")
        assert captured.grade is Priority.LOW


@pytest.mark.parametrize(
    ("stored", "incoming"),
    [
        ({"member_id": "M-1", "phone": "13900000000"}, {"member_id": "M-1"}),
        ({"email": "li@acme.example"}, {"email": "li@Acme.EXAMPLE", "phone": None}),
        ({"phone": "138 1234 5678"}, {"phone": "13812345678"}),
    ],
)
def test_capture_matches_by_member_id_email_then_phone(
    crm: CRM, stored: dict[str, Any], incoming: dict[str, Any]
) -> None:
    with crm.session(actor="intake") as s:
        existing = s.customers.add(Customer.person("Li Lei", **stored))
        s.customers.add(Customer.person("Someone else", phone="13700000000"))
    with crm.session(actor="intake") as s:
        captured = s.capture_lead(lead(**incoming))
        assert captured.matched
        assert captured.customer.id == existing.id
        assert s.customers.count() == 2
        assert captured.opportunity.customer_id == existing.id


def _assign_many(crm: CRM, rules: AssignmentRules, n: int) -> list[str | None]:
    owners = []
    for i in range(n):
        with crm.session(actor="intake") as s:
            captured = s.capture_lead(lead(phone=f"1380000{i:04d}"), rules=rules, team="east")
            owners.append(captured.opportunity.owner)
    return owners


def test_round_robin_is_fair_across_restarts(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    store = store_factory()
    rules = team_rules("round_robin", *team_rules().reps, Rep(name="carol", team="east"))
    first = CRM(store, clock=clock)
    owners = _assign_many(first, rules, 4)
    clock.advance(timedelta(minutes=1))
    second = CRM(store, clock=clock)  # a restart: nothing carried over in memory
    owners += _assign_many(second, rules, 5)
    assert owners == ["alice", "bob", "carol", "alice", "bob", "carol", "alice", "bob", "carol"]
    with second.session(actor="report") as s:
        assert s.opportunities.count(owner="alice", assigned_on=TODAY) == 3
        (row,) = s.rep_assignments.list(rep="carol").items
        assert row.last_assigned_at == START + timedelta(minutes=1)
    second.close()


def test_assignment_records_the_session_time(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="intake") as s:
        captured = s.capture_lead(lead(), rules=team_rules(), team="east")
    assert captured.assigned
    assert captured.opportunity.assigned_at == clock.now()
    assert captured.opportunity.team == "east"
    waited = captured.opportunity.assigned_at - lead().received_at
    assert waited <= timedelta(minutes=10)
    with crm.session(actor="intake") as s:
        assert s.opportunities.get(captured.opportunity.id).assigned_at == clock.now()
        assert s.opportunities.count(assigned_on="2026-03-02") == 1


def test_leave_and_caps_on_every_backend(crm: CRM, clock: FixedClock) -> None:
    rules = team_rules(
        "round_robin",
        Rep(name="alice", team="east", on_leave=[(TODAY, TODAY)]),
        Rep(name="bob", team="east", daily_cap=2),
    )
    assert _assign_many(crm, rules, 3) == ["bob", "bob", None]
    clock.advance(timedelta(days=1))
    assert _assign_many(crm, rules, 1) == ["alice"]


def test_territory_and_load_on_every_backend(crm: CRM, clock: FixedClock) -> None:
    rules = team_rules(
        "territory",
        Rep(name="alice", team="east", regions={"shanghai"}),
        Rep(name="bob", team="east", regions={"beijing"}),
    )
    with crm.session(actor="intake") as s:
        assert s.capture_lead(lead(region="Beijing"), rules=rules).opportunity.owner == "bob"
        assert s.capture_lead(lead(region="Tibet"), rules=rules).opportunity.owner == "alice"
        load = AssignmentRules(strategy="load", reps=rules.reps)
        # alice and bob have one open deal each; bob's is closed, so alice now has more.
        bobs = s.opportunities.list(owner="bob").items[0]
        s.advance(bobs, "lost", reason="no budget")
        assert s.opportunities.count(owner="bob", is_open=True) == 0
        assert s.capture_lead(lead(region="Shanghai"), rules=load).opportunity.owner == "bob"


def test_assign_an_existing_unassigned_deal(crm: CRM, clock: FixedClock) -> None:
    with crm.session(actor="intake") as s:
        customer = s.customers.add(Customer.person("Wang", phone="13811112222"))
        deal, _ = open_opportunity(
            customer_id=customer.id,
            title="Renewal",
            amount=Money(10, "CNY"),
            owner=None,
            now=clock.now(),
            by="intake",
        )
        deal = s.opportunities.add(deal)
        nobody = AssignmentRules(reps=[Rep(name="zoe", team="west")])
        assert s.assign(deal, nobody, team="east") == deal
        assigned = s.assign(deal, team_rules())
        assert assigned.owner == "alice"
        assert assigned.version == deal.version + 1
        with pytest.raises(ValidationError, match="rules"):
            s.assign(assigned, "round robin")  # type: ignore[arg-type]


class Dispatcher:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.asked: list[tuple[Opportunity, Lead | None]] = []

    @hookimpl
    def pycrm_assign(self, opportunity: Opportunity, lead: Lead | None) -> str | None:
        self.asked.append((opportunity, lead))
        return self.answer


def test_a_plugin_decides_first_and_the_first_answer_wins(
    store_factory: Callable[[], Store], clock: FixedClock
) -> None:
    silent, decider, late = Dispatcher(None), Dispatcher("vip-desk"), Dispatcher("never")
    # pluggy calls the last registered first: silent, then decider; late is never reached.
    crm = CRM(store_factory(), clock=clock, plugins=[late, decider, silent])
    the_lead = lead()
    with crm.session(actor="intake") as s:
        captured = s.capture_lead(the_lead, rules=team_rules())
    assert captured.opportunity.owner == "vip-desk"
    assert captured.opportunity.assigned_at == clock.now()
    assert silent.asked[0][1] == the_lead
    assert decider.asked
    assert not late.asked
    with crm.session(actor="intake") as s:
        assert s.rep_assignments.list(rep="vip-desk").items[0].last_opportunity_id == (
            captured.opportunity.id
        )
    crm.close()


def test_a_plugin_answer_must_be_a_name(clock: FixedClock) -> None:
    crm = CRM(MemoryStore(), clock=clock, plugins=[Dispatcher("  ")])
    with crm.session(actor="intake") as s, pytest.raises(ValidationError, match="pycrm_assign"):
        s.capture_lead(lead())
    with crm.session(actor="intake") as s:
        assert s.opportunities.count() == 0  # nothing half-written

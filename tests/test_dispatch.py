"""Dispatch rules, service groups and the choice of an agent: pure, no store."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycrm import (
    Dispatch,
    DispatchRule,
    DispatchRules,
    DispatchStrategy,
    ServiceGroup,
    ValidationError,
    choose_agent,
    decide_dispatch,
    route_ticket,
)
from pycrm.service.lifecycle import open_ticket
from pycrm.service.ticket import Ticket

START = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
AGENTS = ("ann", "bob", "cai", "dee", "eve")
TYPES = ("inquiry", "complaint", "fault")
PRIORITIES = ("urgent", "normal", "low")
CHANNELS = ("phone", "email", "online")
CATEGORIES = ("Billing", "delivery", None)


def ticket(**fields: Any) -> Ticket:
    return open_ticket(customer_id="cus_1", subject="It broke", now=START, by="desk", **fields)


def rules_for(*rules: DispatchRule, default: str | None = None) -> DispatchRules:
    groups = {rule.group for rule in rules} | ({default} if default else set())
    return DispatchRules(
        tuple(ServiceGroup(name, ("ann",)) for name in sorted(groups)), rules, default
    )


# -- service groups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "  ", "agents": ("ann",)}, "name"),
        ({"name": "tech/2", "agents": ("ann",)}, "name"),
        ({"name": "tech", "agents": ("ann", "bob", "ann")}, "agents"),
        ({"name": "tech", "agents": ("ann", " ")}, "agents"),
        ({"name": "tech", "agents": "ann"}, "agents"),
        ({"name": "tech", "agents": ("ann",), "strategy": "fastest"}, "strategy"),
        ({"name": "tech", "agents": ("ann",), "away": "ann"}, "away"),
    ],
)
def test_a_bad_service_group_is_refused_naming_the_field(
    arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        ServiceGroup(**arguments)
    assert raised.value.field == field


def test_a_group_lists_its_available_agents_in_order() -> None:
    group = ServiceGroup(" tech ", [" bob", "ann", "cai"], "least_loaded", away={"ann", "zed"})
    assert group.name == "tech"
    assert group.agents == ("bob", "ann", "cai")
    assert group.strategy is DispatchStrategy.LEAST_LOADED
    assert group.available == ("bob", "cai")


# -- rules -----------------------------------------------------------------------------------


def test_an_empty_rule_matches_every_ticket() -> None:
    rule = DispatchRule("general")
    assert rule.matches(ticket())
    assert rule.matches(ticket(type="fault", priority="urgent", channel="phone"))


def test_every_set_of_a_rule_must_contain_the_tickets_value() -> None:
    rule = DispatchRule("tech", types=["fault"], priorities=["urgent", "normal"])
    assert rule.matches(ticket(type="fault", priority="urgent"))
    assert not rule.matches(ticket(type="fault", priority="low"))
    assert not rule.matches(ticket(type="inquiry", priority="urgent"))


def test_categories_are_compared_ignoring_case() -> None:
    rule = DispatchRule("billing", categories=["Billing "])
    assert rule.matches(ticket(category="BILLING"))
    assert not rule.matches(ticket(category="delivery"))


def test_a_ticket_without_a_channel_or_category_misses_a_rule_that_asks_for_one() -> None:
    assert not DispatchRule("phones", channels=["phone"]).matches(ticket())
    assert not DispatchRule("billing", categories=["billing"]).matches(ticket())


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"group": ""}, "group"),
        ({"group": "tech", "types": ["not a key!"]}, "types"),
        ({"group": "tech", "priorities": ["asap"]}, "priorities"),
        ({"group": "tech", "channels": ["pigeon"]}, "channels"),
        ({"group": "tech", "categories": "billing"}, "categories"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        DispatchRule(**arguments)
    assert raised.value.field == field


def test_rules_must_name_defined_groups() -> None:
    tech = ServiceGroup("tech", ("ann",))
    with pytest.raises(ValidationError, match="complaints") as raised:
        DispatchRules([tech], [DispatchRule("tech"), DispatchRule("complaints")])
    assert raised.value.field == "rules"
    with pytest.raises(ValidationError, match="general") as raised:
        DispatchRules([tech], [], default_group="general")
    assert raised.value.field == "default_group"


def test_group_names_are_unique_and_groups_are_groups() -> None:
    with pytest.raises(ValidationError, match="twice") as raised:
        DispatchRules([ServiceGroup("tech", ("ann",)), ServiceGroup("tech", ("bob",))])
    assert raised.value.field == "groups"
    with pytest.raises(ValidationError) as raised:
        DispatchRules(["tech"])  # type: ignore[list-item]
    assert raised.value.field == "groups"
    with pytest.raises(ValidationError) as raised:
        DispatchRules([ServiceGroup("tech")], ["tech"])  # type: ignore[list-item]
    assert raised.value.field == "rules"


def test_routing_tries_rules_in_order_then_the_default() -> None:
    rules = rules_for(
        DispatchRule("urgent-faults", types=["fault"], priorities=["urgent"]),
        DispatchRule("tech", types=["fault"]),
        DispatchRule("complaints", types=["complaint"]),
        default="general",
    )
    assert route_ticket(ticket(type="fault", priority="urgent"), rules).name == "urgent-faults"
    assert route_ticket(ticket(type="fault", priority="low"), rules).name == "tech"
    assert route_ticket(ticket(type="complaint"), rules).name == "complaints"
    assert route_ticket(ticket(type="inquiry"), rules).name == "general"


def test_without_a_default_an_unmatched_ticket_has_no_group() -> None:
    rules = rules_for(DispatchRule("tech", types=["fault"]))
    assert route_ticket(ticket(), rules) is None
    assert decide_dispatch(ticket(), rules, last_assigned={}, open_load={}) == Dispatch()


def test_routing_refuses_what_is_not_a_ticket_or_rules() -> None:
    rules = rules_for(DispatchRule("tech"))
    with pytest.raises(ValidationError) as raised:
        route_ticket("tkt_1", rules)  # type: ignore[arg-type]
    assert raised.value.field == "ticket"
    with pytest.raises(ValidationError) as raised:
        route_ticket(ticket(), [DispatchRule("tech")])  # type: ignore[arg-type]
    assert raised.value.field == "rules"


rule_sets = st.builds(
    DispatchRule,
    group=st.sampled_from(("g1", "g2", "g3", "g4")),
    types=st.sets(st.sampled_from(TYPES), max_size=2),
    priorities=st.sets(st.sampled_from(PRIORITIES), max_size=2),
    channels=st.sets(st.sampled_from(CHANNELS), max_size=2),
    categories=st.sets(st.sampled_from(("billing", "DELIVERY")), max_size=1),
)
tickets = st.builds(
    ticket,
    type=st.sampled_from(TYPES),
    priority=st.sampled_from(PRIORITIES),
    channel=st.sampled_from((*CHANNELS, None)),
    category=st.sampled_from(CATEGORIES),
)


@given(rules=st.lists(rule_sets, max_size=6), subject=tickets, default=st.booleans())
def test_the_first_matching_rule_wins(
    rules: list[DispatchRule], subject: Ticket, default: bool
) -> None:
    table = rules_for(*rules, default="fallback" if default else None)
    routed = route_ticket(subject, table)
    first = next((rule for rule in rules if rule.matches(subject)), None)
    if first is not None:
        assert routed is not None
        assert routed.name == first.group
    elif default:
        assert routed is not None
        assert routed.name == "fallback"
    else:
        assert routed is None


@given(rule=rule_sets, subject=tickets)
def test_a_rule_matches_exactly_when_every_set_it_has_holds_the_value(
    rule: DispatchRule, subject: Ticket
) -> None:
    category = subject.category.lower() if subject.category else None
    expected = (
        (not rule.types or subject.type in rule.types)
        and (not rule.priorities or subject.priority.value in {p.value for p in rule.priorities})
        and (
            not rule.channels
            or (
                subject.channel is not None
                and subject.channel.value in {c.value for c in rule.channels}
            )
        )
        and (not rule.categories or category in {c.lower() for c in rule.categories})
    )
    assert rule.matches(subject) is expected


# -- choosing an agent -----------------------------------------------------------------------


def test_round_robin_takes_never_assigned_agents_first_by_name() -> None:
    group = ServiceGroup("tech", ("cai", "bob", "ann"))
    earlier = {"ann": START, "bob": None}
    assert choose_agent(group, last_assigned=earlier, open_load={}) == "bob"
    assert choose_agent(group, last_assigned={}, open_load={}) == "ann"


def test_round_robin_takes_the_oldest_last_assignment() -> None:
    group = ServiceGroup("tech", ("ann", "bob", "cai"))
    last = {"ann": START, "bob": START - timedelta(hours=1), "cai": START + timedelta(hours=1)}
    assert choose_agent(group, last_assigned=last, open_load={"bob": 9}) == "bob"


def test_equal_times_go_to_the_agent_with_fewer_turns() -> None:
    group = ServiceGroup("tech", ("ann", "bob"))
    last = {"ann": START, "bob": START}
    assert (
        choose_agent(group, last_assigned=last, open_load={}, turns={"ann": 2, "bob": 1}) == "bob"
    )
    assert choose_agent(group, last_assigned=last, open_load={}) == "ann"


def test_least_loaded_takes_the_fewest_open_tickets_ties_by_turn() -> None:
    group = ServiceGroup("tech", ("ann", "bob", "cai"), DispatchStrategy.LEAST_LOADED)
    last = {"ann": START - timedelta(hours=2), "bob": START, "cai": START - timedelta(hours=1)}
    assert (
        choose_agent(group, last_assigned=last, open_load={"ann": 3, "bob": 1, "cai": 1}) == "cai"
    )
    assert choose_agent(group, last_assigned=last, open_load={"ann": 0, "bob": 1}) == "ann"


def test_nobody_available_means_no_agent() -> None:
    away = ServiceGroup("tech", ("ann", "bob"), away={"ann", "bob"})
    empty = ServiceGroup("queue")
    assert choose_agent(away, last_assigned={}, open_load={}) is None
    assert choose_agent(empty, last_assigned={}, open_load={}) is None
    rules = DispatchRules([away], [DispatchRule("tech")])
    assert decide_dispatch(ticket(), rules, last_assigned={}, open_load={}) == Dispatch("tech")


def test_choose_agent_refuses_what_is_not_a_group() -> None:
    with pytest.raises(ValidationError) as raised:
        choose_agent("tech", last_assigned={}, open_load={})  # type: ignore[arg-type]
    assert raised.value.field == "group"


def test_decide_routes_then_chooses() -> None:
    rules = DispatchRules(
        [ServiceGroup("tech", ("ann", "bob")), ServiceGroup("complaints", ("cai",))],
        [DispatchRule("complaints", types=["complaint"])],
        default_group="tech",
    )
    last = {"ann": START}
    assert decide_dispatch(ticket(), rules, last_assigned=last, open_load={}) == Dispatch(
        "tech", "bob"
    )
    assert decide_dispatch(
        ticket(type="complaint"), rules, last_assigned=last, open_load={}
    ) == Dispatch("complaints", "cai")


def test_a_dispatch_validates_its_names() -> None:
    with pytest.raises(ValidationError) as raised:
        Dispatch("tech", "  ")
    assert raised.value.field == "assignee"
    with pytest.raises(ValidationError) as raised:
        Dispatch("a/b", "ann")
    assert raised.value.field == "group"
    assert Dispatch(None, " ann ") == Dispatch(assignee="ann")


groups = st.builds(
    lambda agents, away, strategy: ServiceGroup("tech", agents, strategy, away=away),
    agents=st.lists(st.sampled_from(AGENTS), min_size=1, max_size=5, unique=True),
    away=st.sets(st.sampled_from(AGENTS), max_size=3),
    strategy=st.sampled_from(DispatchStrategy),
)


def run_round_robin(group: ServiceGroup, n: int, *, fixed_clock: bool) -> Counter[str]:
    """Hand out ``n`` tickets one after another, recording turns as the store would."""
    last: dict[str, datetime | None] = {}
    turns: Counter[str] = Counter()
    for i in range(n):
        agent = choose_agent(group, last_assigned=last, open_load={}, turns=turns)
        assert agent is not None
        last[agent] = START if fixed_clock else START + timedelta(minutes=i)
        turns[agent] += 1
    return turns


@given(
    agents=st.lists(st.sampled_from(AGENTS), min_size=1, max_size=5, unique=True),
    away=st.sets(st.sampled_from(AGENTS), max_size=4),
    n=st.integers(0, 40),
    fixed_clock=st.booleans(),
)
def test_round_robin_shares_tickets_evenly_among_available_agents(
    agents: list[str], away: set[str], n: int, fixed_clock: bool
) -> None:
    group = ServiceGroup("tech", agents, away=away)
    available = [agent for agent in agents if agent not in away]
    if not available:
        assert choose_agent(group, last_assigned={}, open_load={}) is None
        return
    counts = run_round_robin(group, n, fixed_clock=fixed_clock)
    k = len(available)
    assert set(counts) <= set(available)
    for agent in available:
        assert counts[agent] in {n // k, -(-n // k)}


@given(
    group=groups,
    loads=st.dictionaries(st.sampled_from(AGENTS), st.integers(0, 5)),
    last=st.dictionaries(
        st.sampled_from(AGENTS),
        st.one_of(st.none(), st.integers(0, 100).map(lambda m: START + timedelta(minutes=m))),
    ),
)
def test_the_chosen_agent_is_available_and_least_loaded_when_asked(
    group: ServiceGroup, loads: dict[str, int], last: dict[str, datetime | None]
) -> None:
    chosen = choose_agent(group, last_assigned=last, open_load=loads)
    available = [agent for agent in group.agents if agent not in group.away]
    if not available:
        assert chosen is None
        return
    assert chosen in available
    assert chosen not in group.away
    if group.strategy is DispatchStrategy.LEAST_LOADED:
        assert all(loads.get(chosen, 0) <= loads.get(other, 0) for other in available)
    else:
        never = [agent for agent in available if last.get(agent) is None]
        if never:
            assert chosen == min(never)
        else:
            assert all(last[chosen] <= last[other] for other in available)  # type: ignore[operator]

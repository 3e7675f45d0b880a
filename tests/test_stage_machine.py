"""The generic stage machine: definitions are checked data, advance is pure and refuses every
move the definition does not allow, and the history is an exact record of what happened."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from pycrm import IllegalTransition, PycrmError, ValidationError
from pycrm.pipeline import (
    GateRefused,
    Stage,
    StageEvent,
    StageMachine,
    StageOutcome,
    StageState,
    StageVisit,
    Transition,
    advance,
    from_any_open_stage,
    start,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
DOCS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "concepts" / "stage-machines.md"


def default_pipeline(**options: Any) -> StageMachine:
    """The shape of the default sales pipeline, plus lost (with a reason) from any open stage."""
    stages = [
        Stage(key="initial_contact", labels={"en": "Initial contact"}, probability="0.1"),
        Stage(
            key="needs_confirmed",
            labels={"en": "Needs confirmed", "zh-CN": "需求确认"},
            probability="0.2",
            required_deliverables=("needs_summary",),
        ),
        Stage(
            key="proposal",
            labels={"en": "Proposal"},
            probability="0.4",
            required_deliverables=("quote",),
            actions=("Send the quote",),
        ),
        Stage(key="negotiation", labels={"en": "Negotiation"}, probability="0.6"),
        Stage(
            key="contract_signed",
            labels={"en": "Contract signed"},
            probability="0.9",
            required_deliverables=("signed_contract",),
        ),
        Stage(key="deal_review", labels={"en": "Deal review"}, terminal=True, probability=1),
        Stage(key="lost", labels={"en": "Lost"}, terminal=True, probability=0),
    ]
    return StageMachine(
        name="opportunity",
        stages=stages,
        transitions=[
            ("initial_contact", "needs_confirmed"),
            ("needs_confirmed", "proposal"),
            ("proposal", "negotiation"),
            ("negotiation", "proposal"),
            ("negotiation", "contract_signed"),
            ("contract_signed", "deal_review"),
            *from_any_open_stage(stages, "lost", requires_reason=True, waive_deliverables=True),
        ],
        **options,
    )


def started(machine: StageMachine) -> StageState:
    state, _ = start(machine, now=T0, by="alice")
    return state


def walk(machine: StageMachine, *targets: str, deliverables: frozenset[str]) -> StageState:
    state = started(machine)
    for i, target in enumerate(targets, start=1):
        state, _ = advance(
            state, target, now=T0 + i * DAY, by="alice", machine=machine, deliverables=deliverables
        )
    return state


ALL_DELIVERABLES = frozenset({"needs_summary", "quote", "signed_contract"})


# --- the default pipeline -------------------------------------------------------------------


def test_default_pipeline_walks_to_deal_review_and_keeps_the_history() -> None:
    machine = default_pipeline()
    assert machine.initial == "initial_contact"
    assert machine.stage("needs_confirmed").label("zh-CN") == "需求确认"
    assert machine.stage("needs_confirmed").label("zh") == "需求确认"
    assert machine.stage("needs_confirmed").label("fr") == "Needs confirmed"
    assert machine.stage("proposal").probability == Decimal("0.4")

    state, events = start(machine, now=T0, by="alice")
    assert events == [
        StageEvent(machine="opportunity", source=None, target="initial_contact", at=T0, by="alice")
    ]
    path = ["needs_confirmed", "proposal", "negotiation", "proposal", "negotiation"]
    path += ["contract_signed", "deal_review"]
    for i, target in enumerate(path, start=1):
        previous = state.stage
        state, events = advance(
            state,
            target,
            now=T0 + i * DAY,
            by="bob",
            machine=machine,
            deliverables=ALL_DELIVERABLES,
        )
        assert events == [
            StageEvent(
                machine="opportunity", source=previous, target=target, at=T0 + i * DAY, by="bob"
            )
        ]
    assert state.stage == "deal_review"
    assert state.entered_at == T0 + len(path) * DAY
    assert [v.stage for v in state.history] == ["initial_contact", *path]
    assert state.history[0] == StageVisit(
        stage="initial_contact", entered_at=T0, entered_by="alice", left_at=T0 + DAY, left_by="bob"
    )
    assert state.durations()["proposal"] == 2 * DAY
    assert state.durations(T0 + 10 * DAY)["deal_review"] == 3 * DAY
    assert "deal_review" not in state.durations()
    assert machine.targets("deal_review") == ()


def test_lost_from_any_open_stage_needs_a_reason_but_no_deliverables() -> None:
    machine = default_pipeline()
    assert {t.source for t in machine.transitions if t.target == "lost"} == {
        "initial_contact",
        "needs_confirmed",
        "proposal",
        "negotiation",
        "contract_signed",
    }
    state = walk(machine, "needs_confirmed", "proposal", deliverables=frozenset({"needs_summary"}))
    lost, events = advance(
        state, "lost", now=T0 + 5 * DAY, by="carol", machine=machine, reason=" budget frozen "
    )
    assert lost.stage == "lost"
    assert lost.current.reason == "budget frozen"
    assert events[0] == StageEvent(
        machine="opportunity",
        source="proposal",
        target="lost",
        at=T0 + 5 * DAY,
        by="carol",
        reason="budget frozen",
    )


# --- advance: every error names what is wrong, and nothing changes ---------------------------


def test_unknown_target_is_a_validation_error_on_to() -> None:
    machine = default_pipeline()
    state = started(machine)
    with pytest.raises(ValidationError) as err:
        advance(state, "won", now=T0, by="alice", machine=machine)
    assert err.value.field == "to"
    assert "won" in err.value.problem


def test_an_undeclared_edge_is_an_illegal_transition_naming_both_stages() -> None:
    machine = default_pipeline()
    state = started(machine)
    with pytest.raises(IllegalTransition) as err:
        advance(state, "proposal", now=T0, by="alice", machine=machine)
    assert (err.value.machine, err.value.source, err.value.target) == (
        "opportunity",
        "initial_contact",
        "proposal",
    )
    with pytest.raises(IllegalTransition):
        advance(state, "initial_contact", now=T0, by="alice", machine=machine)


def test_a_terminal_stage_is_never_left() -> None:
    machine = default_pipeline()
    state = started(machine)
    lost, _ = advance(state, "lost", now=T0, by="alice", machine=machine, reason="no budget")
    for target in machine.keys:
        with pytest.raises((IllegalTransition, ValidationError)) as err:
            advance(lost, target, now=T0 + DAY, by="alice", machine=machine, reason="again")
        if isinstance(err.value, IllegalTransition):
            assert (err.value.source, err.value.target) == ("lost", target)


def test_missing_deliverables_are_refused_and_listed() -> None:
    machine = default_pipeline()
    state = walk(machine, "needs_confirmed", deliverables=frozenset())
    with pytest.raises(GateRefused) as err:
        advance(state, "proposal", now=T0 + 2 * DAY, by="alice", machine=machine)
    assert err.value.missing == ("needs_summary",)
    assert (err.value.machine, err.value.source, err.value.target) == (
        "opportunity",
        "needs_confirmed",
        "proposal",
    )
    assert "needs_summary" in str(err.value)
    assert isinstance(err.value, PycrmError)
    assert state.stage == "needs_confirmed"
    assert len(state.history) == 2


def test_a_required_reason_must_be_given_and_not_blank() -> None:
    machine = default_pipeline()
    state = started(machine)
    for reason in (None, "", "   "):
        with pytest.raises(ValidationError) as err:
            advance(state, "lost", now=T0, by="alice", machine=machine, reason=reason)
        assert err.value.field == "reason"


def test_now_must_be_aware_and_not_before_the_current_stage_was_entered() -> None:
    machine = default_pipeline()
    state = walk(machine, "needs_confirmed", deliverables=frozenset())
    naive = datetime(2026, 3, 10, 9, 0)
    for bad in (naive, "not a time", T0 + DAY - timedelta(microseconds=1)):
        with pytest.raises(ValidationError) as err:
            advance(state, "lost", now=bad, by="alice", machine=machine, reason="x")  # type: ignore[arg-type]
        assert err.value.field == "now"
    same_instant, _ = advance(state, "lost", now=T0 + DAY, by="alice", machine=machine, reason="x")
    assert same_instant.history[-2].duration() == timedelta(0)


def test_other_arguments_are_validated_with_their_field() -> None:
    machine = default_pipeline()
    state = started(machine)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"by": "  "}, "by"),
        ({"deliverables": "needs_summary"}, "deliverables"),
        ({"deliverables": [1]}, "deliverables"),
        ({"reason": 42}, "reason"),
        ({"context": ["not", "a", "mapping"]}, "context"),
        ({"machine": "opportunity"}, "machine"),
    ]
    for override, field in cases:
        kwargs: dict[str, Any] = {"now": T0, "by": "alice", "machine": machine, **override}
        with pytest.raises(ValidationError) as err:
            advance(state, "needs_confirmed", **kwargs)
        assert err.value.field == field, override
    with pytest.raises(ValidationError) as err:
        advance("initial_contact", "needs_confirmed", now=T0, by="a", machine=machine)  # type: ignore[arg-type]
    assert err.value.field == "state"


def test_a_state_from_another_machine_is_refused() -> None:
    machine = default_pipeline()
    foreign = StageState(history=[StageVisit(stage="triage", entered_at=T0, entered_by="alice")])
    with pytest.raises(ValidationError) as err:
        advance(foreign, "lost", now=T0, by="alice", machine=machine, reason="x")
    assert err.value.field == "state"


def guarded_machine() -> StageMachine:
    def budget_known(subject: Any, context: Mapping[str, Any]) -> str | None:
        return None if subject.get("budget") else "confirm the budget first"

    def manager_present(subject: Any, context: Mapping[str, Any]) -> str | None:
        return None if context.get("role") == "manager" else ""

    def task_for(subject: Any, event: StageEvent, context: Mapping[str, Any]) -> list[object]:
        return [("task", subject["id"], event.target)]

    def farewell(subject: Any, event: StageEvent, context: Mapping[str, Any]) -> tuple[str, ...]:
        return ("left " + str(event.source),)

    return StageMachine(
        name="approval",
        stages=[
            Stage(key="draft", on_exit=("farewell",)),
            Stage(key="review", required_deliverables=("form",), on_enter=("task_for",)),
            Stage(key="approved", terminal=True, on_enter=("task_for", "task_for_again")),
        ],
        transitions=[
            Transition(source="draft", target="review", guards=("budget_known",)),
            Transition(
                source="review", target="approved", guards=("budget_known", "manager_present")
            ),
        ],
        guards={"budget_known": budget_known, "manager_present": manager_present},
        handlers={"task_for": task_for, "task_for_again": task_for, "farewell": farewell},
    )


def test_guards_see_subject_and_context_and_every_refusal_is_reported() -> None:
    machine = guarded_machine()
    state, events = start(machine, now=T0, by="ann", subject={"id": "c1"})
    assert len(events) == 1
    with pytest.raises(GateRefused) as err:
        advance(state, "review", now=T0, by="ann", machine=machine, subject={"id": "c1"})
    assert dict(err.value.refusals) == {"budget_known": "confirm the budget first"}
    assert err.value.missing == ()
    assert "confirm the budget first" in str(err.value)

    deal = {"id": "c1", "budget": 10}
    state, events = advance(state, "review", now=T0, by="ann", machine=machine, subject=deal)
    assert events[1:] == ["left draft", ("task", "c1", "review")]

    with pytest.raises(GateRefused) as err:
        advance(state, "approved", now=T0, by="ann", machine=machine, subject={"id": "c1"})
    assert err.value.missing == ("form",)
    assert dict(err.value.refusals) == {
        "budget_known": "confirm the budget first",
        "manager_present": "guard 'manager_present' refused",
    }

    state, events = advance(
        state,
        "approved",
        now=T0 + DAY,
        by="max",
        machine=machine,
        subject=deal,
        deliverables={"form"},
        context={"role": "manager"},
    )
    assert state.stage == "approved"
    assert events[1:] == [("task", "c1", "approved"), ("task", "c1", "approved")]


# --- definitions are checked when built -------------------------------------------------------


def machine_error(**changes: Any) -> ValidationError:
    """The error building a small valid machine with ``changes`` raises."""
    definition: dict[str, Any] = {
        "name": "m",
        "stages": [Stage(key="a"), Stage(key="b"), Stage(key="done", terminal=True)],
        "transitions": [("a", "b"), ("b", "done")],
        **changes,
    }
    with pytest.raises(ValidationError) as err:
        StageMachine(**definition)
    return err.value


def test_the_small_machine_is_valid_as_given() -> None:
    machine = StageMachine(
        name="m",
        stages=[Stage(key="a"), Stage(key="b"), Stage(key="done", terminal=True)],
        transitions=[("a", "b"), ("b", "done")],
    )
    assert machine.keys == ("a", "b", "done")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": " "}, "name", "blank"),
        ({"stages": []}, "stages", "at least one"),
        (
            {"stages": [Stage(key="a"), Stage(key="a"), Stage(key="done", terminal=True)]},
            "stages",
            "twice",
        ),
        ({"initial": "zzz"}, "initial", "not a declared stage"),
        ({"initial": "done"}, "initial", "terminal"),
        ({"stages": [Stage(key="a"), Stage(key="b"), Stage(key="done")]}, "stages", "terminal"),
        ({"transitions": [("a", "b"), ("b", "nowhere")]}, "transitions", "undeclared"),
        ({"transitions": [("a", "b"), ("b", "done"), ("done", "a")]}, "transitions", "terminal"),
        ({"transitions": [("a", "b"), ("b", "done"), ("a", "b")]}, "transitions", "twice"),
        ({"transitions": [("a", "a"), ("a", "b"), ("b", "done")]}, "target", "itself"),
        ({"transitions": [("a", "done"), ("b", "done")]}, "stages", "cannot be reached"),
        ({"transitions": [("a", "b"), ("a", "done")]}, "stages", "no path to a terminal"),
        (
            {"transitions": [Transition(source="a", target="b", guards=("ok",)), ("b", "done")]},
            "guards",
            "not registered",
        ),
        (
            {
                "stages": [
                    Stage(key="a", on_enter=("x",)),
                    Stage(key="b"),
                    Stage(key="done", terminal=True),
                ]
            },
            "handlers",
            "not registered",
        ),
        ({"guards": {"ok": "not callable"}}, "guards", "not callable"),
        ({"transitions": "a->b"}, "transitions", "sequence"),
    ],
)
def test_bad_definitions_are_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    err = machine_error(**changes)
    assert err.field == field
    assert words in err.problem


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"key": "two words"}, "key"),
        ({"key": "1st"}, "key"),
        ({"key": 7}, "key"),
        ({"labels": {"e": "A"}}, "labels"),
        ({"labels": {"en US": "A"}}, "labels"),
        ({"labels": {"en": " "}}, "labels"),
        ({"labels": ["A"]}, "labels"),
        ({"terminal": "yes"}, "terminal"),
        ({"probability": 0.5}, "probability"),
        ({"probability": "1.01"}, "probability"),
        ({"probability": -1}, "probability"),
        ({"probability": "NaN"}, "probability"),
        ({"required_deliverables": "quote"}, "required_deliverables"),
        ({"required_deliverables": ("quote", "quote")}, "required_deliverables"),
        ({"terminal": True, "required_deliverables": ("quote",)}, "required_deliverables"),
        ({"terminal": True, "on_exit": ("x",)}, "on_exit"),
        ({"on_enter": ("bad name",)}, "on_enter"),
        ({"outcome": "lost"}, "outcome"),
        ({"outcome": "maybe"}, "outcome"),
        ({"terminal": True, "outcome": True}, "outcome"),
    ],
)
def test_bad_stages_are_refused_naming_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Stage(**{"key": "a", **fields})
    assert err.value.field == field


def test_stage_values_are_normalised_and_immutable() -> None:
    labels = {"en": " Proposal "}
    stage = Stage(key="p", labels=labels, probability="0.40", actions=["  call  ", " "])
    labels["en"] = "changed"
    assert stage.labels == {"en": "Proposal"}
    assert stage.probability == Decimal("0.40")
    assert stage.actions == ("call",)
    with pytest.raises(TypeError):
        stage.labels["en"] = "x"  # type: ignore[index]
    assert Stage(key="x").label("en") == "x"
    assert hash(stage) == hash(
        Stage(key="p", labels={"en": "B"}, probability="0.4", actions="call")
    )


def test_transition_options_are_checked() -> None:
    with pytest.raises(ValidationError) as err:
        Transition(source="a", target="b", requires_reason="yes")  # type: ignore[arg-type]
    assert err.value.field == "requires_reason"
    with pytest.raises(ValidationError) as err:
        Transition(source="a b", target="c")
    assert err.value.field == "source"


def test_history_must_be_contiguous() -> None:
    first = StageVisit(stage="a", entered_at=T0, entered_by="x", left_at=T0 + DAY, left_by="x")
    second = StageVisit(stage="b", entered_at=T0 + DAY, entered_by="x")
    assert StageState(history=(first, second)).stage == "b"
    broken = [
        (),
        (first,),
        (attrs.evolve(second, entered_at=T0 + 2 * DAY), second),
        (first, attrs.evolve(second, entered_at=T0 + 2 * DAY)),
        (first, attrs.evolve(second, entered_by="y")),
        (first, attrs.evolve(second, stage="a")),
    ]
    for history in broken:
        with pytest.raises(ValidationError) as err:
            StageState(history=history)
        assert err.value.field == "history"
    with pytest.raises(ValidationError) as err:
        StageVisit(stage="a", entered_at=T0, entered_by="x", left_at=T0 - DAY, left_by="x")
    assert err.value.field == "left_at"
    with pytest.raises(ValidationError) as err:
        StageVisit(stage="a", entered_at=T0, entered_by="x", left_at=T0)
    assert err.value.field == "left_by"


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trip_is_exact() -> None:
    machine = default_pipeline()
    text = json.dumps(machine.to_dict(), ensure_ascii=False)
    again = StageMachine.from_dict(json.loads(text))
    assert again == machine
    assert again.to_dict() == machine.to_dict()
    assert json.loads(text)["stages"][1]["probability"] == "0.2"


def test_from_dict_needs_the_guards_and_handlers_it_names() -> None:
    machine = guarded_machine()
    data = json.loads(json.dumps(machine.to_dict()))
    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict(data)
    assert err.value.field in {"guards", "handlers"}
    again = StageMachine.from_dict(data, guards=machine.guards, handlers=machine.handlers)
    assert again == machine
    assert again != StageMachine.from_dict(
        data,
        guards={**machine.guards, "budget_known": lambda subject, context: None},
        handlers=machine.handlers,
    )


def test_from_dict_names_the_bad_item_and_refuses_unknown_keys() -> None:
    data = default_pipeline().to_dict()
    data["stages"][2]["probability"] = 0.4
    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict(data)
    assert err.value.field == "stages[2].probability"

    data = default_pipeline().to_dict()
    data["transitions"][0]["requires_reasons"] = True
    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict(data)
    assert err.value.field == "transitions[0].requires_reasons"

    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict({"name": "m", "stages": [{"key": "a"}], "colour": "red"})
    assert err.value.field == "colour"

    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict({"name": "m"})
    assert err.value.field == "stages"

    minimal = StageMachine.from_dict(
        {
            "name": "m",
            "stages": [{"key": "a"}, {"key": "z", "terminal": True}],
            "transitions": [{"source": "a", "target": "z"}],
        }
    )
    assert minimal.initial == "a"
    assert StageMachine.from_dict(minimal.to_dict()) == minimal


# --- the docs page's examples run -------------------------------------------------------------


def test_the_stage_machine_page_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOCS_PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(DOCS_PAGE), "exec"), namespace)
    out = capsys.readouterr().out
    assert "initial_contact -> proposal" in out
    assert "reason - is required" in out


# --- properties ---------------------------------------------------------------------------------

KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
UNDECLARED = "Nowhere-0"  # uppercase and a dash: never produced by KEYS
DELIVERABLES = ("d1", "d2", "d3")
LOCALES = ("en", "zh-CN", "de")


def _needs_a(subject: Any, context: Mapping[str, Any]) -> str | None:
    return None if context.get("a") else "a is not set"


def _needs_b(subject: Any, context: Mapping[str, Any]) -> str | None:
    return None if context.get("b") else "b is not set"


def _subject_agrees(subject: Any, context: Mapping[str, Any]) -> str | None:
    return "the subject says no" if subject == "no" else None


def _note(subject: Any, event: StageEvent, context: Mapping[str, Any]) -> list[object]:
    return [("note", event.source, event.target)]


GUARDS = {"needs_a": _needs_a, "needs_b": _needs_b, "subject_agrees": _subject_agrees}
HANDLERS = {"note": _note, "note_twice": _note}


def _subset(options: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(options), unique=True, max_size=len(options)).map(tuple)


# Strategies are built once: building them inside the composite costs more than drawing.
DELIVERABLE_SETS = _subset(DELIVERABLES)
GUARD_SETS = _subset(tuple(GUARDS))
HANDLER_SETS = _subset(tuple(HANDLERS))
LABELS = st.dictionaries(
    st.sampled_from(LOCALES), st.sampled_from(["Proposal", "需求确认", "Verhandlung"]), max_size=2
)
PROBABILITIES = st.none() | st.decimals(0, 1, places=2)
ACTIONS = st.lists(st.sampled_from(["Call", "Send the quote"]), max_size=2)
# Steps lean towards moves that pass, so runs get long; every way to fail stays likely.
PRESENTED = st.just(frozenset(DELIVERABLES)) | DELIVERABLE_SETS.map(frozenset)
CONTEXTS = st.just({"a": True, "b": True}) | st.fixed_dictionaries(
    {"a": st.booleans(), "b": st.booleans()}
)
REASONS = st.just("budget cut") | st.sampled_from([None, "", "  "])
SUBJECTS = st.sampled_from(["yes", "yes", "yes", "no"])


def _outcomes(
    draw: st.DrawFn, opened: list[str], terminals: list[str], edges: list[tuple[str, str]]
) -> dict[str, StageOutcome | None]:
    """Random outcomes obeying the rules: lost only on terminal stages, and every stage
    reachable from a won one won (if open) or won or lost (if terminal)."""
    outcomes: dict[str, StageOutcome | None] = {
        key: draw(st.sampled_from([None, None, StageOutcome.WON])) for key in opened
    }
    for key in terminals:
        outcomes[key] = draw(st.sampled_from([None, *StageOutcome]))
    reached = [key for key, outcome in outcomes.items() if outcome is StageOutcome.WON]
    seen = set(reached)
    while reached:
        source = reached.pop()
        for origin, target in edges:
            if origin == source and target not in seen:
                seen.add(target)
                reached.append(target)
    for key in seen:
        if outcomes[key] is None:
            outcomes[key] = (
                StageOutcome.WON if key in opened else draw(st.sampled_from(StageOutcome))
            )
    return outcomes


@st.composite
def machines(draw: st.DrawFn) -> StageMachine:
    """Valid machines: a random spanning tree over the open stages makes them reachable, a
    random exit per open stage (to a terminal or a later open stage) lets every one finish,
    and random extra edges (back edges included) make cycles."""
    n_open = draw(st.integers(1, 5))
    n_terminal = draw(st.integers(1, 3))
    keys = draw(
        st.lists(KEYS, min_size=n_open + n_terminal, max_size=n_open + n_terminal, unique=True)
    )
    opened, terminals = keys[:n_open], keys[n_open:]
    edges: list[tuple[str, str]] = []
    for i in range(1, n_open):
        edges.append((opened[draw(st.integers(0, i - 1))], opened[i]))
    for i in range(n_open):
        exits = terminals + opened[i + 1 :]
        edges.append((opened[i], draw(st.sampled_from(exits))))
    extra = draw(st.lists(st.tuples(st.sampled_from(opened), st.sampled_from(keys)), max_size=6))
    unique_edges = draw(
        st.permutations(list(dict.fromkeys(e for e in [*edges, *extra] if e[0] != e[1])))
    )
    transitions = [
        Transition(
            source=source,
            target=target,
            requires_reason=draw(st.booleans()),
            waive_deliverables=draw(st.booleans()),
            guards=draw(st.just(()) | GUARD_SETS),
        )
        for source, target in unique_edges
    ]
    outcomes = _outcomes(draw, opened, terminals, [(e.source, e.target) for e in transitions])
    stages = [
        Stage(
            key=key,
            outcome=outcomes[key],
            labels=draw(LABELS),
            terminal=key in terminals,
            probability=draw(PROBABILITIES),
            required_deliverables=() if key in terminals else draw(DELIVERABLE_SETS),
            actions=draw(ACTIONS),
            on_enter=draw(HANDLER_SETS),
            on_exit=() if key in terminals else draw(HANDLER_SETS),
        )
        for key in keys
    ]
    stages = draw(st.permutations(stages))
    options: dict[str, Any] = {}
    if stages[0].key != opened[0] or draw(st.booleans()):
        options["initial"] = opened[0]
    return StageMachine(
        name=draw(st.sampled_from(["opportunity", "ticket", "合同审批"])),
        stages=stages,
        transitions=transitions,
        guards=GUARDS,
        handlers=HANDLERS,
        **options,
    )


@attrs.frozen
class Step:
    """What a successful advance was given, to re-derive its checks from the history."""

    deliverables: frozenset[str]
    reason: str | None
    subject: str
    context: Mapping[str, Any]


def expected_failure(
    machine: StageMachine, state: StageState, to: str, now: datetime, step: Step
) -> tuple[type[Exception], str | None] | None:
    """An independent statement of the rules: the error ``advance`` must raise, or None."""
    if to not in machine.keys:
        return ValidationError, "to"
    if now < state.entered_at:
        return ValidationError, "now"
    move = machine.transition(state.stage, to)
    if machine.stage(state.stage).terminal or move is None:
        return IllegalTransition, None
    if move.requires_reason and not (step.reason or "").strip():
        return ValidationError, "reason"
    required = set(machine.stage(state.stage).required_deliverables)
    missing = not move.waive_deliverables and not required <= step.deliverables
    refused = any(GUARDS[name](step.subject, step.context) for name in move.guards)
    if missing or refused:
        return GateRefused, None
    return None


@given(machine=machines(), data=st.data())
def test_random_runs_only_ever_make_allowed_moves(
    machine: StageMachine, data: st.DataObject
) -> None:
    state, events = start(machine, now=T0, by="starter")
    assert state.stage == machine.initial
    assert len(events) == 1 + len(machine.stage(machine.initial).on_enter)
    steps: list[Step] = []
    attempts = data.draw(st.integers(1, 30), label="attempts")
    for _ in range(attempts):
        legal = machine.targets(state.stage)
        onward = tuple(key for key in legal if not machine.stage(key).terminal)
        # Mostly declared moves, onward ones first so runs get long; then anything at all.
        pools = [p for p in (onward, onward, legal, (*machine.keys, UNDECLARED)) if p]
        pool = pools[data.draw(st.integers(0, len(pools) - 1), label="pool")]
        to = data.draw(st.sampled_from(pool), label="to")
        step = Step(
            deliverables=data.draw(PRESENTED, label="deliverables"),
            reason=data.draw(REASONS, label="reason"),
            subject=data.draw(SUBJECTS, label="subject"),
            context=data.draw(CONTEXTS, label="context"),
        )
        now = state.entered_at + timedelta(minutes=data.draw(st.integers(-30, 3000)))
        expected = expected_failure(machine, state, to, now, step)
        before = state
        failure: PycrmError | None = None
        try:
            state, events = advance(
                state,
                to,
                now=now,
                by=data.draw(st.sampled_from(["ann", "bob"]), label="by"),
                machine=machine,
                deliverables=step.deliverables,
                reason=step.reason,
                subject=step.subject,
                context=step.context,
            )
        except (ValidationError, IllegalTransition, GateRefused) as err:
            failure = err
        event(f"outcome: {type(failure).__name__ if failure else 'moved'}")
        if failure is not None:
            assert expected is not None, f"refused an allowed move: {failure!r}"
            kind, field = expected
            assert type(failure) is kind, (failure, expected)
            if isinstance(failure, ValidationError):
                assert failure.field == field
            if isinstance(failure, (IllegalTransition, GateRefused)):
                assert (failure.source, failure.target) == (before.stage, to)
            assert state is before
            continue
        assert expected is None, f"allowed a move that must fail with {expected}"
        steps.append(step)
        source = before.stage
        first = events[0]
        assert isinstance(first, StageEvent)
        assert (first.machine, first.source, first.target, first.at) == (
            machine.name,
            source,
            to,
            now,
        )
        handlers = [*machine.stage(source).on_exit, *machine.stage(to).on_enter]
        assert events[1:] == [("note", source, to)] * len(handlers)

    history = state.history
    event(f"visits: {min(len(history), 6)}{'+' if len(history) >= 6 else ''}")
    assert len(history) == len(steps) + 1
    assert history[0].stage == machine.initial
    assert all(visit.stage in machine.keys for visit in history)
    for (visit, after), step in zip(itertools.pairwise(history), steps, strict=True):
        left = machine.stage(visit.stage)
        move = machine.transition(visit.stage, after.stage)
        assert not left.terminal
        assert move is not None
        if not move.waive_deliverables:
            assert set(left.required_deliverables) <= step.deliverables
        assert all(GUARDS[name](step.subject, step.context) is None for name in move.guards)
        if move.requires_reason:
            assert after.reason == "budget cut"
        assert visit.left_at == after.entered_at
        assert visit.left_by == after.entered_by
        assert visit.entered_at <= after.entered_at
    assert history[-1].left_at is None


@given(machine=machines())
def test_definitions_round_trip_through_json(machine: StageMachine) -> None:
    data = json.loads(json.dumps(machine.to_dict()))
    again = StageMachine.from_dict(data, guards=GUARDS, handlers=HANDLERS)
    assert again == machine
    assert again.to_dict() == data


@given(machine=machines())
def test_a_won_subject_never_reopens(machine: StageMachine) -> None:
    """Every declared move out of a won stage enters a stage with an outcome."""
    for move in machine.transitions:
        if machine.outcome(move.source) is StageOutcome.WON:
            assert machine.outcome(move.target) is not None
    for key in machine.stages_with(StageOutcome.LOST):
        assert machine.stage(key).terminal
    assert sorted(
        (*machine.stages_with(None), *machine.stages_with("won"), *machine.stages_with("lost"))
    ) == sorted(machine.keys)


BREAKS = (
    "dangling target",
    "dangling source",
    "duplicate key",
    "unreachable stage",
    "open lost stage",
    "open stage after a won one",
)


@given(machine=machines(), how=st.sampled_from(BREAKS), data=st.data())
def test_broken_definitions_are_always_refused(
    machine: StageMachine, how: str, data: st.DataObject
) -> None:
    definition = machine.to_dict()
    opened = [s.key for s in machine.stages if not s.terminal]
    terminals = [s.key for s in machine.stages if s.terminal]
    if how == "dangling target":
        source = data.draw(st.sampled_from(opened))
        definition["transitions"].append({"source": source, "target": UNDECLARED})
        field = "transitions"
    elif how == "dangling source":
        target = data.draw(st.sampled_from(machine.keys))
        definition["transitions"].append({"source": UNDECLARED, "target": target})
        field = "transitions"
    elif how == "duplicate key":
        copy = dict(data.draw(st.sampled_from(definition["stages"])))
        copy["labels"] = {"en": "A copy"}
        definition["stages"].insert(data.draw(st.integers(0, len(definition["stages"]))), copy)
        field = "stages"
    elif how == "unreachable stage":
        definition["stages"].append({"key": UNDECLARED})
        exit_to = data.draw(st.sampled_from(terminals))
        definition["transitions"].append({"source": UNDECLARED, "target": exit_to})
        field = "stages"
    elif how == "open lost stage":
        index = data.draw(st.sampled_from([machine.keys.index(key) for key in opened]))
        definition["stages"][index]["outcome"] = "lost"
        field = f"stages[{index}].outcome"
    else:
        won = data.draw(st.sampled_from(opened))
        definition["stages"][machine.keys.index(won)]["outcome"] = "won"
        definition["stages"].append({"key": UNDECLARED})
        exit_to = data.draw(st.sampled_from(terminals))
        definition["transitions"].append({"source": won, "target": UNDECLARED})
        definition["transitions"].append({"source": UNDECLARED, "target": exit_to})
        field = "stages"
    with pytest.raises(ValidationError) as err:
        StageMachine.from_dict(definition, guards=GUARDS, handlers=HANDLERS)
    assert err.value.field == field
